"""Mail for what people must not miss: a real downgrade reaches the purchasing person who wants it and not the
one who turned it off; a mail server that is down keeps the mail queued, and it arrives once when it is back."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.events import service as events
from hub.mail import choices
from hub.mail.sender import retry_delay, send_due
from hub.models import AuditEntry, MailOptOut, OutboxMail
from hub.models.base import utcnow
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org
from tests.hub.console.conftest import person_in, signed_in_client
from tests.hub.kpis.conftest import Reporting
from tests.hub.mail.smtp import body_of, factory_on, free_port, smtp_at, smtp_server
from tests.hub.rules.test_standing import make_rule, report_weeks


def _downgrade(reporting: Reporting, db: Session) -> None:
    make_rule(db, reporting.oem)
    report_weeks(reporting, ["1.2000", "1.2500", "1.1000"])  # three weeks below 1.33: tier A to B


def test_a_downgrade_reaches_the_purchasing_person_who_wants_it_and_not_one_who_opted_out(
    reporting: Reporting, db: Session
) -> None:
    wants = person_in(db, reporting.oem.org, role="purchasing", email="buyer@oem.example")
    declines = person_in(db, reporting.oem.org, role="purchasing", email="quiet@oem.example")
    plant = person_in(db, reporting.oem.org, role="plant", email="plant@oem.example")
    german = person_in(db, reporting.oem.org, role="sqe", email="sqe@oem.example")
    german.locale = "de"
    choices.choose(db, person=declines, kinds=["alert", "escalation"])
    db.commit()

    _downgrade(reporting, db)
    queued = db.scalars(select(OutboxMail).where(OutboxMail.kind == "downgrade")).all()
    assert sorted(mail.to_address for mail in queued) == ["buyer@oem.example", "sqe@oem.example"]

    port = free_port()
    with smtp_server(port) as inbox:
        assert send_due(factory_on(db), smtp_at(port)) == 2
    [mail] = inbox.to(wants.email)
    assert "tier B" in mail["Subject"] and "from tier A" in body_of(mail)
    assert inbox.to(declines.email) == [] and inbox.to(plant.email) == []
    [in_german] = inbox.to(german.email)
    assert "Stufe B" in in_german["Subject"]


def test_a_mail_server_that_is_down_loses_nothing_and_sends_each_mail_once(
    reporting: Reporting, db: Session
) -> None:
    person_in(db, reporting.oem.org, role="purchasing", email="buyer@oem.example")
    _downgrade(reporting, db)
    factory, port, now = factory_on(db), free_port(), utcnow()

    assert send_due(factory, smtp_at(port), now=now) == 0  # nobody listens on the port
    [mail] = db.scalars(select(OutboxMail).where(OutboxMail.to_address == "buyer@oem.example")).all()
    db.refresh(mail)
    assert mail.sent_at is None and mail.attempts == 1 and "ConnectionRefused" in (mail.last_error or "")
    assert mail.next_attempt_at == now + retry_delay(1)

    with smtp_server(port) as inbox:
        assert send_due(factory, smtp_at(port), now=now + timedelta(seconds=1)) == 0  # still backing off
        later = now + retry_delay(1)
        assert send_due(factory, smtp_at(port), now=later) == 1
        assert send_due(factory, smtp_at(port), now=later + timedelta(days=1)) == 0  # sent once
    assert len(inbox.to("buyer@oem.example")) == 1
    db.refresh(mail)
    assert mail.sent_at == later and mail.attempts == 2 and mail.last_error is None
    assert inbox.messages[0]["Message-ID"] == f"<{mail.id}@hub.example>"


def test_the_back_off_doubles_up_to_an_hour() -> None:
    delays = [retry_delay(n).total_seconds() for n in (1, 2, 3, 10, 20)]
    assert delays == [30, 60, 120, 3600, 3600]


def test_a_person_chooses_their_mail_on_the_notifications_page(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    person, csrf = signed_in_client(client, db, org, role="purchasing")
    page = client.get("/console/notifications")
    assert page.status_code == 200 and page.text.count("checked") == 3
    saved = client.post(
        "/console/notifications", data={"csrf_token": csrf, "kinds": ["alert"]}, follow_redirects=False
    )
    assert saved.status_code == 303
    off = set(db.scalars(select(MailOptOut.kind).where(MailOptOut.person_id == person.id)))
    assert off == {"downgrade", "escalation"}
    assert client.get("/console/notifications").text.count("checked") == 1
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "person.mail_choices_changed")).one()
    assert entry.actor == f"person:{person.id}"

    bad = client.post("/console/notifications", data={"csrf_token": csrf, "kinds": ["spam"]})
    assert bad.status_code == 422 and "unknown kind" in bad.text
    stale = client.post(
        "/console/notifications", data={"csrf_token": "stale", "kinds": []}, follow_redirects=False
    )
    assert stale.status_code == 303 and "reason=stale" in stale.headers["location"]
    client.cookies.clear()
    signed_out = client.get("/console/notifications", follow_redirects=False)
    assert signed_out.status_code == 303
    assert set(db.scalars(select(MailOptOut.kind).where(MailOptOut.person_id == person.id))) == off


def test_alerts_go_to_plant_people_and_escalations_to_sqes_and_admins(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    plant = person_in(db, org, role="plant", email="plant@oem.example")
    sqe = person_in(db, org, role="sqe", email="sqe@oem.example")
    admin = person_in(db, org, role="admin", email="admin@oem.example")
    person_in(db, org, role="viewer", email="viewer@oem.example")
    disabled = person_in(db, org, role="plant", email="gone@oem.example")
    disabled.disabled_at = utcnow()
    db.commit()

    def mailed(kind: str) -> list[str]:
        rows = db.scalars(select(OutboxMail).where(OutboxMail.kind == kind))
        return sorted(mail.to_address for mail in rows)

    alert = {"plant_code": "P-01", "alert_title": "Cracked housings", "kind": "hold", "quantity": "40"}
    events.publish(db, type="containment_action.opened", subject_id=uuid.uuid4(), views={org.id: alert})
    escalated = {"title": "Answer overdue", "severity": "major", "target_date": "2026-01-01"}
    events.publish(
        db, type="quality_notification.escalated", subject_id=uuid.uuid4(), views={org.id: escalated}
    )
    events.publish(db, type="agreement.proposed", subject_id=uuid.uuid4(), views={org.id: {}})
    db.flush()
    assert mailed("alert") == [plant.email]
    assert mailed("escalation") == [admin.email, sqe.email]
    [alert_mail] = db.scalars(select(OutboxMail).where(OutboxMail.kind == "alert"))
    assert "P-01" in alert_mail.subject and "Cracked housings" in alert_mail.subject
    assert len(db.scalars(select(OutboxMail)).all()) == 3  # an agreement event mails no one
