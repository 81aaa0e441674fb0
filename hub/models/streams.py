"""An organization's opt-ins to have its event stream published to NATS JetStream or Kafka, and the bridges' cursors."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, utcnow


class NatsStream(CreatedMixin, Base):
    """Publish this organization's events to ``<subject_prefix>.<event type>``.

    ``position`` is the bridge's cursor: the position of the organization's last event JetStream acknowledged.
    It only moves forward, and only after the PubAck, so a crashed bridge resumes there (at least once)."""

    __tablename__ = "nats_streams"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    subject_prefix: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KafkaStream(CreatedMixin, Base):
    """Publish this organization's events to the Kafka topic ``topic``, keyed by series or case.

    ``position`` is the Kafka bridge's cursor, with the same contract as :class:`NatsStream`'s: the position of
    the organization's last event every partition leader acknowledged (acks=all), moved only after the acks."""

    __tablename__ = "kafka_streams"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(249), unique=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
