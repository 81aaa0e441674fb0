"""``oem.kpi_reports`` and ``oem.proofs``: the KPI reports suppliers made under your agreements, and their proofs.

A report's ``value`` is ``None`` when the agreement's disclosure mode hides it (``threshold``): then only
``meets`` is known, proven in zero knowledge. :meth:`Proofs.verify_offline` checks such a proof on your own
machine with the protocol's verifier (:func:`protocol.zk.attestation.verify_attestation`, what ``supplier-sdk
verify`` runs), and that it is bound to the report (supplier, key, agreement, characteristic, period, KPI): you
need not take the hub's word for it. Needs ``kpi:read``.

Example::

    for report in oem.kpi_reports.list(kpi="cpk", meets=False):
        if report.has_proof:
            oem.proofs.verify_offline(report)
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from protocol.models.common import KpiName
from protocol.models.kpi import KpiReport
from protocol.zk.attestation import Attestation, verify_attestation
from protocol.zk.errors import ProofInvalid
from supplier_sdk.kpi_reports import report_filters
from supplier_sdk.oem.listing import Listing

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

REPORTS_PATH = "/v1/kpi-reports"
"""Where the hub keeps KPI reports.

Example:
    >>> REPORTS_PATH
    '/v1/kpi-reports'
"""


def _id(value: uuid.UUID | str) -> uuid.UUID:
    return uuid.UUID(str(value))


class KpiReports:
    """The KPI reports your agreements entitle you to (``oem.kpi_reports``).

    Example::

        misses = oem.kpi_reports.list(supplier_id=supplier_id, meets=False).all()
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def get(self, report_id: uuid.UUID | str) -> KpiReport:
        """One report (:class:`~supplier_sdk.errors.NotFound` for one not under your agreements).

        Example: ``oem.kpi_reports.get(report_id).meets``
        """
        return KpiReport.model_validate(self._requester.request("GET", f"{REPORTS_PATH}/{_id(report_id)}"))

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
    ) -> Listing[KpiReport]:
        """The reports the filters select, oldest first, every page by cursor.

        Args:
            agreement_id, supplier_id, kpi, characteristic, part_number: exact matches.
            period_from, period_to: first and last period (``2026-W40``), inclusive.
            meets: only reports that meet (``True``) or miss (``False``) their threshold.
            page_size: reports per request (1 to 1000).

        Example: ``weeks = [r.period for r in oem.kpi_reports.list(kpi="cpk", period_from="2026-W40")]``
        """
        params = report_filters(
            agreement_id=agreement_id,
            supplier_id=supplier_id,
            kpi=kpi,
            characteristic=characteristic,
            part_number=part_number,
            period_from=period_from,
            period_to=period_to,
            meets=meets,
        )
        return Listing(self._requester, REPORTS_PATH, KpiReport, params=params, page_size=page_size)


def _check_binding(attestation: Attestation, report: KpiReport) -> None:
    context = attestation.context()
    wanted = {
        "supplier": str(report.supplier_id),
        "key_id": report.key_id,
        "agreement": str(report.agreement_id),
        "characteristic": report.characteristic or "",
        "period": str(report.period),
        "kpi": str(report.kpi),
    }
    for name, value in wanted.items():
        if getattr(context, name) != value:
            raise ProofInvalid(
                f"the proof is bound to {name} {getattr(context, name)!r}, the report says {value!r}",
                check="context binding",
            )


class Proofs:
    """KPI-ZK proofs of reports, fetched from the hub and checked here (``oem.proofs``).

    Example::

        attestation = oem.proofs.verify_offline(report)
        print(attestation.statement)
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def get(self, report_id: uuid.UUID | str) -> Attestation:
        """The KPI-ZK proof a report was accepted with (:class:`~supplier_sdk.errors.NotFound` without one).

        Example: ``oem.proofs.get(report.id).commitments``
        """
        answer = self._requester.request("GET", f"{REPORTS_PATH}/{_id(report_id)}/proof")
        return Attestation.model_validate(answer)

    def verify_offline(
        self, report: KpiReport | uuid.UUID | str, *, proof: Attestation | dict[str, Any] | None = None
    ) -> Attestation:
        """Verify a report's proof with the protocol's verifier on this machine; return the proof.

        Args:
            report: the report (or its id, read first) whose claim the proof must back.
            proof: the proof, if you have it already (e.g. from a file); default the hub's copy (:meth:`get`).

        Raises:
            ProofInvalid: the proof does not verify, or is bound to another report (``check`` names which).
            NotFound: the report has no proof (its disclosure mode asked for none).

        Example::

            try:
                oem.proofs.verify_offline(report)
            except ProofInvalid as exc:
                print("do not trust", report.id, exc.check)
        """
        if not isinstance(report, KpiReport):
            report = KpiReports(self._requester).get(report)
        attestation = self.get(report.id) if proof is None else Attestation.model_validate(proof)
        _check_binding(attestation, report)
        verify_attestation(attestation)
        return attestation


__all__ = ["REPORTS_PATH", "KpiReports", "Proofs"]
