"""Genealogy import rows per second on PostgreSQL: NDJSON over HTTP (`hub serve`, a real socket) and the CLI.

    HUB_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        pytest tests/bench/test_genealogy_import_bench.py -s -p no:cacheprovider --override-ini addopts=

The data is a synthetic network (``hub synth genealogy``, 4 tiers, seed 21; ``GENEALOGY_BENCH_LOTS`` lots,
default 50,000, about 4.4 records per lot: part types, plants, lots, vehicles, ~3 links per lot, shipments,
inventory). Each path gets a fresh database, dropped afterwards.

- CLI: ``hub genealogy import FILE`` as the operator, the whole multi-organization file in one process.
- HTTP: each organization imports its own records with its own client (``genealogy:write``): one streamed
  ``POST /v1/genealogy:import`` per record type and organization, bottom tier first, as partners would.

Printed: rows, seconds, rows/s for each path, and the re-import of the same file (all rows unchanged).
The target is 20,000 rows/s; the machine's two cores are shared by the client, the hub and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from hub import migrate
from hub.config import Settings
from hub.db import make_engine, make_session_factory
from hub.genealogy.synth import write_ndjson
from hub.local import free_port
from hub.models import Asset, AssetLink, Organization
from hub.orgs import service as orgs
from tests.conftest import _drop_database, create_postgres_database
from tests.hub_server import served_hub

LOTS = int(os.environ.get("GENEALOGY_BENCH_LOTS", "50000"))
PHASES = ("part_type", "plant", "batch", "serial_part", "link", "shipment", "inventory")


def _database() -> str:
    base = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/qualink")
    url = create_postgres_database(base, "genealogy_bench")
    engine = make_engine(Settings(database_url=url, environment="development"))
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _file(directory: Path) -> tuple[Path, int]:
    path = directory / "network.ndjson"
    with path.open("w", encoding="utf-8") as handle:
        counts = write_ndjson(handle, lots=LOTS, tiers=4, seed=21)
    return path, sum(counts.values())


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli(database_url: str, path: Path) -> tuple[float, str]:
    """Wall time and output of ``hub genealogy import``; its CPU seconds (the client's share, which the
    machine's load barely changes) are appended to the output."""
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_LOG_LEVEL": "WARNING"}
    cpu = _cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "genealogy", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    return elapsed, " ".join(done.stdout.split()) + f" | client CPU {_cpu_of_children() - cpu:.1f} s"


def _counts(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assets = connection.execute(select(func.count()).select_from(Asset)).scalar_one()
        links = connection.execute(
            select(func.count()).select_from(AssetLink).where(AssetLink.child_id.is_not(None))
        ).scalar_one()
    engine.dispose()
    return int(assets), int(links)


def _slices(path: Path) -> tuple[list[dict[str, str]], dict[tuple[str, str], list[bytes]]]:
    """The organization records, and every other line grouped by (record type, organization)."""
    organizations: list[dict[str, str]] = []
    slices: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    with path.open("rb") as handle:
        for line in handle:
            record = json.loads(line)
            if record["type"] == "organization":
                organizations.append(record)
            else:
                slices[(record["type"], record["organization_id"])].append(line)
    return organizations, slices


def _clients(database_url: str, organizations: list[dict[str, str]]) -> dict[str, tuple[str, str]]:
    engine = make_engine(Settings(database_url=database_url, environment="development"))
    clients: dict[str, tuple[str, str]] = {}
    with make_session_factory(engine).begin() as session:
        for org in organizations:
            session.add(Organization(id=uuid.UUID(org["id"]), name=org["name"], kind=org["kind"]))
        session.flush()
        for org in organizations:
            client, secret = orgs.create_client(
                session,
                actor="bench",
                actor_org_id=None,
                org_id=uuid.UUID(org["id"]),
                name="importer",
                scopes=["genealogy:write"],
                public_jwk=None,
            )
            assert secret is not None
            clients[org["id"]] = (client.client_id, secret)
    engine.dispose()
    return clients


def _stream(lines: list[bytes], size: int = 256 * 1024) -> Iterator[bytes]:
    buffer: list[bytes] = []
    held = 0
    for line in lines:
        buffer.append(line)
        held += len(line)
        if held >= size:
            yield b"".join(buffer)
            buffer, held = [], 0
    if buffer:
        yield b"".join(buffer)


def _http(database_url: str, path: Path) -> tuple[float, int, int]:
    organizations, slices = _slices(path)
    clients = _clients(database_url, organizations)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with served_hub(database_url, port):
        tokens = {
            org: httpx.post(
                f"{base_url}/oauth/token", data={"grant_type": "client_credentials"}, auth=pair
            ).json()["access_token"]
            for org, pair in clients.items()
        }
        rows = rejected = 0
        started = time.perf_counter()
        with httpx.Client(base_url=base_url, timeout=600) as http:
            for phase in PHASES:
                for org in tokens:
                    lines = slices.get((phase, org))
                    if not lines:
                        continue
                    response = http.post(
                        "/v1/genealogy:import",
                        content=_stream(lines),
                        headers={
                            "Authorization": f"Bearer {tokens[org]}",
                            "Content-Type": "application/x-ndjson",
                        },
                    )
                    assert response.status_code == 200, response.text
                    report = response.json()
                    rows += report["rows"]
                    rejected += report["rejected"]
        elapsed = time.perf_counter() - started
    return elapsed, rows, rejected


@pytest.mark.bench
def test_genealogy_import_rows_per_second_on_postgresql() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, records = _file(Path(tmp))
        size_mb = path.stat().st_size / 1e6

        cli_url = _database()
        try:
            first, first_out = _cli(cli_url, path)
            assets, links = _counts(cli_url)
            again, again_out = _cli(cli_url, path)
            assert f"{records} unchanged" in again_out, again_out
        finally:
            _drop_database(cli_url)

        http_url = _database()
        try:
            elapsed, rows, rejected = _http(http_url, path)
            http_assets, http_links = _counts(http_url)
        finally:
            _drop_database(http_url)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nsynthetic network: {LOTS} lots, {records} records, {size_mb:.0f} MB NDJSON; load average {load}"
    )
    print(
        f"CLI import:   {records} rows in {first:.1f} s = {records / first:,.0f} rows/s (process wall time)"
    )
    print(
        f"              importer's own figure: {first_out.split(':')[0]}; {first_out.split('|')[-1].strip()}"
    )
    print(f"CLI re-import (all unchanged): {records / again:,.0f} rows/s")
    print(f"HTTP import:  {rows} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s (one uvicorn worker)")
    assert (assets, links) == (http_assets, http_links) == (LOTS, links)
    assert rejected == 0
