"""Building KPI report payloads from local data, checked against the supply agreement they answer.

Each builder computes the KPI with :mod:`supplier_sdk.kpi`, fills a :class:`~protocol.models.kpi.KpiReportPayload`
(supplier, OEM, agreement, part, characteristic, period, claim, SDK version) and refuses, with
:class:`~supplier_sdk.errors.AgreementMismatch`, anything the agreement does not cover: an agreement that is
not active, a characteristic or part it does not list, a KPI it does not ask for, a period of the wrong kind
(weeks vs months), outside its validity, or not started yet. Bad data raise
:class:`~supplier_sdk.kpi.KpiInputError`; a malformed period :class:`~protocol.errors.InvalidPeriod` (both are
``ValueError``). Nothing is sent: sign and submit the payload with :meth:`client.kpi_reports.submit <supplier_sdk.kpi_reports.KpiReports.submit>`.

The claim:

- ``value`` is rounded to four places **in the direction that never flatters the supplier**: down for KPIs that
  must reach their threshold (CPK, PPK, MTBF), up for PPM (which must stay below it). ``meets`` is judged on
  that rounded value, as the hub judges it; with a threshold of at most four decimal places (as agreements
  state them) this is exactly the verdict on the unrounded figure, and never a better one;
- ``value`` is included only when the agreement discloses the value for that KPI (``value``, ``value+proof``);
  under ``threshold`` disclosure only ``meets`` is claimed (the value stays on this machine);
- ``threshold`` is the agreement's; ``sample_size`` and ``subgroups`` describe the data behind a capability index.

Example:
    >>> from datetime import date, datetime, UTC
    >>> from uuid import UUID
    >>> agreement = Agreement(
    ...     id=UUID(int=3), oem_id=UUID(int=2), supplier_id=UUID(int=1), status="active", title="Shafts",
    ...     created_at=datetime(2026, 1, 1, tzinfo=UTC), valid_from=date(2026, 1, 1), period="week",
    ...     parts=[{"part_number": "SH-1"}],
    ...     characteristics=[{"code": "DIA-01", "part_number": "SH-1", "unit": "mm", "lsl": "9.85", "usl": "10.15"}],
    ...     kpis=[{"kpi": "cpk", "threshold": "1.33", "disclosure": "value"}])
    >>> values = [10.0, 10.02, 9.98, 10.01, 9.99, 10.0, 10.03, 9.97]
    >>> payload = build_capability_report(agreement=agreement, characteristic="DIA-01", period="2026-W20",
    ...                                   kpi="cpk", values=values, sdk_version="0.1.0")
    >>> payload.claim.meets, payload.claim.value, payload.claim.sample_size
    (True, Decimal('1.8806'), 8)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from protocol.models.agreements import Agreement, Characteristic, KpiTerm
from protocol.models.common import AgreementStatus, Comparator, DisclosureMode, KpiName
from protocol.models.kpi import KpiClaim, KpiReportPayload, round_kpi_value
from protocol.periods import Period, parse_period
from supplier_sdk.errors import AgreementMismatch
from supplier_sdk.kpi import KpiInputError, capability, mtbf, mtbf_point_estimate
from supplier_sdk.kpi.subgroups import FloatArray, SigmaMethod
from supplier_sdk.requester import SDK_VERSION

ZERO_FAILURE_CONFIDENCE = 0.60
"""Confidence of the MTBF lower bound claimed when a test saw no failure (the point estimate T/r is undefined).

With r = 0 an MTBF report claims the one-sided chi-square lower bound of a time-terminated test at 60 %:
``2T / χ²(0.60; 2) = T / ln(2.5) ≈ 1.091·T``. Sixty per cent is the customary level for "demonstrated MTBF"
in reliability practice (MIL-HDBK-781 style zero-failure tests); it is reproducible from T alone, it grows with
the test time (unlike "r = 0 always meets"), and it ranks sensibly: one failure in the same time claims T,
no failure claims more. A figure that needs a stronger demonstration should be set as the agreement's
threshold, not hidden in this rule.

Example:
    >>> round(build_mtbf_value(10_000.0, 0), 1)
    10913.6
"""

_CAPABILITY_KPIS = (KpiName.CPK, KpiName.PPK)
_DISCLOSED = (DisclosureMode.VALUE, DisclosureMode.VALUE_AND_PROOF)


def build_mtbf_value(hours: float, failures: int) -> float:
    """The MTBF figure a report claims: T/r for r ≥ 1, the 60 % lower bound for r = 0 (see
    :data:`ZERO_FAILURE_CONFIDENCE`).

    Args:
        hours: T, total accumulated test hours (> 0).
        failures: r, failures observed (≥ 0).

    Example:
        >>> build_mtbf_value(10_000, 4), round(build_mtbf_value(1000, 0), 2)
        (2500.0, 1091.36)
    """
    point = mtbf_point_estimate(hours, failures)
    if point is not None:
        return point
    return mtbf(hours, 0, confidence=ZERO_FAILURE_CONFIDENCE, test="time", sided="one").lower


def _check_agreement(
    agreement: Agreement, kpi: KpiName, period: str, now: datetime | None
) -> tuple[KpiTerm, Period]:
    if agreement.status is not AgreementStatus.ACTIVE:
        raise AgreementMismatch(f"agreement {agreement.id} is {agreement.status.value}, not active")
    term = next((t for t in agreement.kpis if t.kpi is kpi), None)
    if term is None:
        asked = ", ".join(t.kpi.value for t in agreement.kpis)
        raise AgreementMismatch(
            f"agreement {agreement.id} does not ask for {kpi.value} (it asks for: {asked})"
        )
    parsed = parse_period(period)
    if parsed.kind is not agreement.period:
        raise AgreementMismatch(
            f"agreement {agreement.id} reports per {agreement.period.value}, but {period} is a {parsed.kind.value}"
        )
    moment = now or datetime.now(UTC)
    if parsed.start > moment:
        raise AgreementMismatch(f"period {period} has not started yet")
    if parsed.end.date() <= agreement.valid_from or (
        agreement.valid_until is not None and parsed.start.date() > agreement.valid_until
    ):
        until = agreement.valid_until.isoformat() if agreement.valid_until else "open-ended"
        raise AgreementMismatch(
            f"period {period} lies outside the agreement's validity ({agreement.valid_from.isoformat()} to {until})"
        )
    return term, parsed


def _characteristic(agreement: Agreement, code: str) -> Characteristic:
    found = next((c for c in agreement.characteristics if c.code == code), None)
    if found is None:
        known = ", ".join(c.code for c in agreement.characteristics)
        raise AgreementMismatch(f"agreement {agreement.id} has no characteristic {code!r} (it has: {known})")
    return found


def _as_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _claim(
    term: KpiTerm, figure: float, *, sample_size: int | None = None, subgroups: int | None = None
) -> KpiClaim:
    if not math.isfinite(figure):
        raise KpiInputError(f"the computed {term.kpi.value} is {figure}, not a finite number")
    at_least = term.comparator is not Comparator.AT_MOST
    value = round_kpi_value(Decimal(figure), rounding=ROUND_FLOOR if at_least else ROUND_CEILING)
    meets = value >= term.threshold if at_least else value <= term.threshold
    return KpiClaim(
        meets=meets,
        value=value if term.disclosure in _DISCLOSED else None,
        threshold=term.threshold,
        sample_size=sample_size,
        subgroups=subgroups,
    )


def _payload(
    agreement: Agreement,
    *,
    part_number: str,
    characteristic: str | None,
    period: Period,
    kpi: KpiName,
    claim: KpiClaim,
    sdk_version: str,
) -> KpiReportPayload:
    return KpiReportPayload(
        supplier_id=agreement.supplier_id,
        oem_id=agreement.oem_id,
        agreement_id=agreement.id,
        part_number=part_number,
        characteristic=characteristic,
        period=str(period),
        kpi=kpi,
        claim=claim,
        sdk_version=sdk_version,
    )


def build_capability_report(
    *,
    agreement: Agreement,
    characteristic: str,
    period: str,
    kpi: KpiName | str,
    values: FloatArray | Sequence[float],
    subgroup_size: int | None = None,
    subgroup_labels: Sequence[object] | None = None,
    sigma: SigmaMethod | str | None = None,
    sdk_version: str = SDK_VERSION,
    now: datetime | None = None,
) -> KpiReportPayload:
    """Build a CPK or PPK report for one characteristic and period from its measurements.

    The characteristic's specification limits come from the agreement. CPK uses the within-subgroup sigma,
    PPK the overall sample SD (see :func:`supplier_sdk.kpi.capability`).

    Args:
        agreement: the active agreement the report answers.
        characteristic: the characteristic's code in the agreement (its part number comes with it).
        period: ``2026-W48`` or ``2026-11``, of the agreement's period kind.
        kpi: ``cpk`` or ``ppk``.
        values: the measurements, in production order.
        subgroup_size: consecutive subgroups of this size; or give ``subgroup_labels`` (one per value).
        subgroup_labels: a subgroup label per value; consecutive equal labels form a subgroup.
        sigma: within-sigma method ``pooled``, ``rbar``, ``sbar`` or ``mr``; ``None`` takes pooled for subgrouped
            data and the moving range for individual values (Minitab's defaults; pooled cannot apply to
            individual values).
        sdk_version: written into the payload; defaults to this SDK's version.
        now: the current time, for the "period has started" check (default: now).

    Raises:
        AgreementMismatch: the agreement does not cover this characteristic, KPI or period, or is not active.
        KpiInputError: the values cannot give a capability index (too few, no variation, bad subgroups).

    Example::

        payload = build_capability_report(agreement=agreement, characteristic="DIA-01", period="2026-W48",
                                          kpi="cpk", values=diameters, subgroup_size=5)
        payload.claim          # KpiClaim(meets=True, value=Decimal('1.4567'), threshold=Decimal('1.33'), ...)
        build_capability_report(agreement=agreement, characteristic="BORE-9", ...)
        # AgreementMismatch: agreement … has no characteristic 'BORE-9' (it has: DIA-01)
    """
    name = KpiName(kpi)
    if name not in _CAPABILITY_KPIS:
        raise AgreementMismatch(
            f"{name.value} is not a capability index: use build_ppm_report or build_mtbf_report"
        )
    term, parsed = _check_agreement(agreement, name, period, now)
    spec = _characteristic(agreement, characteristic)
    result = capability(
        values,
        lsl=_as_float(spec.lsl),
        usl=_as_float(spec.usl),
        subgroup_size=subgroup_size,
        subgroup_labels=subgroup_labels,
        sigma=sigma,
    )
    figure = result.cpk if name is KpiName.CPK else result.ppk
    claim = _claim(term, figure, sample_size=result.n, subgroups=result.subgroups)
    return _payload(
        agreement,
        part_number=spec.part_number,
        characteristic=spec.code,
        period=parsed,
        kpi=name,
        claim=claim,
        sdk_version=sdk_version,
    )


def build_ppm_report(
    *,
    agreement: Agreement,
    characteristic: str,
    period: str,
    values: FloatArray | Sequence[float],
    sdk_version: str = SDK_VERSION,
    now: datetime | None = None,
) -> KpiReportPayload:
    """Build a PPM report: expected parts per million outside the characteristic's limits.

    The figure is the total of the overall normal model, ``Φ((LSL-x̄)/s) + 1 - Φ((USL-x̄)/s)`` times 10⁶ with the
    overall sample SD ``s`` (``ppm["overall"]["total"]`` of :func:`supplier_sdk.kpi.capability`), a side without
    a limit contributing nothing. It is rounded up (PPM must stay at or below its threshold).

    Args:
        agreement: the active agreement the report answers (it must ask for ``ppm``).
        characteristic: the characteristic's code in the agreement.
        period: the reporting period.
        values: the measurements.
        sdk_version: written into the payload.
        now: the current time, for the "period has started" check.

    Raises:
        AgreementMismatch: as for :func:`build_capability_report`.
        KpiInputError: fewer than two values, or no variation.

    Example::

        payload = build_ppm_report(agreement=agreement, characteristic="DIA-01", period="2026-W48",
                                   values=diameters)
        payload.claim.value        # Decimal('12.3457'): expected ppm, rounded up
    """
    term, parsed = _check_agreement(agreement, KpiName.PPM, period, now)
    spec = _characteristic(agreement, characteristic)
    result = capability(values, lsl=_as_float(spec.lsl), usl=_as_float(spec.usl))
    total = result.ppm["overall"]["total"]
    if total is None:  # pragma: no cover - capability() always sums the sides that exist
        raise KpiInputError("the expected PPM could not be computed")
    claim = _claim(term, total, sample_size=result.n)
    return _payload(
        agreement,
        part_number=spec.part_number,
        characteristic=spec.code,
        period=parsed,
        kpi=KpiName.PPM,
        claim=claim,
        sdk_version=sdk_version,
    )


def build_mtbf_report(
    *,
    agreement: Agreement,
    period: str,
    hours: float,
    failures: int,
    part_number: str | None = None,
    sdk_version: str = SDK_VERSION,
    now: datetime | None = None,
) -> KpiReportPayload:
    """Build an MTBF report for a part (no characteristic) from a life test's hours and failures.

    The claimed figure is the point estimate T/r, or for r = 0 the one-sided 60 % chi-square lower bound
    (:data:`ZERO_FAILURE_CONFIDENCE`, :func:`build_mtbf_value`); it is rounded down to four places.

    Args:
        agreement: the active agreement the report answers (it must ask for ``mtbf``).
        period: the reporting period.
        hours: T, total accumulated test hours over all units (> 0).
        failures: r, failures observed (≥ 0).
        part_number: the part tested; may be left out when the agreement covers a single part.
        sdk_version: written into the payload.
        now: the current time, for the "period has started" check.

    Raises:
        AgreementMismatch: the part is not in the agreement (or is ambiguous), or as for the other builders.
        KpiInputError: non-positive hours or a negative or fractional failure count.

    Example::

        payload = build_mtbf_report(agreement=agreement, period="2026-11", hours=12_000, failures=2)
        payload.claim.value        # Decimal('6000.0000')
    """
    term, parsed = _check_agreement(agreement, KpiName.MTBF, period, now)
    parts = [p.part_number for p in agreement.parts]
    if part_number is None:
        if len(parts) != 1:
            raise AgreementMismatch(
                f"agreement {agreement.id} covers several parts ({', '.join(parts)}): name one"
            )
        part_number = parts[0]
    elif part_number not in parts:
        raise AgreementMismatch(
            f"agreement {agreement.id} has no part {part_number!r} (it has: {', '.join(parts)})"
        )
    claim = _claim(term, build_mtbf_value(hours, failures))
    return _payload(
        agreement,
        part_number=part_number,
        characteristic=None,
        period=parsed,
        kpi=KpiName.MTBF,
        claim=claim,
        sdk_version=sdk_version,
    )


__all__ = [
    "ZERO_FAILURE_CONFIDENCE",
    "build_capability_report",
    "build_mtbf_report",
    "build_mtbf_value",
    "build_ppm_report",
]
