"""rooms name the quality notification they were opened from

A room opened before this revision may carry an id that names no notification (it was not checked then):
such an id is cleared, since the foreign key could not hold otherwise.

Revision ID: 3e16b6ee6c05
Revises: f14ef19e672c
Create Date: 2026-11-25 15:29:58.882477
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3e16b6ee6c05"
down_revision: str | None = "f14ef19e672c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE rooms SET notification_id = NULL WHERE notification_id IS NOT NULL"
        " AND notification_id NOT IN (SELECT id FROM quality_notifications)"
    )
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_rooms_notification_id_quality_notifications"),
            "quality_notifications",
            ["notification_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_rooms_notification_id_quality_notifications"), type_="foreignkey"
        )
