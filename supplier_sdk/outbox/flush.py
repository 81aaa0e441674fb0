"""One flush of the outbox: claim the queued entries, hand them to a sender, file each by the hub's answer.

:func:`flush` needs an open outbox connection and a *sender* (:mod:`supplier_sdk.outbox.sender`), nothing of
the client: what the hub said comes back as a report, a per-entry batch result or one of the
:mod:`supplier_sdk.errors` exceptions, and :mod:`supplier_sdk.outbox` (the package docstring) says what each
means for the entry. Entries are claimed before they are sent (:mod:`supplier_sdk.outbox.claims`), so two
flushes at once never send one entry twice.

Example::

    with outbox._connect() as db:
        result = flush(db, hub.kpi_reports, batch_size=100, lease_seconds=300.0)
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import ValidationError

from protocol.models.kpi import KpiReport, KpiReportBatchResult
from supplier_sdk.errors import AuthenticationError, HubError, HubUnreachable, error_from_response
from supplier_sdk.outbox.claims import (
    claim_several,
    delete_claimed,
    pending_entry,
    reject_claimed,
    rejected_entry,
    release,
)
from supplier_sdk.outbox.entries import FlushResult, OutboxEntry, RejectedEntry
from supplier_sdk.outbox.sender import BatchSender, Sender


def _caller_refused(error: HubError) -> bool:
    """Refusals about who is calling, not about the report: resending after a fix can succeed."""
    return isinstance(error, AuthenticationError) or error.error == "InsufficientScope"


def _failed_on_it(error: HubError) -> bool:
    """A plain 500: the hub is up but failed on this request (a 502/503/504 or 429 says it is not available)."""
    return error.http_status == 500


@dataclass
class _Flush:
    db: sqlite3.Connection
    sender: Sender
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    sent: int = 0
    replayed: int = 0
    reports: list[KpiReport] = field(default_factory=list)
    rejections: list[RejectedEntry] = field(default_factory=list)
    stopped: str | None = None

    def release(self, entry_id: int, error: str) -> None:
        release(self.db, owner=self.owner, entry_id=entry_id, error=error)

    def reject(self, row: tuple[Any, ...], **answer: Any) -> None:
        rejected = reject_claimed(self.db, owner=self.owner, row=row, **answer)
        if rejected is not None:
            self.rejections.append(rejected_entry(rejected))

    def accepted(self, entry_id: int, report: KpiReport, replayed: bool) -> None:
        delete_claimed(self.db, owner=self.owner, entry_id=entry_id)
        self.sent += 1
        self.replayed += int(replayed)
        self.reports.append(report)

    def readable_entry(self, row: tuple[Any, ...]) -> OutboxEntry | None:
        try:
            return pending_entry(row)
        except ValidationError as exc:  # written by another SDK version and no longer a valid payload here
            self.reject(row, error="InvalidPayload", detail=" ".join(str(exc).split())[:500])
            return None

    def each(self, rows: list[tuple[Any, ...]]) -> None:
        for index, row in enumerate(rows):
            if self.stopped is not None:  # give back what this flush claimed but will not send
                for rest in rows[index:]:
                    self.release(rest[0], self.stopped)
                return
            self.one(row)

    def batch(self, sender: BatchSender, rows: list[tuple[Any, ...]]) -> bool:
        """Send claimed ``rows`` as one batch; ``False`` (nothing settled) when they must go one by one."""
        entries = [(row, entry) for row in rows if (entry := self.readable_entry(row))]
        if not entries:
            return True
        try:
            results = sender.send_queued_batch(
                [(entry.payload, entry.idempotency_key) for _, entry in entries]
            )
        except HubUnreachable as exc:
            self.stopped = str(exc)
        except HubError as exc:
            if _failed_on_it(exc) or not (exc.unavailable or _caller_refused(exc)):
                # No batch endpoint (404, 405), a batch too large (413), or one report that makes the whole
                # batch fail (500): one by one, so the others go through.
                return False
            self.stopped = str(exc)
        except BaseException as exc:
            for row, _ in entries:
                self.release(row[0], f"{type(exc).__name__}: {exc}")
            raise
        else:
            for (row, _), result in zip(entries, results, strict=True):
                self.settle(row, result)
            return True
        for row, _ in entries:
            self.release(row[0], self.stopped or "")
        return True

    def settle(self, row: tuple[Any, ...], result: KpiReportBatchResult) -> None:
        if result.status < 400 and result.report is not None:
            self.accepted(row[0], result.report, result.replayed)
            return
        body = {"error": result.error or f"HTTP {result.status}", "detail": result.detail or "refused"}
        error = error_from_response(httpx.Response(result.status, json=body))
        if error.unavailable or error.retryable or _caller_refused(error):
            self.release(row[0], str(error))
            return
        self.reject(row, error=error.error, detail=error.detail, http_status=error.http_status)

    def one(self, row: tuple[Any, ...]) -> None:
        entry = self.readable_entry(row)
        if entry is None:
            return
        try:
            report, replayed = self.sender.send_queued(entry.payload, entry.idempotency_key)
        except HubUnreachable as exc:
            self.release(entry.id, str(exc))
            self.stopped = str(exc)
        except HubError as exc:
            if _failed_on_it(exc):  # not a refusal, and not a reason to stop: keep it, send the next
                self.release(entry.id, str(exc))
                return
            if exc.unavailable or _caller_refused(exc):
                self.release(entry.id, str(exc))
                self.stopped = str(exc)
                return
            self.reject(
                row,
                error=exc.error,
                detail=exc.detail,
                http_status=exc.http_status,
                request_id=exc.request_id,
            )
        except BaseException as exc:
            self.release(entry.id, f"{type(exc).__name__}: {exc}")
            raise
        else:
            self.accepted(entry.id, report, replayed)


def flush(db: sqlite3.Connection, sender: Sender, *, batch_size: int, lease_seconds: float) -> FlushResult:
    """Send the entries queued in ``db`` before this call through ``sender``; what happened to them.

    Args:
        db: an outbox connection (``isolation_level=None``).
        sender: sends one queued report; a :class:`~supplier_sdk.outbox.sender.BatchSender` gets up to
            ``batch_size`` at a time.
        batch_size: most entries in one batch (1: each on its own).
        lease_seconds: how long this flush's claim on an entry keeps other flushes off it.

    Example::

        result = flush(db, hub.kpi_reports, batch_size=100, lease_seconds=300.0)
        print(result.sent, result.remaining, result.stopped)
    """
    run = _Flush(db=db, sender=sender)
    last_id = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM pending").fetchone()[0])
    batcher = sender if isinstance(sender, BatchSender) else None
    batching = batch_size > 1 and batcher is not None
    while run.stopped is None:
        rows = claim_several(
            db,
            owner=run.owner,
            last_id=last_id,
            lease_seconds=lease_seconds,
            limit=batch_size if batching else 1,
        )
        if not rows:
            break
        if len(rows) > 1 and batcher is not None and run.batch(batcher, rows):
            continue
        batching = batching and len(rows) == 1
        run.each(rows)
    remaining = int(db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])
    return FlushResult(
        sent=run.sent,
        failed=len(run.rejections),
        remaining=remaining,
        replayed=run.replayed,
        reports=tuple(run.reports),
        rejections=tuple(run.rejections),
        stopped=run.stopped,
    )


__all__ = ["flush"]
