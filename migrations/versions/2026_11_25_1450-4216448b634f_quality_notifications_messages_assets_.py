"""containment: quality notifications, their messages and assets, containment actions

Revision ID: 4216448b634f
Revises: 5e1d7c0a9b2f
Create Date: 2026-11-25 14:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models.base

revision: str = "4216448b634f"
down_revision: str | None = "5e1d7c0a9b2f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_notifications",
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("sender_id", sa.Uuid(), nullable=False),
        sa.Column("receiver_id", sa.Uuid(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("forwarded_from_id", sa.Uuid(), nullable=True),
        sa.Column("target_date", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("containment_kind", sa.String(length=16), nullable=True),
        sa.Column("containment_due_date", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("affected_count", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "severity IN ('MINOR', 'MAJOR', 'CRITICAL', 'LIFE-THREATENING')",
            name=op.f("ck_quality_notifications_severity"),
        ),
        sa.CheckConstraint(
            "status IN ('CREATED', 'SENT', 'RECEIVED', 'ACKNOWLEDGED', 'ACCEPTED', 'DECLINED', 'CLOSED', 'CANCELED')",
            name=op.f("ck_quality_notifications_status"),
        ),
        sa.CheckConstraint("type IN ('INVESTIGATION', 'ALERT')", name=op.f("ck_quality_notifications_type")),
        sa.ForeignKeyConstraint(
            ["forwarded_from_id"],
            ["quality_notifications.id"],
            name=op.f("fk_quality_notifications_forwarded_from_id_quality_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["quality_notifications.id"],
            name=op.f("fk_quality_notifications_parent_id_quality_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"],
            ["organizations.id"],
            name=op.f("fk_quality_notifications_receiver_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["organizations.id"], name=op.f("fk_quality_notifications_sender_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_notifications")),
    )
    with op.batch_alter_table("quality_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quality_notifications_forwarded_from_id", ["forwarded_from_id"], unique=False
        )
        batch_op.create_index("ix_quality_notifications_parent_id", ["parent_id"], unique=False)
        batch_op.create_index("ix_quality_notifications_receiver_id_id", ["receiver_id", "id"], unique=False)
        batch_op.create_index("ix_quality_notifications_sender_id_id", ["sender_id", "id"], unique=False)
        batch_op.create_index("ix_quality_notifications_target_date", ["target_date"], unique=False)

    op.create_table(
        "containment_actions",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("plant_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("due_date", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("result", sa.String(length=1000), nullable=True),
        sa.Column("acknowledged_at", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('hold', 'sort', 'rework', 'scrap', 'stop_shipment')",
            name=op.f("ck_containment_actions_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'closed')", name=op.f("ck_containment_actions_status")
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["quality_notifications.id"],
            name=op.f("fk_containment_actions_notification_id_quality_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_containment_actions_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"], ["plants.id"], name=op.f("fk_containment_actions_plant_id_plants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_containment_actions")),
        sa.UniqueConstraint(
            "notification_id", "plant_id", name=op.f("uq_containment_actions_notification_id_plant_id")
        ),
    )
    with op.batch_alter_table("containment_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_containment_actions_organization_id_id", ["organization_id", "id"], unique=False
        )

    op.create_table(
        "notification_messages",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author_org_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_org_id"],
            ["organizations.id"],
            name=op.f("fk_notification_messages_author_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["quality_notifications.id"],
            name=op.f("fk_notification_messages_notification_id_quality_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_messages")),
    )
    with op.batch_alter_table("notification_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_messages_notification_id_created_at",
            ["notification_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "notification_assets",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_notification_assets_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["quality_notifications.id"],
            name=op.f("fk_notification_assets_notification_id_quality_notifications"),
        ),
        sa.PrimaryKeyConstraint("notification_id", "asset_id", name=op.f("pk_notification_assets")),
    )
    with op.batch_alter_table("notification_assets", schema=None) as batch_op:
        batch_op.create_index("ix_notification_assets_asset_id", ["asset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification_assets", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_assets_asset_id")

    op.drop_table("notification_assets")
    with op.batch_alter_table("notification_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_messages_notification_id_created_at")

    op.drop_table("notification_messages")
    with op.batch_alter_table("containment_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_containment_actions_organization_id_id")

    op.drop_table("containment_actions")
    with op.batch_alter_table("quality_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_notifications_target_date")
        batch_op.drop_index("ix_quality_notifications_sender_id_id")
        batch_op.drop_index("ix_quality_notifications_receiver_id_id")
        batch_op.drop_index("ix_quality_notifications_parent_id")
        batch_op.drop_index("ix_quality_notifications_forwarded_from_id")

    op.drop_table("quality_notifications")
