"""The agent end to end against a real hub on a socket: every source kind (a folder of European CSV exports, a
folder of workbooks, a command, the real PostgreSQL and MariaDB), proofs when the disclosure asks, the dry run,
bad input per mapping, and the proof that no measurement byte reaches the hub or the outbox file."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from protocol.models.agreements import Agreement
from protocol.periods import due_at
from supplier_sdk.agent.config import AgentConfig, load_agent_config
from supplier_sdk.agent.runner import Agent
from supplier_sdk.cli import app
from supplier_sdk.outbox import Outbox
from tests.supplier_sdk.agent.agent_support import (
    MARIADB_URL,
    POSTGRES_URL,
    distinctive_values,
    european_csv,
    last_week,
    measurement_table,
    sql_query,
    times_in,
    toml_string,
    workbook,
)
from tests.supplier_sdk.test_client_support import (
    CountingTransport,
    Network,
    Reporting,
    closed_url,
    running_network,
)

pytestmark = pytest.mark.e2e

BAD_QUERY = "SELECT diameter FROM no_such_table_agent"

TERMS = {
    "kpis": [
        {"kpi": "cpk", "threshold": "1.33", "disclosure": "value"},
        {"kpi": "ppk", "threshold": "1.33", "disclosure": "threshold"},
        {"kpi": "ppm", "threshold": "100", "disclosure": "value"},
    ]
}


class RecordingTransport(CountingTransport):
    """The real transport, keeping every request body sent."""

    def bodies(self) -> bytes:
        return b"\n".join(request.content for request in self.requests)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_agent") as network:
        yield network


@pytest.fixture
def reporting(network: Network) -> Reporting:
    return network.reporting(**TERMS)


def write_config(folder: Path, network: Network, reporting: Reporting, sources: str, mappings: str) -> Path:
    key = reporting.supplier.write_key(folder)
    text = f"""
[agent]
time_zone = "Europe/Berlin"
state_file = "state.json"
status_file = "status.json"

[hub]
url = "{network.base_url}"
client_id = "{reporting.supplier.client_id}"
key_file = {toml_string(str(key))}
outbox = "outbox.db"
{sources}
{mappings}
"""
    path = folder / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def mapping(name: str, agreement: Agreement, kpi: str, source: str, column: str, **extra: Any) -> str:
    lines = [f'name = "{name}"', f'agreement = "{agreement.id}"', f'kpi = "{kpi}"', f'source = "{source}"']
    lines += [f'value_column = "{column}"'] + [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n[[mappings]]\n" + "\n".join(lines) + "\n"


def agent_for(config: AgentConfig, network: Network, reporting: Reporting, transport: Any = None) -> Agent:
    client = network.client(reporting.supplier, transport=transport)
    return Agent(config, client=client, outbox=Outbox(config.state_file.parent / "outbox.db"))


def closed_url_of(path: Path) -> str:
    return next(line.split('"')[1] for line in path.read_text().splitlines() if line.startswith("url = "))


def stored_rows(database_url: str) -> bytes:
    """Every row of every table of the hub's database, as text (SQLite or PostgreSQL alike)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
            rows = [repr(connection.execute(sa.text(f'SELECT * FROM "{t}"')).all()) for t in tables]  # noqa: S608
    finally:
        engine.dispose()
    assert "kpi_reports" in tables
    return "\n".join(rows).encode()


def files_bytes(paths: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths if p.is_file())


def test_run_once_reports_every_source_kind_and_no_measurement_leaves_the_machine(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    window = last_week()
    second = network.agree(reporting.supplier, **TERMS)
    sets = {
        name: distinctive_values(seed) for seed, name in enumerate(["csv", "xlsx", "cmd", "pg", "maria"], 11)
    }
    (tmp_path / "csv").mkdir()
    (tmp_path / "xlsx").mkdir()
    european_csv(tmp_path / "csv" / "dia.csv", times_in(window, 25), sets["csv"])
    european_csv(tmp_path / "csv" / "copy-of-dia.csv", times_in(window, 25), sets["csv"])  # counted once
    european_csv(
        tmp_path / "csv" / "older.csv", times_in(window, 25, offset_days=-14), distinctive_values(99)
    )
    workbook(tmp_path / "xlsx" / "dia.xlsx", times_in(window, 25), sets["xlsx"])
    script = tmp_path / "export.py"
    script.write_text("import sys\nprint('diameter')\n" + "".join(f"print('{v:.5f}')\n" for v in sets["cmd"]))
    with (
        measurement_table(POSTGRES_URL, times_in(window, 25), sets["pg"]) as pg_table,
        measurement_table(MARIADB_URL, times_in(window, 25), sets["maria"]) as maria_table,
    ):
        sources = f"""
[sources.exports]
kind = "folder"
path = "csv"
delimiter = ";"
decimal = ","
time_column = "Zeitpunkt"
time_format = "%d.%m.%Y %H:%M"

[sources.workbooks]
kind = "folder"
path = "xlsx"
pattern = "*.xlsx"
time_column = "time"

[sources.script]
kind = "command"
command = [{toml_string(sys.executable)}, {toml_string(str(script))}, "{{period}}"]

[sources.mes]
kind = "sql"
url = "{POSTGRES_URL}"
query = "{sql_query(pg_table)}"

[sources.lab]
kind = "sql"
url = "{MARIADB_URL}"
query = "{sql_query(maria_table)}"
"""
        first, other = reporting.agreement, second
        mappings = (
            mapping("csv-cpk", first, "cpk", "exports", "Durchmesser", subgroup_column="Los")
            + mapping("xlsx-ppm", first, "ppm", "workbooks", "diameter")
            + mapping("cmd-ppk", first, "ppk", "script", "diameter")
            + mapping("pg-cpk", other, "cpk", "mes", "diameter", subgroup_size=5)
            + mapping("maria-ppk", other, "ppk", "lab", "diameter")
        )
        config = load_agent_config(write_config(tmp_path, network, reporting, sources, mappings))
        transport = RecordingTransport()
        agent = agent_for(config, network, reporting, transport)
        outcomes = agent.run_pass()
        agent.close()

    assert [(o.mapping, o.outcome, o.rows) for o in outcomes] == [
        ("csv-cpk", "accepted", 25),
        ("xlsx-ppm", "accepted", 25),
        ("cmd-ppk", "accepted", 25),
        ("pg-cpk", "accepted", 25),
        ("maria-ppk", "accepted", 25),
    ], [o.reason for o in outcomes]
    assert {o.period for o in outcomes} == {str(window.period)}
    oem = network.client(network.oem)
    stored = {
        (r.kpi.value, r.agreement_id): r
        for a in (first, other)
        for r in oem.kpi_reports.list(agreement_id=a.id)
    }
    assert len(stored) == 5
    cpk = stored[("cpk", first.id)]
    assert cpk.value is not None and cpk.meets is True
    ppk = stored[("ppk", first.id)]
    assert ppk.value is None and ppk.meets is True and ppk.proven is True  # threshold disclosure: proven only
    assert stored[("ppk", other.id)].proven is True

    # a second pass finds every period settled: nothing is sent twice
    again = agent_for(config, network, reporting).run_pass()
    assert again == []

    sent = transport.bodies()
    hub_files = list(Path(network.hub.settings.database_url.removeprefix("sqlite:///")).parent.glob("*.db*"))
    kept = files_bytes(
        [tmp_path / "outbox.db", tmp_path / "state.json", tmp_path / "status.json", *hub_files]
    ) + stored_rows(network.hub.settings.database_url)
    for values in sets.values():
        for value in values:
            for text in (
                f"{value:.5f}",
                f"{value:.5f}".replace(".", ","),
                f"{value:.5f}".replace(".", "")[1:],
            ):
                assert text.encode() not in sent, text
                assert text.encode() not in kept, text
    stray = re.findall(rb".{30}25\.0[0-9]*.{10}", re.sub(rb'"usl":"25\.020?"', b"", sent))
    assert stray == [], stray  # not even a rounded measurement


def test_check_prints_what_would_be_sent_and_sends_nothing(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    window = last_week()
    (tmp_path / "csv").mkdir()
    european_csv(tmp_path / "csv" / "dia.csv", times_in(window, 25), distinctive_values(5))
    sources = '\n[sources.exports]\nkind = "folder"\npath = "csv"\ndecimal = ","\ntime_column = "Zeitpunkt"\ntime_format = "%d.%m.%Y %H:%M"\n'
    mappings = mapping("dia-cpk", reporting.agreement, "cpk", "exports", "Durchmesser") + mapping(
        "dia-ppk", reporting.agreement, "ppk", "exports", "Durchmesser"
    )
    path = write_config(tmp_path, network, reporting, sources, mappings)
    result = CliRunner().invoke(app, ["agent", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"dia-cpk: {window.period}: 25 rows, cpk ")
    assert "would send value " in lines[0] and "no proof" in lines[0]
    assert lines[1].startswith(f"dia-ppk: {window.period}: 25 rows, ppk ")
    assert "would send only meets=true, with proof" in lines[1]
    as_json = CliRunner().invoke(app, ["agent", "check", "--config", str(path), "--json"])
    cpk_line, ppk_line = (json.loads(line) for line in as_json.stdout.splitlines())
    assert "sent_value" in cpk_line and cpk_line["proof"] is False and cpk_line["rows"] == 25
    assert "sent_value" not in ppk_line and ppk_line["proof"] is True and ppk_line["meets"] is True
    assert cpk_line["late"] is False and cpk_line["due"] == due_at(window.period, 7).isoformat()
    assert list(network.client(network.oem).kpi_reports.list(agreement_id=reporting.agreement.id)) == []
    assert not (tmp_path / "state.json").exists()


def test_bad_input_is_reported_per_mapping_and_the_good_mapping_still_reports(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    window = last_week()
    for name in ("good", "empty", "bad"):
        (tmp_path / name).mkdir()
    european_csv(tmp_path / "good" / "dia.csv", times_in(window, 25), distinctive_values(7))
    european_csv(tmp_path / "empty" / "old.csv", times_in(window, 25, offset_days=-21), distinctive_values(8))
    (tmp_path / "bad" / "broken.xlsx").write_bytes(b"not a workbook")
    few = tmp_path / "few.py"
    few.write_text("print('diameter')\nprint('25.001')\nprint('25.002')\nprint('24.999')\n")
    folder = 'kind = "folder"\ndecimal = ","\ntime_column = "Zeitpunkt"\ntime_format = "%d.%m.%Y %H:%M"\n'
    sources = (
        f'\n[sources.good]\npath = "good"\n{folder}\n[sources.empty]\npath = "empty"\n{folder}'
        '\n[sources.bad]\nkind = "folder"\npath = "bad"\npattern = "*.xlsx"\ntime_column = "time"\n'
        f'\n[sources.query]\nkind = "sql"\nurl = "{POSTGRES_URL}"\nquery = "{BAD_QUERY}"\n'
        f'\n[sources.few]\nkind = "command"\ncommand = [{toml_string(sys.executable)}, {toml_string(str(few))}]\n'
    )
    a = reporting.agreement
    mappings = (
        mapping("missing-column", a, "cpk", "good", "Diameter")
        + mapping("empty-period", a, "cpk", "empty", "Durchmesser")
        + mapping("unreadable", a, "cpk", "bad", "diameter")
        + mapping("failing-query", a, "cpk", "query", "diameter")
        + mapping("too-few", a, "cpk", "few", "diameter", subgroup_size=5)
        + mapping("good", a, "ppm", "good", "Durchmesser")
    )
    config = load_agent_config(write_config(tmp_path, network, reporting, sources, mappings))
    outcomes = {o.mapping: o for o in agent_for(config, network, reporting).run_pass()}
    assert {name: o.outcome for name, o in outcomes.items()} == {
        "missing-column": "failed",
        "empty-period": "failed",
        "unreadable": "failed",
        "failing-query": "failed",
        "too-few": "failed",
        "good": "accepted",
    }
    assert "no column 'Diameter'" in (outcomes["missing-column"].reason or "")
    assert "empty period" in (outcomes["empty-period"].reason or "")
    assert "not a readable XLSX" in (outcomes["unreadable"].reason or "")
    assert "the query failed" in (outcomes["failing-query"].reason or "")
    assert outcomes["too-few"].reason
    reports = list(network.client(network.oem).kpi_reports.list(agreement_id=a.id))
    assert [r.kpi.value for r in reports] == ["ppm"]
    assert Outbox(tmp_path / "outbox.db").pending() == []
    again = CliRunner().invoke(app, ["agent", "run", "--once", "--config", str(tmp_path / "agent.toml")])
    assert again.exit_code == 1  # the failed mappings are tried again and fail again; the good one is settled
    assert again.stderr.count('"event": "report.failed"') == 5 and "report.accepted" not in again.stderr
    assert len(list(network.client(network.oem).kpi_reports.list(agreement_id=a.id))) == 1
    status = CliRunner().invoke(
        app, ["agent", "status", "--config", str(tmp_path / "agent.toml"), "--max-age", "900"]
    )
    assert status.exit_code == 0
    assert status.stdout.startswith("health: degraded")
    assert f"empty-period: {window.period} failed: source empty: no rows in the period" in status.stdout
    assert f"good: {window.period} accepted" in status.stdout  # kept from the first process's pass
    assert datetime.now(UTC) > window.end  # the week reported had closed


def test_sigterm_stops_the_running_agent_without_losing_the_queued_report(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    window = last_week()
    (tmp_path / "csv").mkdir()
    european_csv(tmp_path / "csv" / "dia.csv", times_in(window, 25), distinctive_values(3))
    Outbox(tmp_path / "outbox.db").remember_agreement(reporting.agreement)  # fetched on an earlier day
    sources = '\n[sources.exports]\nkind = "folder"\npath = "csv"\ndecimal = ","\ntime_column = "Zeitpunkt"\ntime_format = "%d.%m.%Y %H:%M"\n'
    path = write_config(
        tmp_path,
        network,
        reporting,
        sources,
        mapping("dia-cpk", reporting.agreement, "cpk", "exports", "Durchmesser"),
    )
    path.write_text(path.read_text().replace(network.base_url, closed_url()))  # the hub is away
    process = subprocess.Popen(
        [sys.executable, "-m", "supplier_sdk.cli", "agent", "run", "--config", str(path)],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    events = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        events.append(json.loads(line))
        if events[-1]["event"] == "report.queued":
            break
    assert events[-1]["event"] == "report.queued" and events[-1]["period"] == str(window.period)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    tail = [json.loads(line) for line in process.stderr.read().splitlines()]
    assert tail[-1]["event"] == "agent.stopped" and tail[-1]["pending"] == 1
    assert json.loads((tmp_path / "status.json").read_text())["health"] == "stopped"
    stale = CliRunner().invoke(app, ["agent", "status", "--config", str(path), "--max-age", "900"])
    assert stale.exit_code == 1 and stale.stdout.startswith("health: stopped")
    box = Outbox(tmp_path / "outbox.db")
    assert [entry.payload.period for entry in box.pending()] == [str(window.period)]
    path.write_text(path.read_text().replace(closed_url_of(path), network.base_url))  # the hub is back
    log = io.StringIO()
    back = Agent(load_agent_config(path), client=network.client(reporting.supplier), outbox=box, stream=log)
    assert back.run_pass() == []  # the period is settled (queued): the next pass only flushes the outbox
    assert '"event": "outbox.flushed"' in log.getvalue() and box.pending() == []
    reports = list(network.client(network.oem).kpi_reports.list(agreement_id=reporting.agreement.id))
    assert [(r.kpi.value, r.period) for r in reports] == [("cpk", str(window.period))]


def test_with_the_hub_away_a_value_report_is_queued_and_a_proof_waits_for_the_hub(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    window = last_week()
    (tmp_path / "csv").mkdir()
    european_csv(tmp_path / "csv" / "dia.csv", times_in(window, 25), distinctive_values(4))
    box = Outbox(tmp_path / "outbox.db")
    box.remember_agreement(reporting.agreement)
    sources = '\n[sources.exports]\nkind = "folder"\npath = "csv"\ndecimal = ","\ntime_column = "Zeitpunkt"\ntime_format = "%d.%m.%Y %H:%M"\n'
    mappings = mapping("dia-cpk", reporting.agreement, "cpk", "exports", "Durchmesser") + mapping(
        "dia-ppk", reporting.agreement, "ppk", "exports", "Durchmesser"
    )
    path = write_config(tmp_path, network, reporting, sources, mappings)
    config = load_agent_config(path)
    away = network.client(reporting.supplier, base_url=closed_url(), max_retries=1)
    outcomes = {o.mapping: o for o in Agent(config, client=away, outbox=box, stream=io.StringIO()).run_pass()}
    assert outcomes["dia-cpk"].outcome == "queued"
    assert outcomes["dia-ppk"].outcome == "failed"
    assert "proof, whose context needs the hub" in (outcomes["dia-ppk"].reason or "")
    assert [e.payload.kpi.value for e in box.pending()] == [
        "cpk"
    ]  # nothing half-sent: no proof-less PPK queued
    # the hub is back: the queued CPK is flushed, the PPK is proven and sent; each once
    again = Agent(
        config, client=network.client(reporting.supplier), outbox=box, stream=io.StringIO()
    ).run_pass()
    assert [(o.mapping, o.outcome, o.proof) for o in again] == [("dia-ppk", "accepted", True)]
    reports = list(network.client(network.oem).kpi_reports.list(agreement_id=reporting.agreement.id))
    assert sorted((r.kpi.value, r.proven) for r in reports) == [("cpk", False), ("ppk", True)]
