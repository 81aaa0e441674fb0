"""Three member organizations with signing and X25519 keys, an outsider, and helpers to open rooms and
announce datasets. The hub treats ciphertext and wrapped keys as opaque bytes, so these tests use random ones;
the manifest signatures are real Ed25519 signatures (the hub checks them)."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.models.common import KeyUse, OrgKind
from protocol.models.orgs import OrgKeyRegister
from protocol.models.rooms import DATASET_MANIFEST_TYPE, DatasetManifest
from protocol.signing import public_key_raw, sign_envelope
from tests.hub.conftest import Actor, make_actor


@dataclass(eq=False)
class Member:
    """An organization with its HTTP actor, Ed25519 signing key and X25519 key, both registered."""

    actor: Actor
    signing_key: Ed25519PrivateKey
    signing_key_id: str
    enc_key: X25519PrivateKey
    enc_key_id: str

    @property
    def id(self) -> uuid.UUID:
        return self.actor.org.id

    def call(self, method: str, url: str, *, scope: str | None = None, **kw: Any) -> httpx.Response:
        return self.actor.http.request(method, url, headers=self.actor.headers(scope), **kw)

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.call("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.call("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.call("PUT", url, **kw)


def register_keys(db: Session, actor: Actor) -> Member:
    caller = Caller(
        org_id=actor.org.id, org_kind=OrgKind(actor.org.kind), client_id=actor.client_id, scopes=frozenset()
    )
    signing, enc = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    sig = orgs.register_key(
        db,
        caller=caller,
        data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(signing))),
    )
    raw_enc = enc.public_key().public_bytes_raw()
    wrap = orgs.register_key(
        db, caller=caller, data=OrgKeyRegister(use=KeyUse.ENCRYPTION, public_key=b64url_encode(raw_enc))
    )
    db.commit()
    return Member(actor, signing, sig.key_id, enc, wrap.key_id)


def make_member(db: Session, client: TestClient, kind: OrgKind, scopes: list[str] | None = None) -> Member:
    return register_keys(db, make_actor(db, client, kind, scopes=scopes))


@pytest.fixture
def owner(db: Session, client: TestClient) -> Member:
    return make_member(db, client, OrgKind.OEM)


@pytest.fixture
def compressor(db: Session, client: TestClient) -> Member:
    return make_member(db, client, OrgKind.SUPPLIER)


@pytest.fixture
def motor(db: Session, client: TestClient) -> Member:
    return make_member(db, client, OrgKind.SUPPLIER)


@pytest.fixture
def outsider(db: Session, client: TestClient) -> Member:
    return make_member(db, client, OrgKind.SUPPLIER)


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def open_room(
    owner: Member,
    invite: dict[Member, str] | None = None,
    *,
    accept: bool = True,
    policy: str = "delete_after_closing",
) -> dict[str, Any]:
    body = {
        "title": "Compressor noise at 41 °C",
        "description": "Noise complaints from the field",
        "expires_at": in_days(30),
        "deletion_policy": policy,
        "people": [{"name": "Anna Berg", "email": "anna@oem.example", "role": "8D lead"}],
        "members": [{"organization_id": str(m.id), "role": role} for m, role in (invite or {}).items()],
    }
    response = owner.post("/v1/rooms", json=body)
    assert response.status_code == 201, response.text
    room = response.json()
    if accept:
        for member in invite or {}:
            accepted = member.post(f"/v1/rooms/{room['id']}/accept", json={"people": []})
            assert accepted.status_code == 200, accepted.text
    return dict(room)


def wrapped_for(member: Member) -> dict[str, str]:
    return {
        "organization_id": str(member.id),
        "recipient_key_id": member.enc_key_id,
        "ephemeral_public_key": b64url_encode(X25519PrivateKey.generate().public_key().public_bytes_raw()),
        "wrapped_key": b64url_encode(os.urandom(48)),
        "algorithm": "X25519-HKDF-SHA256-AES256GCM",
    }


def dataset_body(
    uploader: Member,
    room_id: str,
    recipients: list[Member],
    ciphertext: bytes,
    *,
    dataset_id: uuid.UUID | None = None,
    manifest_changes: dict[str, Any] | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    wrapped_keys: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A DatasetCreate body whose manifest the uploader signed; ``manifest_changes`` alter the signed copy."""
    dataset_id = dataset_id or uuid.uuid4()
    keys = wrapped_keys if wrapped_keys is not None else [wrapped_for(m) for m in recipients]
    fields = {
        "name": "bench-log.csv",
        "media_type": "text/csv",
        "plaintext_size": max(len(ciphertext) - 32, 0),
        "chunk_size": 1024 * 1024,
        "ciphertext_size": len(ciphertext),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
    }
    manifest = DatasetManifest(
        room_id=uuid.UUID(room_id),
        dataset_id=dataset_id,
        recipient_key_ids=sorted(k["recipient_key_id"] for k in keys),
        **{**fields, **(manifest_changes or {})},
    )
    envelope = sign_envelope(
        manifest,
        type=DATASET_MANIFEST_TYPE,
        private_key=signing_key or uploader.signing_key,
        key_id=uploader.signing_key_id,
    )
    return {
        "id": str(dataset_id),
        **fields,
        "manifest_signature": envelope.model_dump(mode="json"),
        "wrapped_keys": keys,
    }


def upload(
    uploader: Member, room_id: str, recipients: list[Member], ciphertext: bytes | None = None
) -> dict[str, Any]:
    """Announce and upload a dataset; returns its metadata as the uploader sees it."""
    ciphertext = os.urandom(3000) if ciphertext is None else ciphertext
    body = dataset_body(uploader, room_id, recipients, ciphertext)
    created = uploader.post(f"/v1/rooms/{room_id}/datasets", json=body)
    assert created.status_code == 201, created.text
    stored = uploader.put(f"/v1/rooms/{room_id}/datasets/{body['id']}/content", content=ciphertext)
    assert stored.status_code == 200, stored.text
    return dict(stored.json())
