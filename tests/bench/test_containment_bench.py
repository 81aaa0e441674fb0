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

import os
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.containment import service as containment
from hub.db import make_engine, make_session_factory
from hub.models import ContainmentAction, Hold, QualityNotification
from hub.notifications import service as notifications
from hub.trace import service as trace
from protocol.models.common import OrgKind
from protocol.models.notifications import NotificationType, QualityNotificationCreate
from tests.bench._support import median_ms, trace_network, trace_network_database
from tests.conftest import make_settings

LOTS = int(os.environ.get("BENCH_LOTS", os.environ.get("TRACE_BENCH_LOTS", "1000000")))
SEED = 7
RUNS = int(os.environ.get("CONTAINMENT_BENCH_RUNS", "9"))


@pytest.mark.bench
def test_alert_raised_places_all_holds_and_actions() -> None:
    url, existed = trace_network_database(LOTS, benchmark="containment")
    engine = make_engine(make_settings(url))
    handles = trace_network(engine, existed, lots=LOTS, seed=SEED)
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
    trace_ms, _, in_set = median_ms(traced, RUNS)
    send_ms, times, (affected, holds, actions, plant_count) = median_ms(sent, RUNS)  # type: ignore[misc]

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
