"""A burst of reports through a real `hub serve`: every event reaches its organization's webhook, once per event id.

Issue #18's setting (``tests/report_burst.py``): 55 signed reports, one after another over HTTP, an OEM and two
suppliers each with a webhook for every event type at a receiver of its own, whose listen queue is the 5 that a
receiver built on Python's ``http.server`` gets. No latency is asserted (that is the benchmark's job,
``tests/bench/test_event_burst_bench.py``); a generous deadline only bounds the wait."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict

from sqlalchemy import select

from hub.db import make_engine, make_session_factory
from hub.local import free_port
from hub.models import Event, WebhookDelivery
from supplier_sdk.webhooks import verify
from tests.conftest import make_settings
from tests.hub.webhooks.helpers import Receiver
from tests.hub_server import served_hub
from tests.report_burst import burst_network, submit_burst

REPORTS = 55
DEADLINE_SECONDS = 60


def _received(receiver: Receiver) -> dict[str, set[bytes]]:
    """webhook-id → the distinct bodies that arrived under it."""
    bodies: defaultdict[str, set[bytes]] = defaultdict(set)
    for headers, body in list(receiver.requests):
        bodies[headers["webhook-id"]].add(body)
    return bodies


def test_every_event_of_a_burst_is_delivered_once_per_event_id(fresh_database: str) -> None:
    port = free_port()
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)

    def published() -> dict[uuid.UUID, set[str]]:
        with factory() as session:
            found: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
            for org_id, event_id in session.execute(select(Event.organization_id, Event.id)):
                found[org_id].add(str(event_id))
            return found

    try:
        with burst_network(factory, backlog=5) as network, served_hub(fresh_database, port) as hub:
            accepted = submit_burst(hub.base_url, network, REPORTS)
            deadline = time.monotonic() + DEADLINE_SECONDS
            while time.monotonic() < deadline:
                expected = published()
                if all(expected[org] <= set(_received(r)) for org, r in network.receivers.items()):
                    break
                time.sleep(0.1)
            expected = published()

        assert len(accepted) == REPORTS
        for org_id, receiver in network.receivers.items():
            received = _received(receiver)
            # Every event of the organization arrived, and nothing else did.
            assert set(received) == expected[org_id]
            for event_id, bodies in received.items():
                # A repeat (at least once) carries the same event under the same id, never a new one.
                assert len(bodies) == 1, f"event {event_id} arrived with different bodies"
            for headers, body in receiver.requests:
                assert (
                    verify(secret=network.secrets[org_id], headers=headers, body=body)["id"]
                    == headers["webhook-id"]
                )
        oem = _received(network.receivers[network.oem_id])
        reports = {
            json.loads(body)["subject_id"]
            for bodies in oem.values()
            for body in bodies
            if json.loads(body)["type"] == "kpi_report.accepted"
        }
        assert reports == set(accepted)
        with factory() as session:
            statuses = set(session.scalars(select(WebhookDelivery.status)))
        assert statuses == {"delivered"}
    finally:
        engine.dispose()
