"""The early-warning rule on real reports: it notifies SQE, leaves the tier alone, and the dry run shows its lead."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import StandingChange
from protocol.models.rules import EARLY_WARNING_TEMPLATE
from tests.hub.kpis.conftest import Reporting
from tests.hub.rules.test_standing import report_weeks, standing_of


def test_a_falling_trend_warns_sqe_and_leaves_the_tier_alone(reporting: Reporting, db: Session) -> None:
    created = reporting.oem.post("/v1/rules", json={**EARLY_WARNING_TEMPLATE, "status": "active"})
    assert created.status_code == 201, created.text
    # six periods 1.60..1.42: the line reaches 1.338 in two periods, no warning; the seventh (1.40) brings
    # it to 1.313 < 1.33 while the period still meets 1.33
    ids = report_weeks(reporting, ["1.60", "1.58", "1.56", "1.50", "1.46", "1.42", "1.40"])

    [note] = reporting.oem.get("/v1/inbox", params={"role": "sqe"}).json()["items"]  # one: the seventh's
    assert note["body"]["rules"][0]["name"] == EARLY_WARNING_TEMPLATE["name"]
    assert [c["report_id"] for c in note["body"]["rules"][0]["causes"]] == ids[-1:]
    assert note["body"]["tier"] == {"from": "A", "to": "A"}
    assert reporting.oem.get("/v1/inbox", params={"role": "purchasing"}).json()["items"] == []
    standing = standing_of(reporting)
    assert (standing["tier"], standing["status"], standing["history"]) == ("A", "approved", [])
    assert db.scalar(select(func.count()).select_from(StandingChange)) == 0


def test_the_dry_run_shows_how_many_periods_the_warning_came_before_the_downgrade(
    reporting: Reporting,
) -> None:
    values = ["1.60", "1.58", "1.56", "1.50", "1.46", "1.42", "1.40", "1.34", "1.30", "1.25", "1.20"]
    periods = [f"{p}" for p in _periods(reporting, values)]
    draft = reporting.oem.post("/v1/rules", json=EARLY_WARNING_TEMPLATE).json()
    result = reporting.oem.post(f"/v1/rules/{draft['id']}/dry-run", json={})
    assert result.status_code == 200, result.text
    body = result.json()
    # no tier-lowering rule is active, so the standard rule (3 bad periods in a row) stands in: 1.30, 1.25, 1.20
    [lead] = body["leads"]
    assert lead == {
        "supplier_id": str(reporting.supplier.org.id),
        "first_warning_period": periods[6],
        "first_downgrade_period": periods[10],
        "lead_periods": 4,
    }
    assert all(c["from_tier"] == c["to_tier"] == "A" for c in body["changes"])
    assert body["changes"][0]["period"] == periods[6]


def _periods(reporting: Reporting, values: list[str]) -> list[str]:
    report_weeks(reporting, values)
    reports = reporting.oem.get("/v1/kpi-reports", params={"limit": 100}).json()["items"]
    return sorted({r["period"] for r in reports})


def test_a_series_call_of_the_wrong_type_is_a_422_naming_line_and_column(reporting: Reporting) -> None:
    body = {**EARLY_WARNING_TEMPLATE, "condition": "met &&\n  slope(6) + 1 > 0.0"}
    response = reporting.oem.post("/v1/rules", json=body)
    assert response.status_code == 422, response.text
    assert "line 2, column 14" in response.text and "body.condition" in response.text
