"""A notification as each of its parties sees it, and the events that tell them it changed.

The sender sees everything it wrote, a case's children and what it forwarded from; a receiver sees its own
notification without the case around it or the investigation it was forwarded from. An alert's containment shows
as counts to both (never which third-party plants hold stock)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.containment import service as containment
from hub.events import service as events
from hub.models import NotificationAsset, NotificationMessage, QualityNotification
from protocol.models import notifications as wire
from protocol.models.notifications import NotificationStatus, NotificationType


def role_of(notification: QualityNotification, org_id: uuid.UUID) -> str:
    return "sender" if notification.sender_id == org_id else "receiver"


def root_id(notification: QualityNotification) -> uuid.UUID:
    """The row an alert's holds and actions hang on: the case, or the alert itself."""
    return notification.parent_id or notification.id


def assets_of(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    query = (
        select(NotificationAsset.notification_id, NotificationAsset.asset_id)
        .where(NotificationAsset.notification_id.in_(ids))
        .order_by(NotificationAsset.notification_id, NotificationAsset.asset_id)
    )
    for notification_id, asset_id in session.execute(query):
        found[notification_id].append(asset_id)
    return found


def as_wire_many(
    session: Session, rows: Sequence[QualityNotification], *, viewer: uuid.UUID
) -> list[wire.QualityNotification]:
    """Summaries (no messages, children or containment) of many notifications in two queries."""
    assets = assets_of(session, [row.id for row in rows])
    return [_summary(row, viewer=viewer, asset_ids=assets.get(row.id, [])) for row in rows]


def as_wire(
    session: Session, notification: QualityNotification, *, viewer: uuid.UUID
) -> wire.QualityNotification:
    """One notification in full: history, a case's children, an alert's containment progress."""
    view = _summary(
        notification, viewer=viewer, asset_ids=assets_of(session, [notification.id]).get(notification.id, [])
    )
    messages = session.scalars(
        select(NotificationMessage)
        .where(NotificationMessage.notification_id == notification.id)
        .order_by(NotificationMessage.position)
    )
    view.messages = [message_as_wire(message) for message in messages]
    if notification.receiver_id is None and view.role == "sender":
        children = session.scalars(
            select(QualityNotification)
            .where(QualityNotification.parent_id == notification.id)
            .order_by(QualityNotification.id)
        )
        view.children = [
            wire.CaseChild(
                id=child.id, receiver_id=child.receiver_id, status=child.status, severity=child.severity
            )
            for child in children
            if child.receiver_id is not None
        ]
    if (
        notification.type == NotificationType.ALERT.value
        and notification.status != NotificationStatus.CREATED
    ):
        root = session.get(QualityNotification, root_id(notification))
        if root is not None:
            view.containment = containment.progress(session, alert=root)
    return view


def message_as_wire(message: NotificationMessage) -> wire.NotificationMessage:
    return wire.NotificationMessage(
        id=message.id,
        event=message.event,
        status=NotificationStatus(message.status),
        author_org_id=message.author_org_id,
        reason=message.reason,
        created_at=message.created_at,
    )


def _summary(
    notification: QualityNotification, *, viewer: uuid.UUID, asset_ids: list[uuid.UUID]
) -> wire.QualityNotification:
    role = role_of(notification, viewer)
    sender = role == "sender"
    return wire.QualityNotification(
        id=notification.id,
        type=NotificationType(notification.type),
        status=NotificationStatus(notification.status),
        severity=wire.Severity(notification.severity),
        title=notification.title,
        description=notification.description,
        role=role,
        sender_id=notification.sender_id,
        receiver_id=notification.receiver_id,
        parent_id=notification.parent_id if sender else None,
        forwarded_from_id=notification.forwarded_from_id if sender else None,
        target_date=notification.target_date,
        sent_at=notification.sent_at,
        escalated_at=notification.escalated_at,
        created_at=notification.created_at,
        updated_at=notification.updated_at,
        affected_asset_ids=asset_ids,
    )


def publish(
    session: Session,
    notification: QualityNotification,
    *,
    event: str,
    message: NotificationMessage | None = None,
) -> None:
    """Tell both parties (the receiver only once it was sent) what changed, each in its own view."""
    asset_ids = assets_of(session, [notification.id]).get(notification.id, [])
    parties = [notification.sender_id]
    if notification.receiver_id is not None and notification.sent_at is not None:
        parties.append(notification.receiver_id)
    views = {}
    for org_id in parties:
        payload = _summary(notification, viewer=org_id, asset_ids=asset_ids).model_dump(mode="json")
        if message is not None:
            payload["message"] = message_as_wire(message).model_dump(mode="json")
        views[org_id] = payload
    events.publish(session, type=f"quality_notification.{event}", subject_id=notification.id, views=views)
