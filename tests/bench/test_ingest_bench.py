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
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from hub import migrate
from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.config import Settings
from hub.db import make_engine, make_session_factory
from hub.demo.server import free_port
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.models.agreements import AgreementCreate
from protocol.models.common import KeyUse, OrgKind
from protocol.models.kpi import KPI_REPORT_TYPE, KpiClaim, KpiReportPayload
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.periods import Period, period_containing
from protocol.signing import public_key_raw, sign_envelope
from supplier_sdk.auth import public_jwk, token_request_form
from tests.conftest import create_postgres_database

CHARACTERISTICS = 150
WEEKS = 80
WRK_SECONDS = 10
WRK_THREADS = 2
CONCURRENCY = int(os.environ.get("HUB_BENCH_CONNECTIONS", "8"))
WORKERS = int(os.environ.get("HUB_BENCH_WORKERS", "2"))


def _database() -> str:
    base = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/qualink")
    return create_postgres_database(base, "bench")


def _setup(settings: Settings) -> dict[str, Any]:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    key, client_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    with make_session_factory(engine)() as session, session.begin():
        oem = orgs.create_organization(
            session, actor="bench", data=OrganizationCreate(name="OEM", kind=OrgKind.OEM)
        )
        supplier = orgs.create_organization(
            session, actor="bench", data=OrganizationCreate(name="Supplier", kind=OrgKind.SUPPLIER)
        )
        client, _ = orgs.create_client(
            session,
            actor="bench",
            actor_org_id=None,
            org_id=supplier.id,
            name="bench",
            scopes=None,
            public_jwk=public_jwk(client_key),
        )
        as_supplier = Caller(supplier.id, OrgKind.SUPPLIER, client.client_id, frozenset())
        as_oem = Caller(oem.id, OrgKind.OEM, "bench", frozenset())
        signing = orgs.register_key(
            session,
            caller=as_supplier,
            data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(key))),
        )
        chars = [
            {"code": f"C{i:03d}", "part_number": "P-1", "unit": "mm", "lsl": "9.9", "usl": "10.1"}
            for i in range(CHARACTERISTICS)
        ]
        data = AgreementCreate.model_validate(
            {
                "supplier_id": str(supplier.id),
                "title": "bench",
                "parts": [{"part_number": "P-1"}],
                "characteristics": chars,
                "kpis": [{"kpi": "cpk", "threshold": "1.33"}, {"kpi": "ppk", "threshold": "1.33"}],
                "valid_from": date(2020, 1, 1).isoformat(),
            }
        )
        agreement = agreements.propose(session, caller=as_oem, data=data)
        agreements.decide(session, caller=as_supplier, agreement_id=agreement.id, accept=True)
        ids = {"oem": oem.id, "supplier": supplier.id, "agreement": agreement.id, "client": client.client_id}
    engine.dispose()
    return {**ids, "key": key, "key_id": signing.key_id, "client_key": client_key}


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


def _envelopes(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    bodies, period = [], period_containing(datetime.now(UTC), Period.week(2026, 1).kind).previous()
    for _ in range(WEEKS):
        for i in range(CHARACTERISTICS):
            for kpi in ("cpk", "ppk"):
                payload = KpiReportPayload(
                    supplier_id=ctx["supplier"],
                    oem_id=ctx["oem"],
                    agreement_id=ctx["agreement"],
                    part_number="P-1",
                    characteristic=f"C{i:03d}",
                    period=str(period),
                    kpi=kpi,
                    claim=KpiClaim(
                        meets=True, value="1.5123", threshold="1.33", sample_size=125, subgroups=25
                    ),
                    sdk_version="bench",
                )
                envelope = sign_envelope(
                    payload, type=KPI_REPORT_TYPE, private_key=ctx["key"], key_id=ctx["key_id"]
                )
                bodies.append({"envelope": envelope.model_dump(mode="json")})
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
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_ISSUER": base_url, "HUB_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--no-migrate",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        form = token_request_form(
            client_id=ctx["client"],
            private_key=ctx["client_key"],
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
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"\n{stored} signed reports stored in {elapsed:.1f} s: {stored / elapsed:.0f}/s ({how});"
        f" {WORKERS} uvicorn workers, {CONCURRENCY} connections, non-201: {failures}"
    )
    assert stored < len(bodies), "the load ran out of reports: raise WEEKS or CHARACTERISTICS"
    assert failures == 0
