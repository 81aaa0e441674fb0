"""trace: index serial parts by their lot

Revision ID: 5e1d7c0a9b2f
Revises: acf26f2b87d6
Create Date: 2026-11-25 14:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1d7c0a9b2f"
down_revision: str | None = "acf26f2b87d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A forward trace steps from a lot to the serial parts made from it; without this index each step scans assets.
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assets_batch_asset_id",
            ["batch_asset_id"],
            unique=False,
            postgresql_where=sa.text("batch_asset_id IS NOT NULL"),
            sqlite_where=sa.text("batch_asset_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_batch_asset_id")
