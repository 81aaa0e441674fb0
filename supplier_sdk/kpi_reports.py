"""``client.kpi_reports``: sign, submit (one, or a batch), queue when the hub is away, read back.

:class:`KpiReports` speaks ``/v1/kpi-reports`` on a :class:`~supplier_sdk.requester.Requester` (token,
retries, idempotency, errors) with a :class:`~supplier_sdk.signer.Signer` (the organization's Ed25519 key). It
is also the outbox's sender (:mod:`supplier_sdk.outbox.sender`): ``outbox.flush(hub.kpi_reports)``.

Example::

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        report = hub.kpi_reports.submit(payload)
        misses = list(hub.kpi_reports.list(kpi="cpk", meets=False))
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from protocol.models.common import KpiName
from protocol.models.kpi import (
    KPI_REPORT_TYPE,
    KpiReport,
    KpiReportBatch,
    KpiReportBatchItem,
    KpiReportBatchResult,
    KpiReportBatchResults,
    KpiReportPayload,
    KpiReportSubmit,
)
from protocol.signing import SignedEnvelope
from protocol.zk.attestation import BindingContext
from supplier_sdk.errors import HubError, HubUnreachable
from supplier_sdk.requester import Requester
from supplier_sdk.signer import Signer

if TYPE_CHECKING:
    from supplier_sdk.outbox import Outbox, QueuedReport

__all__ = ["KpiReports", "report_filters"]

_BATCH_BYTES = 512 * 1024  # half the hub's default body limit (HUB_MAX_BODY_BYTES)


class KpiReports:
    """Signing, submitting and reading KPI reports (``client.kpi_reports``).

    Args:
        requester: the connection to the hub.
        signer: the key reports are signed with, and the key id they name.

    Example::

        envelope = hub.kpi_reports.sign(payload)
        report = hub.kpi_reports.submit_envelope(envelope, idempotency_key="shaft-2026-W48-cpk")
    """

    def __init__(self, requester: Requester, signer: Signer) -> None:
        self._requester = requester
        self._signer = signer

    # -- signing and sending ------------------------------------------------------------------------------------------

    def sign(self, payload: KpiReportPayload) -> SignedEnvelope:
        """Sign ``payload`` into a ``kpi-report`` envelope now (fresh ``signed_at`` and nonce).

        Example::

            envelope = hub.kpi_reports.sign(payload)
            report = hub.kpi_reports.submit_envelope(envelope, idempotency_key=str(uuid.uuid4()))
        """
        return self._signer.sign(payload, type=KPI_REPORT_TYPE)

    def submit_envelope(self, envelope: SignedEnvelope, *, idempotency_key: str) -> KpiReport:
        """Post an already signed ``kpi-report`` envelope; return the report the hub stored.

        The hub refuses an envelope signed more than five minutes ago (``StaleSignature``); prefer
        :meth:`submit`, which signs just before sending.

        Args:
            envelope: a :class:`~protocol.signing.SignedEnvelope` of type ``kpi-report``.
            idempotency_key: the request's key; the same key and payload return the first answer again.

        Example::

            report = hub.kpi_reports.submit_envelope(hub.kpi_reports.sign(payload), idempotency_key="shaft-W48")
        """
        return self._post_envelope(envelope, idempotency_key)[0]

    def _post_envelope(self, envelope: SignedEnvelope, idempotency_key: str) -> tuple[KpiReport, bool]:
        body = KpiReportSubmit(envelope=envelope).model_dump(mode="json")
        response = self._requester.send("POST", "/v1/kpi-reports", json=body, idempotency_key=idempotency_key)
        replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
        return KpiReport.model_validate(response.json()), replayed

    def submit_batch(
        self, reports: Sequence[tuple[KpiReportPayload, str]]
    ) -> builtins.list[KpiReportBatchResult]:
        """Sign each ``(payload, idempotency_key)`` now and post them together (``POST /v1/kpi-reports:batch``).

        The hub judges each as a single POST would and verifies their proofs as one batch; the results come
        in the order given, each with the status, report or error a single POST would have had. At most
        :data:`~protocol.models.kpi.MAX_BATCH` reports; they go in as many requests as keep each body under
        512 KiB. The outbox flush uses this for several queued reports.

        Example::

            results = hub.kpi_reports.submit_batch([(payload, "shaft-W47"), (other, "shaft-W48")])
            refused = [r for r in results if r.status >= 400]
        """
        results: builtins.list[KpiReportBatchResult] = []
        chunk: builtins.list[dict[str, Any]] = []
        size = 0
        for payload, key in reports:
            item = KpiReportBatchItem(envelope=self.sign(payload), idempotency_key=key)
            item_size = len(item.model_dump_json())
            if chunk and size + item_size > _BATCH_BYTES:  # proven reports are KiBs: stay below the limit
                results += self._post_batch(chunk)
                chunk, size = [], 0
            chunk.append(item.model_dump(mode="json"))
            size += item_size
        return results + (self._post_batch(chunk) if chunk else [])

    def _post_batch(self, items: builtins.list[dict[str, Any]]) -> builtins.list[KpiReportBatchResult]:
        body = KpiReportBatch.model_validate({"items": items}).model_dump(mode="json")
        answer = self._requester.request("POST", "/v1/kpi-reports:batch", json=body)
        return KpiReportBatchResults.model_validate(answer).results

    def attestation_context(
        self,
        agreement_id: uuid.UUID | str,
        *,
        kpi: KpiName | str,
        period: str,
        characteristic: str | None = None,
    ) -> BindingContext:
        """The context (with the hub's nonce) a KPI-ZK proof for this period must be bound to.

        Bound to this client's signing key; the hub gives the same nonce for the same period every time.

        Example::

            context = hub.kpi_reports.attestation_context(agreement.id, kpi="cpk", period="2026-W48",
                                                          characteristic="DIA-01")
        """
        params = {"kpi": KpiName(kpi).value, "period": period, "key_id": self._signer.key_id}
        if characteristic is not None:
            params["characteristic"] = characteristic
        path = f"/v1/agreements/{uuid.UUID(str(agreement_id))}/attestation-context"
        return BindingContext.model_validate(self._requester.request("GET", path, params=params))

    # -- the outbox's sender --------------------------------------------------------------------------------------

    def send_queued(self, payload: KpiReportPayload, idempotency_key: str) -> tuple[KpiReport, bool]:
        """Sign now and post under ``idempotency_key``; the report and whether the hub replayed an earlier answer.

        What an outbox flush calls for each queued report (:class:`~supplier_sdk.outbox.sender.Sender`).

        Example: ``report, replayed = hub.kpi_reports.send_queued(entry.payload, entry.idempotency_key)``
        """
        return self._post_envelope(self.sign(payload), idempotency_key)

    def send_queued_batch(
        self, reports: Sequence[tuple[KpiReportPayload, str]]
    ) -> builtins.list[KpiReportBatchResult]:
        """:meth:`submit_batch`, as an outbox flush calls it (:class:`~supplier_sdk.outbox.sender.BatchSender`).

        Example: ``results = hub.kpi_reports.send_queued_batch([(payload, "k-1"), (other, "k-2")])``
        """
        return self.submit_batch(reports)

    @overload
    def submit(
        self, payload: KpiReportPayload, *, idempotency_key: str | None = None, outbox: None = None
    ) -> KpiReport: ...

    @overload
    def submit(
        self, payload: KpiReportPayload, *, idempotency_key: str | None = None, outbox: Outbox
    ) -> KpiReport | QueuedReport: ...

    def submit(
        self, payload: KpiReportPayload, *, idempotency_key: str | None = None, outbox: Outbox | None = None
    ) -> KpiReport | QueuedReport:
        """Sign ``payload`` with the signer's key and submit it; return the stored :class:`KpiReport`.

        With ``outbox``, a hub that is not available after the retries (:class:`~supplier_sdk.errors.HubUnreachable`,
        5xx, 429) does not raise: the unsigned payload and its idempotency key are queued in the outbox and a
        :class:`~supplier_sdk.outbox.QueuedReport` is returned; :meth:`Outbox.flush
        <supplier_sdk.outbox.Outbox.flush>` sends it later, re-signed, under the same key. A refusal (4xx,
        including a 409 that outlasted the retries) always raises: the hub is up and answered about the report.

        Args:
            payload: the report to sign (see :mod:`supplier_sdk.reports` to build one).
            idempotency_key: the POST's key; default a new UUID4.
            outbox: where to queue the report if the hub cannot take it now.

        Raises:
            HubError: the hub refused the report (``DuplicateReport``, ``InvalidSignature``, ...).
            HubUnreachable: no answer, and no ``outbox``.

        Example::

            result = hub.kpi_reports.submit(payload, outbox=Outbox("~/.qualink/outbox.db"))
            if isinstance(result, QueuedReport):
                print("queued; run `supplier-sdk outbox flush` later")
        """
        key = idempotency_key or str(uuid.uuid4())
        try:
            return self.send_queued(payload, key)[0]
        except (HubUnreachable, HubError) as exc:
            if outbox is None or (isinstance(exc, HubError) and not exc.unavailable):
                raise
            return outbox.enqueue(
                payload, idempotency_key=key, hub_url=self._requester.base_url, reason=str(exc)
            )

    # -- reading --------------------------------------------------------------------------------------------------

    def get(self, report_id: uuid.UUID | str) -> KpiReport:
        """One KPI report by id.

        Example::

            report = hub.kpi_reports.get(report.id)
            print(report.meets, report.value)
        """
        path = f"/v1/kpi-reports/{uuid.UUID(str(report_id))}"
        return KpiReport.model_validate(self._requester.request("GET", path))

    def list(
        self,
        *,
        agreement_id: uuid.UUID | str | None = None,
        supplier_id: uuid.UUID | str | None = None,
        kpi: KpiName | str | None = None,
        characteristic: str | None = None,
        part_number: str | None = None,
        period_from: str | None = None,
        period_to: str | None = None,
        meets: bool | None = None,
        page_size: int = 100,
    ) -> Iterator[KpiReport]:
        """Iterate over the KPI reports the filters select, oldest first, fetching pages as needed.

        Args:
            agreement_id, supplier_id, kpi, characteristic, part_number: exact matches.
            period_from, period_to: first and last period (``2026-W40``), inclusive.
            meets: only reports that meet (``True``) or miss (``False``) their threshold.
            page_size: reports per request (1 to 1000); the iterator follows ``next_cursor`` to the end.

        Example::

            misses = list(hub.kpi_reports.list(kpi="cpk", meets=False, period_from="2026-W40"))
        """
        filters = report_filters(
            agreement_id=agreement_id,
            supplier_id=supplier_id,
            kpi=kpi,
            characteristic=characteristic,
            part_number=part_number,
            period_from=period_from,
            period_to=period_to,
            meets=meets,
        )
        for item in self._requester.pages("/v1/kpi-reports", params=filters, page_size=page_size):
            yield KpiReport.model_validate(item)


def report_filters(
    *,
    agreement_id: uuid.UUID | str | None,
    supplier_id: uuid.UUID | str | None,
    kpi: KpiName | str | None,
    characteristic: str | None,
    part_number: str | None,
    period_from: str | None,
    period_to: str | None,
    meets: bool | None,
) -> dict[str, Any]:
    """The query of ``GET /v1/kpi-reports`` for these filters (None: not filtered), as both clients send it.

    Example:
        >>> report_filters(agreement_id=None, supplier_id=None, kpi="cpk", characteristic=None, part_number=None,
        ...                period_from="2026-W40", period_to=None, meets=False)["meets"]
        'false'
    """
    return {
        "agreement_id": None if agreement_id is None else str(uuid.UUID(str(agreement_id))),
        "supplier_id": None if supplier_id is None else str(uuid.UUID(str(supplier_id))),
        "kpi": None if kpi is None else KpiName(kpi).value,
        "characteristic": characteristic,
        "part_number": part_number,
        "period_from": period_from,
        "period_to": period_to,
        "meets": None if meets is None else ("true" if meets else "false"),
    }
