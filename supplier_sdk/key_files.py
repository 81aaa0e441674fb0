"""Private key files: make an Ed25519 (signing) or X25519 (rooms) key and write it where only you can read it.

A key file is PKCS#8 PEM, which :func:`read_key_file` and
:func:`supplier_sdk.rooms.keywrap.load_encryption_key` read back. The file is created with mode ``0600`` by
``os.open`` itself (never widened, never ``chmod``-ed afterwards), and an existing file is refused unless
``force`` is given; then the new key goes to a fresh ``0600`` file beside it that replaces the old one in one
rename, so a crash never leaves half a key.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "org.enc.key"
    >>> key = generate_key(KeyUse.ENCRYPTION)
    >>> write_key_file(path, key)
    >>> oct(path.stat().st_mode & 0o777), load_key_file(path, KeyUse.ENCRYPTION) is not None
    ('0o600', True)
    >>> write_key_file(path, key)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    supplier_sdk.errors.ConfigError: ...org.enc.key exists: pass --force to replace it
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.errors import InvalidKey
from protocol.models.common import KeyUse
from protocol.signing import key_id_for, load_private_key, public_key_raw
from supplier_sdk.errors import ConfigError
from supplier_sdk.rooms.keywrap import encryption_key_id, load_encryption_key

PrivateKey = Ed25519PrivateKey | X25519PrivateKey
"""An organization's private key: Ed25519 signs, X25519 receives room data keys."""

KEY_FILE_MODE = 0o600
"""The mode every private key file is created with: read and write for its owner only.

Example:
    >>> oct(KEY_FILE_MODE)
    '0o600'
"""


def generate_key(use: KeyUse) -> PrivateKey:
    """A new private key: Ed25519 for ``sig``, X25519 for ``enc``.

    Example:
        >>> type(generate_key(KeyUse.SIGNING)).__name__
        'Ed25519PrivateKey'
    """
    return Ed25519PrivateKey.generate() if use is KeyUse.SIGNING else X25519PrivateKey.generate()


def public_raw(key: PrivateKey) -> bytes:
    """The raw 32-byte public key, as the hub registers it.

    Example:
        >>> len(public_raw(generate_key(KeyUse.ENCRYPTION)))
        32
    """
    if isinstance(key, Ed25519PrivateKey):
        return public_key_raw(key)
    return key.public_key().public_bytes_raw()


def key_id(key: PrivateKey) -> str:
    """The id the hub gives the key (RFC 7638 thumbprint of its public half).

    Example:
        >>> len(key_id(generate_key(KeyUse.SIGNING)))
        43
    """
    if isinstance(key, Ed25519PrivateKey):
        return key_id_for(public_key_raw(key))
    return encryption_key_id(key)


def _pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_new(path: Path, data: bytes) -> None:
    """``data`` into a file that must not exist yet, created ``0600`` (O_EXCL: no race with another writer)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_key_file(path: str | Path, key: PrivateKey, *, force: bool = False) -> None:
    """Write ``key`` as PKCS#8 PEM to a new file of mode ``0600``; an existing file only with ``force``.

    Raises:
        ConfigError: the file exists (without ``force``), or its folder cannot be written.

    Example: ``write_key_file("~/.qualink/supplier.key", generate_key(KeyUse.SIGNING))``
    """
    target = Path(path).expanduser()
    try:
        if not force:
            _write_new(target, _pem(key))
            return
        folder = target.parent if str(target.parent) else Path(".")
        temp = folder / f".{target.name}.{uuid.uuid4().hex}.new"
        _write_new(temp, _pem(key))
        os.replace(temp, target)
    except FileExistsError:
        raise ConfigError(f"{target} exists: pass --force to replace it") from None
    except OSError as exc:
        raise ConfigError(f"cannot write key file {target}: {exc.strerror or exc}") from None


def load_key_file(path: str | Path, use: KeyUse) -> PrivateKey:
    """Read a private key file of ``use`` (PEM, base64url or raw 32 bytes).

    Raises:
        ConfigError: the file is missing, unreadable or holds no key of that kind.

    Example: ``key = load_key_file("org.enc.key", KeyUse.ENCRYPTION)``
    """
    if use is KeyUse.SIGNING:
        return read_key_file(path)
    return read_encryption_key_file(path)


_MAX_KEY_FILE_BYTES = 64 * 1024


def read_key_file(path: str | Path) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from a file: PKCS#8 PEM, a base64url 32-byte seed (text), or 32 raw bytes.

    Raises:
        ConfigError: the file is missing, unreadable, too large, or holds no Ed25519 private key.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "raw.key"
        >>> _ = path.write_bytes(bytes(32))
        >>> isinstance(read_key_file(path), Ed25519PrivateKey)
        True
        >>> read_key_file(path.with_name("absent.key"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        supplier_sdk.errors.ConfigError: key file not found: ...absent.key
    """
    source = Path(path).expanduser()
    try:
        with source.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"key file not found: {source}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read key file {source}: {exc.strerror or exc}") from None
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise ConfigError(f"key file {source} is too large to be a private key")
    try:
        text: bytes | str = data if len(data) == 32 else data.decode("ascii")
        return load_private_key(text)
    except (UnicodeDecodeError, InvalidKey) as exc:
        reason = str(exc) if isinstance(exc, InvalidKey) else "not text, and not 32 raw bytes"
        raise ConfigError(f"key file {source} holds no Ed25519 private key: {reason}") from None


def read_encryption_key_file(path: str | Path) -> X25519PrivateKey:
    """Load an X25519 private key from a file: PKCS#8 PEM, base64url text, or 32 raw bytes.

    Raises:
        ConfigError: the file cannot be read or holds no X25519 private key.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "org.enc.key"
        >>> _ = path.write_text("A" * 43)
        >>> isinstance(read_encryption_key_file(path), X25519PrivateKey)
        True
    """
    source = Path(path).expanduser()
    try:
        with source.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read encryption key file {source}: {exc.strerror or exc}") from None
    try:
        return load_encryption_key(data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"encryption key file {source} holds no X25519 private key: {exc}") from None


__all__ = [
    "KEY_FILE_MODE",
    "PrivateKey",
    "generate_key",
    "key_id",
    "load_key_file",
    "public_raw",
    "read_encryption_key_file",
    "read_key_file",
    "write_key_file",
]
