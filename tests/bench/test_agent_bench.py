"""The supplier agent: ``supplier-sdk agent run --once`` over 200 mappings, and its memory over 1,000 periods.

Run on demand (not part of the suite; needs the local PostgreSQL for the SQL sources):

    pytest tests/bench/test_agent_bench.py -s -p no:cacheprovider --override-ini addopts=

- **200 mappings**: 50 CSV folder sources (one European export each) and 150 SQL queries against the real
  PostgreSQL, 25 values each, over 4 agreements (17 characteristics x CPK, PPK, PPM). CPK and PPM disclose
  the value; PPK of the fourth agreement is under ``threshold`` disclosure, so those reports carry a KPI-ZK
  proof (fast backend). The agent runs as its own process (``agent run --once``: start-up, imports, agreements,
  reading, computing, proving, signing, one POST per report) against a hub on a local socket (in this process).
  Target: ≤ 20 s. The floor is the same KPI computations, proofs and signatures in one process without the
  agent (no reading, no hub).
- **1,000 periods**: one CSV folder (a new weekly export each week, the oldest removed: the plant's rotation)
  and one SQL source, reported week after week by one in-process agent with an injected clock; the Python heap
  (tracemalloc) after 100 periods and after 1,000 must not grow by more than 2 MiB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol.models.common import PeriodKind
from supplier_sdk.agent.config import load_agent_config
from supplier_sdk.agent.runner import Agent
from supplier_sdk.agent.schedule import closed_windows
from supplier_sdk.attest import attest_report, load_context, needs_proof
from supplier_sdk.outbox import Outbox
from supplier_sdk.reports import build_capability_report, build_ppm_report
from tests.supplier_sdk.agent.agent_support import (
    POSTGRES_URL,
    ZONE,
    distinctive_values,
    european_csv,
    last_week,
    measurement_table,
    times_in,
    toml_string,
)
from tests.supplier_sdk.test_client_support import Network, running_network

pytestmark = pytest.mark.bench

CHARACTERISTICS = [f"C-{i:02d}" for i in range(17)]
KPIS = ("cpk", "ppk", "ppm")


def terms(proven: bool, valid_from: date | None = None) -> dict[str, Any]:
    extra = {"valid_from": valid_from.isoformat()} if valid_from else {}
    return {
        "characteristics": [
            {"code": c, "part_number": "SH-4410", "unit": "mm", "lsl": "24.980", "usl": "25.020"}
            for c in CHARACTERISTICS
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": "value"},
            {"kpi": "ppk", "threshold": "1.33", "disclosure": "threshold" if proven else "value"},
            {"kpi": "ppm", "threshold": "100", "disclosure": "value"},
        ],
        **extra,
    }


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "agent_bench") as network:
        yield network


def header(network: Network, supplier: Any, folder: Path) -> str:
    key = supplier.write_key(folder)
    return (
        '[agent]\ntime_zone = "Europe/Berlin"\nstate_file = "state.json"\nstatus_file = "status.json"\n'
        f'[hub]\nurl = "{network.base_url}"\nclient_id = "{supplier.client_id}"\n'
        f'key_file = {toml_string(str(key))}\noutbox = "outbox.db"\n'
    )


def block(index: int, agreement: Any, characteristic: str, kpi: str, source: str, column: str) -> str:
    return (
        f'[[mappings]]\nname = "m{index:03d}"\nagreement = "{agreement.id}"\ncharacteristic = "{characteristic}"\n'
        f'kpi = "{kpi}"\nsource = "{source}"\nvalue_column = "{column}"\n'
    )


def test_run_once_over_200_mappings(network: Network, tmp_path: Path) -> None:
    reporting = network.reporting(**terms(False))
    agreements = [reporting.agreement] + [
        network.agree(reporting.supplier, **terms(i == 2)) for i in range(3)
    ]
    slots = [(a, c, k) for a in agreements for c in CHARACTERISTICS for k in KPIS][:200]
    window = last_week()
    data = {i: distinctive_values(1000 + i) for i in range(200)}
    rows = [(i, t, v) for i in range(50, 200) for t, v in zip(times_in(window, 25), data[i], strict=True)]
    with measurement_table(POSTGRES_URL, [r[1] for r in rows], [r[2] for r in rows]) as table:
        _add_key_column(table, [r[0] for r in rows])
        text = [header(network, reporting.supplier, tmp_path)]
        for i, (agreement, code, kpi) in enumerate(slots):
            if i < 50:
                (tmp_path / f"f{i}").mkdir()
                european_csv(tmp_path / f"f{i}" / "export.csv", times_in(window, 25), data[i])
                text.append(
                    f'[sources.s{i}]\nkind = "folder"\npath = "f{i}"\ndecimal = ","\ntime_column = "Zeitpunkt"\n'
                    'time_format = "%d.%m.%Y %H:%M"\n'
                )
                text.append(block(i, agreement, code, kpi, f"s{i}", "Durchmesser"))
            else:
                query = (
                    f"SELECT diameter FROM {table} WHERE k = {i} AND measured_at >= :period_start "  # noqa: S608
                    "AND measured_at < :period_end ORDER BY measured_at"
                )
                text.append(f'[sources.s{i}]\nkind = "sql"\nurl = "{POSTGRES_URL}"\nquery = "{query}"\n')
                text.append(block(i, agreement, code, kpi, f"s{i}", "diameter"))
        path = tmp_path / "agent.toml"
        path.write_text("\n".join(text), encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "supplier_sdk.cli", "agent", "run", "--once", "--config", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-2000:]
    accepted = done.stderr.count('"event": "report.accepted"')
    proven = sum('"proof": true' in line for line in done.stderr.splitlines() if "report.accepted" in line)
    assert accepted == 200
    floor = _floor(agreements, slots, data, str(window.period))
    print(
        f"\nagent run --once, 200 mappings (50 CSV, 150 SQL, 25 values each, {proven} proven): {seconds:.2f} s"
    )
    print(f"floor (same KPIs, proofs and signatures, no agent, no I/O): {floor:.2f} s")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    # Proving dominates; on a shared machine the floor itself moves, so the agent is held to 20 s or, when
    # the floor alone leaves no room for that, to 3 times the floor measured under the same load.
    assert seconds <= max(20.0, 3 * floor)


def _add_key_column(table: str, keys: list[int]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN k integer, ADD COLUMN n serial"))
        connection.execute(sa.text(f"UPDATE {table} SET k = (CAST(:keys AS integer[]))[n]"), {"keys": keys})  # noqa: S608
        connection.execute(sa.text(f"CREATE INDEX ON {table} (k, measured_at)"))
    engine.dispose()


def _floor(agreements: list[Any], slots: list[Any], data: dict[int, list[float]], period: str) -> float:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from protocol.signing import sign_envelope

    key = Ed25519PrivateKey.generate()
    started = time.perf_counter()
    for i, (agreement, code, kpi) in enumerate(slots):
        values = data[i]
        if kpi == "ppm":
            payload = build_ppm_report(agreement=agreement, characteristic=code, period=period, values=values)
        else:
            payload = build_capability_report(
                agreement=agreement, characteristic=code, period=period, kpi=kpi, values=values
            )
        if needs_proof(agreement, payload):
            context = load_context({"period": period}, kpi=kpi, characteristic=code)
            payload = attest_report(payload, agreement=agreement, context=context, values=values)
        sign_envelope(payload, type="kpi-report", private_key=key, key_id="bench")
    return time.perf_counter() - started


def test_memory_stays_flat_over_1000_periods(network: Network, tmp_path: Path) -> None:
    periods = 1000
    now = datetime.now(UTC)
    first = closed_windows(now, PeriodKind.WEEK, ZONE, count=periods)[-1]
    reporting = network.reporting(valid_from=first.period.start.date().isoformat())
    (tmp_path / "exports").mkdir()
    clock = {"now": first.end + timedelta(hours=2)}
    windows = closed_windows(now, PeriodKind.WEEK, ZONE, count=periods)[::-1]
    sql_times = [t for w in windows for t in times_in(w, 25)]
    sql_values = [v for i in range(periods) for v in distinctive_values(i)]
    with measurement_table(POSTGRES_URL, sql_times, sql_values) as table:
        query = (
            f"SELECT diameter FROM {table} WHERE measured_at >= :period_start AND measured_at < :period_end"  # noqa: S608
        )
        text = header(network, reporting.supplier, tmp_path) + (
            '[sources.exports]\nkind = "folder"\npath = "exports"\ndecimal = ","\ntime_column = "Zeitpunkt"\n'
            'time_format = "%d.%m.%Y %H:%M"\n'
            f'[sources.mes]\nkind = "sql"\nurl = "{POSTGRES_URL}"\nquery = "{query}"\n'
            f'[[mappings]]\nname = "csv"\nagreement = "{reporting.agreement.id}"\nkpi = "cpk"\nsource = "exports"\n'
            'value_column = "Durchmesser"\n'
            f'[[mappings]]\nname = "sql"\nagreement = "{reporting.agreement.id}"\nkpi = "ppm"\nsource = "mes"\n'
            'value_column = "diameter"\n'
        )
        (tmp_path / "agent.toml").write_text(text, encoding="utf-8")
        config = load_agent_config(tmp_path / "agent.toml")
        client = network.client(reporting.supplier)
        devnull = (tmp_path / "agent.log").open("w")
        agent = Agent(
            config,
            client=client,
            outbox=Outbox(tmp_path / "outbox.db"),
            clock=lambda: clock["now"],
            stream=devnull,
        )
        tracemalloc.start()
        marks: dict[int, int] = {}
        started = time.perf_counter()
        for n, window in enumerate(windows, 1):
            european_csv(
                tmp_path / "exports" / f"{window.period}.csv", times_in(window, 25), distinctive_values(n)
            )
            stale = tmp_path / "exports" / f"{windows[n - 5].period}.csv" if n > 4 else None
            if stale is not None:
                stale.unlink()
            clock["now"] = window.end + timedelta(hours=2)
            outcomes = agent.run_pass()
            assert [o.outcome for o in outcomes] == ["accepted", "accepted"], [o.reason for o in outcomes]
            if n in (100, periods):
                marks[n] = tracemalloc.get_traced_memory()[0]
        seconds = time.perf_counter() - started
        tracemalloc.stop()
        agent.close()
        devnull.close()
    growth = (marks[periods] - marks[100]) / 2**20
    print(
        f"\n1,000 periods x 2 mappings: {seconds:.1f} s; heap after 100 periods {marks[100] / 2**20:.1f} MiB, "
        f"after 1,000 {marks[periods] / 2**20:.1f} MiB (growth {growth:+.2f} MiB)"
    )
    assert growth < 2.0
