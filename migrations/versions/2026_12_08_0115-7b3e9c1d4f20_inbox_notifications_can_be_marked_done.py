"""inbox notifications can be marked done (and reopened)

A person works through the inbox: what they have dealt with is marked done, by whom and when, and leaves the
open view; reopening clears both. Notifications already there stay open.

Revision ID: 7b3e9c1d4f20
Revises: c70491c3f948
Create Date: 2026-12-08 01:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision: str = "7b3e9c1d4f20"
down_revision: str | None = "c70491c3f948"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_notifications") as batch:
        batch.add_column(sa.Column("done_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("done_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_notifications") as batch:
        batch.drop_column("done_by")
        batch.drop_column("done_at")
