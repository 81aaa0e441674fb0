"""What the benchmarks share: the shared trace-network database and a median (a hub served from its own
process is :mod:`tests.hub_server`).

The trace and containment benchmarks share one PostgreSQL database holding the synthetic supply network of ``lots`` lots, built
once (minutes at a million lots) and reused by every later run; its handles are kept in the database comment.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from hub import migrate
from hub.genealogy.synth import build_synthetic_network


def median_ms(run: Callable[[], object], runs: int, *, warmups: int = 1) -> tuple[float, list[float], object]:
    """The median of ``runs`` timed calls after ``warmups`` untimed ones, every time (ms) and the last result."""
    result: object = None
    for _ in range(warmups):
        result = run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times, result


def trace_network_database(lots: int, *, benchmark: str, rebuild: bool = False) -> tuple[str, bool]:
    """The URL of the shared trace-network database, and whether it was already there (then it holds the network).

    Skips unless ``HUB_TEST_DATABASE_URL`` names PostgreSQL; ``rebuild`` drops a database that was there."""
    base = os.environ.get("HUB_TEST_DATABASE_URL")
    if not base or make_url(base).get_backend_name() != "postgresql":
        pytest.skip(f"the {benchmark} benchmark runs on PostgreSQL (HUB_TEST_DATABASE_URL)")
    url = make_url(base)
    name = f"{url.database}_trace_bench_{lots}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if rebuild:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        exists = (
            connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is not None
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), exists


def trace_network(engine: Engine, existed: bool, *, lots: int, seed: int) -> dict[str, str]:
    """Handles of the network (hot lot, its owner, expected descendants), building it when the database is new.

    Migrates first either way: a network built before later tables (containment) existed gets them."""
    with engine.connect() as connection:
        stored = connection.scalar(
            text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
            )
        )
    migrate.upgrade(engine)
    if existed and stored:
        return dict(json.loads(stored))
    started = time.perf_counter()
    net = build_synthetic_network(
        engine, lots=lots, tiers=4, seed=seed, progress=lambda table, n: print(f"  {table}: {n:,} rows")
    )
    handles = {
        "hot_lot_id": str(net.hot_lot_id),
        "capacitor_org_id": str(net.capacitor_org_id),
        "descendants": str(net.hot_lot_descendants),
        "build_seconds": f"{time.perf_counter() - started:.0f}",
    }
    with engine.connect() as connection:
        connection.execute(text(f"COMMENT ON DATABASE \"{engine.url.database}\" IS '{json.dumps(handles)}'"))
        connection.commit()
    # A freshly loaded table has no visibility map yet: vacuum it, as autovacuum would, for index-only scans.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return handles
