"""The outbox file: a local SQLite queue of KPI reports, the reports the hub refused, and cached agreements.

:class:`Outbox` creates the file (WAL mode, a busy timeout, a schema version in ``user_version``), queues
reports (:meth:`Outbox.enqueue`), lists them (:meth:`Outbox.pending`, :meth:`Outbox.rejected`), queues a
refused one again or drops it, and keeps the last copy of each agreement. :meth:`Outbox.flush` hands the queue
to :func:`supplier_sdk.outbox.flush.flush` with a *sender* (:mod:`supplier_sdk.outbox.sender`); the package
docstring (:mod:`supplier_sdk.outbox`) says what happens to each entry.

Example:
    >>> import tempfile, pathlib
    >>> outbox = Outbox(pathlib.Path(tempfile.mkdtemp()) / "outbox.db")
    >>> outbox.pending(), outbox.rejected()
    ([], [])
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from protocol.encoding import canonical_bytes, format_utc
from protocol.models.agreements import Agreement
from protocol.models.kpi import MAX_BATCH, KpiReportPayload
from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.outbox.claims import (
    SELECT_PENDING,
    SELECT_REJECTED,
    moment,
    pending_entry,
    rejected_entry,
    transaction,
)
from supplier_sdk.outbox.entries import FlushResult, OutboxEntry, QueuedReport, RejectedEntry
from supplier_sdk.outbox.flush import flush
from supplier_sdk.outbox.sender import Sender

SCHEMA_VERSION = 1
"""The outbox file's schema version (SQLite ``user_version``); a newer file is refused, not misread.

Example:
    >>> SCHEMA_VERSION
    1
"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    hub_url TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt_at TEXT,
    claimed_by TEXT,
    claimed_until REAL
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    hub_url TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    http_status INTEGER,
    error TEXT NOT NULL,
    detail TEXT NOT NULL,
    request_id TEXT
);
CREATE TABLE IF NOT EXISTS agreements (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
"""


def _now() -> str:
    return format_utc(datetime.now(UTC))


class Outbox:
    """A queue of KPI reports in a local SQLite file (created on first use, with its folder).

    Args:
        path: the file, e.g. ``~/.qualink/outbox.db`` (``~`` is expanded).
        lease_seconds: how long a flush's claim on an entry protects it from other flushes; an entry
            claimed by a flush that died becomes claimable again after this.
        busy_timeout: seconds to wait for another process's write lock.
        batch_size: most entries a flush sends in one batch request (1 sends each on its own).

    Example:
        >>> import tempfile
        >>> outbox = Outbox(Path(tempfile.mkdtemp()) / "queue" / "outbox.db")
        >>> outbox.pending(), outbox.rejected()
        ([], [])
    """

    def __init__(
        self,
        path: str | Path,
        *,
        lease_seconds: float = 300.0,
        busy_timeout: float = 30.0,
        batch_size: int = MAX_BATCH,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH}, not {batch_size}")
        self.batch_size = batch_size
        self.path = Path(path).expanduser()
        self.lease_seconds = lease_seconds
        self.busy_timeout = busy_timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            with transaction(db):
                found = db.execute("PRAGMA user_version").fetchone()[0]
                if found > SCHEMA_VERSION:
                    raise RuntimeError(
                        f"{self.path} was written by a newer SDK (outbox schema {found}); upgrade supplier-sdk"
                    )
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            yield db
        finally:
            db.close()

    # -- queueing -------------------------------------------------------------------------------------------

    def enqueue(
        self, payload: KpiReportPayload, *, idempotency_key: str, hub_url: str, reason: str = ""
    ) -> QueuedReport:
        """Queue ``payload`` under ``idempotency_key`` (what ``client.kpi_reports.submit`` does when the hub is down).

        Queueing the same key with the same payload again returns the existing entry; with another payload
        it raises ``ValueError`` (one key, one report).

        Example:
            >>> from uuid import UUID
            >>> from protocol.models.kpi import KpiClaim
            >>> p = KpiReportPayload(supplier_id=UUID(int=1), oem_id=UUID(int=2), agreement_id=UUID(int=3),
            ...     part_number="A-1", period="2026-11", kpi="mtbf", claim=KpiClaim(meets=False, threshold="9"),
            ...     sdk_version="0.1.0")
            >>> import tempfile
            >>> outbox = Outbox(Path(tempfile.mkdtemp()) / "o.db")
            >>> first = outbox.enqueue(p, idempotency_key="k", hub_url="http://hub")
            >>> outbox.enqueue(p, idempotency_key="k", hub_url="http://hub").entry.id == first.entry.id
            True
        """
        body = canonical_bytes(payload).decode()
        with self._connect() as db, transaction(db):
            existing = db.execute(
                SELECT_PENDING + " WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
            if existing is not None:
                if existing[2] != body:
                    raise ValueError(
                        f"idempotency key {idempotency_key!r} is queued already for another report"
                    )
                return QueuedReport(entry=pending_entry(existing), outbox_path=self.path)
            cursor = db.execute(
                "INSERT INTO pending (idempotency_key, payload, hub_url, queued_at, reason) VALUES (?, ?, ?, ?, ?)",
                (idempotency_key, body, hub_url, _now(), reason),
            )
            row = db.execute(
                SELECT_PENDING + " WHERE id = ?",
                (cursor.lastrowid,),
            ).fetchone()
        return QueuedReport(entry=pending_entry(row), outbox_path=self.path)

    def pending(self) -> list[OutboxEntry]:
        """The reports waiting to be sent, oldest first.

        Example:
            >>> import tempfile
            >>> Outbox(Path(tempfile.mkdtemp()) / "o.db").pending()
            []
        """
        with self._connect() as db:
            rows = db.execute(SELECT_PENDING + " ORDER BY id").fetchall()
        return [pending_entry(row) for row in rows]

    def rejected(self) -> list[RejectedEntry]:
        """The reports the hub refused for good, oldest refusal first, with the hub's reasons.

        Example:
            >>> import tempfile
            >>> Outbox(Path(tempfile.mkdtemp()) / "o.db").rejected()
            []
        """
        with self._connect() as db:
            rows = db.execute(SELECT_REJECTED + " ORDER BY rejected_at, id").fetchall()
        return [rejected_entry(tuple(row)) for row in rows]

    # -- flushing -------------------------------------------------------------------------------------------

    def flush(self, sender: Sender) -> FlushResult:
        """Send the queued reports through ``sender``, each re-signed now under its original idempotency key.

        See :mod:`supplier_sdk.outbox` for what happens to an entry on success, refusal and transient failure.
        Safe to run from two processes at once.

        Args:
            sender: sends one queued report (:class:`~supplier_sdk.outbox.sender.Sender`), and several at once
                when it is a :class:`~supplier_sdk.outbox.sender.BatchSender`: ``client.kpi_reports`` of a
                client of the supplier organization that made the reports. (Passing the client itself still
                works for one release, with a ``DeprecationWarning``.)

        Example::

            with Client(base_url=url, client_id=cid, private_key=key) as hub:
                result = Outbox("~/.qualink/outbox.db").flush(hub.kpi_reports)
            print(f"{result.sent} sent, {result.failed} refused, {result.remaining} still queued")
        """
        given: Any = sender
        if not isinstance(given, Sender) and isinstance(getattr(given, "kpi_reports", None), Sender):
            warnings.warn(
                "Outbox.flush(client) is deprecated and will be removed in the next release;"
                " use Outbox.flush(client.kpi_reports)",
                SdkDeprecationWarning,
                stacklevel=2,
            )
            sender = given.kpi_reports
        with self._connect() as db:
            return flush(db, sender, batch_size=self.batch_size, lease_seconds=self.lease_seconds)

    # -- refused entries ------------------------------------------------------------------------------------

    def retry(self, entry_id: int) -> OutboxEntry:
        """Queue the refused entry ``entry_id`` again, under its Idempotency-Key, for the next flush.

        For after a fix on either side (the agreement accepted, a key registered): the payload is unchanged, so
        a refusal about the report itself (a malformed value) will be refused again; build a new report instead.

        Raises:
            KeyError: no refused entry has this id.
            ValueError: a report with the same Idempotency-Key is queued already.

        Example:
            >>> import tempfile
            >>> Outbox(Path(tempfile.mkdtemp()) / "o.db").retry(7)
            Traceback (most recent call last):
            ...
            KeyError: 'no refused entry 7 in the outbox'
        """
        with self._connect() as db, transaction(db):
            row = db.execute(
                "SELECT idempotency_key, payload, hub_url, queued_at, error FROM rejected WHERE id = ?",
                (entry_id,),
            ).fetchone()
            if row is None:
                raise KeyError(f"no refused entry {entry_id} in the outbox")
            key, payload, hub_url, queued_at, error = row
            if db.execute("SELECT 1 FROM pending WHERE idempotency_key = ?", (key,)).fetchone():
                raise ValueError(f"a report with idempotency key {key!r} is queued already")
            db.execute("DELETE FROM rejected WHERE id = ?", (entry_id,))
            # The same id (AUTOINCREMENT never hands it out again), so the entry keeps the number the user saw.
            db.execute(
                "INSERT INTO pending (id, idempotency_key, payload, hub_url, queued_at, reason, last_error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (entry_id, key, payload, hub_url, queued_at, "retried after the hub refused it", error),
            )
            pending = db.execute(SELECT_PENDING + " WHERE id = ?", (entry_id,)).fetchone()
        return pending_entry(pending)

    def drop(self, entry_id: int) -> RejectedEntry:
        """Remove the refused entry ``entry_id`` for good; returns what was removed.

        Raises:
            KeyError: no refused entry has this id.

        Example:
            >>> import tempfile
            >>> Outbox(Path(tempfile.mkdtemp()) / "o.db").drop(3)
            Traceback (most recent call last):
            ...
            KeyError: 'no refused entry 3 in the outbox'
        """
        with self._connect() as db, transaction(db):
            row = db.execute(SELECT_REJECTED + " WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                raise KeyError(f"no refused entry {entry_id} in the outbox")
            db.execute("DELETE FROM rejected WHERE id = ?", (entry_id,))
        return rejected_entry(tuple(row))

    # -- agreements cache -----------------------------------------------------------------------------------

    def remember_agreement(self, agreement: Agreement) -> None:
        """Keep a copy of ``agreement`` so that reports for it can be built while the hub is unreachable.

        Example:
            >>> import tempfile
            >>> outbox = Outbox(Path(tempfile.mkdtemp()) / "o.db")
            >>> outbox.cached_agreement("00000000-0000-0000-0000-000000000001") is None
            True
        """
        with self._connect() as db, transaction(db):
            db.execute(
                "INSERT OR REPLACE INTO agreements (id, body, fetched_at) VALUES (?, ?, ?)",
                (str(agreement.id), agreement.model_dump_json(), _now()),
            )

    def cached_agreement(self, agreement_id: uuid.UUID | str) -> tuple[Agreement, datetime] | None:
        """The last copy of an agreement kept by :meth:`remember_agreement`, with when it was fetched.

        Example::

            cached = outbox.cached_agreement(agreement_id)
            if cached is not None:
                agreement, fetched_at = cached
        """
        with self._connect() as db:
            row = db.execute(
                "SELECT body, fetched_at FROM agreements WHERE id = ?", (str(uuid.UUID(str(agreement_id))),)
            ).fetchone()
        if row is None:
            return None
        return Agreement.model_validate_json(row[0]), moment(row[1]) or datetime.now(UTC)


__all__ = ["SCHEMA_VERSION", "FlushResult", "Outbox", "OutboxEntry", "QueuedReport", "RejectedEntry"]
