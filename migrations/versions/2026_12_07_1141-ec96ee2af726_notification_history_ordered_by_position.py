"""notification history ordered by position

A message's ``created_at`` is the time its writer passed (the escalation job may run with a ``now`` behind the
last message), so ordering the history by it could put an escalation before the acknowledgement it followed.
Each message now takes the next position within its notification, counted by the notification row. Existing
histories keep the order they were shown in (``created_at``, then id).

Revision ID: ec96ee2af726
Revises: dcc585a1e262
Create Date: 2026-12-07 11:41:29.772433
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ec96ee2af726"
down_revision: str | None = "dcc585a1e262"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE notification_messages SET position = (SELECT count(*) FROM notification_messages AS earlier "
        "WHERE earlier.notification_id = notification_messages.notification_id "
        "AND (earlier.created_at < notification_messages.created_at "
        "OR (earlier.created_at = notification_messages.created_at AND earlier.id <= notification_messages.id)))"
    )
    with op.batch_alter_table("notification_messages", schema=None) as batch_op:
        batch_op.alter_column("position", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_notification_messages_notification_id_created_at"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_notification_messages_notification_id_position"), ["notification_id", "position"]
        )

    with op.batch_alter_table("quality_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_count", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE quality_notifications SET message_count = (SELECT count(*) FROM notification_messages "
        "WHERE notification_messages.notification_id = quality_notifications.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("quality_notifications", schema=None) as batch_op:
        batch_op.drop_column("message_count")

    with op.batch_alter_table("notification_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_notification_messages_notification_id_position"), type_="unique"
        )
        batch_op.create_index(
            batch_op.f("ix_notification_messages_notification_id_created_at"),
            ["notification_id", "created_at"],
            unique=False,
        )
        batch_op.drop_column("position")
