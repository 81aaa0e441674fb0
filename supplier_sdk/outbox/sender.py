"""What an outbox flush needs of the hub: a *sender* that sends one queued report, and maybe many at once.

:meth:`Outbox.flush <supplier_sdk.outbox.Outbox.flush>` knows no client, requester or token: it hands each
queued payload and its Idempotency-Key to a :class:`Sender` and files the entry by what came back (or what was
raised: the :mod:`supplier_sdk.errors` tree). A sender that is also a :class:`BatchSender` gets several entries
in one call. ``client.kpi_reports`` (:class:`supplier_sdk.kpi_reports.KpiReports`) is both.

Example:
    >>> class Down:
    ...     def send_queued(self, payload, idempotency_key):
    ...         raise HubUnreachable("http://hub", "connection refused")
    >>> isinstance(Down(), Sender), isinstance(Down(), BatchSender)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from protocol.models.kpi import KpiReport, KpiReportBatchResult, KpiReportPayload


@runtime_checkable
class Sender(Protocol):
    """Sends one queued report: sign it now and post it under ``idempotency_key``.

    Returns the report the hub stored and whether the hub replayed an earlier answer for the key; raises
    :class:`~supplier_sdk.errors.HubError` or :class:`~supplier_sdk.errors.HubUnreachable` as a request does.

    Example::

        report, replayed = hub.kpi_reports.send_queued(entry.payload, entry.idempotency_key)
    """

    def send_queued(self, payload: KpiReportPayload, idempotency_key: str) -> tuple[KpiReport, bool]:
        """Sign ``payload`` now, post it under ``idempotency_key``; the report and whether it was replayed.

        Example: ``report, replayed = sender.send_queued(entry.payload, entry.idempotency_key)``
        """
        ...  # pragma: no cover


@runtime_checkable
class BatchSender(Sender, Protocol):
    """A :class:`Sender` that can also send several queued reports in one request, answered per report.

    Example::

        results = hub.kpi_reports.send_queued_batch([(payload, "k-1"), (other, "k-2")])
    """

    def send_queued_batch(
        self, reports: Sequence[tuple[KpiReportPayload, str]]
    ) -> list[KpiReportBatchResult]:
        """Sign and post each ``(payload, idempotency_key)``; one result per report, in the order given.

        Example: ``results = sender.send_queued_batch([(payload, "k-1"), (other, "k-2")])``
        """
        ...  # pragma: no cover


__all__ = ["BatchSender", "Sender"]
