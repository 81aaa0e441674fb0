"""The agent's stream sources end to end: measurements from a real NATS JetStream subject (its own nats-server) and
a real Kafka-protocol topic (Tansu, tests/kafka_broker.py) reported per period to a real hub on a socket. The dry
run shows the rows and acknowledges nothing; a pass acknowledges only the settled period's messages (and those too
old to count), keeps the open period's; a restarted agent neither loses nor counts twice; no measurement byte
reaches the hub, the outbox or the state files."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplier_sdk.agent.config import load_agent_config
from supplier_sdk.cli import app
from tests.hub.streams.conftest import start_nats_server, stop_nats_server
from tests.kafka_broker import broker, create_topic
from tests.supplier_sdk.agent.agent_support import distinctive_values, last_week, times_in
from tests.supplier_sdk.agent.test_agent_hub import (
    TERMS,
    RecordingTransport,
    agent_for,
    files_bytes,
    mapping,
    stored_rows,
    write_config,
)
from tests.supplier_sdk.test_client_support import Network, Reporting, running_network

pytestmark = pytest.mark.e2e
nats = pytest.importorskip("nats")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_agent_streams") as network:
        yield network


@pytest.fixture
def reporting(network: Network) -> Reporting:
    return network.reporting(**TERMS)


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = start_nats_server(tmp_path_factory.mktemp("nats"))
    try:
        yield url
    finally:
        stop_nats_server(process)


@pytest.fixture(scope="module")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from broker(tmp_path_factory)


def _measurements(values: list[float]) -> tuple[list[str], list[str], list[str]]:
    """The closed week's messages (JSON), the open week's, and some two weeks old, as a plant's MES sends them."""
    window = last_week()
    in_period = [
        json.dumps({"measured_at": t.isoformat(), "diameter": v, "station": "S1"})
        for t, v in zip(times_in(window, len(values)), values, strict=True)
    ]
    later = [
        json.dumps({"measured_at": (window.end + timedelta(minutes=5 + i)).isoformat(), "diameter": 25.0})
        for i in range(5)
    ]
    old = [
        json.dumps({"measured_at": t.isoformat(), "diameter": 24.9})
        for t in times_in(window, 3, offset_days=-14)
    ]
    return in_period, later, old


def _assert_no_measurement_left(values: list[float], sent: bytes, tmp_path: Path, network: Network) -> None:
    kept = files_bytes([tmp_path / "outbox.db", tmp_path / "state.json", tmp_path / "status.json"])
    kept += stored_rows(network.hub.settings.database_url)
    for value in values:
        for text in (f"{value:.5f}", repr(value)):
            assert text.encode() not in sent, text
            assert text.encode() not in kept, text


# -- NATS JetStream ------------------------------------------------------------------------------------------------


async def _nats_publish(url: str, subject: str, messages: list[str]) -> None:
    nc = await nats.connect(servers=[url])
    try:
        js = nc.jetstream()
        await js.add_stream(name=f"MES_{uuid.uuid4().hex[:8].upper()}", subjects=[subject])
        for message in messages:
            await js.publish(subject, message.encode())
    finally:
        await nc.close()


async def _nats_consumer(url: str, subject: str, durable: str) -> tuple[int, int, int]:
    """The durable consumer's (acknowledged floor, not yet delivered, delivered or NAKed and not acknowledged)."""
    nc = await nats.connect(servers=[url])
    try:
        js = nc.jetstream()
        info = await js.consumer_info(await js.find_stream_name_by_subject(subject), durable)
        return info.ack_floor.stream_seq, info.num_pending, info.num_ack_pending
    finally:
        await nc.close()


async def _hold_without_ack(url: str, subject: str, durable: str) -> int:
    """Another process of the agent fetches with the durable consumer and dies without acknowledging."""
    nc = await nats.connect(servers=[url])
    try:
        sub = await nc.jetstream().pull_subscribe(subject, durable=durable)
        return len(await sub.fetch(3, timeout=2))
    finally:
        await nc.close()


def _nats_source(url: str, subject: str, durable: str) -> str:
    return f"""
[sources.mes]
kind = "nats"
url = "{url}"
subject = "{subject}"
durable = "{durable}"
time_column = "measured_at"
wait_seconds = 1
"""


def test_a_jetstream_subject_reports_its_closed_period_and_acknowledges_only_it(
    network: Network, reporting: Reporting, nats_url: str, tmp_path: Path
) -> None:
    values = distinctive_values(71)
    in_period, later, old = _measurements(values)
    subject, durable = f"plant.{uuid.uuid4().hex[:8]}.dia", f"agent-{uuid.uuid4().hex[:8]}"
    asyncio.run(_nats_publish(nats_url, subject, old + in_period + ["not json"] + later))
    path = write_config(
        tmp_path, network, reporting, _nats_source(nats_url, subject, durable),
        mapping("dia-cpk", reporting.agreement, "cpk", "mes", "diameter"),
    )  # fmt: skip

    checked = CliRunner().invoke(app, ["agent", "check", "--config", str(path), "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout.splitlines()[0])["rows"] == 25
    floor, pending, held = asyncio.run(_nats_consumer(nats_url, subject, durable))
    assert floor == 0 and pending + held == 34  # the dry run acknowledged nothing (handed all back by NAK)

    config = load_agent_config(path)
    transport = RecordingTransport()
    agent = agent_for(config, network, reporting, transport)
    outcomes = agent.run_pass()
    agent.close()
    assert [(o.mapping, o.outcome, o.rows) for o in outcomes] == [("dia-cpk", "accepted", 25)], outcomes
    stored = list(network.client(network.oem).kpi_reports.list(agreement_id=reporting.agreement.id))
    assert len(stored) == 1 and stored[0].period == str(last_week().period)
    floor, pending, held = asyncio.run(_nats_consumer(nats_url, subject, durable))
    assert floor == 3 + 25 + 1  # the old, the period's and the unreadable message are acknowledged…
    assert pending + held == 5  # …the open week's are handed back

    restarted = agent_for(load_agent_config(path), network, reporting)
    assert restarted.run_pass() == []  # the period is settled: nothing counted twice
    restarted.close()
    assert sum(asyncio.run(_nats_consumer(nats_url, subject, durable))[1:]) == 5
    _assert_no_measurement_left(values, transport.bodies(), tmp_path, network)


def test_messages_a_crashed_run_held_fail_the_pass_rather_than_report_a_short_period(
    network: Network, reporting: Reporting, nats_url: str, tmp_path: Path
) -> None:
    in_period, _later, _old = _measurements(distinctive_values(72))
    subject, durable = f"plant.{uuid.uuid4().hex[:8]}.dia", f"agent-{uuid.uuid4().hex[:8]}"
    asyncio.run(_nats_publish(nats_url, subject, in_period))
    path = write_config(
        tmp_path, network, reporting, _nats_source(nats_url, subject, durable),
        mapping("dia-cpk", reporting.agreement, "cpk", "mes", "diameter"),
    )  # fmt: skip
    agent_for(load_agent_config(path), network, reporting).run_pass(send=False)  # makes the durable consumer
    assert asyncio.run(_hold_without_ack(nats_url, subject, durable)) == 3

    outcomes = agent_for(load_agent_config(path), network, reporting).run_pass()
    assert [o.outcome for o in outcomes] == ["failed"]
    assert "an earlier run held are not redelivered yet" in (outcomes[0].reason or "")
    assert list(network.client(network.oem).kpi_reports.list(agreement_id=reporting.agreement.id)) == []


# -- Kafka ---------------------------------------------------------------------------------------------------------


def _kafka_publish(bootstrap: str, topic: str, lines: list[str], partitions: int) -> None:
    from confluent_kafka import Producer

    create_topic(bootstrap, topic, partitions=partitions)
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    for i, line in enumerate(lines):
        producer.produce(topic, value=line.encode(), key=f"station-{i % partitions}".encode())
    assert producer.flush(30) == 0


def _committed(bootstrap: str, topic: str, group: str, partitions: int) -> list[int]:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return [tp.offset for tp in found]
    finally:
        consumer.close()


def test_a_kafka_topic_of_csv_lines_reports_its_closed_period_and_commits_only_it(
    network: Network, reporting: Reporting, kafka_bootstrap: str, tmp_path: Path
) -> None:
    values = distinctive_values(73)
    in_period, later, old = _measurements(values)
    as_csv = [
        ";".join([m["measured_at"], "S1", str(m["diameter"])]) for m in map(json.loads, old + in_period)
    ]
    open_week = [";".join([m["measured_at"], "S1", str(m["diameter"])]) for m in map(json.loads, later)]
    topic, group = f"mes.{uuid.uuid4().hex[:8]}", f"agent-{uuid.uuid4().hex[:8]}"
    _kafka_publish(kafka_bootstrap, topic, [*as_csv, "no;time", *open_week], partitions=1)
    sources = f"""
[sources.mes]
kind = "kafka"
url = "{kafka_bootstrap}"
topic = "{topic}"
durable = "{group}"
format = "csv"
delimiter = ";"
columns = ["measured_at", "station", "diameter"]
time_column = "measured_at"
wait_seconds = 1.5
"""
    path = write_config(
        tmp_path,
        network,
        reporting,
        sources,
        mapping("dia-ppm", reporting.agreement, "ppm", "mes", "diameter"),
    )
    checked = CliRunner().invoke(app, ["agent", "check", "--config", str(path)])
    assert checked.exit_code == 0, checked.output
    assert ": 25 rows, ppm " in checked.stdout
    assert _committed(kafka_bootstrap, topic, group, 1) == [-1001]  # the dry run committed nothing

    transport = RecordingTransport()
    agent = agent_for(load_agent_config(path), network, reporting, transport)
    outcomes = agent.run_pass()
    agent.close()
    assert [(o.outcome, o.rows) for o in outcomes] == [("accepted", 25)], outcomes
    # committed up to the open week's first message: the old, the period's and the unreadable line are behind it
    assert _committed(kafka_bootstrap, topic, group, 1) == [3 + 25 + 1]

    restarted = agent_for(load_agent_config(path), network, reporting)
    assert restarted.run_pass() == []
    restarted.close()
    assert _committed(kafka_bootstrap, topic, group, 1) == [29]
    assert len(list(network.client(network.oem).kpi_reports.list(agreement_id=reporting.agreement.id))) == 1
    _assert_no_measurement_left(values, transport.bodies(), tmp_path, network)
