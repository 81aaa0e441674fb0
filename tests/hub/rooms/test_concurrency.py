"""A closing that races an upload in flight waits for it and shreds what it stored (PostgreSQL row locks)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hub.auth.tokens import Caller
from hub.config import development_signing_key
from hub.db import make_engine, make_session_factory
from hub.models import RoomDataset, RoomDatasetChunk
from hub.orgs import service as orgs
from hub.rooms import closing, datasets, service
from protocol.encoding import b64url_encode
from protocol.models.common import KeyUse, OrgKind
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.models.rooms import (
    DATASET_MANIFEST_TYPE,
    DatasetCreate,
    DatasetManifest,
    RoomCreate,
    WrappedKey,
)
from protocol.signing import public_key_raw, sign_envelope
from tests.conftest import make_settings


def test_closing_waits_for_an_upload_in_flight_and_shreds_it(fresh_database: str) -> None:
    if make_url(fresh_database).get_backend_name() != "postgresql":
        pytest.skip("row-lock behaviour is PostgreSQL's; SQLite has a single writer")
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    signing, enc = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    ciphertext = os.urandom(3 * 1024 * 1024)
    now = datetime.now(UTC)
    with factory.begin() as session:
        org = orgs.create_organization(
            session, actor="t", data=OrganizationCreate(name="oem", kind=OrgKind.OEM)
        )
        caller = Caller(org.id, OrgKind.OEM, "t", frozenset())
        sig = orgs.register_key(
            session,
            caller=caller,
            data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(signing))),
        )
        wrap = orgs.register_key(
            session,
            caller=caller,
            data=OrgKeyRegister(
                use=KeyUse.ENCRYPTION, public_key=b64url_encode(enc.public_key().public_bytes_raw())
            ),
        )
        room = service.open_room(
            session, caller=caller, data=RoomCreate(title="t", expires_at=now + timedelta(days=1)), now=now
        ).room
        dataset_id = uuid.uuid4()
        fields = {
            "name": "log",
            "media_type": "text/csv",
            "plaintext_size": len(ciphertext),
            "chunk_size": 1 << 20,
            "ciphertext_size": len(ciphertext),
            "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        }
        manifest = DatasetManifest(
            room_id=room.id, dataset_id=dataset_id, recipient_key_ids=[wrap.key_id], **fields
        )
        key = WrappedKey(
            organization_id=org.id,
            recipient_key_id=wrap.key_id,
            ephemeral_public_key=b64url_encode(os.urandom(32)),
            wrapped_key=b64url_encode(os.urandom(48)),
        )
        envelope = sign_envelope(manifest, type=DATASET_MANIFEST_TYPE, private_key=signing, key_id=sig.key_id)
        data = DatasetCreate(id=dataset_id, manifest_signature=envelope, wrapped_keys=[key], **fields)
        datasets.create_dataset(
            session, caller=caller, room_id=room.id, data=data, max_bytes=1 << 30, now=now
        )

    halfway, resume = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def pieces() -> Iterator[bytes]:
        yield ciphertext[: 2 << 20]
        halfway.set()
        resume.wait(timeout=20)
        yield ciphertext[2 << 20 :]

    def upload() -> None:
        try:
            with factory.begin() as session:
                datasets.upload_content(
                    session,
                    caller=caller,
                    room_id=room.id,
                    dataset_id=dataset_id,
                    pieces=pieces(),
                    declared_size=None,
                    now=datetime.now(UTC),
                )
        except BaseException as exc:
            errors.append(exc)

    def close() -> None:
        try:
            with factory.begin() as session:
                closing.close_room(
                    session,
                    caller=caller,
                    room_id=room.id,
                    note="",
                    signing_key=development_signing_key(),
                    key_id="dev",
                    now=datetime.now(UTC),
                )
        except BaseException as exc:
            errors.append(exc)

    uploader, closer = threading.Thread(target=upload), threading.Thread(target=close)
    try:
        uploader.start()
        assert halfway.wait(timeout=20)
        closer.start()
        time.sleep(0.5)
        assert closer.is_alive(), "the closing did not wait for the upload in flight"
        resume.set()
        uploader.join(timeout=30)
        closer.join(timeout=30)
        assert errors == []
        with factory() as session:
            rows = session.scalar(select(func.count()).select_from(RoomDatasetChunk))
            stored = session.get(RoomDataset, dataset_id)
        assert rows == 0
        assert stored is not None and stored.status == "shredded"
    finally:
        resume.set()
        engine.dispose()
