"""holds name the alert that placed them by foreign key

The genealogy migration came before the notifications table, so the column was a plain UUID until now. Holds
are only placed by sending an alert, so every existing row names one; one that does not could never be
released (only closing or cancelling its alert does that) and is deleted.

Revision ID: dcc585a1e262
Revises: d898b6f31788
Create Date: 2026-11-25 16:35:28.114728
"""

from collections.abc import Sequence

from alembic import op

revision: str = "dcc585a1e262"
down_revision: str | None = "d898b6f31788"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM holds WHERE notification_id NOT IN (SELECT id FROM quality_notifications)")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_holds_notification_id_quality_notifications"),
            "quality_notifications",
            ["notification_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_holds_notification_id_quality_notifications"), type_="foreignkey"
        )
