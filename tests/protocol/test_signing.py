"""Ed25519 signed envelopes: known answers, round trips, and rejection of every tampering."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from protocol.encoding import b64url_decode, b64url_encode, canonical_bytes
from protocol.errors import InvalidKey, ProtocolError, SignatureInvalid
from protocol.signing import (
    SignedEnvelope,
    generate_signing_key,
    key_id_for,
    load_private_key,
    public_key_from_raw,
    public_key_raw,
    sign_envelope,
    signing_input,
    verify_envelope,
)

# RFC 8037 Appendix A.1: the Ed25519 key every JOSE implementation tests with.
RFC8037_SEED = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
FIXED_AT = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
FIXED_NONCE = "AAECAwQFBgcICQoLDA0ODw"  # bytes 0..15
PAYLOAD: dict[str, Any] = {
    "kpi": "cpk",
    "period": "2026-W48",
    "claim": {"meets": True, "value": "1.4567", "threshold": "1.33", "sample_size": 125},
    "part_number": "A-100",
    "note": "Ø 10 mm",
}


@pytest.fixture(scope="module")
def rfc_key() -> Ed25519PrivateKey:
    return load_private_key(RFC8037_SEED)


def _signed(key: Ed25519PrivateKey, payload: dict[str, Any] | None = None) -> SignedEnvelope:
    return sign_envelope(
        PAYLOAD if payload is None else payload,
        type="kpi-report",
        private_key=key,
        signed_at=FIXED_AT,
        nonce=FIXED_NONCE,
    )


# --- known answers ----------------------------------------------------------------------------------


def test_rfc8037_key_and_signature_vector(rfc_key: Ed25519PrivateKey) -> None:
    # RFC 8037 A.1 (public key), A.3 (thumbprint) and A.4 (signature over a JWS signing input).
    assert b64url_encode(public_key_raw(rfc_key)) == RFC8037_X
    assert key_id_for(b64url_decode(RFC8037_X)) == RFC8037_THUMBPRINT
    jws_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    assert b64url_encode(rfc_key.sign(jws_input)) == (
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )


def test_envelope_known_answer_vector(rfc_key: Ed25519PrivateKey) -> None:
    envelope = _signed(rfc_key)
    assert signing_input(envelope) == (
        b'{"key_id":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","nonce":"AAECAwQFBgcICQoLDA0ODw",'
        b'"payload":{"claim":{"meets":true,"sample_size":125,"threshold":"1.33","value":"1.4567"},'
        b'"kpi":"cpk","note":"\xc3\x98 10 mm","part_number":"A-100","period":"2026-W48"},'
        b'"protocol":"QX/1","signed_at":"2026-11-23T08:30:00Z","type":"kpi-report"}'
    )
    assert envelope.signature == (
        "VgG8dtHL9g8VdriYN57hEmvMwubwP1fHidqqk_jsu-o0_8X2bAhZSKh6b-IFctl5q_I_xhf4fQXJnBiadVXvBw"
    )
    assert envelope.key_id == RFC8037_THUMBPRINT
    verify_envelope(envelope, b64url_decode(RFC8037_X))


def test_known_answer_with_microseconds(rfc_key: Ed25519PrivateKey) -> None:
    envelope = sign_envelope(
        {},
        type="ping",
        private_key=rfc_key,
        signed_at=datetime(2026, 11, 23, 8, 30, 0, 250, tzinfo=UTC),
        nonce=FIXED_NONCE,
    )
    assert signing_input(envelope) == (
        b'{"key_id":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","nonce":"AAECAwQFBgcICQoLDA0ODw",'
        b'"payload":{},"protocol":"QX/1","signed_at":"2026-11-23T08:30:00.000250Z","type":"ping"}'
    )
    assert envelope.signature == (
        "GECdnFtGKyr3P6K-f2Bhr-eqFP1SYeylFmrwKHF4ejOv8NOYCXEf-vhjtgPk9vULsC2NXqlzo4sm0XZFmWwmCQ"
    )


def test_wire_form_renders_signed_at_as_signed_and_parses_back(rfc_key: Ed25519PrivateKey) -> None:
    envelope = _signed(rfc_key)
    wire = json.loads(envelope.model_dump_json())
    assert wire["signed_at"] == "2026-11-23T08:30:00Z"
    assert set(wire) == {"type", "key_id", "signed_at", "nonce", "payload", "signature"}
    parsed = SignedEnvelope.model_validate_json(envelope.model_dump_json())
    assert parsed == envelope
    verify_envelope(parsed, rfc_key.public_key())


def test_x25519_thumbprint_differs_from_ed25519_of_the_same_bytes() -> None:
    raw = b64url_decode(RFC8037_X)
    expected = b64url_encode(
        hashlib.sha256(canonical_bytes({"crv": "X25519", "kty": "OKP", "x": RFC8037_X})).digest()
    )
    assert key_id_for(raw, crv="X25519") == expected
    assert key_id_for(raw, crv="X25519") != key_id_for(raw)
    assert len(key_id_for(raw)) == 43


# --- round trips ------------------------------------------------------------------------------------


def test_round_trip_with_defaults_and_a_pydantic_payload() -> None:
    class Ping(BaseModel):
        text: str
        at: datetime

    key = generate_signing_key()
    envelope = sign_envelope(Ping(text="hi", at=FIXED_AT), type="ping", private_key=key)
    assert envelope.payload == {"text": "hi", "at": "2026-11-23T08:30:00Z"}
    assert envelope.key_id == key_id_for(public_key_raw(key))
    assert len(b64url_decode(envelope.nonce)) == 16
    assert datetime.now(UTC) - envelope.signed_at < timedelta(seconds=5)
    assert len(b64url_decode(envelope.signature)) == 64
    verify_envelope(envelope, key.public_key(), expected_type="ping")


def test_fresh_nonces_differ() -> None:
    key = generate_signing_key()
    nonces = {sign_envelope({}, type="ping", private_key=key).nonce for _ in range(20)}
    assert len(nonces) == 20


def test_signed_payload_is_a_copy_the_caller_cannot_change(rfc_key: Ed25519PrivateKey) -> None:
    payload: dict[str, Any] = {"claim": {"value": "1.50"}}
    envelope = _signed(rfc_key, payload)
    payload["claim"]["value"] = "9.99"
    assert envelope.payload == {"claim": {"value": "1.50"}}
    verify_envelope(envelope, rfc_key.public_key())


def test_signed_at_in_another_offset_is_normalized_to_utc(rfc_key: Ed25519PrivateKey) -> None:
    cet = timezone(timedelta(hours=1))
    envelope = sign_envelope(
        PAYLOAD, type="kpi-report", private_key=rfc_key, signed_at=FIXED_AT.astimezone(cet), nonce=FIXED_NONCE
    )
    assert envelope.signed_at.utcoffset() == timedelta(0)
    assert envelope.signature == _signed(rfc_key).signature


def test_an_explicit_key_id_is_signed(rfc_key: Ed25519PrivateKey) -> None:
    envelope = sign_envelope(PAYLOAD, type="kpi-report", private_key=rfc_key, key_id="org-key-7")
    assert b'"key_id":"org-key-7"' in signing_input(envelope)
    verify_envelope(envelope, rfc_key.public_key())


# --- what sign_envelope and the model refuse --------------------------------------------------------


def test_naive_signed_at_is_refused(rfc_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_envelope({}, type="ping", private_key=rfc_key, signed_at=datetime(2026, 11, 23))
    with pytest.raises(ValidationError, match="timezone-aware"):
        SignedEnvelope.model_validate(
            {**_signed(rfc_key).model_dump(mode="json"), "signed_at": "2026-11-23T08:30:00"}
        )


@pytest.mark.parametrize(
    ("nonce", "fragment"),
    [
        ("AAECAwQFBgcICQoLDA0O", "16 to 64 bytes"),  # 15 bytes
        ("AAECAwQFBgcICQoLDA0ODw==", "padding"),
        ("AAECAwQFBgcICQoLDA0OD+", "may only contain"),
        ("AAECAwQFBgcICQoLDA0ODx", "trailing bits"),
    ],
)
def test_malformed_nonces_are_refused(rfc_key: Ed25519PrivateKey, nonce: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        sign_envelope({}, type="ping", private_key=rfc_key, nonce=nonce)


def test_payloads_without_a_canonical_form_are_refused(rfc_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError, match=r"\$\.claim\.value: binary floats"):
        sign_envelope({"claim": {"value": 1.5}}, type="ping", private_key=rfc_key)
    wire = _signed(rfc_key).model_dump(mode="json")
    wire["payload"] = {"n": 2**60}
    with pytest.raises(ValidationError, match="integer outside"):
        SignedEnvelope.model_validate(wire)


@pytest.mark.parametrize("bad_type", ["", "KPI", "kpi report", "-kpi", "x" * 65])
def test_malformed_types_are_refused(rfc_key: Ed25519PrivateKey, bad_type: str) -> None:
    with pytest.raises(ValidationError):
        sign_envelope({}, type=bad_type, private_key=rfc_key)


def test_only_ed25519_private_keys_sign() -> None:
    with pytest.raises(InvalidKey):
        sign_envelope({}, type="ping", private_key=X25519PrivateKey.generate())  # type: ignore[arg-type]


def test_unknown_fields_are_refused(rfc_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValidationError, match="extra"):
        SignedEnvelope.model_validate({**_signed(rfc_key).model_dump(mode="json"), "alg": "none"})


# --- tampering and wrong keys -----------------------------------------------------------------------

TAMPERINGS: dict[str, dict[str, Any]] = {
    "payload value": {"payload": {**PAYLOAD, "claim": {**PAYLOAD["claim"], "value": "1.4568"}}},
    "payload key added": {"payload": {**PAYLOAD, "extra": None}},
    "key_id": {"key_id": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4j"},
    "signed_at": {"signed_at": FIXED_AT + timedelta(microseconds=1)},
    "nonce": {"nonce": "AAECAwQFBgcICQoLDA0OEA"},
    "type": {"type": "kpi-reports"},
}


@pytest.mark.parametrize("change", TAMPERINGS.values(), ids=list(TAMPERINGS))
def test_tampering_any_signed_field_fails(rfc_key: Ed25519PrivateKey, change: dict[str, Any]) -> None:
    tampered = _signed(rfc_key).model_copy(update=change)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_envelope(tampered, rfc_key.public_key())


def test_tampering_by_assignment_fails(rfc_key: Ed25519PrivateKey) -> None:
    envelope = _signed(rfc_key)
    envelope.signed_at = FIXED_AT + timedelta(seconds=1)
    with pytest.raises(SignatureInvalid):
        verify_envelope(envelope, rfc_key.public_key())


def test_wrong_key_fails(rfc_key: Ed25519PrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_envelope(_signed(rfc_key), generate_signing_key().public_key())


def test_unexpected_type_fails(rfc_key: Ed25519PrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="expected 'dataset'"):
        verify_envelope(_signed(rfc_key), rfc_key.public_key(), expected_type="dataset")


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "AAAA",  # 3 bytes
        b64url_encode(bytes(63)),
        b64url_encode(bytes(65)),
        b64url_encode(bytes(64)) + "==",
        "!" * 86,
        b64url_encode(bytes(64))[:-1] + "B",  # non-zero trailing bits
        b64url_encode(bytes(64)),  # right length, all zeros
    ],
)
def test_malformed_signatures_fail_with_signature_invalid(rfc_key: Ed25519PrivateKey, signature: str) -> None:
    envelope = _signed(rfc_key)
    envelope.signature = signature
    with pytest.raises(SignatureInvalid):
        verify_envelope(envelope, rfc_key.public_key())


def test_unusable_verification_keys_fail_with_signature_invalid(rfc_key: Ed25519PrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="unusable"):
        verify_envelope(_signed(rfc_key), b"\x01" * 31)


def test_an_envelope_built_without_validation_fails_cleanly(rfc_key: Ed25519PrivateKey) -> None:
    good = _signed(rfc_key)
    broken = SignedEnvelope.model_construct(**{**dict(good), "signed_at": "yesterday"})
    with pytest.raises(SignatureInvalid):
        verify_envelope(broken, rfc_key.public_key())
    floaty = SignedEnvelope.model_construct(**{**dict(good), "payload": {"value": 1.5}})
    with pytest.raises(SignatureInvalid):
        verify_envelope(floaty, rfc_key.public_key())


# --- property: every mutation of a signed envelope is rejected --------------------------------------

_json_text = st.text(max_size=10)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, Any]:
    field = draw(st.sampled_from(["payload", "key_id", "signed_at", "nonce", "type", "signature"]))
    if field == "payload":
        return field, draw(
            st.dictionaries(_json_text, st.integers(-5, 5) | _json_text | st.booleans(), max_size=4)
        )
    if field == "key_id":
        return field, draw(st.from_regex(r"[A-Za-z0-9_-]{1,43}", fullmatch=True))
    if field == "signed_at":
        return field, FIXED_AT + timedelta(microseconds=draw(st.integers(-(10**12), 10**12)))
    if field == "nonce":
        return field, b64url_encode(draw(st.binary(min_size=16, max_size=64)))
    if field == "type":
        return field, draw(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True))
    raw = bytearray(b64url_decode(_signed(load_private_key(RFC8037_SEED)).signature))
    index, bit = draw(st.integers(0, 63)), draw(st.integers(0, 7))
    raw[index] ^= 1 << bit
    return field, b64url_encode(bytes(raw))


@given(mutations())
def test_any_mutation_is_rejected(mutation: tuple[str, Any]) -> None:
    key = load_private_key(RFC8037_SEED)
    original = _signed(key)
    field, value = mutation
    mutated = original.model_copy(update={field: value})
    if signing_input(mutated) == signing_input(original) and mutated.signature == original.signature:
        verify_envelope(mutated, key.public_key())  # the draw reproduced the original value
        return
    with pytest.raises(SignatureInvalid):
        verify_envelope(mutated, key.public_key())


# --- keys -------------------------------------------------------------------------------------------


def test_load_private_key_from_seed_bytes_text_and_pem(rfc_key: Ed25519PrivateKey) -> None:
    pem = rfc_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    encrypted = rfc_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    expected = public_key_raw(rfc_key)
    for source in (b64url_decode(RFC8037_SEED), RFC8037_SEED, pem, pem.decode(), "\n" + pem.decode()):
        assert public_key_raw(load_private_key(source)) == expected
    assert public_key_raw(load_private_key(encrypted, password=b"pw")) == expected


@pytest.mark.parametrize(
    "source",
    [
        b"\x00" * 31,
        "not base64url!",
        b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n",
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        12345,
    ],
    ids=["short-seed", "bad-text", "bad-pem", "p256-pem", "int"],
)
def test_load_private_key_refuses_other_material(source: Any) -> None:
    with pytest.raises(InvalidKey):
        load_private_key(source)


def test_public_key_helpers() -> None:
    key = generate_signing_key()
    raw = public_key_raw(key)
    assert raw == public_key_raw(key.public_key()) == public_key_raw(public_key_from_raw(raw))
    x = X25519PrivateKey.generate()
    assert len(public_key_raw(x)) == 32
    with pytest.raises(InvalidKey):
        public_key_from_raw(raw[:-1])
    with pytest.raises(InvalidKey):
        public_key_raw(generate_private_key(SECP256R1()))  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        key_id_for(raw + b"\x00")
    with pytest.raises(InvalidKey):
        key_id_for(raw, crv="P-256")  # type: ignore[arg-type]


def test_every_signing_error_is_a_protocol_error() -> None:
    assert issubclass(SignatureInvalid, ProtocolError)
    assert issubclass(InvalidKey, ProtocolError)
    assert issubclass(InvalidKey, ValueError)
    assert not issubclass(SignatureInvalid, ValueError)
