"""Room dataset encryption: a chunked AES-256-GCM stream (STREAM construction) in bounded memory.

The hub never sees a plaintext byte nor a data key. The uploading SDK draws a random 32-byte **data key**,
encrypts the file with it in a STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015, as in Tink's
streaming AEAD), and wraps the data key to every member organization's X25519 public key.

Ciphertext stream (format ``QXRD`` version 1), all integers big-endian::

    header   48 bytes  magic "QXRD" (4) | version 0x01 (1) | chunk_size u32 (4) | nonce_prefix (7, random)
                       | key_commitment (32)
    chunk 0  len(plaintext_0) + 16 bytes   AES-256-GCM(data_key, nonce_0, plaintext_0, aad_0) incl. 16-byte tag
    chunk 1  ...
    chunk n-1                               the final chunk (final flag 1)

    nonce_i = nonce_prefix (7) | i u32 (4) | final flag (1: 0x01 for the last chunk, else 0x00)
    aad_i   = "qualink-room-dataset-v1" | room_id (16 bytes) | dataset_id (16 bytes) | header (48)
              | i u32 (4) | final flag (1)
    key_commitment = HMAC-SHA256(data_key, "qualink-room-dataset-v1 key commitment" | room_id | dataset_id
                                 | the header's first 16 bytes)

Every chunk but the last carries exactly ``chunk_size`` plaintext bytes (default :data:`CHUNK_SIZE`, 1 MiB);
the last carries 0 to ``chunk_size`` bytes and is the only one with the final flag (an empty file is one empty
final chunk). So the ciphertext is ``48 + plaintext_size + 16·max(1, ⌈plaintext_size / chunk_size⌉)`` bytes
(:func:`ciphertext_size`). Because the chunk index and the final flag are in the nonce and the AAD, and the
room id, dataset id and header in the AAD, a tampered chunk, a wrong key, another room's or dataset's id,
reordered chunks, a stream cut at any point (even at a chunk boundary) and bytes appended after the final
chunk all fail to decrypt (:class:`DatasetIntegrityError`). Encryption and decryption hold at most two chunks
in memory, whatever the file size.

AES-GCM alone does not commit to its key: a ciphertext can be built to open under two keys to two plaintexts.
The header's ``key_commitment`` closes that gap: a reader checks it (in constant time) before any chunk, so an
uploader or a re-wrapping member who hands different members different data keys cannot show them different
plaintexts behind the one signed SHA-256.

The data key is wrapped to each member organization by :mod:`supplier_sdk.rooms.keywrap`.

Example:
    >>> import io, uuid
    >>> room, dataset = uuid.UUID(int=1), uuid.UUID(int=2)
    >>> key = generate_data_key()
    >>> sealed = io.BytesIO()
    >>> stats = encrypt_stream(io.BytesIO(b"rpm,noise_db\\n2950,71.5\\n"), sealed, key=key, room_id=room,
    ...                        dataset_id=dataset, chunk_size=8)
    >>> stats.plaintext_size, stats.ciphertext_size == ciphertext_size(23, 8) == len(sealed.getvalue())
    (23, True)
    >>> opened = io.BytesIO()
    >>> _ = decrypt_stream(io.BytesIO(sealed.getvalue()), opened, key=key, room_id=room, dataset_id=dataset)
    >>> opened.getvalue()
    b'rpm,noise_db\\n2950,71.5\\n'
    >>> decrypt_stream(io.BytesIO(sealed.getvalue()), io.BytesIO(), key=key, room_id=room,
    ...                dataset_id=uuid.UUID(int=3))
    Traceback (most recent call last):
    ...
    supplier_sdk.rooms.crypto.DatasetIntegrityError: the key commitment does not match: wrong key, room or dataset, or a tampered header
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from supplier_sdk.errors import QualinkError

MAGIC = b"QXRD"
"""The first four bytes of every dataset ciphertext.

Example:
    >>> MAGIC
    b'QXRD'
"""

FORMAT_VERSION = 1
"""The ciphertext format version, the fifth byte of the header.

Example:
    >>> FORMAT_VERSION
    1
"""

HEADER_SIZE = 48
"""Bytes of the stream header: magic, version, chunk size, the 7-byte nonce prefix and the key commitment.

Example:
    >>> HEADER_SIZE
    48
"""

TAG_SIZE = 16
"""Bytes of the GCM tag at the end of every chunk.

Example:
    >>> TAG_SIZE
    16
"""

CHUNK_SIZE = 1 << 20
"""Default plaintext bytes per chunk (1 MiB).

Example:
    >>> CHUNK_SIZE
    1048576
"""

MAX_CHUNK_SIZE = 16 << 20
"""Largest chunk size accepted, so a hostile header cannot make a reader allocate without bound (16 MiB).

Example:
    >>> MAX_CHUNK_SIZE // CHUNK_SIZE
    16
"""

DATA_KEY_SIZE = 32
"""Bytes of a data key (AES-256).

Example:
    >>> len(generate_data_key()) == DATA_KEY_SIZE
    True
"""

STREAM_ALGORITHM = "AES-256-GCM-STREAM-QXRD1"
"""Name of the dataset cipher, as manifests record it.

Example:
    >>> STREAM_ALGORITHM
    'AES-256-GCM-STREAM-QXRD1'
"""

_AAD_LABEL = b"qualink-room-dataset-v1"
_PREFIX_SIZE = 7
_MAX_CHUNKS = 2**32
_HEADER = struct.Struct(">4sBI7s")
_COMMITMENT_LABEL = b"qualink-room-dataset-v1 key commitment"
_INDEX = struct.Struct(">IB")


class DatasetIntegrityError(QualinkError):
    """A dataset or a wrapped key does not decrypt: wrong key, another room or dataset, tampered, cut or extended.

    Nothing of a failed dataset should be used: the readers in this module raise before the plaintext of an
    unauthenticated chunk is returned.

    Example:
        >>> issubclass(DatasetIntegrityError, QualinkError)
        True
    """


@dataclass(frozen=True)
class StreamStats:
    """What one pass over a stream saw: sizes, chunk size and the SHA-256 of the ciphertext (hex).

    Example:
        >>> StreamStats(plaintext_size=0, ciphertext_size=32, chunk_size=CHUNK_SIZE, ciphertext_sha256="00").chunks
        1
    """

    plaintext_size: int
    ciphertext_size: int
    chunk_size: int
    ciphertext_sha256: str

    @property
    def chunks(self) -> int:
        """How many chunks the stream has.

        Example:
            >>> StreamStats(plaintext_size=10, ciphertext_size=74, chunk_size=4, ciphertext_sha256="").chunks
            3
        """
        return max(1, -(-self.plaintext_size // self.chunk_size))


def generate_data_key() -> bytes:
    """Return a fresh random 32-byte data key (one per dataset).

    Example:
        >>> generate_data_key() != generate_data_key()
        True
    """
    return secrets.token_bytes(DATA_KEY_SIZE)


# -- the chunk stream ----------------------------------------------------------------------------------------


def ciphertext_size(plaintext_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Bytes of the ciphertext of ``plaintext_size`` bytes: header, plaintext and one tag per chunk.

    Example:
        >>> ciphertext_size(0), ciphertext_size(CHUNK_SIZE), ciphertext_size(CHUNK_SIZE + 1)
        (64, 1048640, 1048657)
    """
    chunks = max(1, -(-plaintext_size // chunk_size))
    return HEADER_SIZE + plaintext_size + TAG_SIZE * chunks


def _check_chunk_size(chunk_size: int) -> None:
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be 1 to {MAX_CHUNK_SIZE} bytes, got {chunk_size}")


def _commitment(key: bytes, room_id: uuid.UUID, dataset_id: uuid.UUID, fields: bytes) -> bytes:
    message = _COMMITMENT_LABEL + room_id.bytes + dataset_id.bytes + fields
    return hmac.new(key, message, hashlib.sha256).digest()


def _aad(room_id: uuid.UUID, dataset_id: uuid.UUID, header: bytes) -> bytes:
    return _AAD_LABEL + room_id.bytes + dataset_id.bytes + header


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at the end (pipes and sockets may return short reads)."""
    parts = []
    remaining = size
    while remaining > 0:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def iter_encrypt(
    source: BinaryIO,
    *,
    key: bytes,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield the ciphertext of ``source`` (read to its end): the header, then one encrypted chunk at a time.

    Holds at most two plaintext chunks (one of look-ahead, to know which chunk is the last).

    Example:
        >>> import io
        >>> parts = list(iter_encrypt(io.BytesIO(b"abcdefghij"), key=bytes(32), room_id=uuid.UUID(int=1),
        ...                           dataset_id=uuid.UUID(int=2), chunk_size=4))
        >>> [len(part) for part in parts]
        [48, 20, 20, 18]
    """
    _check_chunk_size(chunk_size)
    if len(key) != DATA_KEY_SIZE:
        raise ValueError(f"a data key is {DATA_KEY_SIZE} bytes, got {len(key)}")
    prefix = secrets.token_bytes(_PREFIX_SIZE)
    fields = _HEADER.pack(MAGIC, FORMAT_VERSION, chunk_size, prefix)
    header = fields + _commitment(key, room_id, dataset_id, fields)
    aad = _aad(room_id, dataset_id, header)
    cipher = AESGCM(key)
    yield header
    index = 0
    current = _read_full(source, chunk_size)
    while True:
        following = _read_full(source, chunk_size) if len(current) == chunk_size else b""
        final = not following
        if index >= _MAX_CHUNKS:
            raise ValueError("too many chunks for one stream: use a larger chunk_size")
        position = _INDEX.pack(index, final)
        yield cipher.encrypt(prefix + position, current, aad + position)
        if final:
            return
        current = following
        index += 1


class StreamDecryptor:
    """Decrypts a ciphertext stream fed in pieces of any size (as they come off the network).

    :meth:`feed` returns the plaintext of every chunk that is complete *and known not to be the last*;
    :meth:`finish` authenticates the final chunk and returns its plaintext. Every returned byte belongs to a
    chunk whose tag verified; a stream that is cut, extended, reordered or tampered with raises
    :class:`DatasetIntegrityError` at the first bad chunk or at :meth:`finish`. Holds at most one chunk plus
    one fed piece.

    Args:
        key: the data key.
        room_id, dataset_id: the ids the stream was encrypted under.
        expected_chunk_size: when given, a header naming another chunk size is refused.

    Example:
        >>> import io
        >>> sealed = b"".join(iter_encrypt(io.BytesIO(b"0123456789"), key=bytes(32), room_id=uuid.UUID(int=1),
        ...                                dataset_id=uuid.UUID(int=2), chunk_size=4))
        >>> reader = StreamDecryptor(key=bytes(32), room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))
        >>> reader.feed(sealed[:50]) + reader.feed(sealed[50:]) + reader.finish()
        b'0123456789'
    """

    def __init__(
        self,
        *,
        key: bytes,
        room_id: uuid.UUID,
        dataset_id: uuid.UUID,
        expected_chunk_size: int | None = None,
    ) -> None:
        if len(key) != DATA_KEY_SIZE:
            raise ValueError(f"a data key is {DATA_KEY_SIZE} bytes, got {len(key)}")
        self._cipher = AESGCM(key)
        self._key = key
        self._ids = (room_id, dataset_id)
        self._expected_chunk_size = expected_chunk_size
        self._buffer = bytearray()
        self._hash = hashlib.sha256()
        self._header: bytes | None = None
        self._aad = b""
        self._prefix = b""
        self._chunk_size = 0
        self._index = 0
        self._plaintext_size = 0
        self._ciphertext_size = 0
        self._finished = False

    def _read_header(self) -> None:
        header = bytes(self._buffer[:HEADER_SIZE])
        del self._buffer[:HEADER_SIZE]
        fields, commitment = header[: _HEADER.size], header[_HEADER.size :]
        magic, version, chunk_size, prefix = _HEADER.unpack(fields)
        if magic != MAGIC or version != FORMAT_VERSION:
            raise DatasetIntegrityError("not a QXRD version 1 dataset ciphertext")
        if not hmac.compare_digest(commitment, _commitment(self._key, *self._ids, fields)):
            raise DatasetIntegrityError(
                "the key commitment does not match: wrong key, room or dataset, or a tampered header"
            )
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise DatasetIntegrityError(f"header names an unusable chunk size {chunk_size}")
        if self._expected_chunk_size is not None and chunk_size != self._expected_chunk_size:
            raise DatasetIntegrityError(
                f"header names chunk size {chunk_size}, the dataset says {self._expected_chunk_size}"
            )
        self._header, self._chunk_size, self._prefix = header, chunk_size, prefix
        self._aad = _aad(*self._ids, header)

    def _open(self, sealed: bytes | bytearray, *, final: bool) -> bytes:
        position = _INDEX.pack(self._index, final)
        try:
            plaintext = self._cipher.decrypt(self._prefix + position, bytes(sealed), self._aad + position)
        except InvalidTag:
            raise DatasetIntegrityError(
                f"chunk {self._index} does not authenticate: wrong key, room or dataset, or tampered"
            ) from None
        self._index += 1
        self._plaintext_size += len(plaintext)
        return plaintext

    def feed(self, data: bytes) -> bytes:
        """Take the next piece of ciphertext; return the plaintext of the chunks it completed (maybe ``b""``).

        Example:
            >>> StreamDecryptor(key=bytes(32), room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2)).feed(b"QX")
            b''
        """
        if self._finished:
            raise DatasetIntegrityError("data after the end of the stream")
        self._hash.update(data)
        self._ciphertext_size += len(data)
        self._buffer += data
        if self._header is None:
            if len(self._buffer) < HEADER_SIZE:
                return b""
            self._read_header()
        sealed_size = self._chunk_size + TAG_SIZE
        out = []
        # Strictly more than one sealed chunk buffered: the first is not the last one.
        while len(self._buffer) > sealed_size:
            if self._index >= _MAX_CHUNKS - 1:
                raise DatasetIntegrityError("too many chunks")
            out.append(self._open(self._buffer[:sealed_size], final=False))
            del self._buffer[:sealed_size]
        return b"".join(out)

    def finish(self) -> bytes:
        """The stream has ended: authenticate the final chunk and return its plaintext.

        Raises:
            DatasetIntegrityError: the stream was cut (also exactly at a chunk boundary) or its last chunk fails.

        Example:
            >>> StreamDecryptor(key=bytes(32), room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2)).finish()
            Traceback (most recent call last):
            ...
            supplier_sdk.rooms.crypto.DatasetIntegrityError: the stream ends inside its header
        """
        if self._finished:
            return b""
        if self._header is None:
            raise DatasetIntegrityError("the stream ends inside its header")
        if len(self._buffer) < TAG_SIZE:
            raise DatasetIntegrityError(f"the stream ends inside chunk {self._index}")
        plaintext = self._open(self._buffer, final=True)
        self._buffer.clear()
        self._finished = True
        return plaintext

    def stats(self) -> StreamStats:
        """Sizes and ciphertext SHA-256 of what was fed so far (complete after :meth:`finish`).

        Example:
            >>> reader = StreamDecryptor(key=bytes(32), room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))
            >>> reader.stats().ciphertext_sha256[:8]
            'e3b0c442'
        """
        return StreamStats(
            plaintext_size=self._plaintext_size,
            ciphertext_size=self._ciphertext_size,
            chunk_size=self._chunk_size,
            ciphertext_sha256=self._hash.hexdigest(),
        )


def encrypt_stream(
    source: BinaryIO,
    sink: BinaryIO,
    *,
    key: bytes,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    chunk_size: int = CHUNK_SIZE,
) -> StreamStats:
    """Encrypt ``source`` into ``sink`` chunk by chunk; return the sizes and the ciphertext's SHA-256.

    Example:
        >>> import io
        >>> sink = io.BytesIO()
        >>> stats = encrypt_stream(io.BytesIO(bytes(10)), sink, key=bytes(32), room_id=uuid.UUID(int=1),
        ...                        dataset_id=uuid.UUID(int=2))
        >>> stats.ciphertext_size == len(sink.getvalue()) == 48 + 10 + 16
        True
    """
    digest = hashlib.sha256()
    size = 0
    parts = 0
    for part in iter_encrypt(source, key=key, room_id=room_id, dataset_id=dataset_id, chunk_size=chunk_size):
        digest.update(part)
        sink.write(part)
        size += len(part)
        parts += 1
    return StreamStats(
        plaintext_size=size - HEADER_SIZE - TAG_SIZE * (parts - 1),
        ciphertext_size=size,
        chunk_size=chunk_size,
        ciphertext_sha256=digest.hexdigest(),
    )


def decrypt_pieces(
    pieces: Iterable[bytes], *, key: bytes, room_id: uuid.UUID, dataset_id: uuid.UUID
) -> Iterator[bytes]:
    """Yield the plaintext of a ciphertext given as pieces of any size; raises on the first bad chunk.

    The plaintext of the final chunk is yielded only after it authenticated; but earlier chunks are yielded
    before the whole stream is checked, so write to a temporary place and keep it only when the iterator
    ends without an error (as :func:`decrypt_stream` callers and the room client do).

    Example:
        >>> import io
        >>> sealed = b"".join(iter_encrypt(io.BytesIO(b"hello"), key=bytes(32), room_id=uuid.UUID(int=1),
        ...                                dataset_id=uuid.UUID(int=2), chunk_size=2))
        >>> b"".join(decrypt_pieces([sealed[:5], sealed[5:]], key=bytes(32), room_id=uuid.UUID(int=1),
        ...                         dataset_id=uuid.UUID(int=2)))
        b'hello'
    """
    reader = StreamDecryptor(key=key, room_id=room_id, dataset_id=dataset_id)
    for piece in pieces:
        plaintext = reader.feed(piece)
        if plaintext:
            yield plaintext
    last = reader.finish()
    if last:
        yield last


def decrypt_stream(
    source: BinaryIO,
    sink: BinaryIO,
    *,
    key: bytes,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    expected_chunk_size: int | None = None,
    read_size: int = CHUNK_SIZE,
) -> StreamStats:
    """Decrypt ``source`` into ``sink``; return the sizes and the ciphertext's SHA-256.

    On :class:`DatasetIntegrityError` the sink may hold the plaintext of chunks before the bad one: discard it.

    Example:
        >>> import io
        >>> sealed = io.BytesIO(b"".join(iter_encrypt(io.BytesIO(b"x" * 5), key=bytes(32),
        ...                     room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2))))
        >>> decrypt_stream(sealed, io.BytesIO(), key=bytes(32), room_id=uuid.UUID(int=1),
        ...                dataset_id=uuid.UUID(int=2)).plaintext_size
        5
    """
    reader = StreamDecryptor(
        key=key, room_id=room_id, dataset_id=dataset_id, expected_chunk_size=expected_chunk_size
    )
    while piece := source.read(read_size):
        sink.write(reader.feed(piece))
    sink.write(reader.finish())
    return reader.stats()


__all__ = [
    "CHUNK_SIZE",
    "DATA_KEY_SIZE",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "MAGIC",
    "MAX_CHUNK_SIZE",
    "STREAM_ALGORITHM",
    "TAG_SIZE",
    "DatasetIntegrityError",
    "StreamDecryptor",
    "StreamStats",
    "ciphertext_size",
    "decrypt_pieces",
    "decrypt_stream",
    "encrypt_stream",
    "generate_data_key",
]
