"""Alert raised → every affected position held and one containment action per plant, on the synthetic network.

    HUB_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/qualink_trace \\
        pytest tests/bench/test_containment_bench.py -s -p no:cacheprovider --override-ini addopts=

The capacitor supplier raises an ALERT on its hot tier-3 lot (about 10,000 descendants in the 1,000,000-lot
network) and sends it: the forward trace, the set-based hold INSERT … SELECT, the per-plant action INSERT … SELECT,
one event per action, messages and audit entries, all in one transaction, rolled back after each run so every run
starts from the same stock. Target: ≤ 2 s median.

The network is the trace benchmark's (``hub.genealogy.synth``, 4 tiers, seed 7, in the kept database
``<base>_trace_bench_<lots>``): whichever benchmark runs first builds it, the other reuses it. ``BENCH_LOTS`` picks
another size (default 1,000,000). Printed: medians over the runs of the trace alone (``affected_assets``) and of the
whole send, and how many assets, holds, actions and plants one alert makes.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub import migrate
from hub.auth.tokens import Caller
from hub.containment import service as containment
from hub.db import make_engine, make_session_factory
from hub.genealogy.synth import build_synthetic_network
from hub.models import ContainmentAction, Hold, QualityNotification
from hub.notifications import service as notifications
from hub.trace import service as trace
from protocol.models.common import OrgKind
from protocol.models.notifications import NotificationType, QualityNotificationCreate
from tests.conftest import make_settings

LOTS = int(os.environ.get("BENCH_LOTS", os.environ.get("TRACE_BENCH_LOTS", "1000000")))
SEED = 7
RUNS = int(os.environ.get("CONTAINMENT_BENCH_RUNS", "9"))


def _database() -> tuple[str, bool]:
    base = os.environ.get("HUB_TEST_DATABASE_URL")
    if not base or make_url(base).get_backend_name() != "postgresql":
        pytest.skip("the containment benchmark runs on PostgreSQL (HUB_TEST_DATABASE_URL)")
    url = make_url(base)
    name = f"{url.database}_trace_bench_{LOTS}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = (
            connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is not None
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), exists


def _network(engine: Engine, existed: bool) -> dict[str, str]:
    """The network's handles (stored in the database comment), building it into a new database."""
    with engine.connect() as connection:
        stored = connection.scalar(
            text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
            )
        )
    # Also when the trace benchmark built the network before the containment tables existed.
    migrate.upgrade(engine)
    if existed and stored:
        return dict(json.loads(stored))
    started = time.perf_counter()
    net = build_synthetic_network(
        engine, lots=LOTS, tiers=4, seed=SEED, progress=lambda table, n: print(f"  {table}: {n:,} rows")
    )
    handles = {
        "hot_lot_id": str(net.hot_lot_id),
        "capacitor_org_id": str(net.capacitor_org_id),
        "descendants": str(net.hot_lot_descendants),
        "build_seconds": f"{time.perf_counter() - started:.0f}",
    }
    with engine.connect() as connection:
        connection.execute(text(f"COMMENT ON DATABASE \"{engine.url.database}\" IS '{json.dumps(handles)}'"))
        connection.execute(text("ANALYZE"))
        connection.commit()
    return handles


def _median_ms(run: Callable[[], object], runs: int) -> tuple[float, list[float], object]:
    result = run()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times, result


@pytest.mark.bench
def test_alert_raised_places_all_holds_and_actions() -> None:
    url, existed = _database()
    engine = make_engine(make_settings(url))
    handles = _network(engine, existed)
    root = uuid.UUID(handles["hot_lot_id"])
    caller = Caller(
        uuid.UUID(handles["capacitor_org_id"]), OrgKind.SUPPLIER, "bench", frozenset({"alerts:write"})
    )
    factory = make_session_factory(engine)
    body = QualityNotificationCreate(
        type=NotificationType.ALERT,
        title="Film capacitor lot: withstand voltage below specification",
        severity="CRITICAL",
        affected_asset_ids=[root],
    )

    def traced() -> int:
        with factory() as session:
            return len(trace.affected_assets(session, roots=[root]).asset_ids)

    def raise_alert(session: Session) -> QualityNotification:
        alert = notifications.create(session, caller=caller, data=body)
        return notifications.transition(
            session, caller=caller, notification_id=alert.id, name="send", reason=None
        )

    def sent() -> tuple[int, int, int, int]:
        with factory() as session:
            try:
                alert = raise_alert(session)
                holds = session.scalar(
                    select(func.count()).select_from(Hold).where(Hold.notification_id == alert.id)
                )
                actions = session.scalar(
                    select(func.count())
                    .select_from(ContainmentAction)
                    .where(ContainmentAction.notification_id == alert.id)
                )
                progress = containment.progress(session, alert=alert)
                assert progress is not None
                return alert.affected_count or 0, holds or 0, actions or 0, progress.plants
            finally:
                session.rollback()

    with factory() as session:
        assets = session.scalar(text("SELECT count(*) FROM assets"))
        positions = session.scalar(text("SELECT count(*) FROM inventory_positions"))
        plants = session.scalar(text("SELECT count(*) FROM plants"))
    print(
        f"\nnetwork: {assets:,} assets, {positions:,} inventory positions, {plants:,} plants ({url.split('/')[-1]})"
    )

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine load (1, 5, 15 min) before measuring: {load} on {os.cpu_count()} cores")
    trace_ms, _, in_set = _median_ms(traced, RUNS)
    send_ms, times, (affected, holds, actions, plant_count) = _median_ms(sent, RUNS)  # type: ignore[misc]

    print(f"hot lot: {handles['descendants']} descendants expected; the alert's trace found {in_set} assets")
    print(f"affected_assets (trace + inventory)        median {trace_ms:8.1f} ms over {RUNS} runs")
    print(
        f"alert created and sent: {affected} assets, {holds} holds placed, {actions} actions at {plant_count} plants"
    )
    print(
        f"alert raised -> holds + actions            median {send_ms:8.1f} ms over {RUNS} runs "
        f"(min {min(times):.1f}, max {max(times):.1f}; target <= 2000 ms)"
    )
    assert affected == in_set
    assert holds > 0 and actions == plant_count > 0
    engine.dispose()
