"""token endpoint failures are counted per client and address

Failed client authentications at POST /oauth/token, per fixed window, per (claimed client id, source address) and
per address alone, shared by every replica; the limiter answers 429 once a count reaches its limit.

Revision ID: 0e2dca2f584b
Revises: 28d28b5ab454
Create Date: 2026-12-07 11:50:59.516863
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models.base

revision: str = "0e2dca2f584b"
down_revision: str | None = "28d28b5ab454"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_auth_failures",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("window_start", hub.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", "client_id", "window_start", name=op.f("pk_token_auth_failures")),
    )
    with op.batch_alter_table("token_auth_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_token_auth_failures_window_start"), ["window_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("token_auth_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_auth_failures_window_start"))

    op.drop_table("token_auth_failures")
