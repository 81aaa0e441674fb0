"""Canonical bytes (RFC 8785 JCS), base64url and SHA-256: the only serializer used for hashing and signing.

QX/1 signs and hashes JSON values only through :func:`canonical_bytes`. It is deliberately strict: besides
what RFC 8785 itself refuses (non-string keys, integers beyond ±(2**53 - 1), lone surrogates), it refuses
every binary float, because measurement and money values cross the wire as decimal strings or integers in
stated units, never as numbers a verifier would have to reproduce bit for bit.

Example:
    >>> canonical_bytes({"b": [1, True, None], "a": "€"})
    b'{"a":"\\xe2\\x82\\xac","b":[1,true,null]}'
    >>> b64url_encode(b"\\xfb\\xff")
    '-_8'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import rfc8785
from pydantic import BaseModel

from protocol.errors import CanonicalizationError, EncodingError

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer magnitude RFC 8785 can represent exactly (I-JSON, RFC 7493).

Example:
    >>> MAX_SAFE_INTEGER
    9007199254740991
"""

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects :func:`canonical_bytes` accepts.

Example:
    >>> MAX_DEPTH
    64
"""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def canonical_bytes(value: Any) -> bytes:
    """Return the RFC 8785 (JCS) canonical UTF-8 bytes of a JSON value or a pydantic model.

    A pydantic model is first dumped with ``model_dump(mode="json")``. Accepted values are ``None``,
    ``bool``, ``int`` within ±(2**53 - 1), ``str`` (valid Unicode), lists or tuples and dicts with string
    keys, nested at most :data:`MAX_DEPTH` deep. Anything else — in particular every ``float`` — raises
    :class:`~protocol.errors.CanonicalizationError` naming the JSON path of the offending value.

    Example:
        >>> canonical_bytes({"value": "1.3300", "n": 125, "kpi": "cpk"})
        b'{"kpi":"cpk","n":125,"value":"1.3300"}'
        >>> canonical_bytes({"values": [1, 2.5]})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        protocol.errors.CanonicalizationError: $.values[1]: binary floats are not allowed; ...
    """
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    _check(value, "$", 0)
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:  # pragma: no cover - _check refuses all of these first
        raise CanonicalizationError(str(exc)) from exc


def _check(value: Any, path: str, depth: int) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalizationError(
                "integer outside ±(2**53 - 1); send it as a decimal string", path=path
            )
        return
    if isinstance(value, float):
        raise CanonicalizationError(
            "binary floats are not allowed; send decimals as strings or integers", path=path
        )
    if isinstance(value, str):
        _check_text(value, path)
        return
    if depth >= MAX_DEPTH:
        raise CanonicalizationError(f"nested deeper than {MAX_DEPTH} levels", path=path)
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalizationError(f"object key {key!r} is not a string", path=path)
            _check_text(key, path)
            _check(item, _member_path(path, key), depth + 1)
        return
    raise CanonicalizationError(f"{type(value).__name__} is not a JSON value", path=path)


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("text is not valid Unicode (lone surrogate)", path=path) from exc


def _member_path(path: str, key: str) -> str:
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{escaped}"]'


def b64url_encode(data: bytes) -> str:
    """Encode bytes as base64url without padding (RFC 4648 §5, as JOSE uses it).

    Example:
        >>> b64url_encode(bytes(range(4)))
        'AAECAw'
    """
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url text, refusing anything but the one canonical encoding of some bytes.

    Padding, characters outside ``A-Z a-z 0-9 - _``, an impossible length and non-zero unused trailing
    bits all raise :class:`~protocol.errors.EncodingError` (a ``ValueError``), so every byte string has
    exactly one accepted text form.

    Example:
        >>> b64url_decode("AAECAw")
        b'\\x00\\x01\\x02\\x03'
        >>> b64url_decode("AAECAx")
        Traceback (most recent call last):
        ...
        protocol.errors.EncodingError: base64url text has non-zero trailing bits
    """
    if not isinstance(text, str):
        raise EncodingError(f"base64url text must be a str, not {type(text).__name__}")
    if "=" in text:
        raise EncodingError("base64url text must not carry padding")
    if not _B64URL.fullmatch(text):
        raise EncodingError("base64url text may only contain A-Z a-z 0-9 - _")
    if len(text) % 4 == 1:
        raise EncodingError("base64url text has an impossible length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:  # pragma: no cover - the checks above leave nothing for it to refuse
        raise EncodingError(f"invalid base64url text: {exc}") from exc
    if b64url_encode(data) != text:
        raise EncodingError("base64url text has non-zero trailing bits")
    return data


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 digest of ``data`` as 64 lowercase hex digits.

    Example:
        >>> sha256_hex(b"abc")[:16]
        'ba7816bf8f01cfea'
    """
    return hashlib.sha256(data).hexdigest()


def format_utc(moment: datetime) -> str:
    """Render an aware datetime in the one canonical QX/1 form: RFC 3339, UTC, ``Z``.

    The form is ``YYYY-MM-DDTHH:MM:SSZ`` when the microseconds are zero and
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (exactly six fraction digits) otherwise. Other offsets are converted
    to UTC first; a naive datetime raises ``ValueError``.

    Example:
        >>> from datetime import timedelta, timezone
        >>> format_utc(datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=1))))
        '2026-11-23T08:30:00Z'
        >>> format_utc(datetime(2026, 11, 23, 8, 30, 0, 120000, tzinfo=UTC))
        '2026-11-23T08:30:00.120000Z'
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timestamp must be timezone-aware (UTC)")
    utc = moment.astimezone(UTC)
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "b64url_decode",
    "b64url_encode",
    "canonical_bytes",
    "format_utc",
    "sha256_hex",
]
