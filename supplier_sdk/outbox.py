"""An offline outbox: KPI reports wait in a local SQLite file until the hub can take them.

When the hub cannot be reached, or is not available after the client's retries (5xx, 429),
``Client.submit_report(payload, outbox=outbox)`` queues the report here instead of raising, and
:meth:`Outbox.flush` sends the queue later. What is stored, and why:

- the **unsigned payload** (its canonical JSON), not a signed envelope. The hub refuses an envelope signed more
  than five minutes before it arrives (``StaleSignature``), so each entry is signed afresh at flush time,
  with a new ``signed_at`` and nonce;
- its **Idempotency-Key**, fixed when the report was first submitted and reused on every flush. The hub
  compares an idempotency key's request by the SHA-256 of the canonical bytes of the envelope's *payload*
  (not of the whole envelope), so a re-signed envelope with the same payload is "the same request": if an
  earlier attempt did land (the answer was lost on the way back), the hub answers with that first report
  (``Idempotent-Replayed: true``) and never stores it twice. The hub remembers keys for 24 hours; an entry
  flushed later than that, whose first attempt had landed, is refused as ``DuplicateReport``;
- when it was queued, how often a flush tried it and the last error.

Flush semantics: entries go least-tried first, then oldest first (so one entry the hub keeps failing on
cannot hold back the others for ever); only entries queued before the flush began are considered. When
several entries are waiting they go up to ``batch_size`` at a time in one ``POST /v1/kpi-reports:batch`` (the hub
verifies their KPI-ZK proofs as one batch and answers per entry); a hub without that endpoint, or a batch it
cannot take whole, gets them one by one. An entry keeps the proof it was queued with: the hub nonce it is
bound to is the same for the period whenever the entry arrives.

- **2xx** (stored, or replayed): the entry is deleted;
- a **refusal** (any 4xx but the two below: ``InvalidSignature``, ``DuplicateReport``, ``NotFound``, a 409 that
  outlasted the client's retries, ...): the entry moves to the ``rejected`` table with the hub's error name,
  detail and request id, for the user to read (:meth:`Outbox.rejected`); the hub is up and judged the report,
  so resending it unchanged cannot help;
- **hub not available** (:class:`~supplier_sdk.errors.HubUnreachable`, 5xx, 429 after the client's retries):
  the entry stays, its attempt count and last error are updated, and the flush stops (the next entries would
  meet the same hub);
- **the caller's credentials refused** (401, or 403 ``InsufficientScope``): the entry stays and the flush stops:
  the report is not at fault, and an operator can fix the client and flush again;
- **an internal error answering this one report** (500 for it alone, while the hub is up): the entry stays
  with the error and the flush goes on with the others. A whole batch answered with 500 is sent again one by one,
  so that one report the hub cannot handle never holds back the rest.

A refused entry is parked, not lost: :meth:`Outbox.rejected` (``supplier-sdk outbox list``) shows it with the
hub's reason; once what the hub refused it for is fixed (an agreement, a key), :meth:`Outbox.retry` queues it
again under its Idempotency-Key (``supplier-sdk outbox retry ID``), and :meth:`Outbox.drop` removes it for good
(``supplier-sdk outbox drop ID``).

Two flushes may run at once (two processes, or threads): each entry is *claimed* in an ``IMMEDIATE``
transaction before it is sent, so no entry is sent by both, and a claim left by a crashed flush expires after
``lease_seconds`` (:mod:`supplier_sdk.outbox_claims`). The file runs in WAL mode with a busy timeout. The same
file keeps the last fetched copy of each agreement (:meth:`Outbox.remember_agreement`), so that reports can be
built while the hub is down. The entries and results the outbox hands back are defined in
:mod:`supplier_sdk.outbox_entries`.

Example:
    >>> import tempfile, pathlib
    >>> from uuid import UUID
    >>> from protocol.models.kpi import KpiClaim, KpiReportPayload
    >>> payload = KpiReportPayload(supplier_id=UUID(int=1), oem_id=UUID(int=2), agreement_id=UUID(int=3),
    ...     part_number="A-1", period="2026-11", kpi="mtbf", claim=KpiClaim(meets=True, threshold="5000"),
    ...     sdk_version="0.1.0")
    >>> outbox = Outbox(pathlib.Path(tempfile.mkdtemp()) / "outbox.db")
    >>> queued = outbox.enqueue(payload, idempotency_key="k-1", hub_url="http://hub", reason="unreachable")
    >>> [entry.idempotency_key for entry in outbox.pending()], outbox.pending()[0].payload == payload
    (['k-1'], True)
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError

from protocol.encoding import canonical_bytes, format_utc
from protocol.models.agreements import Agreement
from protocol.models.kpi import MAX_BATCH, KpiReport, KpiReportBatchResult, KpiReportPayload
from supplier_sdk.errors import AuthenticationError, HubError, HubUnreachable, error_from_response
from supplier_sdk.outbox_claims import (
    SELECT_PENDING,
    claim_several,
    delete_claimed,
    reject_claimed,
    release,
    transaction,
)
from supplier_sdk.outbox_entries import FlushResult, OutboxEntry, QueuedReport, RejectedEntry

if TYPE_CHECKING:
    from supplier_sdk.client import Client

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


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class _Tally:
    sent: int = 0
    replayed: int = 0
    reports: list[KpiReport] = field(default_factory=list)
    rejections: list[RejectedEntry] = field(default_factory=list)
    stopped: str | None = None


def _readable(raw: str) -> KpiReportPayload | None:
    try:
        return KpiReportPayload.model_validate_json(raw)
    except ValidationError:
        return None


def _caller_refused(error: HubError) -> bool:
    """Refusals about who is calling, not about the report: resending after a fix can succeed."""
    return isinstance(error, AuthenticationError) or error.error == "InsufficientScope"


def _failed_on_it(error: HubError) -> bool:
    """A plain 500: the hub is up but failed on this request (a 502/503/504 or 429 says it is not available)."""
    return error.http_status == 500


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
        """Queue ``payload`` under ``idempotency_key`` (what ``Client.submit_report`` does when the hub is down).

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
                return QueuedReport(entry=self._entry(existing), outbox_path=self.path)
            cursor = db.execute(
                "INSERT INTO pending (idempotency_key, payload, hub_url, queued_at, reason) VALUES (?, ?, ?, ?, ?)",
                (idempotency_key, body, hub_url, _now(), reason),
            )
            row = db.execute(
                SELECT_PENDING + " WHERE id = ?",
                (cursor.lastrowid,),
            ).fetchone()
        return QueuedReport(entry=self._entry(row), outbox_path=self.path)

    @staticmethod
    def _entry(row: tuple[Any, ...]) -> OutboxEntry:
        entry_id, key, payload, hub_url, queued_at, reason, attempts, last_error, last_attempt_at = row
        return OutboxEntry(
            id=entry_id,
            idempotency_key=key,
            payload=KpiReportPayload.model_validate_json(payload),
            hub_url=hub_url,
            queued_at=_moment(queued_at) or datetime.now(UTC),
            reason=reason,
            attempts=attempts,
            last_error=last_error,
            last_attempt_at=_moment(last_attempt_at),
        )

    def pending(self) -> list[OutboxEntry]:
        """The reports waiting to be sent, oldest first.

        Example:
            >>> import tempfile
            >>> Outbox(Path(tempfile.mkdtemp()) / "o.db").pending()
            []
        """
        with self._connect() as db:
            rows = db.execute(SELECT_PENDING + " ORDER BY id").fetchall()
        return [self._entry(row) for row in rows]

    def rejected(self) -> list[RejectedEntry]:
        """The reports the hub refused for good, oldest refusal first, with the hub's reasons.

        Example:
            >>> import tempfile
            >>> Outbox(Path(tempfile.mkdtemp()) / "o.db").rejected()
            []
        """
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, idempotency_key, payload, hub_url, queued_at, rejected_at, http_status, error, detail,"
                " request_id FROM rejected ORDER BY rejected_at, id"
            ).fetchall()
        return [self._rejected_entry(tuple(row)) for row in rows]

    @staticmethod
    def _rejected_entry(row: tuple[Any, ...]) -> RejectedEntry:
        entry_id, key, payload, hub_url, queued_at, rejected_at, http_status, error, detail, request_id = row
        return RejectedEntry(
            id=entry_id,
            idempotency_key=key,
            payload=_readable(payload),
            hub_url=hub_url,
            queued_at=_moment(queued_at) or datetime.now(UTC),
            rejected_at=_moment(rejected_at) or datetime.now(UTC),
            http_status=http_status,
            error=error,
            detail=detail,
            request_id=request_id,
        )

    # -- flushing -------------------------------------------------------------------------------------------

    def flush(self, client: Client) -> FlushResult:
        """Send the queued reports through ``client``, each re-signed now under its original idempotency key.

        See the module docstring for what happens to an entry on success, refusal and transient failure.
        Safe to run from two processes at once.

        Args:
            client: a :class:`~supplier_sdk.client.Client` for the supplier organization that made the reports.

        Example::

            with Client(base_url=url, client_id=cid, private_key=key) as hub:
                result = Outbox("~/.qualink/outbox.db").flush(hub)
            print(f"{result.sent} sent, {result.failed} refused, {result.remaining} still queued")
        """
        owner = uuid.uuid4().hex
        tally = _Tally()
        with self._connect() as db:
            last_id = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM pending").fetchone()[0])
            batching = self.batch_size > 1
            while tally.stopped is None:
                rows = claim_several(
                    db,
                    owner=owner,
                    last_id=last_id,
                    lease_seconds=self.lease_seconds,
                    limit=self.batch_size if batching else 1,
                )
                if not rows:
                    break
                if len(rows) > 1 and self._flush_batch(db, owner, client, rows, tally):
                    continue
                batching = batching and len(rows) == 1
                self._flush_each(db, owner, client, rows, tally)
            remaining = int(db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])
        return FlushResult(
            sent=tally.sent,
            failed=len(tally.rejections),
            remaining=remaining,
            replayed=tally.replayed,
            reports=tuple(tally.reports),
            rejections=tuple(tally.rejections),
            stopped=tally.stopped,
        )

    def _readable_entry(
        self, db: sqlite3.Connection, owner: str, row: tuple[Any, ...], tally: _Tally
    ) -> OutboxEntry | None:
        try:
            return self._entry(row)
        except ValidationError as exc:  # written by another SDK version and no longer a valid payload here
            why = " ".join(str(exc).split())[:500]
            rejected = reject_claimed(db, owner=owner, row=row, error="InvalidPayload", detail=why)
            if rejected is not None:
                tally.rejections.append(self._rejected_entry(rejected))
            return None

    def _flush_each(
        self, db: sqlite3.Connection, owner: str, client: Client, rows: list[tuple[Any, ...]], tally: _Tally
    ) -> None:
        for index, row in enumerate(rows):
            if tally.stopped is not None:  # give back what this flush claimed but will not send
                for rest in rows[index:]:
                    release(db, owner=owner, entry_id=rest[0], error=tally.stopped)
                return
            self._flush_one(db, owner, client, row, tally)

    def _flush_batch(
        self, db: sqlite3.Connection, owner: str, client: Client, rows: list[tuple[Any, ...]], tally: _Tally
    ) -> bool:
        """Send claimed ``rows`` as one batch; ``False`` (nothing settled) when they must go one by one."""
        entries = [(row, entry) for row in rows if (entry := self._readable_entry(db, owner, row, tally))]
        if not entries:
            return True
        try:
            results = client.submit_batch([(entry.payload, entry.idempotency_key) for _, entry in entries])
        except HubUnreachable as exc:
            tally.stopped = str(exc)
        except HubError as exc:
            if _failed_on_it(exc) or not (exc.unavailable or _caller_refused(exc)):
                # No batch endpoint (404, 405), a batch too large (413), or one report that makes the whole
                # batch fail (500): one by one, so the others go through.
                return False
            tally.stopped = str(exc)
        except BaseException as exc:
            for row, _ in entries:
                release(db, owner=owner, entry_id=row[0], error=f"{type(exc).__name__}: {exc}")
            raise
        else:
            for (row, _), result in zip(entries, results, strict=True):
                self._settle(db, owner, row, result, tally)
            return True
        for row, _ in entries:
            release(db, owner=owner, entry_id=row[0], error=tally.stopped or "")
        return True

    def _settle(
        self,
        db: sqlite3.Connection,
        owner: str,
        row: tuple[Any, ...],
        result: KpiReportBatchResult,
        tally: _Tally,
    ) -> None:
        if result.status < 400 and result.report is not None:
            delete_claimed(db, owner=owner, entry_id=row[0])
            tally.sent += 1
            tally.replayed += int(result.replayed)
            tally.reports.append(result.report)
            return
        body = {"error": result.error or f"HTTP {result.status}", "detail": result.detail or "refused"}
        error = error_from_response(httpx.Response(result.status, json=body))
        if error.unavailable or error.retryable or _caller_refused(error):
            release(db, owner=owner, entry_id=row[0], error=str(error))
            return
        rejected = reject_claimed(
            db, owner=owner, row=row, error=error.error, detail=error.detail, http_status=error.http_status
        )
        if rejected is not None:
            tally.rejections.append(self._rejected_entry(rejected))

    def _flush_one(
        self, db: sqlite3.Connection, owner: str, client: Client, row: tuple[Any, ...], tally: _Tally
    ) -> None:
        entry = self._readable_entry(db, owner, row, tally)
        if entry is None:
            return
        try:
            report, replayed = client._deliver(entry.payload, entry.idempotency_key)
        except HubUnreachable as exc:
            release(db, owner=owner, entry_id=entry.id, error=str(exc))
            tally.stopped = str(exc)
        except HubError as exc:
            if _failed_on_it(exc):  # not a refusal, and not a reason to stop: keep it, send the next
                release(db, owner=owner, entry_id=entry.id, error=str(exc))
                return
            if exc.unavailable or _caller_refused(exc):
                release(db, owner=owner, entry_id=entry.id, error=str(exc))
                tally.stopped = str(exc)
                return
            rejected = reject_claimed(
                db,
                owner=owner,
                row=row,
                error=exc.error,
                detail=exc.detail,
                http_status=exc.http_status,
                request_id=exc.request_id,
            )
            if rejected is not None:
                tally.rejections.append(self._rejected_entry(rejected))
        except BaseException as exc:
            release(db, owner=owner, entry_id=entry.id, error=f"{type(exc).__name__}: {exc}")
            raise
        else:
            delete_claimed(db, owner=owner, entry_id=entry.id)
            tally.sent += 1
            tally.replayed += int(replayed)
            tally.reports.append(report)

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
        return self._entry(pending)

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
            row = db.execute(
                "SELECT id, idempotency_key, payload, hub_url, queued_at, rejected_at, http_status, error, detail,"
                " request_id FROM rejected WHERE id = ?",
                (entry_id,),
            ).fetchone()
            if row is None:
                raise KeyError(f"no refused entry {entry_id} in the outbox")
            db.execute("DELETE FROM rejected WHERE id = ?", (entry_id,))
        return self._rejected_entry(tuple(row))

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
        return Agreement.model_validate_json(row[0]), _moment(row[1]) or datetime.now(UTC)


__all__ = ["SCHEMA_VERSION", "FlushResult", "Outbox", "OutboxEntry", "QueuedReport", "RejectedEntry"]
