"""Exceptions raised by the QX/1 library.

Every error the library raises on purpose derives from :class:`ProtocolError`, so a caller can catch the
whole family at one boundary. Errors about malformed input are also ``ValueError`` s, so pydantic turns
them into validation errors when they are raised inside a validator::

    ProtocolError
     ├── EncodingError (ValueError)      bad base64url text
     │    └── CanonicalizationError      a value without a canonical JSON form (e.g. a binary float)
     ├── InvalidPeriod (ValueError)      a reporting period that does not exist ("2021-W53", "2026-13")
     ├── InvalidKey (ValueError)         key material that is not a usable Ed25519 / X25519 key
     └── SignatureInvalid                an envelope that does not verify (tampered, wrong key, malformed)

Example:
    >>> from protocol.periods import parse_period
    >>> try:
    ...     parse_period("2021-W53")
    ... except ProtocolError as exc:
    ...     type(exc).__name__
    'InvalidPeriod'
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every error the QX/1 library raises on purpose.

    Example:
        >>> issubclass(SignatureInvalid, ProtocolError)
        True
    """


class EncodingError(ProtocolError, ValueError):
    """Text or a value that cannot be encoded or decoded as QX/1 requires (base64url, canonical JSON).

    Example:
        >>> from protocol.encoding import b64url_decode
        >>> try:
        ...     b64url_decode("AA==")
        ... except EncodingError as exc:
        ...     str(exc)
        'base64url text must not carry padding'
    """


class CanonicalizationError(EncodingError):
    """A value with no RFC 8785 canonical form; ``path`` says where in the value (``$.claim.value``).

    Example:
        >>> from protocol.encoding import canonical_bytes
        >>> try:
        ...     canonical_bytes({"claim": {"value": 1.33}})
        ... except CanonicalizationError as exc:
        ...     exc.path
        '$.claim.value'
    """

    def __init__(self, message: str, *, path: str = "$") -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class InvalidPeriod(ProtocolError, ValueError):
    """A reporting period string or value that does not name an existing ISO week or month.

    Example:
        >>> from protocol.periods import parse_period
        >>> try:
        ...     parse_period("2026-13")
        ... except InvalidPeriod as exc:
        ...     "month" in str(exc)
        True
    """


class InvalidKey(ProtocolError, ValueError):
    """Key material that is not a usable key of the expected kind (wrong length, wrong algorithm, bad PEM).

    Example:
        >>> from protocol.signing import public_key_from_raw
        >>> try:
        ...     public_key_from_raw(b"short")
        ... except InvalidKey:
        ...     "refused"
        'refused'
    """


class SignatureInvalid(ProtocolError):
    """A signed envelope that does not verify: tampered content, another key, or a malformed signature.

    Example:
        >>> raise SignatureInvalid("signature does not verify")
        Traceback (most recent call last):
        ...
        protocol.errors.SignatureInvalid: signature does not verify
    """


__all__ = [
    "CanonicalizationError",
    "EncodingError",
    "InvalidKey",
    "InvalidPeriod",
    "ProtocolError",
    "SignatureInvalid",
]
