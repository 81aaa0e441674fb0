"""containment: notifications remember when they were sent

A receiver sees a notification once it was sent, also after it is cancelled; a draft cancelled unsent stays the
sender's alone. The status alone cannot tell these two cancelled notifications apart.

Revision ID: e068f4e66867
Revises: 4216448b634f
Create Date: 2026-11-25 14:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models.base

revision: str = "e068f4e66867"
down_revision: str | None = "4216448b634f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quality_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", hub.models.base.UTCDateTime(timezone=True), nullable=True))
    # Rows from before: whatever left CREATED other than by cancelling was sent.
    op.execute(
        "UPDATE quality_notifications SET sent_at = updated_at WHERE status NOT IN ('CREATED', 'CANCELED')"
    )


def downgrade() -> None:
    with op.batch_alter_table("quality_notifications", schema=None) as batch_op:
        batch_op.drop_column("sent_at")
