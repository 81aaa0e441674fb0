"""Client authentication at the hub's token endpoint: RFC 7523 client assertions signed with Ed25519."""

from __future__ import annotations

import secrets
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

# one JWK builder for hub and SDK alike; importable from here as before
from protocol.jwk import public_jwk

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def client_assertion(
    *, client_id: str, private_key: Ed25519PrivateKey, audience: str, lifetime_seconds: int = 60
) -> str:
    """A one-time client assertion (RFC 7523 §3): ``iss`` = ``sub`` = client id, a fresh ``jti``, short ``exp``.

    ``audience`` is the hub's token endpoint URL.

    Example:
        >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
        >>> token = client_assertion(client_id="qlc_1", private_key=key, audience="https://hub/oauth/token")
        >>> token.count(".")
        2
    """
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime_seconds,
        "jti": secrets.token_urlsafe(16),
    }
    key = OKPKey.import_key(private_key)
    return jwt.encode({"alg": "Ed25519", "typ": "JWT"}, claims, key, algorithms=["Ed25519"])


def token_request_form(
    *, client_id: str, private_key: Ed25519PrivateKey, token_url: str, scope: str | None
) -> dict[str, str]:
    """The form body of a client-credentials token request authenticated by ``private_key_jwt``.

    Example:
        >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
        >>> form = token_request_form(client_id="c", private_key=key, token_url="https://h/oauth/token", scope=None)
        >>> form["client_assertion_type"] == ASSERTION_TYPE
        True
    """
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(
            client_id=client_id, private_key=private_key, audience=token_url
        ),
    }
    if scope:
        form["scope"] = scope
    return form


__all__ = ["ASSERTION_TYPE", "client_assertion", "public_jwk", "token_request_form"]
