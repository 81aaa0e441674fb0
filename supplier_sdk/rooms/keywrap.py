"""Room data keys wrapped to each member organization's X25519 key, and the organizations' X25519 keys.

Algorithm :data:`WRAP_ALGORITHM` (``X25519-HKDF-SHA256-AES256GCM``), for one recipient::

    ephemeral     a fresh X25519 key pair per wrap
    shared        X25519(ephemeral_private, recipient_public)          (the all-zero result is refused)
    info          RFC 8785 canonical JSON {"algorithm", "dataset_id", "purpose": "room-data-key",
                  "recipient_key_id", "room_id"}
    kek           HKDF-SHA256(ikm=shared, salt=ephemeral_public | recipient_public, info=info, length=32)
    wrapped_key   AES-256-GCM(kek, nonce=12 zero bytes, plaintext=data_key, aad=info)   48 bytes (key + tag)

The nonce may be constant because every kek is used exactly once (a fresh ephemeral key per wrap). A wrapped
key moved to another room, dataset or recipient key id, or opened with another private key, does not unwrap
(:class:`~supplier_sdk.rooms.crypto.DatasetIntegrityError`). The hub stores the ephemeral public key and the
wrapped key per member organization; it cannot unwrap them, so a member who joins late gets the data key
re-wrapped by a member who can (:meth:`supplier_sdk.rooms.client.Rooms.rewrap`).

An organization's X25519 private key lives with the SDK (``QUALINK_ENC_KEY_FILE``, see
:mod:`supplier_sdk.config`); its public half is registered with the hub as the key of use ``enc``.

Example:
    >>> import uuid
    >>> member = generate_encryption_key()
    >>> wrapped = wrap_data_key(bytes(range(32)), recipient_public_key=member.public_key(),
    ...                         room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))
    >>> wrapped.recipient_key_id == encryption_key_id(member)
    True
    >>> unwrap_data_key(wrapped, private_key=member, room_id=uuid.UUID(int=1),
    ...                 dataset_id=uuid.UUID(int=9))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    supplier_sdk.rooms.crypto.DatasetIntegrityError: the wrapped data key does not open ...
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol.encoding import b64url_decode, b64url_encode, canonical_bytes
from protocol.errors import EncodingError
from protocol.signing import key_id_for
from supplier_sdk.rooms.crypto import DATA_KEY_SIZE, TAG_SIZE, DatasetIntegrityError

WRAP_ALGORITHM = "X25519-HKDF-SHA256-AES256GCM"
"""Name of the key-wrapping algorithm, as the hub stores it with every wrapped key.

Example:
    >>> WRAP_ALGORITHM
    'X25519-HKDF-SHA256-AES256GCM'
"""

_WRAP_NONCE = bytes(12)


@dataclass(frozen=True)
class WrappedDataKey:
    """A data key wrapped to one recipient key: what the hub stores per member organization.

    Attributes:
        recipient_key_id: the member's X25519 key id (RFC 7638 thumbprint, as the hub lists it).
        ephemeral_public_key: the wrap's ephemeral X25519 public key, 32 bytes.
        wrapped_key: AES-256-GCM of the data key, 48 bytes.
        algorithm: :data:`WRAP_ALGORITHM`.

    Example:
        >>> recipient = generate_encryption_key()
        >>> wrapped = wrap_data_key(bytes(32), recipient_public_key=recipient.public_key(),
        ...                         room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))
        >>> len(b64url_decode(wrapped.wrapped_key_b64)), wrapped.algorithm
        (48, 'X25519-HKDF-SHA256-AES256GCM')
    """

    recipient_key_id: str
    ephemeral_public_key: bytes
    wrapped_key: bytes
    algorithm: str = WRAP_ALGORITHM

    @property
    def ephemeral_public_key_b64(self) -> str:
        """The ephemeral public key, base64url without padding (its wire form).

        Example:
            >>> len(WrappedDataKey("k", bytes(32), bytes(48)).ephemeral_public_key_b64)
            43
        """
        return b64url_encode(self.ephemeral_public_key)

    @property
    def wrapped_key_b64(self) -> str:
        """The wrapped key, base64url without padding (its wire form).

        Example:
            >>> len(WrappedDataKey("k", bytes(32), bytes(48)).wrapped_key_b64)
            64
        """
        return b64url_encode(self.wrapped_key)

    @classmethod
    def from_wire(
        cls, *, recipient_key_id: str, ephemeral_public_key: str, wrapped_key: str, algorithm: str
    ) -> WrappedDataKey:
        """Read a wrapped key from its base64url wire fields; a malformed one is :class:`DatasetIntegrityError`.

        Example:
            >>> WrappedDataKey.from_wire(recipient_key_id="k", ephemeral_public_key="A" * 43,
            ...                          wrapped_key="A" * 64, algorithm=WRAP_ALGORITHM).wrapped_key == bytes(48)
            True
        """
        try:
            return cls(
                recipient_key_id, b64url_decode(ephemeral_public_key), b64url_decode(wrapped_key), algorithm
            )
        except EncodingError as exc:
            raise DatasetIntegrityError(f"wrapped key is not base64url: {exc}") from exc


def generate_encryption_key() -> X25519PrivateKey:
    """Return a new X25519 private key: an organization's encryption key (register its public half as ``enc``).

    Example:
        >>> len(encryption_key_id(generate_encryption_key()))
        43
    """
    return X25519PrivateKey.generate()


def load_encryption_key(raw_or_pem: bytes | str, *, password: bytes | None = None) -> X25519PrivateKey:
    """Load an X25519 private key from 32 raw bytes, their base64url text, or PKCS#8 PEM (bytes or str).

    Raises:
        ValueError: anything else.

    Example:
        >>> key = load_encryption_key("A" * 43)
        >>> encryption_key_id(key) == key_id_for(bytes(X25519PrivateKey.from_private_bytes(bytes(32))
        ...     .public_key().public_bytes_raw()), crv="X25519")
        True
    """
    data = raw_or_pem.strip().encode("ascii", errors="replace") if isinstance(raw_or_pem, str) else raw_or_pem
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(data, password=password)
        if not isinstance(key, X25519PrivateKey):
            raise ValueError(f"the PEM holds a {type(key).__name__}, not an X25519 private key")
        return key
    if len(data) != 32:
        try:
            data = b64url_decode(data.decode("ascii").strip())
        except (UnicodeDecodeError, EncodingError) as exc:
            raise ValueError(f"not a PEM key, nor 32 raw bytes, nor their base64url: {exc}") from exc
    if len(data) != 32:
        raise ValueError(f"a raw X25519 private key is 32 bytes, got {len(data)}")
    return X25519PrivateKey.from_private_bytes(data)


def encryption_key_id(key: X25519PrivateKey | X25519PublicKey | bytes) -> str:
    """The key id of an X25519 key (RFC 7638 thumbprint with ``crv`` X25519), as the hub names it.

    Example:
        >>> key = generate_encryption_key()
        >>> encryption_key_id(key) == encryption_key_id(key.public_key().public_bytes_raw())
        True
    """
    if isinstance(key, X25519PrivateKey):
        key = key.public_key()
    raw = key if isinstance(key, bytes) else key.public_bytes_raw()
    return key_id_for(raw, crv="X25519")


def _wrap_context(*, room_id: uuid.UUID, dataset_id: uuid.UUID, recipient_key_id: str) -> bytes:
    return canonical_bytes(
        {
            "algorithm": WRAP_ALGORITHM,
            "dataset_id": str(dataset_id),
            "purpose": "room-data-key",
            "recipient_key_id": recipient_key_id,
            "room_id": str(room_id),
        }
    )


def _kek(shared: bytes, *, salt: bytes, info: bytes) -> AESGCM:
    if not any(shared):  # a low-order point: the "shared" secret would be public
        raise DatasetIntegrityError("X25519 exchange gave the all-zero secret: a malformed public key")
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared))


def wrap_data_key(
    data_key: bytes,
    *,
    recipient_public_key: X25519PublicKey | bytes,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    recipient_key_id: str | None = None,
) -> WrappedDataKey:
    """Wrap ``data_key`` to one recipient X25519 public key, bound to the room, dataset and recipient key id.

    Args:
        data_key: the dataset's 32-byte key.
        recipient_public_key: the member organization's X25519 public key (object or 32 raw bytes).
        room_id, dataset_id: the context the wrapped key is valid for.
        recipient_key_id: the id the hub lists the key under; default its thumbprint.

    Example:
        >>> member = generate_encryption_key()
        >>> wrapped = wrap_data_key(b"k" * 32, recipient_public_key=member.public_key(),
        ...                         room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))
        >>> unwrap_data_key(wrapped, private_key=member, room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))
        b'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'
    """
    if len(data_key) != DATA_KEY_SIZE:
        raise ValueError(f"a data key is {DATA_KEY_SIZE} bytes, got {len(data_key)}")
    recipient = (
        X25519PublicKey.from_public_bytes(recipient_public_key)
        if isinstance(recipient_public_key, bytes)
        else recipient_public_key
    )
    recipient_raw = recipient.public_bytes_raw()
    key_id = recipient_key_id or encryption_key_id(recipient_raw)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = ephemeral.public_key().public_bytes_raw()
    info = _wrap_context(room_id=room_id, dataset_id=dataset_id, recipient_key_id=key_id)
    kek = _kek(ephemeral.exchange(recipient), salt=ephemeral_raw + recipient_raw, info=info)
    return WrappedDataKey(key_id, ephemeral_raw, kek.encrypt(_WRAP_NONCE, data_key, info))


def unwrap_data_key(
    wrapped: WrappedDataKey, *, private_key: X25519PrivateKey, room_id: uuid.UUID, dataset_id: uuid.UUID
) -> bytes:
    """Recover the data key from ``wrapped`` with the recipient's X25519 private key.

    Raises:
        DatasetIntegrityError: another algorithm, key, room, dataset or recipient key id, or a tampered wrap.

    Example:
        >>> member, other = generate_encryption_key(), generate_encryption_key()
        >>> wrapped = wrap_data_key(bytes(32), recipient_public_key=member.public_key(),
        ...                         room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))
        >>> unwrap_data_key(wrapped, private_key=other, room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))
        Traceback (most recent call last):
        ...
        supplier_sdk.rooms.crypto.DatasetIntegrityError: the wrapped data key does not open with this key in this room and dataset
    """
    if wrapped.algorithm != WRAP_ALGORITHM:
        raise DatasetIntegrityError(f"unknown key-wrapping algorithm {wrapped.algorithm!r}")
    if len(wrapped.ephemeral_public_key) != 32 or len(wrapped.wrapped_key) != DATA_KEY_SIZE + TAG_SIZE:
        raise DatasetIntegrityError("a wrapped key has a 32-byte ephemeral key and 48 wrapped bytes")
    recipient_raw = private_key.public_key().public_bytes_raw()
    info = _wrap_context(room_id=room_id, dataset_id=dataset_id, recipient_key_id=wrapped.recipient_key_id)
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(wrapped.ephemeral_public_key))
    except ValueError as exc:
        raise DatasetIntegrityError(f"unusable ephemeral key: {exc}") from exc
    kek = _kek(shared, salt=wrapped.ephemeral_public_key + recipient_raw, info=info)
    try:
        return kek.decrypt(_WRAP_NONCE, wrapped.wrapped_key, info)
    except InvalidTag:
        raise DatasetIntegrityError(
            "the wrapped data key does not open with this key in this room and dataset"
        ) from None


__all__ = [
    "WRAP_ALGORITHM",
    "WrappedDataKey",
    "encryption_key_id",
    "generate_encryption_key",
    "load_encryption_key",
    "unwrap_data_key",
    "wrap_data_key",
]
