"""A statement trigger on events says NOTIFY qualink_events_published (PostgreSQL): no round trip per publish

Every transaction that published events used to send its own ``SELECT pg_notify(...)`` (one more statement on
the KPI report path). The trigger fires inside the INSERT that writes the events; PostgreSQL still delivers the
notification when, and only if, the transaction commits, and once per transaction however many INSERTs fired it.
SQLite has no LISTEN/NOTIFY: its processes poll, and the migration does nothing there.

Revision ID: 5b1e0c7d3f21
Revises: a9c5497685bf
Create Date: 2026-12-08 01:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b1e0c7d3f21"
down_revision: str | None = "a9c5497685bf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# hub.events.wakeups.EVENTS_PUBLISHED, spelled out: a migration is frozen
CHANNEL = "qualink_events_published"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION qualink_events_published() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER events_published AFTER INSERT ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION qualink_events_published()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER events_published ON events")
    op.execute("DROP FUNCTION qualink_events_published()")
