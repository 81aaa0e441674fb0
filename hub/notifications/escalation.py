"""Target dates that do something: a notification still unanswered when its target date passes is escalated.

Catena-X has only a passive ``targetDate``; its users ask for deadlines with consequences. Here a notification
that is SENT, RECEIVED or ACKNOWLEDGED after its target date has its severity raised one step (LIFE-THREATENING
stays, and is escalated all the same), a message from the hub says why, and both parties get a
``quality_notification.escalated`` event (their webhooks reach the people on call). It happens once per
notification. Notifications are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so the jobs of several
replicas share the work and never escalate one twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.audit import service as audit
from hub.models import QualityNotification
from hub.models.base import utcnow
from hub.notifications import service, views
from hub.notifications.states import OPEN_FOR_RECEIVER, raised
from protocol.models.notifications import Severity

BATCH = 200
ACTOR = "system:escalation"


def escalate(session: Session, *, now: datetime) -> int:
    """Escalate a batch of notifications past their target date; returns how many."""
    query = (
        select(QualityNotification)
        .where(
            QualityNotification.target_date < now,
            QualityNotification.escalated_at.is_(None),
            QualityNotification.receiver_id.is_not(None),
            QualityNotification.status.in_([status.value for status in OPEN_FOR_RECEIVER]),
        )
        .order_by(QualityNotification.target_date, QualityNotification.id)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    escalated = 0
    for notification in session.scalars(query):
        before = Severity(notification.severity)
        after = raised(before)
        notification.severity, notification.escalated_at, notification.updated_at = after.value, now, now
        assert notification.target_date is not None
        change = (
            f"severity raised {before.value} → {after.value}"
            if after != before
            else "severity already highest"
        )
        reason = (
            f"Target date {notification.target_date.isoformat()} passed without an answer "
            f"(status {notification.status}); {change}."
        )
        message = service.record_system_message(
            session, notification, event="escalated", reason=reason, now=now
        )
        session.flush()
        audit.record(
            session,
            actor=ACTOR,
            actor_org_id=None,
            action="quality_notification.escalated",
            subject_type="quality_notification",
            subject_id=notification.id,
            data={"from_severity": before.value, "to_severity": after.value},
        )
        views.publish(session, notification, event="escalated", message=message)
        escalated += 1
    return escalated


def escalate_once(session_factory: sessionmaker[Session]) -> int:
    """One round of the background job, in a transaction of its own."""
    with session_factory.begin() as session:
        return escalate(session, now=utcnow())
