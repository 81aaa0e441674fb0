"""Quality notifications (Catena-X investigations and alerts), their history, the assets they name, and the
containment actions an alert opens at every affected plant.

A case over several receivers is a parent row with ``receiver_id`` NULL and one child per receiver
(``parent_id``); a forwarded investigation points at the one it forwards (``forwarded_from_id``). Holds placed by
an alert (``holds`` in genealogy.py) name the alert's root row: the case, or the alert itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin, utcnow

QUANTITY = Numeric(20, 4)


class QualityNotification(IdMixin, CreatedMixin, Base):
    """An INVESTIGATION (customer → supplier) or ALERT (supplier → customer) and its state."""

    __tablename__ = "quality_notifications"
    __table_args__ = (
        CheckConstraint("type IN ('INVESTIGATION', 'ALERT')", name="type"),
        CheckConstraint(
            "status IN ('CREATED', 'SENT', 'RECEIVED', 'ACKNOWLEDGED', 'ACCEPTED', 'DECLINED', 'CLOSED', "
            "'CANCELED')",
            name="status",
        ),
        CheckConstraint("severity IN ('MINOR', 'MAJOR', 'CRITICAL', 'LIFE-THREATENING')", name="severity"),
        Index("ix_quality_notifications_sender_id_id", "sender_id", "id"),
        Index("ix_quality_notifications_receiver_id_id", "receiver_id", "id"),
        Index("ix_quality_notifications_parent_id", "parent_id"),
        Index("ix_quality_notifications_forwarded_from_id", "forwarded_from_id"),
        Index("ix_quality_notifications_target_date", "target_date"),
    )

    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000))
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    receiver_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("quality_notifications.id"))
    forwarded_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("quality_notifications.id"))
    target_date: Mapped[datetime | None]
    # Set once, on sending: the receiver sees a notification from then on, whatever happens to it later.
    sent_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # An alert's containment request, and how many assets its forward trace found when it was sent.
    containment_kind: Mapped[str | None] = mapped_column(String(16))
    containment_due_date: Mapped[datetime | None]
    affected_count: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How many messages its history holds: the next message's position. Counted up in the database, so two
    # writers never take the same position and the history keeps the order things happened in.
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class NotificationAsset(Base):
    """An asset a notification names (Catena-X ``assetIds``)."""

    __tablename__ = "notification_assets"
    __table_args__ = (Index("ix_notification_assets_asset_id", "asset_id"),)

    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("quality_notifications.id"), primary_key=True
    )
    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assets.id"), primary_key=True)


class NotificationMessage(IdMixin, CreatedMixin, Base):
    """One entry of a notification's history: a state change (or forward, answer, escalation) with its reason."""

    __tablename__ = "notification_messages"
    __table_args__ = (UniqueConstraint("notification_id", "position"),)

    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quality_notifications.id"))
    # 1, 2, 3, … within the notification: the history's order. ``created_at`` is when the writer says it happened
    # (a job may run with a ``now`` behind the last message), so it never orders the history.
    position: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    author_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(1000))


class ContainmentAction(IdMixin, CreatedMixin, Base):
    """What one plant is asked to do about the affected stock it holds; its organization owns the action."""

    __tablename__ = "containment_actions"
    __table_args__ = (
        UniqueConstraint("notification_id", "plant_id"),
        CheckConstraint("kind IN ('hold', 'sort', 'rework', 'scrap', 'stop_shipment')", name="kind"),
        CheckConstraint("status IN ('open', 'acknowledged', 'closed')", name="status"),
        Index("ix_containment_actions_organization_id_id", "organization_id", "id"),
    )

    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quality_notifications.id"))
    plant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plants.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(32))
    positions: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[datetime | None]
    owner: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[str | None] = mapped_column(String(1000))
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
