"""The event sequencer's lock holder killed while it holds the lock (issue #17 §1): PostgreSQL rolls its round back
and releases the advisory lock on disconnect; the waiting `hub worker` takes over and numbers every event once,
with no gap, and makes each event's webhook delivery once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, make_session_factory
from hub.events.service import _SEQUENCER_LOCK_ID
from hub.models import Event, Organization
from supplier_sdk import Client
from tests.conftest import make_settings
from tests.hub.replicas_checks import (
    assert_delivered_at_least_once,
    assert_events_numbered_once_without_gaps,
    assert_one_delivery_per_event,
    subscribed_event_ids,
    unnumbered,
)
from tests.hub.webhooks.helpers import Receiver, make_webhook, running_receiver
from tests.network import Network, build_network
from tests.replicas import ISSUER, HubProcess, RoundRobin, start_all, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        make_url(os.environ.get("HUB_TEST_DATABASE_URL") or "sqlite://").get_backend_name() != "postgresql",
        reason="the sequencer's advisory lock is PostgreSQL's: set HUB_TEST_DATABASE_URL",
    ),
]

# A sequencer round that takes the lock, numbers what is there, makes the webhook deliveries, and then hangs
# before its commit, as a process would that stalled or was killed mid-round.
HOLDER = """
import sys, time
from hub.db import make_engine, make_session_factory
from hub.events import service as events
from hub.webhooks import service as webhooks
from tests.conftest import make_settings
factory = make_session_factory(make_engine(make_settings(sys.argv[1])))
with factory.begin() as session:
    webhooks.fan_out(session, events=events.sequence(session))
    time.sleep(600)
"""
_LOCKS = text(
    "SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) FROM pg_locks "
    "WHERE locktype = 'advisory' AND objid = :objid"
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def lock_holders_and_waiters(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        held, waiting = session.execute(_LOCKS, {"objid": _SEQUENCER_LOCK_ID}).one()
        return int(held), int(waiting)


def head(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.max(Event.position))) or 0)


def report(sdk: Client, network: Network, codes: list[str]) -> None:
    for code in codes:
        sdk.kpi_reports.submit(network.payload(code))


def test_a_killed_lock_holder_leaves_no_gap_and_no_duplicate(
    fresh_database: str, receiver: Receiver, tmp_path: Path
) -> None:
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    codes = [f"C{i:02d}" for i in range(30)]
    network = build_network(factory, characteristics=codes)
    with factory.begin() as session:
        oem = session.get(Organization, network.oem_id)
        assert oem is not None
        make_webhook(session, oem, url=receiver.url, types=["kpi_report.accepted"])
    # The server numbers nothing itself: the worker and the holder are the only sequencers.
    server = HubProcess(
        fresh_database, "serve", tmp_path / "serve.log", HUB_EVENTS_SEQUENCE_INTERVAL_SECONDS="0"
    )
    worker = HubProcess(fresh_database, "worker", tmp_path / "worker.log")
    holder: subprocess.Popen[bytes] | None = None
    try:
        start_all([server, worker])
        with Client(
            base_url=ISSUER,
            client_id=network.client_id,
            private_key=network.key,
            transport=RoundRobin([server]),
        ) as sdk:
            report(sdk, network, codes[:10])
            wait_until(
                lambda: unnumbered(factory) == 0, seconds=60, failure=lambda: "the worker numbered nothing"
            )
            worker.stop()
            report(sdk, network, codes[10:20])  # committed, unnumbered: the holder's round numbers them
            before = head(factory)
            holder = subprocess.Popen([sys.executable, "-c", HOLDER, fresh_database], env=os.environ)
            wait_until(
                lambda: lock_holders_and_waiters(factory)[0] == 1,
                seconds=60,
                failure=lambda: "the holder never took the sequencer's lock",
            )
            worker.launch()
            wait_until(
                lambda: lock_holders_and_waiters(factory) == (1, 1),
                seconds=120,
                failure=lambda: f"the worker never waited on the lock: {lock_holders_and_waiters(factory)}",
            )
            report(sdk, network, codes[20:])  # published while the lock is held
            assert head(factory) == before, "an event was numbered while another process held the lock"
            assert unnumbered(factory) > 0
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=10)
        assert_events_numbered_once_without_gaps(factory)
        assert_one_delivery_per_event(factory)
        worker.wait_until_ready()
        assert_delivered_at_least_once(
            receiver, subscribed_event_ids(factory, network.oem_id, ["kpi_report.accepted"])
        )
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        server.stop()
        worker.stop()
        engine.dispose()
