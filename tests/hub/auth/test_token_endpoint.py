"""The token endpoint (RFC 6749 §4.4 client credentials) with client_secret_basic and private_key_jwt
(RFC 7523), and the authorization server metadata (RFC 8414)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.scopes import default_scopes
from hub.models import ApiClient, UsedClientAssertion
from hub.models.base import utcnow
from hub.orgs import service as orgs
from protocol.jwk import public_jwk
from protocol.models.common import OrgKind
from supplier_sdk.auth import ASSERTION_TYPE, token_request_form
from tests.conftest import TEST_ISSUER
from tests.hub.asserts import assert_error
from tests.hub.conftest import Actor, make_org

TOKEN_URL = f"{TEST_ISSUER}/oauth/token"


@dataclass
class KeyClient:
    """A private_key_jwt client of a supplier organization."""

    client_id: str
    key: Ed25519PrivateKey


@pytest.fixture
def key_client(db: Session) -> KeyClient:
    org = make_org(db, OrgKind.SUPPLIER)
    key = Ed25519PrivateKey.generate()
    row, secret = orgs.create_client(
        db,
        actor="test",
        actor_org_id=None,
        org_id=org.id,
        name="mes connector",
        scopes=None,
        public_jwk=public_jwk(key),
    )
    db.commit()
    assert secret is None
    return KeyClient(client_id=row.client_id, key=key)


def assertion(
    key: Ed25519PrivateKey,
    client_id: str,
    *,
    aud: str = TOKEN_URL,
    exp_in: int = 60,
    jti: str | None = None,
) -> str:
    """A client assertion built by hand, so that each claim can be made wrong on purpose."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + exp_in,
        "jti": jti or secrets.token_urlsafe(16),
    }
    return jwt.encode(
        {"alg": "Ed25519", "typ": "JWT"}, claims, OKPKey.import_key(key), algorithms=["Ed25519"]
    )


def assertion_form(token: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": token,
        **extra,
    }


def used_jtis(db: Session, client_id: str) -> list[str]:
    return list(db.scalars(select(UsedClientAssertion.jti).where(UsedClientAssertion.client_id == client_id)))


def decode_with_published_keys(client: TestClient, token: str) -> jwt.Token:
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    return jwt.decode(token, KeySet.import_key_set(jwks.json()), algorithms=["Ed25519"])


# --- success --------------------------------------------------------------------------------------


def test_client_secret_basic_issues_an_rfc9068_token_verifiable_with_the_jwks(
    client: TestClient, supplier: Actor
) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(supplier.client_id, supplier.secret)
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    expected_scopes = default_scopes(OrgKind.SUPPLIER)
    assert body["scope"].split() == expected_scopes

    token = decode_with_published_keys(client, body["access_token"])
    assert token.header["typ"] == "at+jwt"
    assert token.header["kid"] == client.get("/.well-known/jwks.json").json()["keys"][0]["kid"]
    claims = token.claims
    assert claims["iss"] == TEST_ISSUER
    assert claims["aud"] == TEST_ISSUER
    assert claims["sub"] == claims["client_id"] == supplier.client_id
    assert claims["org_id"] == str(supplier.org.id)
    assert claims["org_kind"] == "supplier"
    assert claims["scope"].split() == expected_scopes
    assert claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] - time.time()) < 60


def test_a_development_hub_on_a_plain_http_lan_name_issues_tokens(
    client: TestClient, supplier: Actor
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"issuer": "http://hub.lan:8000"})  # type: ignore[attr-defined]
    try:
        response = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(supplier.client_id, supplier.secret),
        )
    finally:
        client.app.state.settings = settings  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text  # was a 500: Authlib's "OAuth 2 MUST utilize https"


def test_jwks_publishes_only_the_public_half(client: TestClient) -> None:
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and keys[0]["alg"] == "Ed25519"
    assert "d" not in keys[0]


def test_private_key_jwt_with_the_sdk_form_issues_a_token(
    client: TestClient, db: Session, key_client: KeyClient
) -> None:
    form = token_request_form(
        client_id=key_client.client_id,
        private_key=key_client.key,
        token_url=TOKEN_URL,
        scope="org:read kpi:write",
    )

    response = client.post("/oauth/token", data=form)

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "kpi:write org:read"
    claims = decode_with_published_keys(client, response.json()["access_token"]).claims
    assert claims["client_id"] == key_client.client_id
    assert claims["scope"] == "kpi:write org:read"
    # The assertion's jti is remembered, so it cannot be played again.
    public = OKPKey.import_key(key_client.key.public_key())
    sent_jti = jwt.decode(form["client_assertion"], public, algorithms=["Ed25519"]).claims["jti"]
    assert used_jtis(db, key_client.client_id) == [sent_jti]


def test_private_key_jwt_accepts_the_issuer_as_audience(client: TestClient, key_client: KeyClient) -> None:
    form = assertion_form(assertion(key_client.key, key_client.client_id, aud=TEST_ISSUER))
    assert client.post("/oauth/token", data=form).status_code == 200


# --- client authentication failures ---------------------------------------------------------------


def test_wrong_secret_is_invalid_client(client: TestClient, supplier: Actor) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(supplier.client_id, "qls_wrong")
    )
    assert_error(response, 401, "invalid_client")
    assert "access_token" not in response.json()
    assert response.headers["www-authenticate"].startswith("Basic")


def test_unknown_client_is_invalid_client(client: TestClient, db: Session) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("qlc_nobody", "x")
    )
    assert_error(response, 401, "invalid_client")

    stranger = Ed25519PrivateKey.generate()
    response = client.post("/oauth/token", data=assertion_form(assertion(stranger, "qlc_nobody")))
    assert_error(response, 401, "invalid_client")
    assert used_jtis(db, "qlc_nobody") == []


def test_revoked_client_is_invalid_client(
    client: TestClient, db: Session, supplier: Actor, key_client: KeyClient
) -> None:
    for client_id in (supplier.client_id, key_client.client_id):
        db.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).one().revoked_at = utcnow()
    db.commit()

    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(supplier.client_id, supplier.secret)
    )
    assert_error(response, 401, "invalid_client")
    response = client.post(
        "/oauth/token", data=assertion_form(assertion(key_client.key, key_client.client_id))
    )
    assert_error(response, 401, "invalid_client")
    assert used_jtis(db, key_client.client_id) == []


def test_expired_assertion_is_refused(client: TestClient, db: Session, key_client: KeyClient) -> None:
    # Well past the 30-second leeway.
    token = assertion(key_client.key, key_client.client_id, exp_in=-300)
    response = client.post("/oauth/token", data=assertion_form(token))
    assert_error(response, 401, "invalid_client", detail="expired")
    # A 401 names a scheme to authenticate with (RFC 9110 §15.5.2), for assertions as for secrets.
    assert "invalid_client" in response.headers["www-authenticate"]
    assert used_jtis(db, key_client.client_id) == []


def test_replayed_assertion_is_refused_the_second_time(
    client: TestClient, db: Session, key_client: KeyClient
) -> None:
    form = assertion_form(assertion(key_client.key, key_client.client_id, jti="once-only-jti"))

    first = client.post("/oauth/token", data=form)
    second = client.post("/oauth/token", data=form)

    assert first.status_code == 200, first.text
    assert_error(second, 401, "invalid_client", detail="JWT ID")
    assert "access_token" not in second.json()
    assert used_jtis(db, key_client.client_id) == ["once-only-jti"]


def test_same_jti_from_two_clients_is_not_a_replay(
    client: TestClient, db: Session, key_client: KeyClient
) -> None:
    other = Ed25519PrivateKey.generate()
    org = make_org(db, OrgKind.SUPPLIER)
    row, _ = orgs.create_client(
        db,
        actor="test",
        actor_org_id=None,
        org_id=org.id,
        name="x",
        scopes=None,
        public_jwk=public_jwk(other),
    )
    db.commit()
    for key, client_id in ((key_client.key, key_client.client_id), (other, row.client_id)):
        form = assertion_form(assertion(key, client_id, jti="shared-jti"))
        assert client.post("/oauth/token", data=form).status_code == 200


def test_assertion_for_another_audience_is_refused(
    client: TestClient, db: Session, key_client: KeyClient
) -> None:
    token = assertion(key_client.key, key_client.client_id, aud="https://other-hub.example/oauth/token")
    response = client.post("/oauth/token", data=assertion_form(token))
    assert_error(response, 401, "invalid_client", detail="aud")
    assert used_jtis(db, key_client.client_id) == []


def test_assertion_signed_by_another_key_is_refused(
    client: TestClient, db: Session, key_client: KeyClient
) -> None:
    token = assertion(Ed25519PrivateKey.generate(), key_client.client_id)
    response = client.post("/oauth/token", data=assertion_form(token))
    assert_error(response, 401, "invalid_client")
    assert used_jtis(db, key_client.client_id) == []


def test_assertion_living_too_long_is_refused(client: TestClient, db: Session, key_client: KeyClient) -> None:
    # The hub accepts assertions for at most client_assertion_max_age_seconds (300) ahead.
    token = assertion(key_client.key, key_client.client_id, exp_in=3600)
    response = client.post("/oauth/token", data=assertion_form(token))
    assert_error(response, 401, "invalid_client", detail="too far in the future")
    assert used_jtis(db, key_client.client_id) == []


def test_secret_client_cannot_use_private_key_jwt(client: TestClient, db: Session, supplier: Actor) -> None:
    token = assertion(Ed25519PrivateKey.generate(), supplier.client_id)
    response = client.post("/oauth/token", data=assertion_form(token))
    assert_error(response, 401, "invalid_client")
    assert used_jtis(db, supplier.client_id) == []


def test_key_client_cannot_use_a_secret(client: TestClient, db: Session, key_client: KeyClient) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(key_client.client_id, "qls_guess")
    )
    assert_error(response, 401, "invalid_client")
    assert used_jtis(db, key_client.client_id) == []


# --- request failures -----------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["operator:admin", "org:read operator:admin", "no:such-scope"])
def test_scope_the_client_does_not_hold_is_invalid_scope(
    client: TestClient, supplier: Actor, scope: str
) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(supplier.client_id, supplier.secret),
    )
    assert_error(response, 400, "invalid_scope")
    assert "access_token" not in response.json()


def test_invalid_scope_with_an_assertion_leaves_its_jti_unspent(
    client: TestClient, db: Session, key_client: KeyClient
) -> None:
    token = assertion(key_client.key, key_client.client_id)
    response = client.post("/oauth/token", data=assertion_form(token, scope="operator:admin"))
    assert_error(response, 400, "invalid_scope")
    assert used_jtis(db, key_client.client_id) == []


def test_unknown_grant_type(client: TestClient, supplier: Actor) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "password"}, auth=(supplier.client_id, supplier.secret)
    )
    assert_error(response, 400, "unsupported_grant_type")


def test_token_request_must_be_a_form(client: TestClient, supplier: Actor) -> None:
    response = client.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, auth=(supplier.client_id, supplier.secret)
    )
    assert_error(response, 400, "BadRequest", detail="x-www-form-urlencoded")


def test_repeated_parameter_is_refused(client: TestClient, db: Session, key_client: KeyClient) -> None:
    token = assertion(key_client.key, key_client.client_id)
    body = (
        f"grant_type=client_credentials&scope=org%3Aread&scope=kpi%3Awrite"
        f"&client_assertion_type={ASSERTION_TYPE}&client_assertion={token}"
    )
    response = client.post(
        "/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_error(response, 400, "BadRequest", detail="repeated")
    assert used_jtis(db, key_client.client_id) == []


# --- metadata -------------------------------------------------------------------------------------


def test_authorization_server_metadata(client: TestClient) -> None:
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    meta: dict[str, Any] = response.json()
    assert meta["issuer"] == TEST_ISSUER
    assert meta["token_endpoint"] == TOKEN_URL
    assert meta["jwks_uri"] == f"{TEST_ISSUER}/.well-known/jwks.json"
    assert {"private_key_jwt", "client_secret_basic"} <= set(meta["token_endpoint_auth_methods_supported"])
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert "Ed25519" in meta["token_endpoint_auth_signing_alg_values_supported"]
