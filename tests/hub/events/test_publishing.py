"""Every change publishes its events in its own transaction, one per entitled organization, each its own view."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.agreements import service as agreements
from hub.kpis import service as kpis
from hub.models import Event, KpiReport, Standing
from protocol.models.agreements import AgreementCreate
from protocol.models.common import OrgKind
from protocol.models.kpi import KpiClaim
from tests.hub.conftest import Actor
from tests.hub.events.conftest import events_for
from tests.hub.kpis.conftest import Reporting, agreement_body, caller_of, make_reporting
from tests.hub.rules.test_standing import make_rule, report_weeks


def _submit(reporting: Reporting, **headers: str) -> dict[str, object]:
    response = reporting.supplier.http.post(
        "/v1/kpi-reports",
        json=reporting.body(),
        headers={**reporting.supplier.headers(), **headers},
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def test_an_accepted_report_publishes_one_event_to_each_party_with_its_api_view(
    reporting: Reporting, db: Session
) -> None:
    report = _submit(reporting)

    [to_supplier] = events_for(db, reporting.supplier.org.id, "kpi_report.accepted")
    [to_oem] = events_for(db, reporting.oem.org.id, "kpi_report.accepted")
    assert to_supplier.subject_id == to_oem.subject_id == report["id"]
    assert to_supplier.id != to_oem.id  # one id per recipient: each deduplicates its own
    # Each payload is exactly what that party reads from the API.
    for actor, event in ((reporting.supplier, to_supplier), (reporting.oem, to_oem)):
        assert event.payload == actor.get(f"/v1/kpi-reports/{report['id']}").json()
    assert to_oem.payload["value"] == "1.5"
    assert to_supplier.position is None  # numbered by the sequencer after commit, not here


def test_the_oem_view_of_a_threshold_report_never_carries_the_value(
    db: Session, oem: Actor, supplier: Actor
) -> None:
    reporting = make_reporting(db, oem, supplier, disclosure="threshold")
    claim = KpiClaim(meets=False, threshold="1.33", sample_size=125)
    response = supplier.post(
        "/v1/kpi-reports", json=reporting.body(reporting.envelope(reporting.payload(claim=claim)))
    )
    assert response.status_code == 201, response.text
    [event] = events_for(db, oem.org.id, "kpi_report.accepted")
    assert event.payload["value"] is None and event.payload["disclosure"] == "threshold"

    # A stored threshold report has no value today (a 'meets' claim waits for KPI-ZK proofs); should one ever
    # carry it, the OEM's view must still leave it out while the supplier's own view shows it.
    row = db.get(KpiReport, uuid.UUID(event.subject_id))
    assert row is not None
    row.value = Decimal("1.2500")
    assert kpis.view_for(row, org_id=oem.org.id, org_kind=OrgKind.OEM)["value"] is None
    assert kpis.view_for(row, org_id=supplier.org.id, org_kind=OrgKind.SUPPLIER)["value"] == "1.25"


def test_a_refused_or_replayed_report_publishes_nothing(reporting: Reporting, db: Session) -> None:
    bad = reporting.payload(claim=KpiClaim(meets=True, value="1.5", threshold="1.00", sample_size=5))
    refused = reporting.supplier.post("/v1/kpi-reports", json=reporting.body(reporting.envelope(bad)))
    assert refused.status_code == 422, refused.text
    assert events_for(db, reporting.supplier.org.id, "kpi_report.accepted") == []

    body = reporting.body()
    headers = {**reporting.supplier.headers(), "Idempotency-Key": "once-only"}
    first = reporting.supplier.http.post("/v1/kpi-reports", json=body, headers=headers)
    again = reporting.supplier.http.post("/v1/kpi-reports", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert len(events_for(db, reporting.supplier.org.id, "kpi_report.accepted")) == 1
    assert len(events_for(db, reporting.oem.org.id, "kpi_report.accepted")) == 1


def test_agreement_events_reach_both_parties_with_the_agreement(
    db: Session, oem: Actor, supplier: Actor, other_supplier: Actor
) -> None:
    reporting = make_reporting(db, oem, supplier)
    agreements.terminate(db, caller=caller_of(oem), agreement_id=reporting.agreement_id, reason="ended")
    declined = agreements.propose(
        db, caller=caller_of(oem), data=AgreementCreate.model_validate(agreement_body(supplier.org.id))
    )
    agreements.decide(db, caller=caller_of(supplier), agreement_id=declined.id, accept=False, reason="no")
    db.commit()

    seen = [(e.type, e.subject_id, e.payload["status"]) for e in events_for(db, supplier.org.id)]
    first, second = str(reporting.agreement_id), str(declined.id)
    standing = str(db.scalars(select(Standing.id).where(Standing.supplier_id == supplier.org.id)).one())
    assert seen == [
        ("agreement.proposed", first, "proposed"),
        ("agreement.accepted", first, "active"),
        ("standing.opened", standing, "approved"),  # acceptance opens the supplier's standing
        ("agreement.terminated", first, "terminated"),
        ("agreement.proposed", second, "proposed"),
        ("agreement.declined", second, "declined"),
    ]
    assert [(e.type, e.subject_id) for e in events_for(db, oem.org.id)] == [(t, s) for t, s, _ in seen]
    assert events_for(db, supplier.org.id)[3].payload == supplier.get(f"/v1/agreements/{first}").json()
    assert events_for(db, other_supplier.org.id) == []


def test_a_standing_change_reaches_both_parties_and_the_notification_only_the_oem(
    reporting: Reporting, db: Session
) -> None:
    rule = make_rule(db, reporting.oem)
    ids = report_weeks(reporting, ["1.2000", "1.2500", "1.1000"])

    for org in (reporting.oem.org, reporting.supplier.org):
        [changed] = events_for(db, org.id, "standing.changed")
        assert (changed.payload["tier"], changed.payload["supplier_id"]) == (
            "B",
            str(reporting.supplier.org.id),
        )
        assert "history" not in changed.payload
        change = changed.payload["change"]
        assert (change["from_tier"], change["to_tier"], change["rule_id"], change["rule_version"]) == (
            "A",
            "B",
            str(rule.id),
            1,
        )
        assert sorted(c["report_id"] for c in change["causes"]) == sorted(ids)

    [note] = events_for(db, reporting.oem.org.id, "notification.created")
    assert note.payload == reporting.oem.get("/v1/inbox").json()["items"][0]
    assert events_for(db, reporting.supplier.org.id, "notification.created") == []


def test_nothing_is_published_outside_the_changes_transaction(reporting: Reporting, db: Session) -> None:
    before = db.scalar(select(func.count()).select_from(Event))
    refused = reporting.oem.post("/v1/kpi-reports", json=reporting.body())
    assert refused.status_code == 403
    assert db.scalar(select(func.count()).select_from(Event)) == before
