"""partition the tables that grow without bound by month (PostgreSQL); retention checkpoints and marks

Design
------
PostgreSQL: ``events``, ``audit_entries``, ``webhook_deliveries`` and ``period_outcomes`` become
``PARTITION BY RANGE`` tables with one partition per calendar month (UTC) and a ``DEFAULT`` partition as a safety
net, so that retention detaches a month in one statement instead of deleting millions of rows.

==================== ======================== ==========================================================
table                partition key            what had to change
==================== ======================== ==========================================================
events               occurred_at              PK (seq) -> (seq, occurred_at); ``id`` and ``position`` are
                                              no longer UNIQUE (a partitioned table can only enforce
                                              uniqueness over keys holding the partition key): plain indexes.
                                              ``position`` stays unique by construction (one sequencer under
                                              an advisory lock numbers max+1, +2, ...). The FK
                                              webhook_deliveries.event_seq -> events.seq is dropped (it would
                                              have to name occurred_at too); the retention job deletes the
                                              deliveries of the events it drops first.
webhook_deliveries   id (UUIDv7, time-ordered) nothing but the FK above: the PK is the partition key. A month's
                                              bounds are the smallest UUIDv7 of its first millisecond, so a
                                              range of ids is exactly a range of creation times.
audit_entries        at                       PK (id) -> (id, at); ``seq`` UNIQUE -> plain index (unique by
                                              construction: one sealer under an advisory lock; ``hub audit
                                              verify`` names a duplicate or a gap).
period_outcomes      period_start             PK (id) -> (id, period_start); the one-outcome-per-period UNIQUE
                                              gains period_start, which the period determines, so it means
                                              the same and still backs ON CONFLICT DO NOTHING.
==================== ======================== ==========================================================

``kpi_reports`` is not partitioned: its UNIQUE (key_id, nonce) is the replay guard and (supplier, agreement,
characteristic, kpi, period) the one-report-per-period rule, both of which must hold across all time, and
kpi_attestations / period_outcomes / standing changes reference it by id.

Each table is rebuilt: the old one is renamed (with its indexes) to ``<table>_unpartitioned``, the partitioned
table is created ``LIKE`` it (same columns, defaults and the same id sequences, whose ownership moves over),
partitions are made for every month from the oldest row to three months ahead, the rows are copied, and the old
table is dropped. The downgrade rebuilds plain tables the same way, rows included.

SQLite has no partitioning: there the tables keep their primary keys (an INTEGER PRIMARY KEY is SQLite's
rowid, which composite keys would lose), and only the UNIQUE / index / FK changes are made so that the schema
matches the models (``alembic check``). Retention there deletes rows in batches.

Both databases get ``audit_retention_checkpoints`` (signed statements over the audit entries retention dropped:
which sequence ranges and the chain hash at the end of each, so ``hub audit verify`` checks the rest of the chain
from them) and ``event_retention_marks`` (per organization, the highest event position retention dropped, so a
reader resuming below it gets 410 instead of a silent gap).

Revision ID: 9c4d2e7a1b65
Revises: 4e8a1c2b9d30
Create Date: 2026-12-08 04:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hub.models.base import UTCDateTime

revision: str = "9c4d2e7a1b65"
down_revision: str | None = "4e8a1c2b9d30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AHEAD_MONTHS = 3
# The naming convention's name, untruncated on SQLite (PostgreSQL's 63-character limit shortened it there).
SQLITE_OUTCOME_UNIQUE = "uq_period_outcomes_agreement_id_part_number_characteristic_kpi_period"
# table -> (partition key, key kind, primary key, sequence owned by a column or None)
TABLES = {
    "events": ("occurred_at", "time", ("seq", "occurred_at"), ("events_seq_seq", "seq")),
    "webhook_deliveries": ("id", "uuid7", ("id",), None),
    "audit_entries": ("at", "time", ("id", "at"), ("audit_entries_id_seq", "id")),
    "period_outcomes": ("period_start", "time", ("id", "period_start"), None),
}
PLAIN_PK = {
    "events": ("seq",),
    "webhook_deliveries": ("id",),
    "audit_entries": ("id",),
    "period_outcomes": ("id",),
}
# What each table's indexes and constraints are, after (partitioned) and before (plain).
INDEXES_AFTER = {
    "events": [
        "CREATE INDEX ix_events_recipient_position ON events (organization_id, position)",
        "CREATE INDEX ix_events_unpositioned ON events (seq) WHERE position IS NULL",
        "CREATE INDEX ix_events_id ON events (id)",
        "CREATE INDEX ix_events_position ON events (position)",
    ],
    "webhook_deliveries": [
        "CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)",
        "CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at)",
        "CREATE INDEX ix_webhook_deliveries_event_seq ON webhook_deliveries (event_seq)",
    ],
    "audit_entries": [
        "CREATE INDEX ix_audit_entries_unsealed ON audit_entries (id) WHERE seq IS NULL",
        "CREATE INDEX ix_audit_entries_subject ON audit_entries (subject_type, subject_id, id)",
        "CREATE INDEX ix_audit_entries_seq ON audit_entries (seq)",
    ],
    "period_outcomes": [
        "ALTER TABLE period_outcomes ADD CONSTRAINT uq_period_outcomes_period UNIQUE "
        "(agreement_id, part_number, characteristic, kpi, period, period_start)",
        "CREATE INDEX ix_period_outcomes_series ON period_outcomes "
        "(agreement_id, part_number, characteristic, kpi, period_start)",
        "CREATE INDEX ix_period_outcomes_oem_recorded ON period_outcomes (oem_id, recorded_at)",
    ],
}
INDEXES_BEFORE = {
    "events": [
        "ALTER TABLE events ADD CONSTRAINT uq_events_id UNIQUE (id)",
        "ALTER TABLE events ADD CONSTRAINT uq_events_position UNIQUE (position)",
        "CREATE INDEX ix_events_recipient_position ON events (organization_id, position)",
        "CREATE INDEX ix_events_unpositioned ON events (seq) WHERE position IS NULL",
    ],
    "webhook_deliveries": [
        "CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)",
        "CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at)",
    ],
    "audit_entries": [
        "ALTER TABLE audit_entries ADD CONSTRAINT uq_audit_entries_seq UNIQUE (seq)",
        "CREATE INDEX ix_audit_entries_unsealed ON audit_entries (id) WHERE seq IS NULL",
        "CREATE INDEX ix_audit_entries_subject ON audit_entries (subject_type, subject_id, id)",
    ],
    "period_outcomes": [
        "ALTER TABLE period_outcomes ADD CONSTRAINT uq_period_outcomes_agreement_id_part_number_characteris_8aeb "
        "UNIQUE (agreement_id, part_number, characteristic, kpi, period)",
        "CREATE INDEX ix_period_outcomes_series ON period_outcomes "
        "(agreement_id, part_number, characteristic, kpi, period_start)",
        "CREATE INDEX ix_period_outcomes_oem_recorded ON period_outcomes (oem_id, recorded_at)",
    ],
}
FOREIGN_KEYS = {
    "events": [("organization_id", "organizations", "id")],
    "webhook_deliveries": [("webhook_id", "webhooks", "id")],
    "audit_entries": [],
    "period_outcomes": [
        ("agreement_id", "supply_agreements", "id"),
        ("oem_id", "organizations", "id"),
        ("report_id", "kpi_reports", "id"),
        ("supplier_id", "organizations", "id"),
    ],
}
EVENTS_TRIGGER = (
    "CREATE TRIGGER events_published AFTER INSERT ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION qualink_events_published()"
)
DELIVERY_EVENT_FK = (
    "ALTER TABLE webhook_deliveries ADD CONSTRAINT fk_webhook_deliveries_event_seq_events "
    "FOREIGN KEY (event_seq) REFERENCES events (seq)"
)


def _month(value: datetime) -> tuple[int, int]:
    return value.year, value.month


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _bound(kind: str, moment: datetime) -> str:
    if kind == "uuid7":
        ms = int(moment.timestamp() * 1000)
        hexed = f"{ms << 80:032x}"
        return f"'{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}'"
    return f"'{moment.isoformat()}'"


def _time_column(table: str) -> str:
    return "created_at" if table == "webhook_deliveries" else TABLES[table][0]


def _partition(table: str) -> None:
    key, kind, primary, sequence = TABLES[table]
    bind = op.get_bind()
    old = f"{table}_unpartitioned"
    if table == "events":
        op.execute(
            "ALTER TABLE webhook_deliveries DROP CONSTRAINT IF EXISTS fk_webhook_deliveries_event_seq_events"
        )
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    for (name,) in bind.execute(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": old}):
        op.execute(f'ALTER INDEX "{name}" RENAME TO "{name[:50]}_unpart"')
    op.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS, "
        f"CONSTRAINT pk_{table} PRIMARY KEY ({', '.join(primary)})) PARTITION BY RANGE ({key})"
    )
    for statement in INDEXES_AFTER[table]:
        op.execute(statement)
    for column, referred, referred_column in FOREIGN_KEYS[table]:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{referred} FOREIGN KEY ({column}) "
            f"REFERENCES {referred} ({referred_column})"
        )
    oldest = bind.execute(sa.text(f"SELECT min({_time_column(table)}) FROM {old}")).scalar()  # noqa: S608
    now = datetime.now(UTC)
    year, month = _month(min(oldest, now) if oldest is not None else now)
    last = _month(now)
    for _ in range(AHEAD_MONTHS):
        last = _next(*last)
    while (year, month) <= last:
        following = _next(year, month)
        op.execute(
            f"CREATE TABLE {table}_y{year:04d}m{month:02d} PARTITION OF {table} FOR VALUES FROM "
            f"({_bound(kind, _start(year, month))}) TO ({_bound(kind, _start(*following))})"
        )
        year, month = following
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    columns = ", ".join(
        f'"{c}"'
        for (c,) in bind.execute(
            sa.text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"
            ),
            {"t": old},
        )
    )
    op.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {old}")  # noqa: S608
    if sequence is not None:
        name, column = sequence
        op.execute(f"ALTER SEQUENCE {name} OWNED BY NONE")
    op.execute(f"DROP TABLE {old}")
    if sequence is not None:
        name, column = sequence
        op.execute(f"ALTER SEQUENCE {name} OWNED BY {table}.{column}")
    if table == "events":
        op.execute(EVENTS_TRIGGER)


def _unpartition(table: str) -> None:
    _key, _kind, _primary, sequence = TABLES[table]
    bind = op.get_bind()
    old = f"{table}_partitioned"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    names = bind.execute(
        sa.text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = :t"
        ),
        {"t": old},
    ).scalars()
    for name in list(names):
        op.execute(f'ALTER INDEX "{name}" RENAME TO "{name[:50]}_part"')
    op.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS, "
        f"CONSTRAINT pk_{table} PRIMARY KEY ({', '.join(PLAIN_PK[table])}))"
    )
    for statement in INDEXES_BEFORE[table]:
        op.execute(statement)
    for column, referred, referred_column in FOREIGN_KEYS[table]:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{referred} FOREIGN KEY ({column}) "
            f"REFERENCES {referred} ({referred_column})"
        )
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608
    if sequence is not None:
        name, column = sequence
        op.execute(f"ALTER SEQUENCE {name} OWNED BY NONE")
    op.execute(f"DROP TABLE {old}")  # its partitions with it
    if sequence is not None:
        name, column = sequence
        op.execute(f"ALTER SEQUENCE {name} OWNED BY {table}.{column}")
    if table == "events":
        op.execute(EVENTS_TRIGGER)


def _create_retention_tables() -> None:
    op.create_table(
        "audit_retention_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("boundary", UTCDateTime(), nullable=False),
        sa.Column("dropped_entries", sa.Integer(), nullable=False),
        sa.Column("dropped_through", sa.BigInteger(), nullable=False),
        sa.Column("ranges", sa.JSON(), nullable=False),
        sa.Column("anchors", sa.JSON(), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_retention_checkpoints")),
    )
    op.create_table(
        "event_retention_marks",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("dropped_through", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_event_retention_marks_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_event_retention_marks")),
    )


def upgrade() -> None:
    _create_retention_tables()
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            _partition(table)
        return
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_id", type_="unique")
        batch.drop_constraint("uq_events_position", type_="unique")
        batch.create_index("ix_events_id", ["id"])
        batch.create_index("ix_events_position", ["position"])
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_constraint("fk_webhook_deliveries_event_seq_events", type_="foreignkey")
        batch.create_index("ix_webhook_deliveries_event_seq", ["event_seq"])
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_constraint("uq_audit_entries_seq", type_="unique")
        batch.create_index("ix_audit_entries_seq", ["seq"])
    with op.batch_alter_table("period_outcomes") as batch:
        batch.drop_constraint(SQLITE_OUTCOME_UNIQUE, type_="unique")
        batch.create_unique_constraint(
            "uq_period_outcomes_period",
            ["agreement_id", "part_number", "characteristic", "kpi", "period", "period_start"],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in reversed(list(TABLES)):
            _unpartition(table)
        # Deliveries of events retention dropped would break the key (retention deletes them first; be sure).
        op.execute(
            "DELETE FROM webhook_deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq)"
        )
        op.execute(DELIVERY_EVENT_FK)
    else:
        with op.batch_alter_table("period_outcomes") as batch:
            batch.drop_constraint("uq_period_outcomes_period", type_="unique")
            batch.create_unique_constraint(
                SQLITE_OUTCOME_UNIQUE,
                ["agreement_id", "part_number", "characteristic", "kpi", "period"],
            )
        with op.batch_alter_table("audit_entries") as batch:
            batch.drop_index("ix_audit_entries_seq")
            batch.create_unique_constraint("uq_audit_entries_seq", ["seq"])
        with op.batch_alter_table("webhook_deliveries") as batch:
            batch.drop_index("ix_webhook_deliveries_event_seq")
            batch.create_foreign_key(
                "fk_webhook_deliveries_event_seq_events", "events", ["event_seq"], ["seq"]
            )
        with op.batch_alter_table("events") as batch:
            batch.drop_index("ix_events_position")
            batch.drop_index("ix_events_id")
            batch.create_unique_constraint("uq_events_position", ["position"])
            batch.create_unique_constraint("uq_events_id", ["id"])
    op.drop_table("event_retention_marks")
    op.drop_table("audit_retention_checkpoints")
