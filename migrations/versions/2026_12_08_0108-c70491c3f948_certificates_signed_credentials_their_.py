"""certificates: signed credentials, their shares, certificate rule states

A certificate a certification body issued for a supplier site (the verified credential kept as signed, its
fields copied out, the status the certifier sets); the OEMs a supplier shares each with; and per certificate
rule and supplier whether its condition held when last evaluated (so that a rule fires once when it starts to).

Revision ID: c70491c3f948
Revises: 7b729cab4b2a
Create Date: 2026-12-08 01:08:21.807961
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models.base

revision: str = "c70491c3f948"
down_revision: str | None = "7b729cab4b2a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("certifier_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.String(length=200), nullable=False),
        sa.Column("standard", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("site_id", sa.String(length=100), nullable=False),
        sa.Column("site_name", sa.String(length=200), nullable=False),
        sa.Column("valid_from", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("audit_score", sa.Integer(), nullable=True),
        sa.Column("audit_grade", sa.String(length=1), nullable=True),
        sa.Column("credential", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=1000), nullable=False),
        sa.Column("status_changed_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expiring_announced_at", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certifier_id"], ["organizations.id"], name=op.f("fk_certificates_certifier_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["organizations.id"], name=op.f("fk_certificates_supplier_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("certifier_id", "number", name="uq_certificates_certifier_number"),
        sa.UniqueConstraint("credential_id", name="uq_certificates_credential_id"),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_certifier_id"), ["certifier_id"], unique=False)
        batch_op.create_index("ix_certificates_supplier_standard", ["supplier_id", "standard"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_valid_until"), ["valid_until"], unique=False)

    op.create_table(
        "certificate_rule_states",
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("holding", sa.Boolean(), nullable=False),
        sa.Column("changed_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["rules.id"], name=op.f("fk_certificate_rule_states_rule_id_rules")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organizations.id"],
            name=op.f("fk_certificate_rule_states_supplier_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_rule_states")),
        sa.UniqueConstraint("rule_id", "supplier_id", name="uq_certificate_rule_states_rule_supplier"),
    )
    op.create_table(
        "certificate_shares",
        sa.Column("certificate_id", sa.Uuid(), nullable=False),
        sa.Column("oem_id", sa.Uuid(), nullable=False),
        sa.Column("shared_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_shares_certificate_id_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["oem_id"], ["organizations.id"], name=op.f("fk_certificate_shares_oem_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_shares")),
        sa.UniqueConstraint("certificate_id", "oem_id", name="uq_certificate_shares_certificate_oem"),
    )
    with op.batch_alter_table("certificate_shares", schema=None) as batch_op:
        batch_op.create_index("ix_certificate_shares_oem_id", ["oem_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("certificate_shares", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_shares_oem_id")

    op.drop_table("certificate_shares")
    op.drop_table("certificate_rule_states")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_valid_until"))
        batch_op.drop_index("ix_certificates_supplier_standard")
        batch_op.drop_index(batch_op.f("ix_certificates_certifier_id"))

    op.drop_table("certificates")
