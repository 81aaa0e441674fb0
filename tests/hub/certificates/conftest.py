"""A certification body with a registered signing key, a supplier, two OEMs, and a helper that signs a
certificate credential the way a certifier does (through protocol.credentials, as the SDK does)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from protocol import credentials as vc
from protocol.encoding import b64url_encode
from protocol.models.common import OrgKind
from protocol.signing import public_key_raw
from tests.hub.conftest import Actor, make_actor

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Certifier:
    actor: Actor
    key: Ed25519PrivateKey

    def credential(self, supplier: Actor, **changes: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "standard": "IATF 16949",
            "number": f"IATF-{uuid.uuid4().hex[:10]}",
            "scope": "machining and assembly of brake calipers",
            "supplier_id": supplier.org.id,
            "site_id": "plant-gy",
            "site_name": "Győr plant",
            "valid_from": NOW - timedelta(days=30),
            "valid_until": NOW + timedelta(days=3 * 365),
            **changes,
        }
        claims = vc.CertificateClaims.model_validate(fields)
        document = vc.credential_for(claims, issuer=vc.did_key(self.key))
        return vc.add_proof(document, self.key, created=NOW)

    def issue(self, supplier: Actor, **changes: Any) -> dict[str, Any]:
        response = self.actor.post(
            "/v1/certificates", json={"credential": self.credential(supplier, **changes)}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def register_signing_key(actor: Actor, key: Ed25519PrivateKey) -> None:
    body = {"use": "sig", "public_key": b64url_encode(public_key_raw(key))}
    response = actor.post("/v1/keys", json=body)
    assert response.status_code == 201, response.text


def make_certifier(db: Session, http: TestClient) -> Certifier:
    """A certification body with a signing key registered through the API."""
    key = Ed25519PrivateKey.generate()
    actor = make_actor(db, http, OrgKind.CERTIFIER)
    register_signing_key(actor, key)
    return Certifier(actor, key)


@pytest.fixture
def certifier(db: Session, client: TestClient) -> Certifier:
    return make_certifier(db, client)


@pytest.fixture
def other_oem(db: Session, client: TestClient) -> Actor:
    return make_actor(db, client, OrgKind.OEM)
