"""every supplier with an active agreement has a standing

A standing used to be made only when a rule first judged a result, so a supplier that only ever met its
thresholds had none and purchasing could not see it was tier A. The hub now opens the standing when the
supplier accepts an agreement; this gives the pairs already active theirs: tier A, approved, no history, as of
their first acceptance. Pairs that have a standing keep it.

Revision ID: 5f0c2a7d9e41
Revises: 0e2dca2f584b
Create Date: 2026-12-07 12:00:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision: str = "5f0c2a7d9e41"
down_revision: str | None = "0e2dca2f584b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

agreements = sa.table(
    "supply_agreements",
    sa.column("oem_id", sa.Uuid()),
    sa.column("supplier_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("decided_at", UTCDateTime()),
)
standings = sa.table(
    "standings",
    sa.column("id", sa.Uuid()),
    sa.column("oem_id", sa.Uuid()),
    sa.column("supplier_id", sa.Uuid()),
    sa.column("tier", sa.String()),
    sa.column("status", sa.String()),
    sa.column("updated_at", UTCDateTime()),
)


def upgrade() -> None:
    connection = op.get_bind()
    have = {(row.oem_id, row.supplier_id) for row in connection.execute(sa.select(standings))}
    pairs = connection.execute(
        sa.select(agreements.c.oem_id, agreements.c.supplier_id, sa.func.min(agreements.c.decided_at))
        .where(agreements.c.status == "active")
        .group_by(agreements.c.oem_id, agreements.c.supplier_id)
    ).all()
    rows = [
        {
            "id": uuid.uuid4(),
            "oem_id": oem_id,
            "supplier_id": supplier_id,
            "tier": "A",
            "status": "approved",
            "updated_at": accepted or datetime.now(UTC),
        }
        for oem_id, supplier_id, accepted in pairs
        if (oem_id, supplier_id) not in have
    ]
    if rows:
        op.bulk_insert(standings, rows)


def downgrade() -> None:
    # Nothing to undo: a standing with no history is what the rules would have opened at the first result.
    pass
