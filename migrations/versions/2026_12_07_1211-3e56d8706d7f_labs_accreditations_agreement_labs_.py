"""labs: accreditations, agreement labs, lab measurements

An accreditation per lab (scheme, number, scope, validity); a lab named in an agreement with its own answer;
the lab's signed measurements with the openings sealed to the supplier; and, on a KPI report proven over a
lab's measurement (tier T2), which measurement and the lab's name and date readers are shown.

Revision ID: 3e56d8706d7f
Revises: 5f0c2a7d9e41
Create Date: 2026-12-07 12:11:50.440335
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models.base

revision: str = "3e56d8706d7f"
down_revision: str | None = "5f0c2a7d9e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lab_accreditations",
        sa.Column("lab_id", sa.Uuid(), nullable=False),
        sa.Column("scheme", sa.String(length=100), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("recorded_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_id"], ["organizations.id"], name=op.f("fk_lab_accreditations_lab_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_accreditations")),
    )
    with op.batch_alter_table("lab_accreditations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_accreditations_lab_id"), ["lab_id"], unique=False)

    op.create_table(
        "agreement_labs",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("lab_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", hub.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["supply_agreements.id"],
            name=op.f("fk_agreement_labs_agreement_id_supply_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["lab_id"], ["organizations.id"], name=op.f("fk_agreement_labs_lab_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_labs")),
        sa.UniqueConstraint("agreement_id", "lab_id", name="uq_agreement_labs_agreement_lab"),
    )
    with op.batch_alter_table("agreement_labs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_labs_lab_id"), ["lab_id"], unique=False)

    op.create_table(
        "lab_measurements",
        sa.Column("lab_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("part_number", sa.String(length=64), nullable=False),
        sa.Column("characteristic", sa.String(length=64), nullable=False),
        sa.Column("kpi", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("sealed_openings", sa.JSON(), nullable=True),
        sa.Column("received_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["supply_agreements.id"],
            name=op.f("fk_lab_measurements_agreement_id_supply_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["lab_id"], ["organizations.id"], name=op.f("fk_lab_measurements_lab_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["organizations.id"], name=op.f("fk_lab_measurements_supplier_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_measurements")),
        sa.UniqueConstraint("digest", name="uq_lab_measurements_digest"),
    )
    with op.batch_alter_table("lab_measurements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_measurements_lab_id"), ["lab_id"], unique=False)
        batch_op.create_index(
            "ix_lab_measurements_supplier_agreement", ["supplier_id", "agreement_id"], unique=False
        )

    with op.batch_alter_table("kpi_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lab_measurement_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("lab_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("lab_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("lab_measured_on", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_kpi_reports_lab_measurement_id_lab_measurements"),
            "lab_measurements",
            ["lab_measurement_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_kpi_reports_lab_id_organizations"), "organizations", ["lab_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("kpi_reports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_kpi_reports_lab_measurement_id_lab_measurements"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_kpi_reports_lab_id_organizations"), type_="foreignkey")
        batch_op.drop_column("lab_measured_on")
        batch_op.drop_column("lab_name")
        batch_op.drop_column("lab_id")
        batch_op.drop_column("lab_measurement_id")

    with op.batch_alter_table("lab_measurements", schema=None) as batch_op:
        batch_op.drop_index("ix_lab_measurements_supplier_agreement")
        batch_op.drop_index(batch_op.f("ix_lab_measurements_lab_id"))

    op.drop_table("lab_measurements")
    with op.batch_alter_table("agreement_labs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_labs_lab_id"))

    op.drop_table("agreement_labs")
    with op.batch_alter_table("lab_accreditations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_accreditations_lab_id"))

    op.drop_table("lab_accreditations")
