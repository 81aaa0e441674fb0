"""protocol.jwk: the one public-JWK builder of hub and SDK, checked against an independent JOSE library."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from joserfc.jwk import OKPKey

import supplier_sdk.auth
from protocol.encoding import b64url_decode
from protocol.errors import InvalidKey
from protocol.jwk import okp_jwk, public_jwk, thumbprint
from protocol.signing import key_id_for, public_key_raw

# RFC 8037, Appendix A.1 / A.3
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_key_gives_its_public_jwk_and_thumbprint() -> None:
    key = Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))

    jwk = public_jwk(key)

    assert jwk == {"crv": "Ed25519", "kty": "OKP", "x": RFC8037_X}
    assert thumbprint(jwk) == RFC8037_THUMBPRINT == key_id_for(public_key_raw(key))


@pytest.mark.parametrize("make", [Ed25519PrivateKey.generate, X25519PrivateKey.generate])
def test_same_jwk_and_thumbprint_as_joserfc_for_private_and_public_halves(make: object) -> None:
    key = make()  # type: ignore[operator]
    theirs = OKPKey.import_key(key.public_key())

    assert public_jwk(key) == public_jwk(key.public_key()) == dict(theirs.as_dict(private=False))
    assert thumbprint(public_jwk(key)) == theirs.thumbprint()
    assert "d" not in public_jwk(key)


def test_raw_bytes_and_curve_build_the_same_jwk() -> None:
    key = X25519PrivateKey.generate()

    assert okp_jwk(public_key_raw(key), crv="X25519") == public_jwk(key)
    assert thumbprint(public_jwk(key)) == key_id_for(public_key_raw(key), crv="X25519")


@pytest.mark.parametrize(
    ("raw", "crv", "message"),
    [(bytes(31), "Ed25519", "32 bytes"), ("A" * 32, "Ed25519", "32 bytes"), (bytes(32), "P-256", "curve")],
)
def test_malformed_raw_key_is_refused(raw: object, crv: str, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        okp_jwk(raw, crv=crv)  # type: ignore[arg-type]


def test_a_key_of_another_kind_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

    with pytest.raises(InvalidKey, match="Ed25519 or X25519"):
        public_jwk(generate_private_key(SECP256R1()))  # type: ignore[arg-type]


def test_the_sdk_re_exports_the_protocol_function() -> None:
    assert supplier_sdk.auth.public_jwk is public_jwk
