"""Quality notifications: create, read, move through the Catena-X states (states.py), forward to the next tier.

A notification to several receivers is a case: a parent row without a receiver and one child per receiver. The
sender sends, closes or cancels the case, which does the same to every child that can; each receiver answers its
own child. Sending an ALERT places holds and opens containment actions (hub.containment); closing or cancelling it
releases the holds. A forwarded investigation's answer (accept or decline, with the reason) is written back into
the investigation it forwards as a message, without naming the next-tier supplier.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.containment import service as containment
from hub.db import one_or_not_found
from hub.errors import Conflict, Forbidden, InvalidInput
from hub.models import NotificationAsset, NotificationMessage, QualityNotification
from hub.models.base import utcnow, uuid7
from hub.notifications import parties, views
from hub.notifications.states import FINAL, OPEN_FOR_RECEIVER, RECEIVER, SENDER, TRANSITIONS, Transition
from hub.pagination import decode_cursor, page_of
from protocol.models import notifications as wire
from protocol.models.notifications import NotificationStatus, NotificationType

SYSTEM_ACTOR = "system:hub"


def create(session: Session, *, caller: Caller, data: wire.QualityNotificationCreate) -> QualityNotification:
    """A new notification in CREATED (a case with one child per receiver when there are several receivers)."""
    return _create(session, caller=caller, data=data, forwarded_from_id=None)


def _create(
    session: Session,
    *,
    caller: Caller,
    data: wire.QualityNotificationCreate,
    forwarded_from_id: uuid.UUID | None,
) -> QualityNotification:
    if data.id is not None and session.get(QualityNotification, data.id) is not None:
        raise Conflict(f"a notification with id {data.id} already exists")
    groups = parties.receivers_and_assets(
        session,
        sender_id=caller.org_id,
        type=data.type,
        asset_ids=data.affected_asset_ids,
        receiver_ids=data.receiver_ids,
    )
    now = utcnow()
    fields: dict[str, Any] = {
        "type": data.type.value,
        "status": NotificationStatus.CREATED.value,
        "severity": data.severity.value,
        "title": data.title,
        "description": data.description,
        "sender_id": caller.org_id,
        "target_date": data.target_date,
        "created_by": caller.actor,
        "created_at": now,
        "updated_at": now,
    }
    if data.type is NotificationType.ALERT:
        request = data.containment or wire.ContainmentRequest()
        fields["containment_kind"] = request.kind.value
        fields["containment_due_date"] = request.due_date or data.target_date
    single = len(groups) == 1
    root = QualityNotification(
        id=data.id or uuid7(),
        receiver_id=next(iter(groups)) if single else None,
        forwarded_from_id=forwarded_from_id,
        **fields,
    )
    rows = [root]
    if not single:
        rows += [QualityNotification(id=uuid7(), receiver_id=r, parent_id=root.id, **fields) for r in groups]
    try:
        with session.begin_nested():
            session.add(root)
            session.flush()
            session.add_all(rows[1:])
            session.flush()
    except IntegrityError as exc:  # the same client-chosen id, created concurrently
        raise Conflict(f"a notification with id {root.id} already exists") from exc
    session.add_all(NotificationAsset(notification_id=root.id, asset_id=a) for a in data.affected_asset_ids)
    for child in rows[1:]:
        assert child.receiver_id is not None
        session.add_all(
            NotificationAsset(notification_id=child.id, asset_id=a) for a in groups[child.receiver_id]
        )
    for row in rows:
        message = _message(session, row, caller=caller, event="created", reason=None, now=now)
        session.flush()
        views.publish(session, row, event="created", message=message)
    audit.record_for(
        session,
        caller,
        action="quality_notification.created",
        subject_type="quality_notification",
        subject_id=root.id,
        data={
            "type": data.type.value,
            "severity": data.severity.value,
            "receivers": [str(r) for r in groups],
            "assets": len(data.affected_asset_ids),
            "children": [str(row.id) for row in rows[1:]],
            "forwarded_from_id": str(forwarded_from_id) if forwarded_from_id else None,
        },
    )
    return root


def _visible(caller: Caller) -> Any:
    # A receiver sees nothing of a draft, nor of one cancelled before it was sent: it never reached it.
    return select(QualityNotification).where(
        or_(
            QualityNotification.sender_id == caller.org_id,
            and_(QualityNotification.receiver_id == caller.org_id, QualityNotification.sent_at.is_not(None)),
        )
    )


def get(
    session: Session, *, caller: Caller, notification_id: uuid.UUID, for_update: bool = False
) -> QualityNotification:
    """A notification the caller sent or received; any other is, to the caller, not there."""
    query = _visible(caller).where(QualityNotification.id == notification_id)
    return one_or_not_found(session, query, missing="quality notification not found", for_update=for_update)


def list_notifications(
    session: Session,
    *,
    caller: Caller,
    type: NotificationType | None = None,
    status: NotificationStatus | None = None,
    role: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[QualityNotification], str | None]:
    """The caller's notifications in id order (ids are time-ordered), cursor-paginated."""
    query = _visible(caller)
    if role == SENDER:
        query = query.where(QualityNotification.sender_id == caller.org_id)
    elif role == RECEIVER:
        query = query.where(QualityNotification.receiver_id == caller.org_id)
    if type is not None:
        query = query.where(QualityNotification.type == type.value)
    if status is not None:
        query = query.where(QualityNotification.status == status.value)
    if cursor:
        query = query.where(QualityNotification.id > decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(QualityNotification.id).limit(limit + 1)))
    return page_of(rows, limit, last_id=lambda notification: notification.id)


def transition(
    session: Session, *, caller: Caller, notification_id: uuid.UUID, name: str, reason: str | None
) -> QualityNotification:
    """Move a notification (and, for a case, every child that can follow) by the transition ``name``."""
    step = TRANSITIONS[name]
    notification = get(session, caller=caller, notification_id=notification_id, for_update=True)
    if views.role_of(notification, caller.org_id) != step.party:
        raise Forbidden(f"only the notification's {step.party} may {name} it")
    if step.reason_required and not reason:
        raise InvalidInput(f"a reason is required to {name} a notification", loc="body.reason")
    _check_source(notification, step)
    now = utcnow()
    if notification.receiver_id is None:
        children = list(
            session.scalars(
                select(QualityNotification)
                .where(QualityNotification.parent_id == notification.id)
                .order_by(QualityNotification.id)
                .with_for_update()
            )
        )
        movable = [child for child in children if NotificationStatus(child.status) in step.sources]
        if name == "cancel" and any(child not in movable and child.status not in FINAL for child in children):
            raise Conflict(
                "a receiver has already acknowledged its part of this case: close the case instead"
            )
        for child in movable:
            _apply(session, child, step, caller=caller, reason=reason, now=now)
    _apply(session, notification, step, caller=caller, reason=reason, now=now)
    _after(session, notification, step, caller=caller, reason=reason, now=now)
    return notification


def _check_source(notification: QualityNotification, step: Transition) -> None:
    status = NotificationStatus(notification.status)
    if status not in step.sources:
        allowed = ", ".join(sorted(s.value for s in step.sources))
        raise Conflict(f"a {status.value} notification cannot be {step.event}; only from {allowed}")


def _apply(
    session: Session,
    notification: QualityNotification,
    step: Transition,
    *,
    caller: Caller,
    reason: str | None,
    now: datetime,
) -> None:
    notification.status = step.target.value
    notification.updated_at = now
    if step.target is NotificationStatus.SENT:
        notification.sent_at = now
    message = _message(session, notification, caller=caller, event=step.event, reason=reason, now=now)
    session.flush()
    audit.record_for(
        session,
        caller,
        action=f"quality_notification.{step.event}",
        subject_type="quality_notification",
        subject_id=notification.id,
        data={"status": step.target.value, "reason": reason},
    )
    views.publish(session, notification, event=step.event, message=message)


def _after(
    session: Session,
    notification: QualityNotification,
    step: Transition,
    *,
    caller: Caller,
    reason: str | None,
    now: datetime,
) -> None:
    """What a state change sets off beyond the notification: containment, and answers flowing back a tier."""
    if notification.type == NotificationType.ALERT.value and notification.parent_id is None:
        if step.name == "send":
            containment.place(session, caller=caller, alert=notification, now=now)
        elif step.name in ("close", "cancel"):
            containment.release(
                session, caller=caller, alert=notification, reason=f"alert {step.event}", now=now
            )
    if step.name in ("accept", "decline"):
        _answer_back(session, notification, step, caller=caller, reason=reason or "", now=now)


def _answer_back(
    session: Session,
    notification: QualityNotification,
    step: Transition,
    *,
    caller: Caller,
    reason: str,
    now: datetime,
) -> None:
    origin_id = notification.forwarded_from_id
    if origin_id is None and notification.parent_id is not None:
        parent = session.get(QualityNotification, notification.parent_id)
        origin_id = parent.forwarded_from_id if parent is not None else None
    origin = session.get(QualityNotification, origin_id) if origin_id is not None else None
    if origin is None:
        return
    text = f"The next tier {step.event} the forwarded investigation: {reason}"[: wire.MAX_TEXT_LENGTH]
    # Written in the name of the forwarder (the origin's receiver): the origin's sender must not learn who the
    # next-tier supplier is, only what it answered.
    message = _message(
        session,
        origin,
        caller=caller,
        event="answered",
        reason=text,
        now=now,
        author_org_id=notification.sender_id,
    )
    origin.updated_at = now
    session.flush()
    audit.record_for(
        session,
        caller,
        action="quality_notification.answered",
        subject_type="quality_notification",
        subject_id=origin.id,
        data={"answer": step.target.value, "from_notification_id": str(notification.id)},
    )
    views.publish(session, origin, event="answered", message=message)


def forward(
    session: Session, *, caller: Caller, notification_id: uuid.UUID, data: wire.NotificationForward
) -> QualityNotification:
    """The receiver of an investigation sends a new one to its own supplier(s) about their lots, at once."""
    original = get(session, caller=caller, notification_id=notification_id, for_update=True)
    if views.role_of(original, caller.org_id) != RECEIVER:
        raise Forbidden("only the notification's receiver may forward it")
    if original.type != NotificationType.INVESTIGATION.value:
        raise Conflict(
            "only an investigation is forwarded; an alert's containment already reaches every plant"
        )
    if NotificationStatus(original.status) not in OPEN_FOR_RECEIVER:
        raise Conflict(f"a {original.status} notification cannot be forwarded")
    request = wire.QualityNotificationCreate(
        type=NotificationType.INVESTIGATION,
        title=data.title or original.title,
        description=original.description if data.description is None else data.description,
        severity=data.severity or wire.Severity(original.severity),
        target_date=data.target_date or original.target_date,
        affected_asset_ids=data.affected_asset_ids,
        receiver_ids=data.receiver_ids,
    )
    forwarded = _create(session, caller=caller, data=request, forwarded_from_id=original.id)
    transition(session, caller=caller, notification_id=forwarded.id, name="send", reason=data.reason)
    now = utcnow()
    original.updated_at = now
    message = _message(
        session,
        original,
        caller=caller,
        event="forwarded",
        reason=data.reason or "forwarded to the next tier",
        now=now,
    )
    session.flush()
    audit.record_for(
        session,
        caller,
        action="quality_notification.forwarded",
        subject_type="quality_notification",
        subject_id=original.id,
        data={"forwarded_id": str(forwarded.id)},
    )
    views.publish(session, original, event="forwarded", message=message)
    return forwarded


def _message(
    session: Session,
    notification: QualityNotification,
    *,
    caller: Caller | None,
    event: str,
    reason: str | None,
    now: datetime,
    author_org_id: uuid.UUID | None = None,
) -> NotificationMessage:
    """Append a message to the notification's history, at the next position.

    ``author_org_id`` names another author than the caller's organization (an answer relayed in a forwarder's
    name)."""
    message = NotificationMessage(
        id=uuid7(),
        notification_id=notification.id,
        position=_next_position(session, notification),
        event=event,
        status=notification.status,
        author_org_id=author_org_id or (caller.org_id if caller else None),
        actor=caller.actor if caller else SYSTEM_ACTOR,
        reason=reason,
        created_at=now,
    )
    session.add(message)
    return message


def _next_position(session: Session, notification: QualityNotification) -> int:
    # One UPDATE … RETURNING: the database takes the row lock and counts, so concurrent writers (a transition
    # and the escalation job) get distinct positions in the order they commit to the row.
    position = session.execute(
        update(QualityNotification)
        .where(QualityNotification.id == notification.id)
        .values(message_count=QualityNotification.message_count + 1)
        .returning(QualityNotification.message_count),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    set_committed_value(notification, "message_count", position)
    return position


def record_system_message(
    session: Session, notification: QualityNotification, *, event: str, reason: str, now: datetime
) -> NotificationMessage:
    """A message the hub itself writes (an escalation), with no organization as author."""
    return _message(session, notification, caller=None, event=event, reason=reason, now=now)
