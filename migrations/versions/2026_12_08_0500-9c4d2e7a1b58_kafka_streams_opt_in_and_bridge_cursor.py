"""kafka streams: an organization's opt-in to a Kafka topic and the Kafka bridge's cursor

A table of its own beside ``nats_streams`` rather than a generalised one: a Kafka topic is one flat name (unique
across organizations, also after Kafka's ``.``/``_`` folding) where a NATS prefix is a subject hierarchy whose
overlap rules differ, and an organization may publish to both platforms at once, each with its own cursor.

Revision ID: 9c4d2e7a1b58
Revises: 9c4d2e7a1b65
Create Date: 2026-12-08 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision: str = "9c4d2e7a1b58"
down_revision: str | None = "9c4d2e7a1b65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kafka_streams",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=249), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_kafka_streams_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_kafka_streams")),
        sa.UniqueConstraint("topic", name=op.f("uq_kafka_streams_topic")),
    )


def downgrade() -> None:
    op.drop_table("kafka_streams")
