"""Ed25519 signed envelopes: the form in which every signed QX/1 document (a KPI report, a dataset) travels.

The signature covers the canonical bytes (RFC 8785) of everything in the envelope but the signature,
plus the protocol id, so a signature made for one protocol, type, key, time or nonce never verifies for
another::

    {"key_id": ..., "nonce": ..., "payload": {...}, "protocol": "QX/1", "signed_at": "...Z", "type": ...}

``signed_at`` is signed in its canonical rendering (see :func:`protocol.encoding.format_utc`):
``YYYY-MM-DDTHH:MM:SSZ``, or ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` with exactly six digits when the
microseconds are not zero. The envelope serializes ``signed_at`` in the same form.

Key ids are RFC 7638 JWK thumbprints (:func:`key_id_for`), so anyone holding the public key can compute
its id. Freshness and replay (is ``signed_at`` recent, was the ``nonce`` seen) are the verifier's policy,
not checked here.

Example:
    >>> key = load_private_key(bytes(32))
    >>> envelope = sign_envelope({"hello": "world"}, type="ping", private_key=key)
    >>> verify_envelope(envelope, key.public_key())
    >>> envelope.key_id == key_id_for(public_key_raw(key))
    True
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, Field, field_serializer, field_validator

from protocol import PROTOCOL_ID
from protocol.encoding import b64url_decode, b64url_encode, canonical_bytes, format_utc
from protocol.errors import EncodingError, InvalidKey, SignatureInvalid
from protocol.jwk import RAW_KEY_BYTES as _RAW_KEY_BYTES
from protocol.jwk import okp_jwk, thumbprint
from protocol.models.common import WireModel

NONCE_MIN_BYTES = 16
"""Fewest random bytes an envelope nonce must carry.

Example:
    >>> len(b64url_decode(sign_envelope({}, type="ping", private_key=generate_signing_key()).nonce))
    16
"""

NONCE_MAX_BYTES = 64
"""Most bytes an envelope nonce may carry.

Example:
    >>> NONCE_MAX_BYTES
    64
"""

SIGNATURE_BYTES = 64
"""Length of an Ed25519 signature.

Example:
    >>> SIGNATURE_BYTES
    64
"""

PrivateKey = Ed25519PrivateKey | X25519PrivateKey
PublicKey = Ed25519PublicKey | X25519PublicKey


class SignedEnvelope(WireModel):
    """A payload signed with an organization's Ed25519 key.

    ``type`` names what the payload is (``kpi-report``); ``key_id`` the signing key (RFC 7638
    thumbprint); ``signed_at`` when it was signed (timezone-aware, normalized to UTC); ``nonce`` at
    least 16 random bytes, base64url; ``signature`` 64 bytes, base64url. The signature's form is checked
    by :func:`verify_envelope` (a malformed one is :class:`~protocol.errors.SignatureInvalid`), not here.
    Payloads that have no canonical form (binary floats, huge integers) are refused.

    Example:
        >>> envelope = sign_envelope({"n": 1}, type="ping", private_key=generate_signing_key())
        >>> sorted(envelope.model_dump(mode="json"))
        ['key_id', 'nonce', 'payload', 'signature', 'signed_at', 'type']
    """

    type: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    key_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")
    signed_at: datetime
    nonce: str = Field(max_length=128)
    payload: dict[str, Any]
    signature: str = Field(max_length=256)

    @field_validator("signed_at", mode="before")
    @classmethod
    def _not_a_number(cls, value: Any) -> Any:
        # Lax pydantic would read a number as seconds since 1970: on the wire a time is an RFC 3339 string.
        if isinstance(value, int | float):
            raise ValueError("signed_at must be an RFC 3339 time string, not a number")
        return value

    @field_validator("signed_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("signed_at must be timezone-aware (UTC)")
        return value.astimezone(UTC)

    @field_validator("nonce")
    @classmethod
    def _nonce(cls, value: str) -> str:
        size = len(b64url_decode(value))
        if not NONCE_MIN_BYTES <= size <= NONCE_MAX_BYTES:
            raise ValueError(f"nonce must be {NONCE_MIN_BYTES} to {NONCE_MAX_BYTES} bytes, base64url")
        return value

    @field_validator("payload")
    @classmethod
    def _canonical(cls, value: dict[str, Any]) -> dict[str, Any]:
        canonical_bytes(value)
        return value

    @field_serializer("signed_at")
    def _render_signed_at(self, value: datetime) -> str:
        return format_utc(value)


def signing_input(envelope: SignedEnvelope) -> bytes:
    """Return the exact bytes an envelope's signature covers: canonical JSON of all fields but the signature.

    Example:
        >>> envelope = SignedEnvelope(type="ping", key_id="k1", signed_at="2026-11-23T08:30:00Z",
        ...                           nonce="AAECAwQFBgcICQoLDA0ODw", payload={"n": 1}, signature="")
        >>> signing_input(envelope)
        b'{"key_id":"k1","nonce":"AAECAwQFBgcICQoLDA0ODw","payload":{"n":1},"protocol":"QX/1","signed_at":"2026-11-23T08:30:00Z","type":"ping"}'
    """
    return canonical_bytes(
        {
            "protocol": PROTOCOL_ID,
            "type": envelope.type,
            "key_id": envelope.key_id,
            "signed_at": format_utc(envelope.signed_at),
            "nonce": envelope.nonce,
            "payload": envelope.payload,
        }
    )


def sign_envelope(
    payload: BaseModel | dict[str, Any],
    *,
    type: str,
    private_key: Ed25519PrivateKey,
    key_id: str | None = None,
    signed_at: datetime | None = None,
    nonce: str | None = None,
) -> SignedEnvelope:
    """Sign ``payload`` (a pydantic model, dumped as JSON, or a JSON object) into a :class:`SignedEnvelope`.

    ``key_id`` defaults to the key's thumbprint (:func:`key_id_for`), ``signed_at`` to now (UTC; a
    naive datetime is refused) and ``nonce`` to 16 fresh random bytes.

    Example:
        >>> key = load_private_key(bytes(32))
        >>> envelope = sign_envelope({"n": 1}, type="ping", private_key=key,
        ...                          signed_at=datetime(2026, 11, 23, 8, 30, tzinfo=UTC),
        ...                          nonce="AAECAwQFBgcICQoLDA0ODw")
        >>> envelope.signature[:16]
        'LOo6RU5WW97ZSoBS'
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        raise InvalidKey(f"envelopes are signed with an Ed25519 private key, not {_type_name(private_key)}")
    # A fresh, plain-JSON copy: later changes to the caller's objects cannot alter what was signed.
    body = json.loads(canonical_bytes(payload))
    if not isinstance(body, dict):
        raise TypeError(f"a payload is a JSON object, not {_type_name(body)}")
    moment = datetime.now(UTC) if signed_at is None else signed_at
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("signed_at must be timezone-aware (UTC)")
    envelope = SignedEnvelope(
        type=type,
        key_id=key_id_for(public_key_raw(private_key)) if key_id is None else key_id,
        signed_at=moment,
        nonce=b64url_encode(secrets.token_bytes(NONCE_MIN_BYTES)) if nonce is None else nonce,
        payload=body,
        signature="",
    )
    envelope.signature = b64url_encode(private_key.sign(signing_input(envelope)))
    return envelope


def verify_envelope(
    envelope: SignedEnvelope,
    public_key: Ed25519PublicKey | bytes,
    *,
    expected_type: str | None = None,
) -> None:
    """Check an envelope's signature with ``public_key`` (a key object or its 32 raw bytes).

    Raises :class:`~protocol.errors.SignatureInvalid` when any signed field was changed, the key is
    another one, the signature is malformed (bad base64url, not 64 bytes), or ``type`` is not
    ``expected_type`` when that is given. Returns ``None`` when the envelope verifies. Which key to use
    (by ``envelope.key_id``) and whether ``signed_at`` and ``nonce`` are fresh is the caller's business.

    Example:
        >>> key = generate_signing_key()
        >>> envelope = sign_envelope({"n": 1}, type="ping", private_key=key)
        >>> verify_envelope(envelope, public_key_raw(key), expected_type="ping")
        >>> envelope.payload["n"] = 2
        >>> verify_envelope(envelope, key.public_key())
        Traceback (most recent call last):
        ...
        protocol.errors.SignatureInvalid: signature does not verify
    """
    if expected_type is not None and envelope.type != expected_type:
        raise SignatureInvalid(f"envelope type is {envelope.type!r}, expected {expected_type!r}")
    try:
        key = public_key if isinstance(public_key, Ed25519PublicKey) else public_key_from_raw(public_key)
    except (InvalidKey, TypeError) as exc:
        raise SignatureInvalid(f"unusable verification key: {exc}") from exc
    try:
        signature = b64url_decode(envelope.signature)
    except EncodingError as exc:
        raise SignatureInvalid(f"signature is not base64url: {exc}") from exc
    if len(signature) != SIGNATURE_BYTES:
        raise SignatureInvalid(f"signature must be {SIGNATURE_BYTES} bytes, got {len(signature)}")
    try:
        message = signing_input(envelope)
    except (ValueError, TypeError, AttributeError) as exc:
        raise SignatureInvalid(f"envelope has no signing input: {exc}") from exc
    try:
        key.verify(signature, message)
    except InvalidSignature as exc:
        raise SignatureInvalid("signature does not verify") from exc


def key_id_for(public_key_raw: bytes, *, crv: Literal["Ed25519", "X25519"] = "Ed25519") -> str:
    """Return the key id of a raw 32-byte public key: its RFC 7638 JWK thumbprint (RFC 8037 OKP key).

    The thumbprint is base64url(SHA-256(canonical JWK ``{"crv", "kty": "OKP", "x"}``)), 43 characters.
    The same bytes get different ids as an Ed25519 and as an X25519 key.

    Example (RFC 8037, Appendix A.3):
        >>> key_id_for(b64url_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
        'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k'
    """
    return thumbprint(okp_jwk(public_key_raw, crv=crv))


def generate_signing_key() -> Ed25519PrivateKey:
    """Return a new random Ed25519 private key.

    Example:
        >>> len(public_key_raw(generate_signing_key()))
        32
    """
    return Ed25519PrivateKey.generate()


def load_private_key(raw_or_pem: bytes | str, *, password: bytes | None = None) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from a 32-byte seed, its base64url text, or PKCS#8 PEM (bytes or str).

    ``password`` decrypts an encrypted PEM. Anything else raises :class:`~protocol.errors.InvalidKey`.

    Example (the RFC 8037 Appendix A.1 key):
        >>> key = load_private_key("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        >>> b64url_encode(public_key_raw(key))
        '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo'
    """
    if isinstance(raw_or_pem, str):
        text = raw_or_pem.strip()
        if text.startswith("-----BEGIN"):
            raw_or_pem = text.encode("ascii", errors="replace")
        else:
            try:
                raw_or_pem = b64url_decode(text)
            except EncodingError as exc:
                raise InvalidKey(f"not a PEM key nor a base64url seed: {exc}") from exc
    if not isinstance(raw_or_pem, bytes):
        raise InvalidKey(f"expected bytes or str, not {_type_name(raw_or_pem)}")
    if raw_or_pem.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(raw_or_pem, password=password)
        except (ValueError, TypeError) as exc:
            raise InvalidKey(f"unreadable PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidKey(f"the PEM holds a {_type_name(key)}, not an Ed25519 private key")
        return key
    if len(raw_or_pem) != _RAW_KEY_BYTES:
        raise InvalidKey(f"a raw Ed25519 private key is {_RAW_KEY_BYTES} bytes, got {len(raw_or_pem)}")
    return Ed25519PrivateKey.from_private_bytes(raw_or_pem)


def public_key_raw(key: PrivateKey | PublicKey) -> bytes:
    """Return the raw 32 bytes of an Ed25519 or X25519 public key (or of a private key's public half).

    Example:
        >>> b64url_encode(public_key_raw(load_private_key(bytes(32))))
        'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik'
    """
    if isinstance(key, Ed25519PrivateKey | X25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey | X25519PublicKey):
        raise InvalidKey(f"expected an Ed25519 or X25519 key, not {_type_name(key)}")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    """Return the Ed25519 public key whose raw 32 bytes are ``raw``.

    Example:
        >>> key = generate_signing_key()
        >>> public_key_raw(public_key_from_raw(public_key_raw(key))) == public_key_raw(key)
        True
    """
    if not isinstance(raw, bytes) or len(raw) != _RAW_KEY_BYTES:
        raise InvalidKey(f"a raw Ed25519 public key is {_RAW_KEY_BYTES} bytes")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - every 32-byte string is accepted by cryptography
        raise InvalidKey(str(exc)) from exc


def _type_name(value: object) -> str:
    return type(value).__name__


__all__ = [
    "NONCE_MAX_BYTES",
    "NONCE_MIN_BYTES",
    "SIGNATURE_BYTES",
    "SignedEnvelope",
    "generate_signing_key",
    "key_id_for",
    "load_private_key",
    "public_key_from_raw",
    "public_key_raw",
    "sign_envelope",
    "signing_input",
    "verify_envelope",
]
