"""KPI reports through the hub: sign, submit (one, or a batch), queue when the hub is away, read back.

:class:`KpiReports` is the part of :class:`~supplier_sdk.client.Client` that speaks ``/v1/kpi-reports``; use it
through a ``Client``, which supplies the connection, token and signing key.

Example::

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        report = hub.submit_report(payload)
        misses = list(hub.reports(kpi="cpk", meets=False))
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
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
from protocol.signing import SignedEnvelope, sign_envelope
from protocol.zk.attestation import BindingContext
from supplier_sdk.errors import HubError, HubUnreachable

if TYPE_CHECKING:
    import httpx
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from supplier_sdk.outbox import Outbox, QueuedReport

__all__ = ["KpiReports"]

_BATCH_BYTES = 512 * 1024  # half the hub's default body limit (HUB_MAX_BODY_BYTES)


class KpiReports:
    """Signing, submitting and reading KPI reports; mixed into :class:`~supplier_sdk.client.Client`.

    Example::

        envelope = hub.sign_report(payload)
        report = hub.submit_envelope(envelope, idempotency_key="shaft-2026-W48-cpk")
    """

    base_url: str
    _private_key: Ed25519PrivateKey
    _signing_key_id: str

    # Supplied by Client: an authenticated request with retries and error mapping (raw, and parsed JSON).
    _send: Callable[..., httpx.Response]
    request: Callable[..., Any]
    pages: Callable[..., Iterator[Any]]

    # -- signing and sending ------------------------------------------------------------------------------------------

    def sign_report(self, payload: KpiReportPayload) -> SignedEnvelope:
        """Sign ``payload`` into a ``kpi-report`` envelope now (fresh ``signed_at`` and nonce).

        Example::

            envelope = hub.sign_report(payload)
            report = hub.submit_envelope(envelope, idempotency_key=str(uuid.uuid4()))
        """
        return sign_envelope(
            payload, type=KPI_REPORT_TYPE, private_key=self._private_key, key_id=self._signing_key_id
        )

    def submit_envelope(self, envelope: SignedEnvelope, *, idempotency_key: str) -> KpiReport:
        """Post an already signed ``kpi-report`` envelope; return the report the hub stored.

        The hub refuses an envelope signed more than five minutes ago (``StaleSignature``); prefer
        :meth:`submit_report`, which signs just before sending.

        Args:
            envelope: a :class:`~protocol.signing.SignedEnvelope` of type ``kpi-report``.
            idempotency_key: the request's key; the same key and payload return the first answer again.

        Example::

            report = hub.submit_envelope(hub.sign_report(payload), idempotency_key="shaft-2026-W48-cpk")
        """
        return self._post_envelope(envelope, idempotency_key)[0]

    def _post_envelope(self, envelope: SignedEnvelope, idempotency_key: str) -> tuple[KpiReport, bool]:
        body = KpiReportSubmit(envelope=envelope).model_dump(mode="json")
        response = self._send("POST", "/v1/kpi-reports", json=body, idempotency_key=idempotency_key)
        replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
        return KpiReport.model_validate(response.json()), replayed

    def submit_batch(self, reports: Sequence[tuple[KpiReportPayload, str]]) -> list[KpiReportBatchResult]:
        """Sign each ``(payload, idempotency_key)`` now and post them together (``POST /v1/kpi-reports:batch``).

        The hub judges each as a single POST would and verifies their proofs as one batch; the results come
        in the order given, each with the status, report or error a single POST would have had. At most
        :data:`~protocol.models.kpi.MAX_BATCH` reports; they go in as many requests as keep each body under
        512 KiB. The outbox flush uses this for several queued reports.

        Example::

            results = hub.submit_batch([(payload, "shaft-W47"), (other, "shaft-W48")])
            refused = [r for r in results if r.status >= 400]
        """
        results: list[KpiReportBatchResult] = []
        chunk: list[dict[str, Any]] = []
        size = 0
        for payload, key in reports:
            item = KpiReportBatchItem(envelope=self.sign_report(payload), idempotency_key=key)
            item_size = len(item.model_dump_json())
            if chunk and size + item_size > _BATCH_BYTES:  # proven reports are KiBs: stay below the limit
                results += self._post_batch(chunk)
                chunk, size = [], 0
            chunk.append(item.model_dump(mode="json"))
            size += item_size
        return results + (self._post_batch(chunk) if chunk else [])

    def _post_batch(self, items: list[dict[str, Any]]) -> list[KpiReportBatchResult]:
        body = KpiReportBatch.model_validate({"items": items}).model_dump(mode="json")
        answer = self.request("POST", "/v1/kpi-reports:batch", json=body)
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

            context = hub.attestation_context(agreement.id, kpi="cpk", period="2026-W48", characteristic="DIA-01")
        """
        params = {"kpi": KpiName(kpi).value, "period": period, "key_id": self._signing_key_id}
        if characteristic is not None:
            params["characteristic"] = characteristic
        path = f"/v1/agreements/{uuid.UUID(str(agreement_id))}/attestation-context"
        return BindingContext.model_validate(self.request("GET", path, params=params))

    def _deliver(self, payload: KpiReportPayload, idempotency_key: str) -> tuple[KpiReport, bool]:
        """Sign now and post; return the report and whether the hub replayed an earlier answer for the key."""
        return self._post_envelope(self.sign_report(payload), idempotency_key)

    @overload
    def submit_report(
        self, payload: KpiReportPayload, *, idempotency_key: str | None = None, outbox: None = None
    ) -> KpiReport: ...

    @overload
    def submit_report(
        self, payload: KpiReportPayload, *, idempotency_key: str | None = None, outbox: Outbox
    ) -> KpiReport | QueuedReport: ...

    def submit_report(
        self, payload: KpiReportPayload, *, idempotency_key: str | None = None, outbox: Outbox | None = None
    ) -> KpiReport | QueuedReport:
        """Sign ``payload`` with this client's key and submit it; return the stored :class:`KpiReport`.

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

            result = hub.submit_report(payload, outbox=Outbox("~/.qualink/outbox.db"))
            if isinstance(result, QueuedReport):
                print("queued; run `supplier-sdk outbox flush` later")
        """
        key = idempotency_key or str(uuid.uuid4())
        try:
            return self._deliver(payload, key)[0]
        except (HubUnreachable, HubError) as exc:
            if outbox is None or (isinstance(exc, HubError) and not exc.unavailable):
                raise
            return outbox.enqueue(payload, idempotency_key=key, hub_url=self.base_url, reason=str(exc))

    def report(self, report_id: uuid.UUID | str) -> KpiReport:
        """One KPI report by id.

        Example::

            report = hub.report(report.id)
            print(report.meets, report.value)
        """
        return KpiReport.model_validate(self.request("GET", f"/v1/kpi-reports/{uuid.UUID(str(report_id))}"))

    def reports(
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

            misses = list(hub.reports(kpi="cpk", meets=False, period_from="2026-W40"))
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
        for item in self.pages("/v1/kpi-reports", params=filters, page_size=page_size):
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
    """The query of ``GET /v1/kpi-reports`` for these filters (None: not filtered), as both clients send it."""
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
