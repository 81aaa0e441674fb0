"""Signed KPI reports accepted end to end over HTTP: `hub serve --workers 2` on PostgreSQL, a real socket.

Run on demand (not part of the suite):

    HUB_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        pytest tests/bench/test_ingest_bench.py -s -p no:cacheprovider --override-ini addopts=

The load comes from wrk (C, a Lua script posting pre-signed reports; `apt-get install wrk`) when it is on the
PATH, else from httpx in this process. Either way it shares the two cores with the hub and PostgreSQL.
HUB_BENCH_WORKERS (default 2) and HUB_BENCH_CONNECTIONS (default 8) set the shape.
Reports are signed before the clock starts (signing is the supplier's cost, not the hub's); the rate is
counted from the rows the database holds afterwards, so only reports really stored count.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from hub import migrate
from hub.config import Settings
from hub.db import make_engine, make_session_factory
from hub.local import free_port
from protocol.models.common import PeriodKind
from protocol.periods import period_containing
from supplier_sdk.auth import token_request_form
from tests.conftest import create_postgres_database
from tests.hub_server import served_hub
from tests.network import Network, build_network

CHARACTERISTICS = 150
WEEKS = 80
WRK_SECONDS = 10
WRK_THREADS = 2
CONCURRENCY = int(os.environ.get("HUB_BENCH_CONNECTIONS", "8"))
WORKERS = int(os.environ.get("HUB_BENCH_WORKERS", "2"))


def _database() -> str:
    base = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/qualink")
    return create_postgres_database(base, "bench")


def _setup(settings: Settings) -> Network:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    network = build_network(
        make_session_factory(engine),
        characteristics=[f"C{i:03d}" for i in range(CHARACTERISTICS)],
        kpis=("cpk", "ppk"),
    )
    engine.dispose()
    return network


def _stored(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT count(*) FROM kpi_reports")).scalar_one())
    engine.dispose()
    return count


def _wrk(base_url: str, token: str, bodies: list[dict[str, Any]]) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        for thread in range(WRK_THREADS):
            lines = [json.dumps(body) for body in bodies[thread::WRK_THREADS]]
            Path(tmp, f"bodies-{thread}.ndjson").write_text("\n".join(lines) + "\n")
        script = Path(__file__).with_name("ingest_wrk.lua")
        command = [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{CONCURRENCY}",
            f"-d{WRK_SECONDS}s",
            "--latency",
            "-s",
            str(script),
            base_url,
            "--",
            tmp,
            token,
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(WRK_SECONDS), output


def _envelopes(network: Network, *, weeks: int = WEEKS, skip_weeks: int = 0) -> list[dict[str, Any]]:
    """Pre-signed report bodies for ``weeks`` weeks back from last week, after skipping ``skip_weeks``."""
    bodies, period = [], period_containing(datetime.now(UTC), PeriodKind.WEEK).previous()
    for _ in range(skip_weeks):
        period = period.previous()
    for _ in range(weeks):
        for i in range(CHARACTERISTICS):
            for kpi in ("cpk", "ppk"):
                payload = network.payload(f"C{i:03d}", value="1.5123", kpi=kpi, period=str(period))
                bodies.append({"envelope": network.envelope(payload).model_dump(mode="json")})
        period = period.previous()
    return bodies


async def _fire(base_url: str, token: str, bodies: list[dict[str, Any]]) -> tuple[float, list[float], int]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    "/v1/kpi-reports",
                    json=body,
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started, latencies, failures


@pytest.mark.bench
def test_signed_reports_per_second_on_postgresql() -> None:
    database_url = _database()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=database_url, issuer=base_url, environment="development")
    ctx = _setup(settings)
    with served_hub(database_url, port, workers=WORKERS):
        form = token_request_form(
            client_id=ctx.client_id,
            private_key=ctx.key,
            token_url=f"{base_url}/oauth/token",
            scope="kpi:write",
        )
        token = httpx.post(f"{base_url}/oauth/token", data=form).json()["access_token"]
        bodies = _envelopes(ctx)
        warmup, bodies = bodies[:500], bodies[500:]
        asyncio.run(_fire(base_url, token, warmup))
        before = _stored(database_url)
        if shutil.which("wrk"):
            elapsed, output = _wrk(base_url, token, bodies)
            latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
            found = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
            failures = int(found.group(1)) if found else 0
            how = f"wrk, p50 {latency.get('50')}, p99 {latency.get('99')}"
        else:
            elapsed, latencies, failures = asyncio.run(_fire(base_url, token, bodies))
            latencies.sort()
            how = f"httpx in-process, p50 {latencies[len(latencies) // 2] * 1000:.1f} ms"
        stored = _stored(database_url) - before
    print(
        f"\n{stored} signed reports stored in {elapsed:.1f} s: {stored / elapsed:.0f}/s ({how});"
        f" {WORKERS} uvicorn workers, {CONCURRENCY} connections, non-201: {failures}"
    )
    assert stored < len(bodies), "the load ran out of reports: raise WEEKS or CHARACTERISTICS"
    assert failures == 0
