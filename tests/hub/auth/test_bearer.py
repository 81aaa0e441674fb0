"""Bearer access tokens on protected endpoints: who may call, and which scope each call needs."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OKPKey

from hub.auth.tokens import TokenKeys
from hub.config import development_signing_key
from protocol.encoding import b64url_encode
from tests.conftest import TEST_ISSUER
from tests.hub.asserts import assert_error
from tests.hub.conftest import Actor

PROTECTED = "/v1/organizations/me"  # needs org:read


def claims_for(actor: Actor, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": TEST_ISSUER,
        "sub": actor.client_id,
        "aud": TEST_ISSUER,
        "client_id": actor.client_id,
        "org_id": str(actor.org.id),
        "org_kind": actor.org.kind,
        "scope": "org:read",
        "iat": now,
        "exp": now + 300,
        "jti": "hand-made",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def hub_signed(claims: dict[str, Any]) -> str:
    """A token signed with the key the test hub uses (the development key), exactly as the hub signs."""
    return TokenKeys(development_signing_key(), issuer=TEST_ISSUER).sign(claims)


def call(client: TestClient, token: str | None, *, scheme: str = "Bearer") -> Any:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return client.get(PROTECTED, headers=headers)


def assert_unauthenticated(response: Any, detail: str | None = None) -> None:
    assert_error(response, 401, "Unauthenticated", detail=detail)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_hand_signed_token_with_the_hub_key_is_accepted(client: TestClient, supplier: Actor) -> None:
    # The control for every refusal below: the same construction with nothing wrong passes.
    response = call(client, hub_signed(claims_for(supplier)))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(supplier.org.id)


def test_no_token(client: TestClient) -> None:
    assert_unauthenticated(call(client, None), detail="access token is required")


def test_other_scheme(client: TestClient, supplier: Actor) -> None:
    response = call(client, b64url_encode(f"{supplier.client_id}:{supplier.secret}".encode()), scheme="Basic")
    assert_unauthenticated(response)


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_token(client: TestClient, garbage: str) -> None:
    assert_unauthenticated(call(client, garbage), detail="malformed")


def test_token_signed_by_another_key(client: TestClient, supplier: Actor) -> None:
    forged = TokenKeys(Ed25519PrivateKey.generate(), issuer=TEST_ISSUER).sign(claims_for(supplier))
    assert_unauthenticated(call(client, forged), detail="signature")


def test_expired_token(client: TestClient, supplier: Actor) -> None:
    now = int(time.time())
    token = hub_signed(claims_for(supplier, iat=now - 1200, exp=now - 600))
    assert_unauthenticated(call(client, token), detail="expired")


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("iss", "https://other-hub.example"),
        ("aud", "https://other-hub.example"),
        ("aud", None),
        ("org_id", None),
    ],
)
def test_token_with_wrong_or_missing_claim(
    client: TestClient, supplier: Actor, claim: str, value: Any
) -> None:
    token = hub_signed(claims_for(supplier, **{claim: value}))
    assert_unauthenticated(call(client, token), detail=claim)


def test_token_that_is_not_an_access_token(client: TestClient, supplier: Actor) -> None:
    # Right key and claims, but typ JWT: an ID token or client assertion must never pass as an access token.
    key = OKPKey.import_key(development_signing_key())
    token = jwt.encode({"alg": "Ed25519", "typ": "JWT"}, claims_for(supplier), key, algorithms=["Ed25519"])
    assert_unauthenticated(call(client, token), detail="at+jwt")


def test_token_lacking_the_endpoint_scope_is_insufficient_scope(client: TestClient, supplier: Actor) -> None:
    # org:read lets the client read; registering a key needs org:admin.
    headers = supplier.headers(scope="org:read")
    assert client.get(PROTECTED, headers=headers).status_code == 200

    body = {"use": "sig", "public_key": b64url_encode(bytes(range(32)))}
    response = client.post("/v1/keys", json=body, headers=headers)

    assert_error(response, 403, "InsufficientScope", detail="org:admin")
    assert 'scope="org:admin"' in response.headers["www-authenticate"]
    assert "insufficient_scope" in response.headers["www-authenticate"]
    listed = supplier.get(f"/v1/organizations/{supplier.org.id}/keys")
    assert listed.status_code == 200 and listed.json()["items"] == []


def test_tokens_signed_before_a_key_rotation_verify_while_the_old_key_is_listed() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hub.auth.tokens import TokenKeys
    from hub.errors import Unauthenticated
    from tests.conftest import TEST_ISSUER

    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    issued = int(time.time())
    claims = {
        "iss": TEST_ISSUER,
        "aud": TEST_ISSUER,
        "sub": "c",
        "client_id": "c",
        "iat": issued,
        "exp": issued + 60,
        "org_id": "01a212af-d7a9-7707-b6d6-9e989b56670f",
        "org_kind": "oem",
        "scope": "org:read",
    }
    token = TokenKeys(old, issuer=TEST_ISSUER).sign(claims)
    rotated = TokenKeys(new, issuer=TEST_ISSUER, previous=[old.public_key()])
    assert rotated.verify(token).client_id == "c"
    assert {k["kid"] for k in rotated.jwks()["keys"]} == set(rotated.public_keys)
    assert len(rotated.jwks()["keys"]) == 2
    with pytest.raises(Unauthenticated):
        TokenKeys(new, issuer=TEST_ISSUER).verify(token)
