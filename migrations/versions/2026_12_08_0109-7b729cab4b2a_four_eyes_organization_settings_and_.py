"""Four-eyes: an organization's settings (four_eyes), and rule changes waiting for a second person

Revision ID: 7b729cab4b2a
Revises: 5b1e0c7d3f21
Create Date: 2026-12-08 01:09:03.093162
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models.base

revision: str = "7b729cab4b2a"
down_revision: str | None = "5b1e0c7d3f21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization_settings",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("four_eyes", sa.Boolean(), nullable=False),
        sa.Column("updated_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_settings_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organization_settings")),
    )
    op.create_table(
        "rule_approvals",
        sa.Column("oem_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "approved", "rejected", name="approvalstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("requested_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_person_id"],
            ["people.id"],
            name=op.f("fk_rule_approvals_decided_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["oem_id"], ["organizations.id"], name=op.f("fk_rule_approvals_oem_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_person_id"],
            ["people.id"],
            name=op.f("fk_rule_approvals_requested_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_approvals_rule_id_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_approvals")),
    )
    with op.batch_alter_table("rule_approvals", schema=None) as batch_op:
        batch_op.create_index("ix_rule_approvals_oem_id_state", ["oem_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_rule_approvals_rule_id"), ["rule_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rule_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_approvals_rule_id"))
        batch_op.drop_index("ix_rule_approvals_oem_id_state")

    op.drop_table("rule_approvals")
    op.drop_table("organization_settings")
