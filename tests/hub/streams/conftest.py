"""A real NATS server with JetStream for the bridge's tests: its own ``nats-server -js`` on a free loopback port
with a temporary store (so tests never see another run's streams), or the one ``HUB_TEST_NATS_URL`` names."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.local import free_port

NATS_SERVER = shutil.which("nats-server") or (
    "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nats-server did not listen on {port}: {log.read_text()[-2000:]}")


def start_nats_server(tmp: Path, *, config: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``nats-server -js`` (or with ``config``) on a free port, store under ``tmp``; returns it and its URL."""
    if NATS_SERVER is None:
        pytest.skip("no nats-server binary on this machine (apt-get install nats-server)")
    port = free_port()
    log = tmp / "nats.log"
    args = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port)]
    # A configuration names its own JetStream store (the caller points it into ``tmp``).
    args += ["-c", str(config)] if config is not None else ["-js", "-sd", str(tmp / "js")]
    with log.open("wb") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, f"nats://127.0.0.1:{port}"


def stop_nats_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("HUB_TEST_NATS_URL"):
        yield os.environ["HUB_TEST_NATS_URL"]
        return
    process, url = start_nats_server(tmp_path_factory.mktemp("nats"))
    try:
        yield url
    finally:
        stop_nats_server(process)


@pytest.fixture(scope="module")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Kafka-protocol broker (tests/kafka_broker.py): Tansu started here, or HUB_TEST_KAFKA_BOOTSTRAP."""
    from tests.kafka_broker import broker

    yield from broker(tmp_path_factory)
