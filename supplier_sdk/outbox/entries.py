"""What an :class:`~supplier_sdk.outbox.Outbox` hands back: its entries, and what queueing and flushing did.

- :class:`OutboxEntry`: a report waiting to be sent
  (:meth:`Outbox.pending <supplier_sdk.outbox.Outbox.pending>`);
- :class:`RejectedEntry`: a report the hub refused for good, with the hub's reason
  (:meth:`Outbox.rejected <supplier_sdk.outbox.Outbox.rejected>`);
- :class:`QueuedReport`: what ``client.kpi_reports.submit(..., outbox=...)`` returns when it queued the report;
- :class:`FlushResult`: what one :meth:`Outbox.flush <supplier_sdk.outbox.Outbox.flush>` did.

The entries' ``summary()`` is what the command line prints for them with ``--json``. How the entries are
stored and sent is :mod:`supplier_sdk.outbox`.

Example:
    >>> result = FlushResult(sent=2, failed=0, remaining=1)
    >>> result.sent, result.replayed, result.rejections, result.stopped
    (2, 0, (), None)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from protocol.encoding import format_utc
from protocol.models.kpi import KpiReport, KpiReportPayload


def _about(payload: KpiReportPayload | None) -> dict[str, object]:
    keys = ("agreement_id", "part_number", "characteristic", "kpi", "period")
    if payload is None:
        return dict.fromkeys(keys)
    dumped = payload.model_dump(mode="json", include=set(keys))
    return {key: dumped[key] for key in keys}


@dataclass(frozen=True)
class OutboxEntry:
    """A report waiting in the outbox.

    Attributes:
        id: the entry's number in this outbox.
        idempotency_key: the key every (re)send uses.
        payload: the unsigned report; it is signed when sent.
        hub_url: the hub it was meant for when queued.
        queued_at: when it was queued (UTC).
        reason: why it was queued (the error the hub or network gave).
        attempts: how many flushes tried it.
        last_error: the last flush's error, ``None`` before any.
        last_attempt_at: when a flush last tried it.

    Example::

        for entry in outbox.pending():
            print(entry.id, entry.payload.kpi, entry.payload.period, entry.attempts, entry.last_error)
    """

    id: int
    idempotency_key: str
    payload: KpiReportPayload
    hub_url: str
    queued_at: datetime
    reason: str
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: datetime | None = None

    def summary(self) -> dict[str, object]:
        """A JSON-ready description: what the report is about, and its queue state.

        Example::

            {"id": 1, "idempotency_key": "…", "agreement_id": "…", "kpi": "cpk", "period": "2026-W48", ...}
        """
        claim = self.payload.claim
        return {
            "id": self.id,
            "idempotency_key": self.idempotency_key,
            **_about(self.payload),
            "meets": claim.meets,
            "value": None if claim.value is None else format(claim.value, "f"),
            "proven": self.payload.proof is not None,
            "hub_url": self.hub_url,
            "queued_at": format_utc(self.queued_at),
            "reason": self.reason,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class RejectedEntry:
    """A queued report the hub refused for good, with the hub's reason.

    Attributes:
        id: the entry's number (as it was in the queue).
        idempotency_key: the key it was sent under.
        payload: the refused report (``None`` if this SDK can no longer read what was queued).
        hub_url: the hub it was queued for.
        queued_at: when it was queued.
        rejected_at: when the hub refused it.
        http_status: the hub's status (``None`` if the SDK itself could no longer read the entry).
        error: the error name (``DuplicateReport``, ``StaleSignature``, ...).
        detail: the hub's explanation.
        request_id: the hub's request id.

    Example::

        for entry in outbox.rejected():
            print(entry.payload.period, entry.error, entry.detail)
    """

    id: int
    idempotency_key: str
    payload: KpiReportPayload | None
    hub_url: str
    queued_at: datetime
    rejected_at: datetime
    http_status: int | None
    error: str
    detail: str
    request_id: str | None

    def summary(self) -> dict[str, object]:
        """A JSON-ready description of the refused report and the hub's reason.

        Example::

            {"id": 3, "kpi": "cpk", "period": "2026-W47", "error": "DuplicateReport", "detail": "…", ...}
        """
        return {
            "id": self.id,
            "idempotency_key": self.idempotency_key,
            **_about(self.payload),
            "hub_url": self.hub_url,
            "queued_at": format_utc(self.queued_at),
            "rejected_at": format_utc(self.rejected_at),
            "http_status": self.http_status,
            "error": self.error,
            "detail": self.detail,
            "request_id": self.request_id,
        }


@dataclass(frozen=True)
class QueuedReport:
    """What ``client.kpi_reports.submit(..., outbox=...)`` returns when the hub could not take the report now.

    Attributes:
        entry: the outbox entry now holding the report.
        outbox_path: the outbox file.

    Example::

        result = hub.kpi_reports.submit(payload, outbox=outbox)
        if isinstance(result, QueuedReport):
            print(f"queued as entry {result.entry.id}: {result.entry.reason}")
    """

    entry: OutboxEntry
    outbox_path: Path

    @property
    def reason(self) -> str:
        """Why the report was queued.

        Example::

            result.reason   # 'hub at http://127.0.0.1:9 is unreachable: [Errno 111] Connection refused'
        """
        return self.entry.reason


@dataclass(frozen=True)
class FlushResult:
    """What one :meth:`Outbox.flush <supplier_sdk.outbox.Outbox.flush>` did.

    Attributes:
        sent: entries the hub accepted (stored now, or replayed from an earlier attempt).
        failed: entries the hub refused for good (now in ``Outbox.rejected()``).
        remaining: entries still pending after the flush (in this outbox, all hubs).
        replayed: of ``sent``, how many the hub had already stored (an earlier answer was lost).
        reports: the accepted reports.
        rejections: the refusals of this flush.
        stopped: why the flush stopped early (hub unreachable, credentials refused), or ``None``.

    Example:
        >>> FlushResult(sent=2, failed=0, remaining=0).stopped is None
        True
    """

    sent: int
    failed: int
    remaining: int
    replayed: int = 0
    reports: tuple[KpiReport, ...] = ()
    rejections: tuple[RejectedEntry, ...] = ()
    stopped: str | None = None


__all__ = ["FlushResult", "OutboxEntry", "QueuedReport", "RejectedEntry"]
