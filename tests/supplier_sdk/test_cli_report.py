"""`supplier-sdk report submit` and `supplier-sdk outbox list|flush` against a real hub, configured by env vars."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from protocol.models.common import KpiName
from supplier_sdk.cli import app
from tests.supplier_sdk.test_client_support import Network, Reporting, closed_url, past_weeks, running_network

pytestmark = pytest.mark.e2e

runner = CliRunner()


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_cli") as network:
        yield network


@dataclass
class Supplier:
    """A supplier's workstation: its environment, its outbox file and a measurement file."""

    reporting: Reporting
    env: dict[str, str]
    outbox: Path
    data: Path

    def run(self, *args: str, **env: str) -> Result:
        return runner.invoke(app, list(args), env={**self.env, **env})

    def submit(self, *args: str, **env: str) -> Result:
        agreement = str(self.reporting.agreement.id)
        return self.run("report", "submit", "--agreement", agreement, *args, **env)


@pytest.fixture
def supplier(network: Network, tmp_path: Path) -> Supplier:
    reporting = network.reporting()
    values = np.round(np.random.default_rng(21).normal(25.0, 0.003, 50), 4)
    data = tmp_path / "diameters.csv"
    data.write_text("lot,diameter\n" + "".join(f"L{i // 5},{v}\n" for i, v in enumerate(values)))
    env = {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": reporting.supplier.client_id,
        "QUALINK_KEY_FILE": str(reporting.supplier.write_key(tmp_path)),
        "QUALINK_OUTBOX": str(tmp_path / "outbox.db"),
    }
    return Supplier(reporting=reporting, env=env, outbox=tmp_path / "outbox.db", data=data)


def stored(network: Network, supplier: Supplier) -> dict[KpiName, list[str]]:
    found: dict[KpiName, list[str]] = {}
    for report in network.client(supplier.reporting.supplier).kpi_reports.list(
        agreement_id=supplier.reporting.agreement.id
    ):
        found.setdefault(report.kpi, []).append(report.period)
    return found


def one_error_line(result: Result) -> str:
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    return result.stderr


def test_submit_builds_signs_and_sends_a_cpk_report(network: Network, supplier: Supplier) -> None:
    week = past_weeks(1)[0]

    result = supplier.submit(
        "--kpi", "cpk", "--period", week, "--data", str(supplier.data), "--column", "diameter",
        "--subgroup-column", "lot", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "accepted"
    report = body["report"]
    assert (report["kpi"], report["period"], report["characteristic"], report["meets"]) == (
        "cpk",
        week,
        "DIA-01",
        True,
    )
    assert Decimal(report["value"]) > Decimal("1.33")
    assert report["key_id"] == supplier.reporting.key_id
    assert stored(network, supplier) == {KpiName.CPK: [week]}


def test_submit_prints_one_readable_line_without_json(supplier: Supplier) -> None:
    week = past_weeks(1)[0]

    result = supplier.submit(
        "--kpi", "cpk", "--period", week, "--data", str(supplier.data), "--column", "diameter"
    )

    assert result.exit_code == 0, result.output
    assert (
        result.stdout.startswith("accepted: cpk ")
        and f"meets 1.33 for DIA-01 in {week} (report " in result.stdout
    )
    assert result.stderr == ""


def test_submit_mtbf_from_hours_and_failures(network: Network, supplier: Supplier) -> None:
    week = past_weeks(1)[0]

    result = supplier.submit(
        "--kpi", "mtbf", "--period", week, "--hours", "12000", "--failures", "2", "--json"
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["report"]
    assert (report["kpi"], report["characteristic"], Decimal(report["value"]), report["meets"]) == (
        "mtbf",
        None,
        Decimal(6000),
        True,
    )


def test_submit_ppm_and_threshold_disclosed_ppk(network: Network, supplier: Supplier) -> None:
    week = past_weeks(1)[0]
    poor = supplier.data.with_name("poor.csv")
    poor.write_text("".join(f"{v}\n" for v in np.random.default_rng(2).normal(25.01, 0.006, 40)))

    ppm = supplier.submit(
        "--kpi", "ppm", "--period", week, "--data", str(supplier.data), "--column", "diameter"
    )
    ppk = supplier.submit("--kpi", "ppk", "--period", week, "--data", str(poor), "--json")

    assert ppm.exit_code == 0, ppm.output
    assert ppk.exit_code == 0, ppk.output
    assert json.loads(ppk.stdout)["report"]["value"] is None
    assert set(stored(network, supplier)) == {KpiName.PPM, KpiName.PPK}


def test_a_refused_report_exits_2_naming_the_hubs_error(supplier: Supplier) -> None:
    week = past_weeks(1)[0]
    args = ["--kpi", "mtbf", "--period", week, "--hours", "9000", "--failures", "1"]
    assert supplier.submit(*args).exit_code == 0

    again = supplier.submit(*args)

    assert again.exit_code == 2
    line = one_error_line(again)
    assert line.startswith("error: hub refused the report: DuplicateReport: ")
    assert f"in {week} exists already" in line and "(HTTP 409, request " in line


def test_a_meets_claim_under_threshold_disclosure_is_sent_with_a_proof(supplier: Supplier) -> None:
    week = past_weeks(1)[0]
    result = supplier.submit(
        "--kpi", "ppk", "--period", week, "--data", str(supplier.data), "--column", "diameter"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"accepted: ppk meets 1.33 (proven in zero knowledge) for DIA-01 in {week}"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kpi", "cpk", "--period", "2026-W48"], "--kpi cpk needs --data FILE"),
        (
            ["--kpi", "mtbf", "--period", "2026-W48", "--hours", "10"],
            "--kpi mtbf needs --hours and --failures",
        ),
        (
            ["--kpi", "mtbf", "--period", "2026-W48", "--hours", "1", "--failures", "0", "--data", "x.csv"],
            "drop --data",
        ),
        (
            ["--kpi", "cpk", "--period", "2026-W48", "--data", "x", "--hours", "3"],
            "--hours belong to --kpi mtbf",
        ),
        (["--kpi", "cpk", "--period", "2026-48", "--data", "x"], "invalid period '2026-48'"),
        (
            [
                "--kpi",
                "cpk",
                "--period",
                "2026-W48",
                "--data",
                "x",
                "--subgroup-size",
                "5",
                "--subgroup-column",
                "lot",
            ],
            "not both",
        ),
        (["--kpi", "ppm", "--period", "2026-W48", "--data", "x", "--sigma", "rbar"], "overall normal model"),
    ],
)
def test_bad_options_exit_2_before_touching_the_network(
    supplier: Supplier, args: list[str], message: str
) -> None:
    result = supplier.submit(*args, QUALINK_HUB_URL=closed_url())

    assert result.exit_code == 2
    assert message in one_error_line(result)


def test_a_characteristic_the_agreement_lacks_is_bad_input(supplier: Supplier) -> None:
    result = supplier.submit(
        "--kpi", "cpk", "--period", past_weeks(1)[0], "--data", str(supplier.data), "--column", "diameter",
        "--characteristic", "BORE-9",
    )  # fmt: skip

    assert result.exit_code == 2
    assert "has no characteristic 'BORE-9' (it has: DIA-01)" in one_error_line(result)


def test_a_bad_data_file_names_the_file(supplier: Supplier) -> None:
    bad = supplier.data.with_name("bad.csv")
    bad.write_text("diameter\n25.001\nabc\n")

    result = supplier.submit("--kpi", "cpk", "--period", past_weeks(1)[0], "--data", str(bad))

    assert result.exit_code == 2
    assert "bad.csv line 3" in one_error_line(result) and "'abc' is not a number" in result.stderr


def test_missing_configuration_is_one_clear_line(supplier: Supplier) -> None:
    result = supplier.submit(
        "--kpi", "mtbf", "--period", past_weeks(1)[0], "--hours", "1", "--failures", "0", QUALINK_CLIENT_ID=""
    )

    assert result.exit_code == 2
    assert one_error_line(result) == "error: no client id: set QUALINK_CLIENT_ID or pass --client-id\n"


def test_options_override_the_environment(network: Network, supplier: Supplier) -> None:
    result = supplier.submit(
        "--kpi", "mtbf", "--period", past_weeks(1)[0], "--hours", "1000", "--failures", "0",
        "--hub", network.base_url, QUALINK_HUB_URL=closed_url(),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("accepted: mtbf ")


def test_an_unreachable_hub_queues_the_report_and_flush_sends_it(
    network: Network, supplier: Supplier
) -> None:
    week1, week2 = past_weeks(2)
    first = supplier.submit("--kpi", "mtbf", "--period", week1, "--hours", "9000", "--failures", "1")
    assert first.exit_code == 0, first.output  # this also kept the agreement in the outbox file

    queued = supplier.submit(
        "--kpi", "cpk", "--period", week2, "--data", str(supplier.data), "--column", "diameter",
        QUALINK_HUB_URL=closed_url(),
    )  # fmt: skip

    assert queued.exit_code == 0, queued.output
    assert "hub not available: hub at" in queued.stdout and "queued: cpk " in queued.stdout
    assert "supplier-sdk outbox flush" in queued.stdout
    assert "hub not available; using agreement" in queued.stderr
    listed = supplier.run("outbox", "list", "--json")
    assert listed.exit_code == 0
    [entry] = json.loads(listed.stdout)["pending"]
    assert (entry["kpi"], entry["period"], entry["attempts"]) == ("cpk", week2, 0)
    assert stored(network, supplier) == {KpiName.MTBF: [week1]}

    flushed = supplier.run("outbox", "flush", "--json")

    assert flushed.exit_code == 0, flushed.output
    body = json.loads(flushed.stdout)
    assert (body["sent"], body["failed"], body["remaining"], body["stopped"]) == (1, 0, 0, None)
    assert body["reports"][0]["period"] == week2
    assert stored(network, supplier) == {KpiName.MTBF: [week1], KpiName.CPK: [week2]}
    assert json.loads(supplier.run("outbox", "list", "--json").stdout) == {"pending": [], "rejected": []}


def test_the_json_answer_when_queued(supplier: Supplier) -> None:
    assert (
        supplier.submit(
            "--kpi", "mtbf", "--period", past_weeks(1)[0], "--hours", "1", "--failures", "0"
        ).exit_code
        == 0
    )

    result = supplier.submit(
        "--kpi", "mtbf", "--period", past_weeks(2)[1], "--hours", "5", "--failures", "0", "--json",
        QUALINK_HUB_URL=closed_url(),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "queued" and body["outbox"] == str(supplier.outbox)
    assert body["entry"]["kpi"] == "mtbf" and "unreachable" in body["reason"]


def test_an_unreachable_hub_and_an_unknown_agreement_exit_1(supplier: Supplier) -> None:
    result = supplier.submit(
        "--kpi",
        "mtbf",
        "--period",
        past_weeks(1)[0],
        "--hours",
        "1",
        "--failures",
        "0",
        QUALINK_HUB_URL=closed_url(),
    )

    assert result.exit_code == 1
    assert "was never fetched on this machine" in one_error_line(result)
    assert not json.loads(supplier.run("outbox", "list", "--json").stdout)["pending"]


def test_flush_reports_refusals_with_exit_2_and_keeps_them_listed(
    network: Network, supplier: Supplier
) -> None:
    week = past_weeks(1)[0]
    args = ["--kpi", "mtbf", "--period", week, "--failures", "1"]
    assert supplier.submit(*args, "--hours", "7000").exit_code == 0
    assert supplier.submit(*args, "--hours", "8000", QUALINK_HUB_URL=closed_url()).exit_code == 0  # queued

    flushed = supplier.run("outbox", "flush")

    assert flushed.exit_code == 2
    assert flushed.stdout.startswith("sent 0, refused 1, still queued 0")
    assert "DuplicateReport" in flushed.stdout
    rejected = json.loads(supplier.run("outbox", "list", "--json").stdout)["rejected"]
    assert [(r["kpi"], r["period"], r["error"], r["http_status"]) for r in rejected] == [
        ("mtbf", week, "DuplicateReport", 409)
    ]
    table = supplier.run("outbox", "list")
    assert table.exit_code == 0 and "Refused by the hub (1)" in table.stdout


def test_flush_while_the_hub_is_down_exits_1_and_keeps_the_reports(supplier: Supplier) -> None:
    week = past_weeks(1)[0]
    assert (
        supplier.submit(
            "--kpi", "mtbf", "--period", past_weeks(2)[1], "--hours", "1", "--failures", "0"
        ).exit_code
        == 0
    )
    supplier.submit(
        "--kpi", "mtbf", "--period", week, "--hours", "5", "--failures", "0", QUALINK_HUB_URL=closed_url()
    )

    flushed = supplier.run("outbox", "flush", QUALINK_HUB_URL=closed_url())

    assert flushed.exit_code == 1
    assert "sent 0, refused 0, still queued 1" in flushed.stdout and "stopped: hub at" in flushed.stdout
    [entry] = json.loads(supplier.run("outbox", "list", "--json").stdout)["pending"]
    assert entry["attempts"] == 1 and "unreachable" in entry["last_error"]


def test_an_empty_outbox_flushes_without_credentials(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["outbox", "flush", "--outbox", str(tmp_path / "o.db")], env={"QUALINK_HUB_URL": ""}
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == "sent 0, refused 0, still queued 0\n"
    listed = runner.invoke(app, ["outbox", "list", "--outbox", str(tmp_path / "o.db")])
    assert "is empty" in listed.stdout
