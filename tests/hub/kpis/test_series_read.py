"""The narrow read behind scorecard charts: every period (not a first page), oldest first, and a value
hidden behind its threshold is read out for the supplier only."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from hub.kpis.series import series_for
from hub.models import KpiReport
from hub.models.base import utcnow
from protocol.models.common import OrgKind, PeriodKind
from protocol.periods import period_containing
from tests.hub.conftest import make_org
from tests.hub.kpis.conftest import Reporting, caller_of, stored_report_row

WEEKS = 600  # more than the 500 rows the console reads of any one list


def _store_weeks(db: Session, reporting: Reporting) -> list[str]:
    """A report per week, every third one disclosed only as met / not met, written as ingest stores them."""
    period = period_containing(utcnow(), PeriodKind.WEEK).previous()
    periods = []
    for _ in range(WEEKS):
        periods.append(period)
        period = period.previous()
    rows = [
        stored_report_row(
            reporting,
            week,
            meets=i % 2 == 0,
            value=Decimal("1.40") if i % 2 == 0 else Decimal("1.20"),
            disclosure="threshold" if i % 3 == 0 else "value",
            has_proof=i % 3 == 0,
        )
        for i, week in enumerate(periods)
    ]
    db.execute(insert(KpiReport), rows)
    db.flush()
    return [str(week) for week in reversed(periods)]


def test_every_period_is_drawn_oldest_first_and_hidden_values_stay_hidden_from_the_oem(
    db: Session, reporting: Reporting
) -> None:
    expected = _store_weeks(db, reporting)
    [seen] = series_for(db, caller=caller_of(reporting.oem), supplier_id=reporting.supplier.org.id)
    assert [p.period for p in seen.points] == expected and seen.threshold == 1.33
    newest = seen.points[-1]  # i == 0: met, disclosed only as met, with a proof
    assert newest.value is None and newest.met and newest.proven
    hidden = [p for p in seen.points if p.value is None]
    assert len(hidden) == WEEKS // 3 and all(p.proven == p.met for p in hidden)
    assert {p.value for p in seen.points if p.value is not None} == {1.4, 1.2}

    [own] = series_for(db, caller=caller_of(reporting.supplier), supplier_id=reporting.supplier.org.id)
    assert all(p.value is not None and not p.proven for p in own.points)


def test_another_oem_reads_no_series_of_a_supplier_not_its_own(db: Session, reporting: Reporting) -> None:
    _store_weeks(db, reporting)
    stranger = make_org(db, OrgKind.OEM)
    from hub.auth.tokens import Caller

    caller = Caller(org_id=stranger.id, org_kind=OrgKind.OEM, client_id="t", scopes=frozenset())
    assert series_for(db, caller=caller, supplier_id=reporting.supplier.org.id) == []


def test_a_series_names_the_lab_of_its_newest_lab_proven_report(db: Session, reporting: Reporting) -> None:
    newest = period_containing(utcnow(), PeriodKind.WEEK).previous()
    older, oldest = newest.previous(), newest.previous().previous()
    measured = {
        oldest: ("Old Lab AB", oldest.start.date()),
        older: ("Nordic Metrology AB", older.start.date()),
    }
    rows = [
        stored_report_row(
            reporting,
            week,
            has_proof=week in measured,
            **(
                {"lab_name": measured[week][0], "lab_measured_on": measured[week][1]}
                if week in measured
                else {}
            ),
        )
        for week in (oldest, older, newest)  # the newest report is the supplier's own, proven by nobody
    ]
    db.execute(insert(KpiReport), rows)
    db.flush()

    [seen] = series_for(db, caller=caller_of(reporting.oem), supplier_id=reporting.supplier.org.id)

    assert (seen.lab_name, seen.lab_measured_on) == ("Nordic Metrology AB", older.start.date())
