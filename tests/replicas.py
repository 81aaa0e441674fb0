"""Several hub processes on one PostgreSQL, as production runs them: ``hub serve`` replicas behind a round-robin
client, ``hub worker`` processes beside them, each one killable with SIGKILL and restartable on its port.

Every replica issues tokens for one public address (:data:`ISSUER`, the load balancer's name); the round-robin
transport sends each request to the next replica's loopback port, keeping that name in the Host header."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from hub.local import free_port

# The balancer's name. Loopback, because the OAuth library refuses plain HTTP to any other host (with a 500: see
# the report of issue #17); production serves HTTPS behind its proxy.
ISSUER = "http://localhost"
# Every loop of every replica busy at once, so that they compete for each job within the test's few seconds.
FAST_LOOPS = {
    "HUB_EVENTS_SEQUENCE_INTERVAL_SECONDS": "0.1",
    "HUB_WEBHOOK_DISPATCH_INTERVAL_SECONDS": "0.1",
    "HUB_AUDIT_SEAL_INTERVAL_SECONDS": "0.3",
    "HUB_RULES_SWEEP_INTERVAL_SECONDS": "0.3",
    "HUB_NOTIFICATIONS_ESCALATION_INTERVAL_SECONDS": "0.3",
}


def wait_until(condition: Callable[[], bool], *, seconds: float, failure: Callable[[], str]) -> None:
    """Poll ``condition`` until it holds; after ``seconds`` fail with ``failure()`` (what was seen instead)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure())
        time.sleep(0.05)


class HubProcess:
    """``hub serve`` (``kind="serve"``) or ``hub worker`` on a fixed port, started, killed and started again."""

    def __init__(self, database_url: str, kind: str, log: Path, **env: str) -> None:
        self.kind = kind
        self.log = log  # what the process said, appended over its restarts (read when it fails to start)
        self.port = free_port()
        self.env = {
            **os.environ,
            "HUB_DATABASE_URL": database_url,
            "HUB_ISSUER": ISSUER,
            "HUB_LOG_LEVEL": "ERROR",
            **FAST_LOOPS,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        """Start the process; :meth:`wait_until_ready` waits for it to answer."""
        if self.kind == "serve":
            args = ["serve", "--port", str(self.port), "--no-migrate"]
        else:
            args = ["worker", "--health-port", str(self.port), "--health-host", "127.0.0.1"]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", *args],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def wait_until_ready(self) -> None:
        # Importing the hub takes seconds on a loaded two-core machine; several starting at once take longer.
        def answers() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.kind} :{self.port} exited:\n{self.log.read_text()}")
            try:
                return httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(
            answers,
            seconds=120,
            failure=lambda: f"{self.kind} :{self.port} not ready in 120 s:\n{self.log.read_text()}",
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, open transactions and advisory locks dropped by PostgreSQL."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_all(processes: Sequence[HubProcess]) -> None:
    """Launch every process at once, then wait for each: their start-ups overlap."""
    for process in processes:
        process.launch()
    for process in processes:
        process.wait_until_ready()


class RoundRobin(httpx.BaseTransport):
    """Each request to the next replica in turn. With ``failover``, a replica that refuses the connection (the
    request never left) is skipped for the next one; without, the caller sees the error and retries itself."""

    def __init__(self, replicas: Sequence[HubProcess], *, failover: bool = False) -> None:
        self._replicas = list(replicas)
        self._turns = itertools.count()
        self._failover = failover
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempts = len(self._replicas) if self._failover else 1
        for attempt in range(attempts):
            replica = self._replicas[next(self._turns) % len(self._replicas)]
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=replica.port)
            try:
                return self._inner.handle_request(request)
            except httpx.ConnectError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._inner.close()


def pinned(replica: HubProcess) -> RoundRobin:
    """A transport to ``replica`` only (with the public name in the Host header, as through the balancer)."""
    return RoundRobin([replica])
