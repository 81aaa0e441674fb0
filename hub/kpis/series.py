"""A supplier's KPI results as series over periods, read in one narrow query for charts and scorecards.

A scorecard draws two years of weekly results on every characteristic: thousands of rows. Reading them as
ORM objects and wire models costs more than the page may take, so this reads only the columns a chart needs,
under the same tenant filter and the same disclosure rule as ``service.as_wire``: a value the supplier chose
to hide behind its threshold is never read out for anyone but the supplier."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, or_
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.kpis.service import visible
from hub.models import KpiReport
from protocol.models.common import DisclosureMode


@dataclass(frozen=True)
class Point:
    period: str
    value: float | None  # None: the reader may know only met or not met
    met: bool
    proven: bool  # met with only a proof disclosed, no value


@dataclass
class Series:
    """One characteristic's KPI over periods, oldest first."""

    part_number: str
    characteristic: str
    kpi: str
    threshold: float
    points: list[Point] = field(default_factory=list)
    # The newest report proven from an accredited lab's measurements (tier T2): who measured, and when.
    lab_name: str | None = None
    lab_measured_on: date | None = None


def series_for(session: Session, *, caller: Caller, supplier_id: uuid.UUID) -> list[Series]:
    """Every series of ``supplier_id``'s reports the caller may read. Several reports for one period (a
    resubmission) are all drawn, in the order they were received, as the API lists them."""
    readable = or_(
        KpiReport.supplier_id == caller.org_id, KpiReport.disclosure != DisclosureMode.THRESHOLD.value
    )
    query = visible(caller).with_only_columns(
        KpiReport.part_number,
        KpiReport.characteristic,
        KpiReport.kpi,
        KpiReport.threshold,
        KpiReport.period,
        case((and_(readable, KpiReport.value.is_not(None)), KpiReport.value), else_=None),
        KpiReport.meets,
        KpiReport.has_proof,
        KpiReport.lab_name,
        KpiReport.lab_measured_on,
    )
    query = query.where(KpiReport.supplier_id == supplier_id).order_by(
        KpiReport.period_start, KpiReport.received_at, KpiReport.id
    )
    grouped: dict[tuple[str, str, str], Series] = {}
    for row in session.execute(query):
        part, characteristic, kpi, threshold, period, value, meets, proof, lab_name, measured_on = row
        key = (part, characteristic or "", kpi)
        series = grouped.get(key)
        if series is None:
            series = grouped[key] = Series(part, characteristic or "", kpi, float(threshold))
        shown = None if value is None else float(value)
        series.points.append(Point(period, shown, bool(meets), shown is None and bool(meets) and bool(proof)))
        if lab_name is not None:  # rows come oldest first: the last one seen is the newest
            series.lab_name, series.lab_measured_on = lab_name, measured_on
    return [grouped[key] for key in sorted(grouped)]
