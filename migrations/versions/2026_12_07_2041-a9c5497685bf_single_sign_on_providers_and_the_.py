"""Single sign-on: each organization's OpenID Connect providers, and the subjects they link to people

Revision ID: a9c5497685bf
Revises: 2012dd43f575
Create Date: 2026-12-07 20:41:06.527955
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models.base

revision: str = "a9c5497685bf"
down_revision: str | None = "2012dd43f575"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_providers",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("discovery_url", sa.String(length=1000), nullable=False),
        sa.Column("client_id", sa.String(length=300), nullable=False),
        sa.Column("client_secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("allowed_email_domains", sa.JSON(), nullable=False),
        sa.Column("role_claim", sa.String(length=100), nullable=True),
        sa.Column("role_mapping", sa.JSON(), nullable=False),
        sa.Column("default_role", sa.String(length=16), nullable=False),
        sa.Column("provision_people", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sso_providers_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_providers")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_sso_providers_organization_id_name")),
    )
    with op.batch_alter_table("sso_providers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sso_providers_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "sso_identities",
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_sso_identities_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["sso_providers.id"],
            name=op.f("fk_sso_identities_provider_id_sso_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint("provider_id", "subject", name=op.f("uq_sso_identities_provider_id_subject")),
    )
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_identities_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sso_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_identities_person_id"))

    op.drop_table("sso_identities")
    with op.batch_alter_table("sso_providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_providers_organization_id"))

    op.drop_table("sso_providers")
