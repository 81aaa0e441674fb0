"""A revocation holds on the next request, on every replica: tokens issued before it stop working at once instead
of when they expire."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from hub.app import create_app
from hub.models import ApiClient
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.jwk import public_jwk
from protocol.models.common import OrgKind
from protocol.signing import public_key_raw
from supplier_sdk.auth import token_request_form
from tests.conftest import TEST_ISSUER, make_settings
from tests.hub.asserts import assert_error
from tests.hub.auth.test_bearer import hub_signed
from tests.hub.conftest import Actor, make_actor, make_org

PROTECTED = "/v1/organizations/me"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_revoked_clients_token_is_refused_on_its_next_request(
    client: TestClient, db: Session, supplier: Actor
) -> None:
    admin = make_actor(db, client, OrgKind.SUPPLIER)
    # A second client of the supplier's organization, with a token in hand before the revocation.
    other, secret = orgs.create_client(
        db, actor="test", actor_org_id=None, org_id=supplier.org.id, name="mes", scopes=None, public_jwk=None
    )
    db.commit()
    assert secret is not None
    victim = Actor(org=supplier.org, client_id=other.client_id, secret=secret, http=client)
    token = victim.token()
    assert client.get(PROTECTED, headers=_bearer(token)).status_code == 200
    assert admin.org.id != supplier.org.id

    assert supplier.post(f"/v1/clients/{victim.client_id}/revoke").status_code == 200

    assert_error(client.get(PROTECTED, headers=_bearer(token)), 401, "Unauthenticated", detail="revoked")
    # The organization's other client is untouched.
    assert supplier.get(PROTECTED).status_code == 200


@pytest.fixture
def two_replicas(fresh_database: str) -> Iterator[tuple[TestClient, TestClient]]:
    """Two hubs on one committed database, as two replicas behind a load balancer."""
    settings = make_settings(fresh_database)
    with (
        TestClient(create_app(settings), base_url=TEST_ISSUER) as a,
        TestClient(create_app(settings), base_url=TEST_ISSUER) as b,
    ):
        yield a, b


def test_a_revocation_made_on_one_replica_holds_on_the_next_request_to_another(
    fresh_database: str, two_replicas: tuple[TestClient, TestClient]
) -> None:
    a, b = two_replicas
    engine = create_engine(fresh_database)
    with Session(engine, expire_on_commit=False) as session:
        admin = make_actor(session, a, OrgKind.OEM)
        row, secret = orgs.create_client(
            session,
            actor="test",
            actor_org_id=None,
            org_id=admin.org.id,
            name="x",
            scopes=None,
            public_jwk=None,
        )
        session.commit()
    engine.dispose()
    assert secret is not None
    token = Actor(org=admin.org, client_id=row.client_id, secret=secret, http=a).token()
    assert b.get(PROTECTED, headers=_bearer(token)).status_code == 200  # cached as verified on replica b

    assert admin.post(f"/v1/clients/{row.client_id}/revoke").status_code == 200  # on replica a

    assert_error(b.get(PROTECTED, headers=_bearer(token)), 401, "Unauthenticated", detail="revoked")
    assert_error(a.get(PROTECTED, headers=_bearer(token)), 401, "Unauthenticated", detail="revoked")


def test_revoking_a_key_revokes_the_clients_that_authenticate_with_it(
    client: TestClient, db: Session, supplier: Actor
) -> None:
    # The SDK's one-key setup: the organization's signing key is also its client's private_key_jwt key.
    key = Ed25519PrivateKey.generate()
    row, _ = orgs.create_client(
        db,
        actor="test",
        actor_org_id=None,
        org_id=supplier.org.id,
        name="sdk",
        scopes=None,
        public_jwk=public_jwk(key),
    )
    db.commit()
    registered = supplier.post(
        "/v1/keys", json={"use": "sig", "public_key": b64url_encode(public_key_raw(key))}
    )
    assert registered.status_code == 201, registered.text
    form = token_request_form(
        client_id=row.client_id, private_key=key, token_url=f"{TEST_ISSUER}/oauth/token", scope=None
    )
    issued = client.post("/oauth/token", data=form)
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    assert client.get(PROTECTED, headers=_bearer(token)).status_code == 200

    revoked = supplier.post(f"/v1/keys/{registered.json()['key_id']}/revoke")
    assert revoked.status_code == 200

    assert_error(client.get(PROTECTED, headers=_bearer(token)), 401, "Unauthenticated", detail="revoked")
    again = token_request_form(
        client_id=row.client_id, private_key=key, token_url=f"{TEST_ISSUER}/oauth/token", scope=None
    )
    assert_error(client.post("/oauth/token", data=again), 401, "invalid_client")
    assert (
        db.scalars(select(ApiClient.revoked_at).where(ApiClient.client_id == row.client_id)).one() is not None
    )
    # The secret client that revoked the key authenticates otherwise and keeps working.
    assert supplier.get(PROTECTED).status_code == 200


def test_a_token_for_a_client_that_does_not_exist_is_refused(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    token = hub_signed(
        {
            "iss": TEST_ISSUER,
            "aud": TEST_ISSUER,
            "sub": "qlc_gone",
            "client_id": "qlc_gone",
            "org_id": str(org.id),
            "org_kind": "oem",
            "scope": "org:read",
            "exp": int(time.time()) + 300,
        }
    )
    assert_error(
        client.get(PROTECTED, headers=_bearer(token)), 401, "Unauthenticated", detail="does not exist"
    )
