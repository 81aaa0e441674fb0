"""The bridges' rate: 2,000 events of one organization through `KafkaBridge` (Tansu) and `NatsBridge` (nats-server),
each against a floor measured in the same run: the same encoded messages published straight through the same
client and settings, without the hub's database reads, envelopes or cursor updates.

    pytest tests/bench/test_stream_bridge_bench.py -s -p no:cacheprovider --override-ini addopts=
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.events import service as events
from hub.models import Event
from hub.streams import envelope, service, topics
from hub.streams.bridge import KafkaBridge, NatsBridge
from protocol.models.common import OrgKind
from tests.conftest import TEST_ISSUER
from tests.hub.conftest import make_org
from tests.hub.streams.conftest import start_nats_server, stop_nats_server
from tests.hub.streams.helpers import session_factory
from tests.kafka_broker import broker

EVENTS = 2000
Factory = sessionmaker[Session]


@pytest.fixture
def factory(fresh_database: str) -> Iterator[Factory]:
    yield from session_factory(fresh_database)


@pytest.fixture(scope="module")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from broker(tmp_path_factory)


def _backlog(factory: Factory, platform: str) -> tuple[uuid.UUID, list[Event]]:
    with factory() as session:
        org_id = make_org(session, OrgKind.OEM).id
    with factory.begin() as session:
        target = f"bench.{uuid.uuid4().hex[:8]}"
        if platform == "kafka":
            topics.put_topic(session, org_id=org_id, topic=target, actor="bench", actor_org_id=None)
        else:
            service.put_stream(session, org_id=org_id, prefix=target, actor="bench", actor_org_id=None)
        for i in range(EVENTS):
            view = {"agreement_id": str(uuid.uuid4()), "characteristic": "DIA-01", "kpi": "cpk", "i": i}
            events.publish(session, type="kpi_report.accepted", subject_id=uuid.uuid4(), views={org_id: view})
        session.flush()
        numbered = events.sequence(session)
        session.expunge_all()
        return org_id, numbered


def _report(name: str, bridge_s: float, floor_s: float) -> None:
    load = os.getloadavg()
    print(
        f"\n{name}: {EVENTS} events, bridge {bridge_s:.2f} s ({EVENTS / bridge_s:,.0f}/s), floor {floor_s:.2f} s "
        f"({EVENTS / floor_s:,.0f}/s), ratio {bridge_s / floor_s:.1f}; load {load[0]:.1f} {load[1]:.1f}"
    )


@pytest.mark.bench
def test_kafka_bridge_rate(factory: Factory, kafka_bootstrap: str) -> None:
    from confluent_kafka import Producer

    from hub.streams.kafka_sink import producer_config

    _org, made = _backlog(factory, "kafka")
    bridge = KafkaBridge(factory, bootstrap=kafka_bootstrap, issuer=TEST_ISSUER)

    async def run() -> int:
        async with bridge:
            return await bridge.publish_once()

    started = time.perf_counter()
    assert asyncio.run(run()) == EVENTS
    bridge_s = time.perf_counter() - started

    outgoing = [envelope.outgoing(e, issuer=TEST_ISSUER) for e in made]
    topic = f"floor.{uuid.uuid4().hex[:8]}"
    producer = Producer(producer_config(kafka_bootstrap))
    producer.produce(topic, value=b"warm-up")  # topic auto-creation out of the measurement
    producer.flush(30)
    started = time.perf_counter()
    for start in range(0, EVENTS, 200):  # the bridge's batch: produce 200, flush, as it does
        for o in outgoing[start : start + 200]:
            producer.produce(topic, value=o.body, key=o.key.encode())
        assert producer.flush(30) == 0
    _report("Kafka (Tansu)", bridge_s, time.perf_counter() - started)


@pytest.mark.bench
def test_nats_bridge_rate(factory: Factory, tmp_path_factory: pytest.TempPathFactory) -> None:
    import nats

    process, url = start_nats_server(tmp_path_factory.mktemp("nats"))
    try:
        _org, made = _backlog(factory, "nats")
        bridge = NatsBridge(factory, servers=url, issuer=TEST_ISSUER)

        async def run() -> int:
            async with bridge:
                return await bridge.publish_once()

        started = time.perf_counter()
        assert asyncio.run(run()) == EVENTS
        bridge_s = time.perf_counter() - started
        outgoing = [envelope.outgoing(e, issuer=TEST_ISSUER) for e in made]

        async def floor() -> float:
            nc = await nats.connect(servers=[url])
            js = nc.jetstream()
            await js.add_stream(name="FLOOR", subjects=["floor.>"], duplicate_window=3600.0)
            began = time.perf_counter()
            for o in outgoing:  # one PubAck awaited per message, as the sink does
                await js.publish(f"floor.{o.type}", o.body, headers={"Nats-Msg-Id": o.id})
            took = time.perf_counter() - began
            await nc.close()
            return took

        _report("NATS JetStream", bridge_s, asyncio.run(floor()))
    finally:
        stop_nats_server(process)
