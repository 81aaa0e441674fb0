"""How flushes share one outbox file: an entry is claimed before it is sent, and only its claimant settles it.

Two flushes may run at once (two processes, or threads). A flush takes the next free entry in an
``IMMEDIATE`` :func:`transaction` and marks it with its owner token and a lease (:func:`claim_next`), so no
entry is sent by both; a claim left by a flush that died expires with its lease. The claimant then settles the
entry: deletes it once the hub has it (:func:`delete_claimed`), releases it to be tried again later
(:func:`release`), or moves it to ``rejected`` (:func:`reject_claimed`). Each of these touches the entry
only while the claim is still the caller's: when the lease ran out and another flush took the entry over, it
does nothing.

The tables are those of :mod:`supplier_sdk.outbox.store`; a pending row is read in the column order of
:data:`SELECT_PENDING` and turned into an entry by :func:`pending_entry`, a rejected one by
:func:`rejected_entry`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from protocol.encoding import format_utc
from protocol.models.kpi import KpiReportPayload
from supplier_sdk.outbox.entries import OutboxEntry, RejectedEntry

SELECT_PENDING = (
    "SELECT id, idempotency_key, payload, hub_url, queued_at, reason, attempts, last_error, last_attempt_at"
    " FROM pending"
)
"""The query for whole pending rows, in the column order every reader of such a row expects.

Example:
    >>> SELECT_PENDING.endswith(" FROM pending")
    True
"""


SELECT_REJECTED = (
    "SELECT id, idempotency_key, payload, hub_url, queued_at, rejected_at, http_status, error, detail,"
    " request_id FROM rejected"
)
"""The query for whole rejected rows, in the column order :func:`rejected_entry` reads.

Example:
    >>> SELECT_REJECTED.endswith(" FROM rejected")
    True
"""


def moment(text: str | None) -> datetime | None:
    """A stored UTC timestamp back as an aware ``datetime`` (``None`` stays ``None``).

    Example:
        >>> moment("2026-11-25T10:00:00Z").isoformat()
        '2026-11-25T10:00:00+00:00'
    """
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def _readable(raw: str) -> KpiReportPayload | None:
    try:
        return KpiReportPayload.model_validate_json(raw)
    except ValidationError:
        return None


def pending_entry(row: tuple[Any, ...]) -> OutboxEntry:
    """The :class:`~supplier_sdk.outbox.entries.OutboxEntry` of a pending row (:data:`SELECT_PENDING` order).

    Raises ``pydantic.ValidationError`` for a payload this SDK can no longer read.

    Example::

        entries = [pending_entry(row) for row in db.execute(SELECT_PENDING).fetchall()]
    """
    entry_id, key, payload, hub_url, queued_at, reason, attempts, last_error, last_attempt_at = row
    return OutboxEntry(
        id=entry_id,
        idempotency_key=key,
        payload=KpiReportPayload.model_validate_json(payload),
        hub_url=hub_url,
        queued_at=moment(queued_at) or datetime.now(UTC),
        reason=reason,
        attempts=attempts,
        last_error=last_error,
        last_attempt_at=moment(last_attempt_at),
    )


def rejected_entry(row: tuple[Any, ...]) -> RejectedEntry:
    """The :class:`~supplier_sdk.outbox.entries.RejectedEntry` of a rejected row (:data:`SELECT_REJECTED`
    order); a payload this SDK can no longer read becomes ``None``.

    Example::

        refused = [rejected_entry(tuple(row)) for row in db.execute(SELECT_REJECTED).fetchall()]
    """
    entry_id, key, payload, hub_url, queued_at, rejected_at, http_status, error, detail, request_id = row
    return RejectedEntry(
        id=entry_id,
        idempotency_key=key,
        payload=_readable(payload),
        hub_url=hub_url,
        queued_at=moment(queued_at) or datetime.now(UTC),
        rejected_at=moment(rejected_at) or datetime.now(UTC),
        http_status=http_status,
        error=error,
        detail=detail,
        request_id=request_id,
    )


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """Run the block in one ``IMMEDIATE`` transaction on ``db`` (opened with ``isolation_level=None``).

    Committed when the block ends, rolled back when it raises.

    Example:
        >>> db = sqlite3.connect(":memory:", isolation_level=None)
        >>> with transaction(db):
        ...     _ = db.execute("CREATE TABLE t (x INTEGER)")
        >>> db.in_transaction
        False
    """
    # IMMEDIATE takes the write lock at once: two flushes never read the same free entry and both claim it.
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def claim_next(
    db: sqlite3.Connection, *, owner: str, last_id: int, lease_seconds: float
) -> tuple[Any, ...] | None:
    """Claim the next free pending entry up to ``last_id`` for ``owner``; return its row, or ``None``.

    Free means unclaimed, or claimed under a lease that has run out. The least-tried entry goes first, then
    the oldest.

    Example::

        row = claim_next(db, owner=owner, last_id=last_id, lease_seconds=300.0)
    """
    now = time.time()
    with transaction(db):
        row = db.execute(
            SELECT_PENDING + " WHERE id <= ? AND (claimed_by IS NULL OR claimed_until < ?)"
            " ORDER BY attempts, id LIMIT 1",
            (last_id, now),
        ).fetchone()
        if row is not None:
            db.execute(
                "UPDATE pending SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                (owner, now + lease_seconds, row[0]),
            )
    return None if row is None else tuple(row)


def claim_several(
    db: sqlite3.Connection, *, owner: str, last_id: int, lease_seconds: float, limit: int
) -> list[tuple[Any, ...]]:
    """Claim up to ``limit`` free pending entries up to ``last_id`` for ``owner`` (in :func:`claim_next`'s
    order), in one transaction; return their rows.

    Example::

        rows = claim_several(db, owner=owner, last_id=last_id, lease_seconds=300.0, limit=100)
    """
    now = time.time()
    with transaction(db):
        rows = db.execute(
            SELECT_PENDING + " WHERE id <= ? AND (claimed_by IS NULL OR claimed_until < ?)"
            " ORDER BY attempts, id LIMIT ?",
            (last_id, now, limit),
        ).fetchall()
        db.executemany(
            "UPDATE pending SET claimed_by = ?, claimed_until = ? WHERE id = ?",
            [(owner, now + lease_seconds, row[0]) for row in rows],
        )
    return [tuple(row) for row in rows]


def release(db: sqlite3.Connection, *, owner: str, entry_id: int, error: str) -> None:
    """Give a claimed entry back to the queue, counting the attempt and recording its ``error``.

    Example::

        release(db, owner=owner, entry_id=row[0], error="hub at http://hub is unreachable: ...")
    """
    with transaction(db):
        db.execute(
            "UPDATE pending SET claimed_by = NULL, claimed_until = NULL, attempts = attempts + 1,"
            " last_error = ?, last_attempt_at = ? WHERE id = ? AND claimed_by = ?",
            (error, format_utc(datetime.now(UTC)), entry_id, owner),
        )


def delete_claimed(db: sqlite3.Connection, *, owner: str, entry_id: int) -> None:
    """Delete a claimed entry the hub has taken.

    Example::

        delete_claimed(db, owner=owner, entry_id=row[0])
    """
    with transaction(db):
        db.execute("DELETE FROM pending WHERE id = ? AND claimed_by = ?", (entry_id, owner))


def reject_claimed(
    db: sqlite3.Connection,
    *,
    owner: str,
    row: tuple[Any, ...],
    error: str,
    detail: str,
    http_status: int | None = None,
    request_id: str | None = None,
) -> tuple[Any, ...] | None:
    """Move a claimed entry from ``pending`` to ``rejected``, in one transaction; return the rejected row.

    ``row`` is the pending row as :func:`claim_next` returned it; ``error``, ``detail``, ``http_status`` and
    ``request_id`` are the hub's answer (no status or request id when the SDK itself refuses the entry).
    Returns ``None`` when the claim had expired and another flush took the entry over.

    Example::

        rejected = reject_claimed(db, owner=owner, row=row, error="DuplicateReport", detail="exists",
                                  http_status=409, request_id="r1")
    """
    now = format_utc(datetime.now(UTC))
    rejected = (row[0], row[1], row[2], row[3], row[4], now, http_status, error, detail, request_id)
    with transaction(db):
        if not db.execute("DELETE FROM pending WHERE id = ? AND claimed_by = ?", (row[0], owner)).rowcount:
            return None  # our claim expired and another flush took the entry over
        db.execute(
            "INSERT OR REPLACE INTO rejected (id, idempotency_key, payload, hub_url, queued_at, rejected_at,"
            " http_status, error, detail, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rejected,
        )
    return rejected


__all__ = [
    "SELECT_PENDING",
    "SELECT_REJECTED",
    "claim_next",
    "claim_several",
    "delete_claimed",
    "moment",
    "pending_entry",
    "reject_claimed",
    "rejected_entry",
    "release",
    "transaction",
]
