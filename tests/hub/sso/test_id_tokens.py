"""The ID token rules on their own, at a fixed clock: real tokens signed with joserfc, every claim that decides
who signs in checked, and the claim mapping's choice of role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from hub.models import SsoProvider
from hub.people.roles import Role
from hub.sso.oidc import SignInFailed, validate_id_token
from hub.sso.people import role_from

NOW = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)  # any moment: the validator takes the hub's clock
ISSUER = "https://idp.example/realms/aurora"
CLIENT = "qualink"
NONCE = "n-0S6_WzA2Mj"
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
JWKS = KeySet([RSA, EC]).as_dict(private=False)


def _claims(**changes: Any) -> dict[str, Any]:
    at = int(NOW.timestamp())
    claims = {"iss": ISSUER, "sub": "248289761001", "aud": CLIENT, "iat": at, "exp": at + 300, "nonce": NONCE}
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _token(claims: dict[str, Any], key: Any = RSA, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def _validate(token: str) -> dict[str, Any]:
    return validate_id_token(
        token, jwks=JWKS, issuer=ISSUER, client_id=CLIENT, nonce=NONCE, access_token=None, now=NOW
    )


def test_a_good_token_in_rs256_or_es256_gives_its_claims() -> None:
    assert _validate(_token(_claims(email="jo@aurora.example")))["email"] == "jo@aurora.example"
    assert _validate(_token(_claims(), EC, "ES256"))["sub"] == "248289761001"


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        (_claims(iss="https://idp.example/realms/other"), "iss"),
        (_claims(aud="someone-else"), "aud"),
        (_claims(aud=["someone-else", CLIENT]), "azp"),  # several audiences and none says it was us
        (_claims(nonce="replayed"), "nonce"),
        (_claims(nonce=None), "nonce"),
        (_claims(exp=int(NOW.timestamp()) - 61), "expired"),
        (_claims(sub=None), "sub"),
    ],
    ids=["issuer", "audience", "azp", "nonce", "no-nonce", "expired", "no-subject"],
)
def test_a_wrong_claim_is_refused_by_name(claims: dict[str, Any], words: str) -> None:
    with pytest.raises(SignInFailed, match=words):
        _validate(_token(claims))


def test_a_forged_signature_or_a_symmetric_algorithm_is_refused() -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    with pytest.raises(SignInFailed, match="signature"):
        _validate(_token(_claims(), impostor))
    shared = OctKey.generate_key(256, parameters={"kid": "rsa-1"})
    with pytest.raises(SignInFailed, match="refused"):
        _validate(_token(_claims(), shared, "HS256"))
    with pytest.raises(SignInFailed, match="refused"):
        _validate("not.a.token")


def _provider(**fields: Any) -> SsoProvider:
    return SsoProvider(**{"default_role": "viewer", "role_mapping": {}, "role_claim": None, **fields})


def test_the_strongest_mapped_role_wins_else_the_default() -> None:
    mapping = {"qe": "sqe", "it": "admin", "buyers": "purchasing"}
    provider = _provider(role_claim="groups", role_mapping=mapping)
    assert role_from(provider, {"groups": ["buyers", "qe"]}) == Role.SQE
    assert role_from(provider, {"groups": ["qe", "it"]}) == Role.ADMIN
    assert role_from(provider, {"groups": "buyers"}) == Role.PURCHASING
    assert role_from(provider, {"groups": ["nobody"]}) == Role.VIEWER
    assert role_from(provider, {"groups": 7}) == Role.VIEWER
    assert role_from(_provider(), {"groups": ["it"]}) == Role.VIEWER
