"""Rules acting on real reports: downgrade, reasons, inbox, recovery, versions, isolation and the sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Investigation, PeriodOutcome, StandingChange, SupplyAgreement
from hub.rules import service as rules
from hub.rules.sweep import sweep
from protocol.models.common import PeriodKind
from protocol.models.kpi import KpiClaim
from protocol.models.rules import STANDARD_RULE_TEMPLATE, RuleCreate
from protocol.periods import Period, due_at, parse_period, period_containing
from tests.hub.conftest import Actor, make_actor
from tests.hub.kpis.conftest import LAST_WEEK, Reporting, caller_of


def make_rule(db: Session, oem: Actor, **changes: Any) -> Any:
    rule = rules.create_rule(
        db, caller=caller_of(oem), data=RuleCreate.model_validate({**STANDARD_RULE_TEMPLATE, **changes})
    )
    db.commit()
    return rule


def report_weeks(reporting: Reporting, values: list[str], *, first: Period | None = None) -> list[str]:
    """One CPK report per week, oldest first, ending last week unless ``first`` is given."""
    period = first or parse_period(LAST_WEEK)
    if first is None:
        for _ in range(len(values) - 1):
            period = period.previous()
    ids = []
    for value in values:
        claim = KpiClaim(meets=float(value) >= 1.33, value=value, threshold="1.33", sample_size=125)
        payload = reporting.payload(period=str(period), claim=claim)
        response = reporting.supplier.post(
            "/v1/kpi-reports", json=reporting.body(reporting.envelope(payload))
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        period = period.next()
    return ids


def standing_of(reporting: Reporting) -> dict[str, Any]:
    response = reporting.oem.get(f"/v1/standings/{reporting.supplier.org.id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_three_bad_weeks_lower_the_tier_and_tell_purchasing_why(reporting: Reporting, db: Session) -> None:
    rule = make_rule(db, reporting.oem)
    ids = report_weeks(reporting, ["1.2000", "1.2500", "1.1000"])

    standing = standing_of(reporting)
    assert (standing["tier"], standing["status"]) == ("B", "approved")
    [change] = standing["history"]
    assert (change["from_tier"], change["to_tier"], change["rule_id"], change["rule_version"]) == (
        "A",
        "B",
        str(rule.id),
        1,
    )
    assert sorted(c["report_id"] for c in change["causes"]) == sorted(ids)

    [note] = reporting.oem.get("/v1/inbox", params={"role": "purchasing"}).json()["items"]
    assert note["kind"] == "rule.fired" and note["body"]["tier"] == {"from": "A", "to": "B"}
    assert sorted(c["report_id"] for c in note["body"]["rules"][0]["causes"]) == sorted(ids)
    assert reporting.oem.get("/v1/inbox", params={"role": "sqe"}).json()["items"] == []

    # The supplier sees its own standing at this OEM, with the same reasons.
    seen = reporting.supplier.get("/v1/standings").json()["items"]
    assert [(s["oem_id"], s["tier"]) for s in seen] == [(str(reporting.oem.org.id), "B")]
    mine = reporting.supplier.get(f"/v1/standings/{reporting.supplier.org.id}").json()
    assert mine["history"][0]["reason"].startswith(STANDARD_RULE_TEMPLATE["name"])


def test_two_bad_weeks_change_nothing_and_a_good_week_resets_the_count(
    reporting: Reporting, db: Session
) -> None:
    make_rule(db, reporting.oem)
    report_weeks(reporting, ["1.2000", "1.2000", "1.5000", "1.2000", "1.2000"])
    assert standing_of(reporting)["tier"] == "A"


def test_four_good_weeks_restore_the_tier(reporting: Reporting, db: Session) -> None:
    make_rule(db, reporting.oem)
    start = parse_period(LAST_WEEK)
    for _ in range(6):
        start = start.previous()
    report_weeks(reporting, ["1.2", "1.2", "1.2", "1.5", "1.5", "1.5", "1.5"], first=start)
    standing = standing_of(reporting)
    assert standing["tier"] == "A"
    assert [(c["from_tier"], c["to_tier"]) for c in standing["history"]] == [("B", "A"), ("A", "B")]
    assert standing["history"][0]["reason"].startswith("recovery under")


def test_a_report_is_judged_under_the_rule_version_in_force_when_it_arrives(
    reporting: Reporting, db: Session
) -> None:
    rule = make_rule(db, reporting.oem, pattern={"consecutive": 2})
    start = parse_period(LAST_WEEK).previous().previous()
    report_weeks(reporting, ["1.2"], first=start)
    # The OEM switches the rule off; the next bad week must not fire it, although v1 would have.
    data = RuleCreate.model_validate(
        {**STANDARD_RULE_TEMPLATE, "pattern": {"consecutive": 2}, "status": "disabled"}
    )
    rules.update_rule(db, caller=caller_of(reporting.oem), rule_id=rule.id, data=data)
    db.commit()
    report_weeks(reporting, ["1.2"], first=start.next())
    assert db.scalar(select(func.count()).select_from(StandingChange)) == 0
    # Switched on again as version 3: the third bad week fires it, and the change names version 3.
    data = RuleCreate.model_validate({**STANDARD_RULE_TEMPLATE, "pattern": {"consecutive": 2}})
    rules.update_rule(db, caller=caller_of(reporting.oem), rule_id=rule.id, data=data)
    db.commit()
    report_weeks(reporting, ["1.2"], first=start.next().next())
    [change] = standing_of(reporting)["history"]
    assert change["rule_version"] == 3


def test_one_oems_rules_never_touch_another_oems_standings(reporting: Reporting, db: Session) -> None:
    from protocol.models.common import OrgKind

    other_oem = make_actor(db, reporting.oem.http, OrgKind.OEM)
    make_rule(db, other_oem, pattern={"consecutive": 1})
    report_weeks(reporting, ["1.2", "1.2"])
    # This OEM has no rule, so its supplier's standing is where acceptance put it, unmoved.
    [unmoved] = reporting.oem.get("/v1/standings").json()["items"]
    assert (unmoved["tier"], unmoved["status"], unmoved["history"]) == ("A", "approved", [])
    assert other_oem.get("/v1/standings").json()["items"] == []
    assert other_oem.get(f"/v1/standings/{reporting.supplier.org.id}").status_code == 404


def test_an_investigation_is_opened_when_a_rule_asks(reporting: Reporting, db: Session) -> None:
    make_rule(
        db,
        reporting.oem,
        actions=[{"type": "open_investigation"}, {"type": "set_status", "status": "probation"}],
    )
    report_weeks(reporting, ["1.2", "1.2", "1.2"])
    standing = standing_of(reporting)
    assert (standing["tier"], standing["status"]) == ("A", "probation")
    [investigation] = db.scalars(select(Investigation)).all()
    assert investigation.supplier_id == reporting.supplier.org.id and len(investigation.causes) == 3


def test_the_sweep_marks_unreported_periods_missing_and_the_rules_act(
    reporting: Reporting, db: Session
) -> None:
    make_rule(db, reporting.oem)
    agreement = db.get(SupplyAgreement, reporting.agreement_id)
    assert agreement is not None
    now = datetime.now(UTC)
    agreement.decided_at = now - timedelta(weeks=6)
    db.commit()

    marked = sweep(db, now=now)
    db.commit()
    owed = [period_containing(agreement.decided_at, PeriodKind.WEEK)]
    while due_at(owed[-1].next(), agreement.report_due_days) <= now:
        owed.append(owed[-1].next())
    missing = db.scalars(
        select(PeriodOutcome.period).where(PeriodOutcome.missing.is_(True), PeriodOutcome.kpi == "cpk")
    ).all()
    assert sorted(missing) == [str(p) for p in owed]
    assert marked == 2 * len(owed)  # the cpk series and the mtbf series
    standing = standing_of(reporting)
    assert standing["tier"] == "ABCD"[len(owed) // 3]
    assert all(cause.get("missing") for cause in standing["history"][0]["causes"])
    assert sweep(db, now=now) == 0  # nothing is marked twice


@pytest.mark.parametrize("who", ["supplier", "oem"])
def test_standings_need_the_scope(reporting: Reporting, who: str) -> None:
    actor = getattr(reporting, who)
    response = actor.get("/v1/standings", scope="agreements:read")
    assert response.status_code == 403 and response.json()["error"] == "InsufficientScope"
    assert actor.get("/v1/inbox", scope="agreements:read").status_code == 403


def test_another_supplier_cannot_read_this_suppliers_standing(
    reporting: Reporting, db: Session, other_supplier: Actor
) -> None:
    make_rule(db, reporting.oem, pattern={"consecutive": 1})
    report_weeks(reporting, ["1.2"])
    response = other_supplier.get(f"/v1/standings/{reporting.supplier.org.id}")
    assert response.status_code == 404 and response.json()["error"] == "NotFound"
    assert other_supplier.get("/v1/standings").json()["items"] == []
    assert reporting.oem.get("/v1/standings/not-a-uuid").status_code == 422


def test_a_dry_run_replays_history_under_a_draft_and_writes_nothing(
    reporting: Reporting, db: Session
) -> None:
    ids = report_weeks(reporting, ["1.2", "1.2", "1.2", "1.5", "1.5", "1.5", "1.5"])
    draft = reporting.oem.post("/v1/rules", json={**STANDARD_RULE_TEMPLATE, "status": "draft"}).json()
    result = reporting.oem.post(f"/v1/rules/{draft['id']}/dry-run", json={})
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["evaluated"] == 7
    assert [(c["from_tier"], c["to_tier"], c["actions"]) for c in body["changes"]] == [
        ("A", "B", ["lower_tier", "notify"]),
        ("B", "A", ["recovery"]),
    ]
    assert sorted(c["report_id"] for c in body["changes"][0]["causes"]) == sorted(ids[:3])
    assert db.scalar(select(func.count()).select_from(StandingChange)) == 0
    assert reporting.oem.get("/v1/inbox").json()["items"] == []


def test_a_dry_run_since_a_time_replays_only_what_came_after(reporting: Reporting) -> None:
    report_weeks(reporting, ["1.2", "1.2", "1.2"])
    draft = reporting.oem.post("/v1/rules", json={**STANDARD_RULE_TEMPLATE, "status": "draft"}).json()
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    body = reporting.oem.post(f"/v1/rules/{draft['id']}/dry-run", json={"since": later}).json()
    assert body == {"evaluated": 0, "changes": [], "leads": []}


def test_dry_run_refusals(reporting: Reporting, db: Session) -> None:
    from protocol.models.common import OrgKind

    draft = reporting.oem.post("/v1/rules", json={**STANDARD_RULE_TEMPLATE, "status": "draft"}).json()
    url = f"/v1/rules/{draft['id']}/dry-run"
    other_oem = make_actor(db, reporting.oem.http, OrgKind.OEM)
    assert other_oem.post(url, json={}).status_code == 404
    denied = reporting.oem.post(url, json={}, scope="rules:read")
    assert denied.status_code == 403 and denied.json()["error"] == "InsufficientScope"
    assert reporting.supplier.post(url, json={}).status_code == 403
    malformed = reporting.oem.post(url, json={"since": "yesterday"})
    assert malformed.status_code == 422 and malformed.json()["fields"][0]["loc"].endswith("since")
    assert reporting.oem.post(url, json={"until": "x"}).status_code == 422


def test_a_supplier_that_only_meets_its_thresholds_is_tier_a_from_acceptance_on(
    reporting: Reporting, db: Session
) -> None:
    make_rule(db, reporting.oem)
    assert standing_of(reporting) | {"updated_at": None} == {
        "oem_id": str(reporting.oem.org.id),
        "supplier_id": str(reporting.supplier.org.id),
        "tier": "A",
        "status": "approved",
        "updated_at": None,
        "history": [],
    }
    start = parse_period(LAST_WEEK).previous().previous().previous().previous()
    report_weeks(reporting, ["1.5", "1.6"], first=start)
    [listed] = reporting.oem.get("/v1/standings").json()["items"]
    assert (listed["supplier_id"], listed["tier"], listed["status"]) == (
        str(reporting.supplier.org.id),
        "A",
        "approved",
    )
    [own] = reporting.supplier.get("/v1/standings").json()["items"]
    assert own["oem_id"] == str(reporting.oem.org.id) and own["history"] == []
    # The rules still move the standing acceptance opened: three bad weeks lower it, with the causes.
    report_weeks(reporting, ["1.2", "1.2", "1.2"], first=start.next().next())
    moved = standing_of(reporting)
    assert moved["tier"] == "B" and [c["from_tier"] for c in moved["history"]] == ["A"]
