"""Public keys as JSON Web Keys: RFC 8037 ``OKP`` keys, Ed25519 (signing) and X25519 (room data keys).

The one place a public JWK is built, for the hub (its JWKS, room members' keys, `hub client create`) and the SDK
(registering a ``private_key_jwt`` client) alike. Only the public members ``{"crv", "kty", "x"}``: a private
key's ``d`` never goes into a JWK made here. :func:`thumbprint` is RFC 7638 over those members, the key id.

Example (RFC 8037, Appendix A):
    >>> from protocol.encoding import b64url_decode
    >>> jwk = okp_jwk(b64url_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
    >>> jwk["kty"], jwk["crv"]
    ('OKP', 'Ed25519')
    >>> thumbprint(jwk)
    'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k'
"""

from __future__ import annotations

import hashlib
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from protocol.encoding import b64url_encode, canonical_bytes
from protocol.errors import InvalidKey

OkpCurve = Literal["Ed25519", "X25519"]
OkpKey = Ed25519PrivateKey | Ed25519PublicKey | X25519PrivateKey | X25519PublicKey
RAW_KEY_BYTES = 32


def okp_jwk(public_key_raw: bytes, *, crv: OkpCurve = "Ed25519") -> dict[str, str]:
    """The public JWK ``{"crv", "kty": "OKP", "x"}`` of a raw 32-byte Ed25519 or X25519 public key.

    Example:
        >>> okp_jwk(bytes(32), crv="X25519")["x"]
        'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
    """
    if crv not in ("Ed25519", "X25519"):
        raise InvalidKey(f"unknown OKP curve {crv!r}")
    if not isinstance(public_key_raw, bytes) or len(public_key_raw) != RAW_KEY_BYTES:
        raise InvalidKey(f"a raw {crv} public key is {RAW_KEY_BYTES} bytes")
    return {"crv": crv, "kty": "OKP", "x": b64url_encode(public_key_raw)}


def public_jwk(key: OkpKey) -> dict[str, str]:
    """The public half of an Ed25519 or X25519 key (private or public) as a JWK.

    Example:
        >>> public_jwk(Ed25519PrivateKey.from_private_bytes(bytes(32)))
        {'crv': 'Ed25519', 'kty': 'OKP', 'x': 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik'}
        >>> public_jwk(X25519PrivateKey.from_private_bytes(bytes(32)).public_key())["crv"]
        'X25519'
    """
    if isinstance(key, Ed25519PrivateKey | X25519PrivateKey):
        key = key.public_key()
    if isinstance(key, Ed25519PublicKey):
        crv: OkpCurve = "Ed25519"
    elif isinstance(key, X25519PublicKey):
        crv = "X25519"
    else:
        raise InvalidKey(f"expected an Ed25519 or X25519 key, not {type(key).__name__}")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return okp_jwk(raw, crv=crv)


def thumbprint(jwk: dict[str, str]) -> str:
    """The RFC 7638 thumbprint of an OKP JWK (base64url SHA-256 of its canonical required members), 43 chars.

    Members other than ``crv``, ``kty`` and ``x`` (``kid``, ``use``, ``alg``) do not change it.

    Example:
        >>> jwk = public_jwk(Ed25519PrivateKey.from_private_bytes(bytes(32)))
        >>> thumbprint({**jwk, "kid": "k1"}) == thumbprint(jwk)
        True
    """
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    return b64url_encode(hashlib.sha256(canonical_bytes(required)).digest())


__all__ = ["okp_jwk", "public_jwk", "thumbprint"]
