"""The hub's report path against its floor, in one run (issue #16): the same wrk script, bodies and uvicorn
settings posting signed KPI reports to `hub serve` and to a floor app (``ingest_floor_app``: validate, verify the
Ed25519 signature, INSERT one row), both on one PostgreSQL database.

    HUB_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        pytest tests/bench/test_ingest_floor_bench.py -s -p no:cacheprovider --override-ini addopts=

Printed for each: reports stored per second (counted from the rows the database holds), p50 and p99 (wrk),
CPU per report (the served process tree and the database's PostgreSQL backends, from ``/proc``, including the
background work that follows the load for ``SETTLE_SECONDS``) and statements per report (PostgreSQL's own
count, from pg_stat_statements when it is preloaded; "n/a" otherwise); then the hub's ratio to the floor.
HUB_BENCH_WORKERS (default 2) and HUB_BENCH_CONNECTIONS (default 8) set the shape, as in test_ingest_bench.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from hub.config import Settings
from hub.local import free_port
from supplier_sdk.auth import token_request_form
from tests.bench._cpu import Meter
from tests.bench.test_ingest_bench import WORKERS, _database, _envelopes, _fire, _setup, _stored, _wrk
from tests.hub_server import served_hub, wait_until_ready

WEEKS = 50  # per side: 50 x 150 characteristics x 2 KPIs = 15,000 reports, more than 10 s of either
SETTLE_SECONDS = 3.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    name: str
    stored: int
    seconds: float
    p50: str
    p99: str
    failures: int
    cpu: float
    statements: int | None

    @property
    def rate(self) -> float:
        return self.stored / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.stored * 1000

    def line(self) -> str:
        per = "n/a" if self.statements is None else f"{self.statements / self.stored:.1f}"
        return (
            f"{self.name:>5}: {self.stored:6d} stored in {self.seconds:.1f} s = {self.rate:6.0f}/s,"
            f" p50 {self.p50}, p99 {self.p99}; CPU {self.cpu_ms:.2f} ms/report; {per} statements/report;"
            f" non-201 {self.failures}"
        )


@contextmanager
def served_floor(database_url: str, port: int, *, on_loop: bool = False) -> Iterator[subprocess.Popen[bytes]]:
    """The floor app under uvicorn; ``on_loop`` serves its async endpoint on an async engine instead."""
    env = {**os.environ, "FLOOR_DATABASE_URL": database_url, "FLOOR_ASYNC": "1" if on_loop else "0"}
    command = [sys.executable, "-m", "uvicorn", "tests.bench.ingest_floor_app:app", "--port", str(port)]
    command += ["--workers", str(WORKERS), "--log-level", "warning", "--http", "httptools"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(10)


def _load(
    name: str, base_url: str, token: str, bodies: list[dict[str, Any]], meter: Meter, database: str
) -> Run:
    warmup, bodies = bodies[:500], bodies[500:]
    asyncio.run(_fire(base_url, token, warmup))
    time.sleep(SETTLE_SECONDS)
    before, start = _stored(database), meter.read()
    if shutil.which("wrk"):
        seconds, output = _wrk(base_url, token, bodies)
        latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
        found = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        p50, p99, failures = (
            latency.get("50", "?"),
            latency.get("99", "?"),
            int(found.group(1)) if found else 0,
        )
    else:
        seconds, latencies, failures = asyncio.run(_fire(base_url, token, bodies))
        latencies.sort()
        p50 = f"{latencies[len(latencies) // 2] * 1000:.1f}ms"
        p99 = f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f}ms"
    time.sleep(SETTLE_SECONDS)  # the hub's sequencer, dispatcher and sealer finish what the load left them
    stored = _stored(database) - before
    cpu, statements = meter.since(start)
    run = Run(name, stored, seconds, p50, p99, failures, cpu, statements)
    assert stored < len(bodies), f"the load ran out of reports: raise WEEKS ({run.line()})"
    return run


R = TypeVar("R")
Load = Callable[[str, str, str, list[dict[str, Any]], Meter, str], R]


def hub_then_floor(load: Load[R], *, weeks: int) -> tuple[R, R]:
    """``load`` run on `hub serve` and then on the floor app, on one fresh PostgreSQL database, each with its own
    pre-signed reports (as ``load(name, base_url, token, bodies, meter, database_url)``)."""
    database_url = _database()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    network = _setup(Settings(database_url=database_url, issuer=base_url, environment="development"))
    hub_bodies = _envelopes(network, weeks=weeks)
    floor_bodies = _envelopes(network, weeks=weeks, skip_weeks=weeks)
    with served_hub(database_url, port, workers=WORKERS) as hub:
        form = token_request_form(
            client_id=network.client_id,
            private_key=network.key,
            token_url=f"{base_url}/oauth/token",
            scope="kpi:write",
        )
        token = httpx.post(f"{base_url}/oauth/token", data=form).json()["access_token"]
        wait_until_ready(base_url)
        hub_run = load("hub", base_url, token, hub_bodies, Meter(database_url, hub.process.pid), database_url)
    floor_port = free_port()
    with served_floor(database_url, floor_port) as floor:
        floor_url = f"http://127.0.0.1:{floor_port}"
        floor_run = load(
            "floor", floor_url, token, floor_bodies, Meter(database_url, floor.pid), database_url
        )
    return hub_run, floor_run


@pytest.mark.bench
def test_the_report_path_against_its_floor() -> None:
    hub_run, floor_run = hub_then_floor(_load, weeks=WEEKS)
    print(f"\n{hub_run.line()}\n{floor_run.line()}")
    print(
        f"hub / floor: rate {hub_run.rate / floor_run.rate:.3f} (goal >= 0.6),"
        f" CPU per report {hub_run.cpu_ms / floor_run.cpu_ms:.1f}x; load average {os.getloadavg()[0]:.1f}"
    )
    print(json.dumps({"hub": hub_run.__dict__, "floor": floor_run.__dict__}, default=str))
    assert hub_run.failures == 0 and floor_run.failures == 0


@pytest.mark.bench
def test_an_async_endpoint_against_the_thread_pool_hand_off() -> None:
    """Issue #16 item 4: the floor's sync endpoint (Starlette runs it in its thread pool) against the same work as
    an ``async def`` on an async engine, one after the other on one database with their own reports."""
    database_url = _database()
    issuer = f"http://127.0.0.1:{free_port()}"
    network = _setup(Settings(database_url=database_url, issuer=issuer, environment="development"))
    runs = []
    for n, on_loop in enumerate((False, True)):
        bodies = _envelopes(network, weeks=WEEKS, skip_weeks=n * WEEKS)
        port = free_port()
        with served_floor(database_url, port, on_loop=on_loop) as floor:
            name = "async" if on_loop else "sync"
            meter = Meter(database_url, floor.pid)
            runs.append(_load(name, f"http://127.0.0.1:{port}", "unused", bodies, meter, database_url))
    sync_run, async_run = runs
    print(f"\n{sync_run.line()}\n{async_run.line()}")
    print(
        f"async / sync: rate {async_run.rate / sync_run.rate:.3f}, CPU per report"
        f" {async_run.cpu_ms / sync_run.cpu_ms:.2f}x; load average {os.getloadavg()[0]:.1f}"
    )
    assert sync_run.failures == 0 and async_run.failures == 0
