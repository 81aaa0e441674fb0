"""Target dates that do something: the escalation job raises severity once and tells both parties."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.config import Settings, get_settings
from hub.db import make_engine
from hub.models import AuditEntry, Event, NotificationMessage, QualityNotification
from hub.models.base import utcnow
from hub.notifications.escalation import escalate
from hub.orgs import service as orgs
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from tests.conftest import make_settings
from tests.hub.notifications.chain import Chain
from tests.hub.notifications.conftest import investigation, moved, read, stored

# Target dates follow the clock (a day ahead, to the second, as a person would set one); never a fixed day,
# which the API's own messages (stamped by the real clock) would overtake.
DUE = (utcnow() + timedelta(days=1)).replace(microsecond=0)


def test_an_unanswered_notification_past_its_target_date_is_escalated_once(db: Session, chain: Chain) -> None:
    nid = investigation(chain, severity="MAJOR", target_date=DUE.isoformat())["id"]
    moved(chain.oem, nid, "send")
    moved(chain.ecu, nid, "acknowledge")

    assert escalate(db, now=DUE - timedelta(seconds=1)) == 0
    assert escalate(db, now=DUE + timedelta(minutes=1)) == 1

    row = stored(db, nid)
    assert (row.severity, row.escalated_at) == ("CRITICAL", DUE + timedelta(minutes=1))
    message = read(chain.ecu, nid)["messages"][-1]
    assert (message["event"], message["author_org_id"], message["status"]) == (
        "escalated",
        None,
        "ACKNOWLEDGED",
    )
    assert "MAJOR → CRITICAL" in message["reason"]
    told = db.scalars(
        select(Event).where(Event.type == "quality_notification.escalated", Event.subject_id == nid)
    ).all()
    assert {e.organization_id for e in told} == {chain.oem.org.id, chain.ecu.org.id}
    assert all(e.payload["severity"] == "CRITICAL" for e in told)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "quality_notification.escalated")).one()
    assert (entry.actor, entry.subject_id) == ("system:escalation", nid)

    assert escalate(db, now=DUE + timedelta(days=3)) == 0
    assert stored(db, nid).severity == "CRITICAL"


def test_only_open_notifications_escalate_and_the_highest_severity_stays(db: Session, chain: Chain) -> None:
    draft = investigation(chain, target_date=DUE.isoformat())["id"]
    answered = investigation(chain, target_date=DUE.isoformat())["id"]
    for name, reason in (("send", None), ("acknowledge", None), ("decline", "not ours")):
        moved(chain.ecu if name != "send" else chain.oem, answered, name, reason)
    no_date = investigation(chain)["id"]
    moved(chain.oem, no_date, "send")
    worst = investigation(chain, severity="LIFE-THREATENING", target_date=DUE.isoformat())["id"]
    moved(chain.oem, worst, "send")

    assert escalate(db, now=DUE + timedelta(hours=1)) == 1

    assert stored(db, draft).escalated_at is None
    assert stored(db, answered).escalated_at is None
    assert stored(db, no_date).escalated_at is None
    row = stored(db, worst)
    assert (row.severity, row.escalated_at is not None) == ("LIFE-THREATENING", True)
    assert "already highest" in read(chain.oem, worst)["messages"][-1]["reason"]


def test_a_job_running_behind_the_last_message_still_appends_its_message_last(
    db: Session, chain: Chain
) -> None:
    """The history is ordered by position, not by the time a writer passes: a job whose ``now`` lies before the
    acknowledgement (a replica's clock behind, a sweep run for a past instant) still adds its message after it."""
    past = utcnow() - timedelta(days=2)
    nid = investigation(chain, severity="MINOR", target_date=past.isoformat())["id"]
    moved(chain.oem, nid, "send")
    moved(chain.ecu, nid, "acknowledge")

    assert escalate(db, now=past + timedelta(minutes=1)) == 1

    history = read(chain.oem, nid)["messages"]
    assert [m["event"] for m in history] == ["created", "sent", "acknowledged", "escalated"]
    # the job's clock was behind, yet its message came last
    assert history[-1]["created_at"] < history[-2]["created_at"]
    positions = db.scalars(
        select(NotificationMessage.position)
        .where(NotificationMessage.notification_id == uuid.UUID(nid))
        .order_by(NotificationMessage.position)
    ).all()
    assert positions == [1, 2, 3, 4]
    assert stored(db, nid).message_count == 4


def test_the_job_is_on_by_default_and_off_in_tests(settings: Settings) -> None:
    assert Settings.model_fields["notifications_escalation_interval_seconds"].default == 60.0
    assert settings.notifications_escalation_interval_seconds == 0


def test_the_cli_sweep_escalates_what_is_overdue(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(make_settings(fresh_database))
    with Session(engine) as session, session.begin():
        sender, receiver = (
            orgs.create_organization(
                session, actor="test", data=OrganizationCreate(name=name, kind=OrgKind.OEM)
            )
            for name in ("Sender", "Receiver")
        )
        overdue = QualityNotification(
            type="INVESTIGATION",
            status="SENT",
            severity="MINOR",
            title="t",
            description="",
            sender_id=sender.id,
            receiver_id=receiver.id,
            target_date=datetime.now(UTC) - timedelta(days=1),
            created_by="test",
        )
        session.add(overdue)
        session.flush()
        overdue_id = overdue.id
    monkeypatch.setenv("HUB_DATABASE_URL", fresh_database)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["notifications", "sweep"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "escalated 1 notification(s)" in result.output
    with Session(engine) as session:
        row = session.get(QualityNotification, overdue_id)
        assert row is not None and row.severity == "MAJOR"
    engine.dispose()
