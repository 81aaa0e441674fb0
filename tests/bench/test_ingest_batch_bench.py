"""The batch path against its floor (issue #16 item 3): `POST /v1/kpi-reports:batch` of 100 unproven signed
reports to `hub serve`, and the same batches to the floor app's batch endpoint (validate and verify each item,
INSERT all rows in one statement and one transaction), on one PostgreSQL database, in one run.

    HUB_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        pytest tests/bench/test_ingest_batch_bench.py -s -p no:cacheprovider --override-ini addopts=

Printed for each: reports stored per second (counted from the rows the database holds), the median and p99 time
per batch, CPU per report (served process tree and PostgreSQL backends, from ``/proc``) and statements per report
(pg_stat_statements when preloaded); then the hub's ratio to the floor. The goal is >= 4,000 reports/s.
HUB_BENCH_WORKERS (default 2) sets the uvicorn workers; BATCH_CONNECTIONS (default 4) the batches in flight.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.bench._cpu import Meter
from tests.bench.test_ingest_bench import _stored
from tests.bench.test_ingest_floor_bench import SETTLE_SECONDS, hub_then_floor

BATCH = 100
WEEKS = 40  # per side: 40 x 150 characteristics x 2 KPIs = 12,000 reports = 120 batches
CONNECTIONS = int(os.environ.get("BATCH_CONNECTIONS", "4"))


@dataclass(frozen=True)
class Run:
    name: str
    stored: int
    seconds: float
    batch_ms: list[float]
    failures: int
    cpu: float
    statements: int | None

    def line(self) -> str:
        per = "n/a" if self.statements is None else f"{self.statements / self.stored:.2f}"
        times = sorted(self.batch_ms)
        return (
            f"{self.name:>5}: {self.stored:6d} stored in {self.seconds:.1f} s = {self.stored / self.seconds:6.0f}/s,"
            f" batch median {times[len(times) // 2]:.0f} ms, p99 {times[int(len(times) * 0.99)]:.0f} ms;"
            f" CPU {self.cpu / self.stored * 1000:.3f} ms/report; {per} statements/report;"
            f" failed items {self.failures}"
        )


async def _post_batches(
    base_url: str, token: str, batches: list[list[dict[str, Any]]]
) -> tuple[float, list[float], int]:
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    times: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                items = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    "/v1/kpi-reports:batch",
                    json={"items": items},
                    headers={"Authorization": f"Bearer {token}"},
                )
                times.append((time.perf_counter() - started) * 1000)
                results = response.json()["results"] if response.status_code == 200 else []
                failures += len(items) - sum(1 for result in results if result["status"] == 201)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        return time.perf_counter() - started, times, failures


def _load(
    name: str, base_url: str, token: str, bodies: list[dict[str, Any]], meter: Meter, database: str
) -> Run:
    batches = [bodies[n : n + BATCH] for n in range(0, len(bodies), BATCH)]
    warmup, batches = batches[:5], batches[5:]
    asyncio.run(_post_batches(base_url, token, warmup))
    time.sleep(SETTLE_SECONDS)
    before, start = _stored(database), meter.read()
    seconds, times, failures = asyncio.run(_post_batches(base_url, token, batches))
    time.sleep(SETTLE_SECONDS)  # what the load left the sequencer, dispatcher and sealer is counted too
    stored = _stored(database) - before
    cpu, statements = meter.since(start)
    return Run(name, stored, seconds, times, failures, cpu, statements)


@pytest.mark.bench
def test_the_batch_path_against_its_floor() -> None:
    hub_run, floor_run = hub_then_floor(_load, weeks=WEEKS)
    print(f"\n{hub_run.line()}\n{floor_run.line()}")
    print(
        f"hub / floor: rate {(hub_run.stored / hub_run.seconds) / (floor_run.stored / floor_run.seconds):.3f},"
        f" goal >= 4,000 reports/s; load average {os.getloadavg()[0]:.1f}"
    )
    assert hub_run.failures == 0 and floor_run.failures == 0
