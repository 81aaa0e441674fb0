"""nats streams: an organization's opt-in to JetStream and the bridge's cursor

One row per organization that publishes its events to NATS JetStream under its own subject prefix; ``position``
is the last event position JetStream acknowledged, so the bridge resumes there after a crash.

Revision ID: 4e8a1c2b9d30
Revises: 7b3e9c1d4f20
Create Date: 2026-12-08 02:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision: str = "4e8a1c2b9d30"
down_revision: str | None = "7b3e9c1d4f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nats_streams",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("subject_prefix", sa.String(length=200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_nats_streams_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_nats_streams")),
        sa.UniqueConstraint("subject_prefix", name=op.f("uq_nats_streams_subject_prefix")),
    )


def downgrade() -> None:
    op.drop_table("nats_streams")
