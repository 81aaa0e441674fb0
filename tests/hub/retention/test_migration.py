"""Migration 9c4d2e7a1b65 on PostgreSQL with rows in the tables: up to partitioned tables and back, every row kept."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from hub import migrate
from hub.db import make_engine
from tests.conftest import _drop_database, _fresh_database_url, make_settings

BEFORE = "4e8a1c2b9d30"
TABLES = ("events", "webhook_deliveries", "audit_entries", "period_outcomes")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    if not os.environ.get("HUB_TEST_DATABASE_URL"):
        pytest.skip(
            "the partitioning itself is PostgreSQL's (SQLite: constraints only, covered by alembic check)"
        )
    url = _fresh_database_url(tmp_path, "migration")
    engine = make_engine(make_settings(url))
    yield engine
    engine.dispose()
    _drop_database(url)


def _rows(engine: Engine) -> None:
    oem, supplier, agreement, webhook = (uuid.uuid4() for _ in range(4))
    with engine.begin() as c:
        for org, kind in ((oem, "oem"), (supplier, "supplier")):
            c.execute(
                text(
                    "INSERT INTO organizations (id, name, kind, created_at) VALUES (:id, :n, :k, '2025-06-01Z')"
                ),
                {"id": org, "n": f"{kind}-{org.hex[:6]}", "k": kind},
            )
        c.execute(
            text(
                "INSERT INTO supply_agreements (id, oem_id, supplier_id, title, terms, period, valid_from, "
                "report_due_days, status, decision_reason, created_at) VALUES (:id, :o, :s, 't', '{}', 'week', "
                "'2025-06-01', 7, 'active', '', '2025-06-01Z')"
            ),
            {"id": agreement, "o": oem, "s": supplier},
        )
        c.execute(
            text(
                "INSERT INTO webhooks (id, organization_id, url, event_types, secret, created_at) "
                "VALUES (:id, :o, 'https://example.test', '[]', 's', '2025-06-01Z')"
            ),
            {"id": webhook, "o": oem},
        )
        for n, month in enumerate(("2025-06-15Z", "2025-08-15Z")):
            seq = c.execute(
                text(
                    "INSERT INTO events (id, organization_id, type, occurred_at, subject_id, payload, position) "
                    "VALUES (:id, :o, 't', :at, 's', '{}', :p) RETURNING seq"
                ),
                {"id": uuid.uuid4(), "o": oem, "at": month, "p": n + 1},
            ).scalar_one()
            c.execute(
                text(
                    "INSERT INTO webhook_deliveries (id, webhook_id, event_seq, status, attempts, next_attempt_at, "
                    "created_at) VALUES (:id, :w, :seq, 'delivered', 1, :at, :at)"
                ),
                {
                    "id": uuid.UUID(int=(1_750_000_000_000 + n) << 80 | 0x7 << 76),
                    "w": webhook,
                    "seq": seq,
                    "at": month,
                },
            )
            c.execute(
                text(
                    "INSERT INTO audit_entries (at, actor, action, subject_type, subject_id, data, leaf_hash) "
                    "VALUES (:at, 'a', 'x', 't', 's', '{}', 'h')"
                ),
                {"at": month},
            )
            c.execute(
                text(
                    "INSERT INTO period_outcomes (id, oem_id, supplier_id, agreement_id, part_number, characteristic, "
                    "kpi, period, period_start, met, missing, threshold, recorded_at) VALUES (:id, :o, :s, :a, 'p', "
                    "'c', 'cpk', :period, :at, true, false, 1.33, :at)"
                ),
                {
                    "id": uuid.uuid4(),
                    "o": oem,
                    "s": supplier,
                    "a": agreement,
                    "period": f"2025-W{24 + n}",
                    "at": month,
                },
            )


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {t: int(c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}  # noqa: S608


def _partitioned(engine: Engine, table: str) -> bool:
    with engine.connect() as c:
        return bool(
            c.execute(
                text(
                    "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname = :t"
                ),
                {"t": table},
            ).scalar_one()
        )


def test_upgrade_and_downgrade_keep_every_row(engine: Engine) -> None:
    migrate.upgrade(engine, BEFORE)
    _rows(engine)
    migrate.upgrade(engine)

    assert _counts(engine) == dict.fromkeys(TABLES, 2)
    assert all(_partitioned(engine, t) for t in TABLES)
    with engine.begin() as c:
        where = c.execute(text("SELECT tableoid::regclass::text FROM events ORDER BY seq")).scalars().all()
        assert where == ["events_y2025m06", "events_y2025m08"]
        # The id sequences carry on where they were.
        seq = c.execute(
            text(
                "INSERT INTO events (id, organization_id, type, occurred_at, subject_id, payload) "
                "SELECT :id, organization_id, 't', now(), 's', '{}' FROM events LIMIT 1 RETURNING seq"
            ),
            {"id": uuid.uuid4()},
        ).scalar_one()
        assert seq == 3

    with engine.begin() as connection:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, BEFORE)
    assert _counts(engine) == {"events": 3, "webhook_deliveries": 2, "audit_entries": 2, "period_outcomes": 2}
    assert not any(_partitioned(engine, t) for t in TABLES)
    with engine.connect() as c:
        fk = c.execute(
            text(
                "SELECT count(*) FROM pg_constraint WHERE conname = 'fk_webhook_deliveries_event_seq_events'"
            )
        )
        assert fk.scalar_one() == 1

    migrate.upgrade(engine)
    assert _counts(engine)["events"] == 3
