"""The transactional outbox (events), webhook subscriptions and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin, utcnow


class Event(Base):
    """One event for one recipient organization, written in the transaction of the change it describes.

    The payload is already the recipient's view (the same minimal-disclosure rules as the API), so reading
    events never needs to filter fields. ``position`` is given by the sequencer after commit, in order, so a
    reader resuming after position N never misses an event that committed late with a smaller ``seq``."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_recipient_position", "organization_id", "position"),
        Index(
            "ix_events_unpositioned",
            "seq",
            sqlite_where=text("position IS NULL"),
            postgresql_where=text("position IS NULL"),
        ),
        Index("ix_events_id", "id"),
        Index("ix_events_position", "position"),
    )

    # On PostgreSQL the table is partitioned by month of ``occurred_at`` (migration 9c4d2e7a1b65), which must then
    # be part of the primary key; SQLite keeps ``seq`` alone (its rowid). ``id`` and ``position`` are unique by
    # construction (a UUIDv7 each; one sequencer under a lock), not by a constraint a partitioned table can't hold.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID]
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int | None] = mapped_column(BigInteger)


class Webhook(IdMixin, CreatedMixin, Base):
    """A subscription: events of these types for this organization, POSTed to ``url`` and signed with ``secret``.

    During a rotation the previous secret also signs until ``previous_secret_expires_at`` (Standard Webhooks
    allows several signatures in one header), so receivers can switch without losing a delivery."""

    __tablename__ = "webhooks"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class WebhookDelivery(IdMixin, CreatedMixin, Base):
    """One event on its way to one webhook: pending until delivered, retried on a schedule, dead after the last try.

    On PostgreSQL partitioned by month of ``id`` (a UUIDv7: its first 48 bits are the creation time in ms).
    ``event_seq`` names the event without a foreign key (``events`` is partitioned by time, so a key to it would
    have to carry ``occurred_at``); deliveries are written only by the sequencer's fan-out, from events it has
    just numbered, and retention deletes an event's deliveries before the event."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at"),
        Index("ix_webhook_deliveries_event_seq", "event_seq"),
    )

    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id"))
    event_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]


class EventRetentionMark(Base):
    """The highest position of an organization's events that retention dropped: a reader resuming below it would
    miss events, so it is told so (410) instead."""

    __tablename__ = "event_retention_marks"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    dropped_through: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
