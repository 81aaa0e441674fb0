"""Ciphertext in the database, in rows of ``ROW_BYTES``: written from a stream, read back as one, deleted
with a DELETE (crypto-shredding together with the wrapped keys).

Rows are written with Core INSERTs, so the session keeps no reference to them and an upload of any size holds
at most one row (plus one incoming piece) in memory. The rows live in the request's transaction: an upload that
fails any check is rolled back with it and leaves nothing."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from hub.db import checkpoint_after_commit
from hub.models import RoomDatasetChunk
from hub.rooms.errors import ContentMismatch

ROW_BYTES = 1024 * 1024


def _insert(session: Session, dataset_id: uuid.UUID, seq: int, data: bytes) -> None:
    session.execute(insert(RoomDatasetChunk).values(dataset_id=dataset_id, seq=seq, data=data))


def write(session: Session, *, dataset_id: uuid.UUID, pieces: Iterable[bytes], limit: int) -> tuple[int, str]:
    """Store the stream as rows; returns its size and SHA-256 (hex). Refuses at once a stream over ``limit``."""
    digest = hashlib.sha256()
    size = seq = 0
    buffer = bytearray()
    for piece in pieces:
        size += len(piece)
        if size > limit:
            raise ContentMismatch(f"content is longer than ciphertext_size ({limit} bytes)", loc="body")
        digest.update(piece)
        buffer += piece
        while len(buffer) >= ROW_BYTES:
            _insert(session, dataset_id, seq, bytes(buffer[:ROW_BYTES]))
            del buffer[:ROW_BYTES]
            seq += 1
    if buffer:
        _insert(session, dataset_id, seq, bytes(buffer))
    return size, digest.hexdigest()


def read(session: Session, *, dataset_id: uuid.UUID) -> Iterator[bytes]:
    """The ciphertext, one row at a time (one query per row keeps memory flat for any size)."""
    seq = 0
    while True:
        data = session.scalar(
            select(RoomDatasetChunk.data).where(
                RoomDatasetChunk.dataset_id == dataset_id, RoomDatasetChunk.seq == seq
            )
        )
        if data is None:
            return
        yield bytes(data)
        seq += 1


def shred(session: Session, *, dataset_ids: list[uuid.UUID]) -> int:
    """Delete the ciphertext of these datasets; returns how many rows went. On SQLite the write-ahead log is
    checkpointed and truncated once the deletion commits, so no copy of the rows stays in the ``-wal`` file
    (the caller's wrapped-key deletion in the same transaction is covered too)."""
    if not dataset_ids:
        return 0
    checkpoint_after_commit(session)
    result = session.execute(delete(RoomDatasetChunk).where(RoomDatasetChunk.dataset_id.in_(dataset_ids)))
    return int(getattr(result, "rowcount", 0) or 0)
