"""The Kafka bridge against a real Kafka-protocol broker (Tansu, tests/kafka_broker.py): per-organization topics in
position order, keys by series or case, the CloudEvents envelope, the idempotent producer's configuration, resume
from the stored cursor, and what a crash between the acks and the cursor leaves (duplicates a consumer drops by
the CloudEvents id)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hub.events import service as events
from hub.models import KafkaStream, Organization
from hub.streams import envelope, topics
from hub.streams.bridge import Bridge, KafkaBridge, Opted
from protocol.models.common import OrgKind
from tests.conftest import TEST_ISSUER
from tests.hub.streams.helpers import Factory, cursor, session_factory
from tests.hub.streams.helpers import committed_events as _events
from tests.hub.streams.helpers import detached_org as _org
from tests.kafka_broker import read_topic

pytest.importorskip("confluent_kafka")

from hub.streams.kafka_sink import KafkaSink, producer_config


@pytest.fixture
def factory(fresh_database: str) -> Iterator[Factory]:
    yield from session_factory(fresh_database)


def _opt_in(factory: Factory, org: Organization) -> str:
    topic = f"qx.{uuid.uuid4().hex[:12]}.{org.kind}"
    with factory.begin() as session:
        topics.put_topic(session, org_id=org.id, topic=topic, actor="test", actor_org_id=org.id)
    return topic


def _cursor(factory: Factory, org: Organization) -> int:
    return cursor(factory, KafkaStream, org)


def _bridge(factory: Factory, bootstrap: str, partitions: int = 1) -> Bridge:
    return KafkaBridge(factory, bootstrap=bootstrap, issuer=TEST_ISSUER, partitions=partitions)


def _publish_once(factory: Factory, bootstrap: str, partitions: int = 1) -> int:
    async def once() -> int:
        async with _bridge(factory, bootstrap, partitions) as bridge:
            return await bridge.publish_once()

    return asyncio.run(once())


def _cloud(bootstrap: str, topic: str) -> list[tuple[int, str, dict[str, Any]]]:
    return [(p, (k or b"").decode(), json.loads(v)) for p, k, _h, v in read_topic(bootstrap, topic)]


def test_each_organization_gets_its_own_topic_in_position_order(
    factory: Factory, kafka_bootstrap: str
) -> None:
    oem, supplier = _org(factory), _org(factory, OrgKind.SUPPLIER)
    oem_topic, supplier_topic = _opt_in(factory, oem), _opt_in(factory, supplier)
    first = _events(factory, oem, "kpi_report.accepted", "standing.changed")
    with factory.begin() as session:  # one event, two recipients, two views
        events.publish(
            session,
            type="notification.sent",
            subject_id="qn-1",
            views={oem.id: {"side": "sender"}, supplier.id: {"side": "recipient"}},
        )
        session.flush()
        events.sequence(session)
    _events(factory, supplier, "agreement.accepted")

    assert _publish_once(factory, kafka_bootstrap) == 5
    oem_got, supplier_got = _cloud(kafka_bootstrap, oem_topic), _cloud(kafka_bootstrap, supplier_topic)
    with factory() as session:
        oem_rows = events.positioned_after(session, org_id=oem.id, after=0)
        supplier_rows = events.positioned_after(session, org_id=supplier.id, after=0)
    assert [m[2]["id"] for m in oem_got] == [str(e.id) for e in oem_rows]
    assert [m[2]["id"] for m in supplier_got] == [str(e.id) for e in supplier_rows]
    assert oem_got[2][2]["data"]["payload"] == {"side": "sender"}
    assert supplier_got[0][2]["data"]["payload"] == {"side": "recipient"}
    assert not {m[2]["id"] for m in oem_got} & {m[2]["id"] for m in supplier_got}

    _partition, key, cloud = oem_got[0]
    assert key == f"kpi_report:{first[0].subject_id}"
    assert oem_got[2][1] == "notification:qn-1"
    assert cloud["specversion"] == "1.0" and cloud["id"] == str(first[0].id)
    assert cloud["type"] == "io.qualink.kpi_report.accepted"
    assert cloud["source"] == f"{TEST_ISSUER}/v1/organizations/{oem.id}"
    assert cloud["position"] == first[0].position and cloud["data"] == events.as_message(first[0])
    headers = read_topic(kafka_bootstrap, oem_topic)[0][2]
    assert headers["content-type"] == envelope.CONTENT_TYPE.encode()
    assert _cursor(factory, oem) == oem_rows[-1].position


def test_a_series_key_keeps_a_series_in_one_partition_in_order(
    factory: Factory, kafka_bootstrap: str
) -> None:
    oem = _org(factory)
    topic = _opt_in(factory, oem)
    agreements = [str(uuid.uuid4()) for _ in range(4)]
    with factory.begin() as session:
        for round_ in range(3):
            for agreement in agreements:
                view = {"agreement_id": agreement, "characteristic": "DIA-01", "kpi": "cpk", "round": round_}
                events.publish(
                    session, type="kpi_report.accepted", subject_id=uuid.uuid4(), views={oem.id: view}
                )
        session.flush()
        events.sequence(session)
    assert _publish_once(factory, kafka_bootstrap, partitions=3) == 12

    got = _cloud(kafka_bootstrap, topic)
    assert len(got) == 12
    for agreement in agreements:
        series = [m for m in got if m[1] == f"series:{agreement}/DIA-01/cpk"]
        assert len({m[0] for m in series}) == 1  # one partition per series…
        assert [m[2]["data"]["payload"]["round"] for m in series] == [0, 1, 2]  # …in order
        positions = [m[2]["position"] for m in series]
        assert positions == sorted(positions)


def test_a_crash_between_the_acks_and_the_cursor_leaves_duplicates_the_consumer_drops_by_id(
    factory: Factory, kafka_bootstrap: str
) -> None:
    oem = _org(factory)
    topic = _opt_in(factory, oem)
    made = _events(factory, oem, "a.one", "a.two", "a.three")

    async def publish_and_crash() -> None:
        async with _bridge(factory, kafka_bootstrap) as bridge:
            await bridge.publish_events(Opted(oem.id, topic, 0), made)  # the process dies before the cursor

    asyncio.run(publish_and_crash())
    assert _cursor(factory, oem) == 0
    assert _publish_once(factory, kafka_bootstrap) == 3  # a new producer session sends them again
    ids = [m[2]["id"] for m in _cloud(kafka_bootstrap, topic)]
    assert ids == [str(e.id) for e in made] * 2  # Kafka has no Nats-Msg-Id: both copies are there…
    assert list(dict.fromkeys(ids)) == [
        str(e.id) for e in made
    ]  # …and dropping repeated ids restores the stream
    assert _cursor(factory, oem) == made[-1].position


def test_a_restarted_bridge_resumes_from_the_cursor_and_opting_out_stops(
    factory: Factory, kafka_bootstrap: str
) -> None:
    oem = _org(factory)
    _events(factory, oem, "b.before-opt-in")
    topic = _opt_in(factory, oem)
    before = _events(factory, oem, "b.one", "b.two")
    assert _publish_once(factory, kafka_bootstrap) == 2
    after = _events(factory, oem, "b.three")
    assert _publish_once(factory, kafka_bootstrap) == 1
    assert _publish_once(factory, kafka_bootstrap) == 0
    assert [m[2]["id"] for m in _cloud(kafka_bootstrap, topic)] == [str(e.id) for e in before + after]

    with factory.begin() as session:
        topics.remove_topic(session, org_id=oem.id, actor="test", actor_org_id=oem.id)
    _events(factory, oem, "b.four")
    assert _publish_once(factory, kafka_bootstrap) == 0
    assert len(_cloud(kafka_bootstrap, topic)) == 3


def test_the_producer_is_idempotent_with_acks_all_and_refuses_to_be_weakened() -> None:
    sink = KafkaSink(
        bootstrap="127.0.0.1:1",
        config={
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "bridge",
            "sasl.password": "s3cret",
            "acks": "-1",
        },
    )
    assert sink.config["enable.idempotence"] is True
    assert sink.config["acks"] == "all"
    assert sink.config["max.in.flight.requests.per.connection"] <= 5  # what idempotence keeps ordered
    assert sink.config["security.protocol"] == "SASL_PLAINTEXT"
    for weaker in ({"acks": "1"}, {"enable.idempotence": "false"}):
        with pytest.raises(ValueError, match="delivery contract"):
            producer_config("127.0.0.1:1", weaker)
    from confluent_kafka import Producer

    Producer(
        sink.config
    )  # librdkafka itself accepts the configuration (it refuses idempotence with bad acks)


def test_no_broker_fails_the_open_not_a_round() -> None:
    from confluent_kafka import KafkaException

    async def open_it() -> None:
        sink = KafkaSink(bootstrap=f"127.0.0.1:{_closed_port()}", config={"socket.timeout.ms": "1000"})
        await sink.open()

    with pytest.raises(KafkaException):
        asyncio.run(open_it())


def _closed_port() -> int:
    from hub.local import free_port

    return free_port()
