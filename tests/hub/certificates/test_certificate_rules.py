"""Rules read certificates: withdrawing a shared IATF 16949 certificate puts the supplier on probation once, an
expiring one tells SQE once in the sweep, an expired one is not valid in CEL, and templates stay as they were."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.certificates import facts as certificate_facts
from hub.certificates import service as certificates
from hub.models import Event, InboxNotification, Standing
from hub.rules import certificate_rules
from hub.rules.conditions import ConditionError, compile_condition, with_certificates
from protocol.models.rules import CERTIFICATE_EXPIRING_TEMPLATE, CERTIFICATE_WITHDRAWN_TEMPLATE
from tests.hub.asserts import audit_actions
from tests.hub.certificates.conftest import NOW, Certifier
from tests.hub.conftest import Actor


def activate(oem: Actor, template: dict[str, Any]) -> dict[str, Any]:
    response = oem.post("/v1/rules", json={**template, "status": "active"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def inbox(db: Session, oem: Actor, role: str) -> list[InboxNotification]:
    db.expire_all()
    query = select(InboxNotification).where(
        InboxNotification.organization_id == oem.org.id, InboxNotification.role == role
    )
    return list(db.scalars(query))


def shared(certifier: Certifier, supplier: Actor, oem: Actor, **changes: Any) -> str:
    issued = certifier.issue(supplier, **changes)
    url = f"/v1/certificates/{issued['certificate_id']}/share"
    assert supplier.post(url, json={"oem_id": str(oem.org.id)}).status_code == 200
    return str(issued["certificate_id"])


def test_withdrawing_a_certificate_sets_probation_and_notifies_purchasing_once(
    db: Session, certifier: Certifier, supplier: Actor, oem: Actor
) -> None:
    rule = activate(oem, CERTIFICATE_WITHDRAWN_TEMPLATE)
    certificate_id = shared(certifier, supplier, oem)
    assert inbox(db, oem, "purchasing") == []

    response = certifier.actor.post(f"/v1/certificates/{certificate_id}/withdraw", json={"reason": "fraud"})
    assert response.status_code == 200, response.text

    [notification] = inbox(db, oem, "purchasing")
    assert notification.body["rules"][0]["rule_id"] == rule["id"]
    assert notification.body["status"] == {"from": "approved", "to": "probation"}
    cause = notification.body["rules"][0]["causes"][0]["certificates"][0]
    assert (cause["standard"], cause["status"], cause["certificate_ids"]) == (
        "IATF 16949",
        "withdrawn",
        [certificate_id],
    )
    standing = oem.get(f"/v1/standings/{supplier.org.id}").json()
    assert standing["status"] == "probation"
    assert standing["history"][0]["reason"].startswith(CERTIFICATE_WITHDRAWN_TEMPLATE["name"])
    # The move is audited as the rules' own act, like a period's downgrade.
    moved = db.scalar(select(Standing.id).where(Standing.supplier_id == supplier.org.id))
    assert audit_actions(db, moved) == ["standing.changed"]

    # The sweep passes again and again: the condition still holds, the rule does not fire twice.
    for days in (0, 1, 2):
        assert certificate_rules.sweep(db, now=NOW + timedelta(days=days)) == 0
    db.commit()
    assert len(inbox(db, oem, "purchasing")) == 1


def test_a_withdrawal_an_oem_was_not_shared_does_not_reach_its_rules(
    db: Session, certifier: Certifier, supplier: Actor, oem: Actor
) -> None:
    activate(oem, CERTIFICATE_WITHDRAWN_TEMPLATE)
    issued = certifier.issue(supplier)
    certifier.actor.post(f"/v1/certificates/{issued['certificate_id']}/withdraw", json={})
    assert certificate_rules.sweep(db, now=NOW) == 0
    assert inbox(db, oem, "purchasing") == []
    assert db.scalar(select(Standing).where(Standing.oem_id == oem.org.id)) is None


def test_an_expiring_certificate_notifies_sqe_once_in_the_sweep(
    db: Session, certifier: Certifier, supplier: Actor, oem: Actor
) -> None:
    activate(oem, CERTIFICATE_EXPIRING_TEMPLATE)
    shared(certifier, supplier, oem, valid_until=NOW + timedelta(days=100))
    assert inbox(db, oem, "sqe") == []

    assert certificate_rules.sweep(db, now=NOW + timedelta(days=30)) == 0  # 70 days left
    assert certificate_rules.sweep(db, now=NOW + timedelta(days=41)) == 1  # 59 days left
    assert certificate_rules.sweep(db, now=NOW + timedelta(days=50)) == 0
    assert certificates.announce_expiring(db, within_days=60, now=NOW + timedelta(days=41)) == 1
    assert certificates.announce_expiring(db, within_days=60, now=NOW + timedelta(days=42)) == 0
    db.commit()
    [notification] = inbox(db, oem, "sqe")
    assert notification.body["rules"][0]["causes"][0]["certificates"][0]["days_to_expiry"] == 59
    assert notification.body["status"] == {"from": "approved", "to": "approved"}
    expiring = db.scalars(select(Event).where(Event.type == "certificate.expiring")).all()
    assert sorted(e.organization_id for e in expiring) == sorted(
        [certifier.actor.org.id, supplier.org.id, oem.org.id]
    )


def test_an_expired_certificate_is_not_valid_in_cel(
    db: Session, certifier: Certifier, supplier: Actor, oem: Actor
) -> None:
    shared(certifier, supplier, oem, valid_until=NOW + timedelta(days=10))
    rows = certificate_facts.shared_with(db, oem_id=oem.org.id, supplier_id=supplier.org.id)
    valid = compile_condition('certificate_valid("IATF 16949")')
    status = compile_condition('certificate_status("IATF 16949") == "expired"')
    days = compile_condition('days_to_expiry("IATF 16949") == 9')

    before, after = NOW + timedelta(days=1), NOW + timedelta(days=11)
    assert valid.execute(with_certificates(certificate_facts.facts(rows, before))) is True
    assert days.execute(with_certificates(certificate_facts.facts(rows, before))) is True
    assert valid.execute(with_certificates(certificate_facts.facts(rows, after))) is False
    assert status.execute(with_certificates(certificate_facts.facts(rows, after))) is True
    assert oem.get(f"/v1/certificates?supplier_id={supplier.org.id}").json()["items"][0]["status"] == "active"


def test_a_standard_with_no_certificate_reads_none() -> None:
    facts: dict[str, Any] = {}
    assert compile_condition('certificate_status("ISO 14001") == "none"').execute(with_certificates(facts))
    assert compile_condition('days_to_expiry("ISO 14001") == -1').execute(with_certificates(facts))


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ('certificate_valid("ISO 27001")', "unknown standard"),
        ("certificate_valid(part)", "string literal"),
        ('certificate_valid("ISO 9001") && slope(3) < 0.0', "not both"),
        ('days_to_expiry("ISO 9001")', "true or false"),
    ],
)
def test_a_certificate_condition_is_checked_on_save(condition: str, message: str, oem: Actor) -> None:
    with pytest.raises(ConditionError, match=message):
        compile_condition(condition)
    response = oem.post("/v1/rules", json={**CERTIFICATE_WITHDRAWN_TEMPLATE, "condition": condition})
    assert response.status_code == 422, response.text


def test_a_certificate_rule_dry_runs_over_no_periods(oem: Actor) -> None:
    rule = activate(oem, {**CERTIFICATE_WITHDRAWN_TEMPLATE, "status": "draft"})
    response = oem.post(f"/v1/rules/{rule['id']}/dry-run", json={})
    assert response.status_code == 200, response.text
    assert response.json()["evaluated"] == 0


def test_the_demo_still_picks_the_three_period_rule(oem: Actor) -> None:
    templates = oem.get("/v1/rules/templates").json()
    picked = [t for t in templates if t["pattern"].get("consecutive") == 3]
    assert [t["condition"] for t in picked] == ["missing || !met"]
    assert uuid.UUID(oem.get("/v1/rules/templates").headers.get("x-request-id", str(uuid.uuid4())))
