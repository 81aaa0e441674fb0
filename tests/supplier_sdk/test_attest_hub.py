"""KPI-ZK end to end over a real socket: the SDK proves, the hub verifies, the OEM reads "meets: proven"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from protocol.models.common import DisclosureMode, KpiName
from protocol.models.kpi import KpiReportPayload
from supplier_sdk.attest import attest_report, needs_proof
from supplier_sdk.cli import app
from supplier_sdk.outbox import Outbox, QueuedReport
from supplier_sdk.reports import build_capability_report, build_mtbf_report
from tests.supplier_sdk.test_client_support import (
    CountingTransport,
    Network,
    Reporting,
    closed_url,
    past_weeks,
    running_network,
)

pytestmark = pytest.mark.e2e

GOOD = np.round(np.random.default_rng(31).normal(25.0, 0.003, 40), 3)
PROVEN_TERMS = {
    "kpis": [
        {"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"},
        {"kpi": "mtbf", "threshold": "5000", "disclosure": "value+proof"},
    ]
}


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_attest") as network:
        yield network


@pytest.fixture
def reporting(network: Network) -> Reporting:
    return network.reporting(**PROVEN_TERMS)


def test_cli_report_submit_proves_and_the_oem_reads_proven_without_the_value(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    week = past_weeks(1)[0]
    data = tmp_path / "dia.csv"
    data.write_text("lot,diameter\n" + "".join(f"L{i // 5},{v:.3f}\n" for i, v in enumerate(GOOD)))
    env = {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": reporting.supplier.client_id,
        "QUALINK_KEY_FILE": str(reporting.supplier.write_key(tmp_path)),
        "QUALINK_OUTBOX": str(tmp_path / "outbox.db"),
    }
    args = ["report", "submit", "--agreement", str(reporting.agreement.id), "--kpi", "cpk", "--period", week,
            "--data", str(data), "--column", "diameter", "--subgroup-column", "lot", "--json"]  # fmt: skip

    result = CliRunner().invoke(app, args, env=env)

    assert result.exit_code == 0, result.output
    sent = json.loads(result.stdout)["report"]
    assert sent["proven"] is True and sent["value"] is None
    seen = network.client(network.oem).kpi_reports.get(sent["id"])
    assert (seen.meets, seen.proven, seen.value, seen.threshold) == (True, True, None, Decimal("1.33"))
    assert seen.disclosure is DisclosureMode.THRESHOLD


def test_the_client_proves_mtbf_under_value_plus_proof(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    week = past_weeks(1)[0]
    payload = build_mtbf_report(agreement=reporting.agreement, period=week, hours=60_000, failures=3)
    assert needs_proof(reporting.agreement, payload)
    context = hub.kpi_reports.attestation_context(reporting.agreement.id, kpi="mtbf", period=week)
    assert context.key_id == hub.signing_key_id and context.hub == network.base_url

    report = hub.kpi_reports.submit(
        attest_report(payload, agreement=reporting.agreement, context=context, hours=60_000, failures=3)
    )

    assert report.proven is True and report.value is not None
    assert (
        network.client(network.oem).kpi_reports.get(report.id).value == report.value
    )  # value+proof reveals it


def test_queued_proven_reports_flush_in_one_batch(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    live = network.client(reporting.supplier)
    weeks = past_weeks(3)
    payloads = []
    for week in weeks:
        payload = build_capability_report(
            agreement=reporting.agreement, characteristic="DIA-01", period=week, kpi="cpk",
            values=GOOD, subgroup_size=5,
        )  # fmt: skip
        context = live.kpi_reports.attestation_context(
            reporting.agreement.id, kpi="cpk", period=week, characteristic="DIA-01"
        )
        payloads.append(
            attest_report(
                payload, agreement=reporting.agreement, context=context, values=GOOD, subgroup_size=5
            )
        )
    outbox = Outbox(tmp_path / "outbox.db")
    down = network.client(reporting.supplier, base_url=closed_url(), max_retries=0)
    for payload in payloads:
        assert isinstance(down.kpi_reports.submit(payload, outbox=outbox), QueuedReport)
    assert all(entry.payload.proof is not None for entry in outbox.pending())  # the outbox keeps the proof

    transport = CountingTransport()
    result = outbox.flush(network.client(reporting.supplier, transport=transport).kpi_reports)

    assert (result.sent, result.failed, result.remaining) == (3, 0, 0), result
    assert transport.paths("POST").count("/v1/kpi-reports:batch") == 1
    assert "/v1/kpi-reports" not in transport.paths("POST")
    reports = list(
        network.client(network.oem).kpi_reports.list(agreement_id=reporting.agreement.id, kpi=KpiName.CPK)
    )
    assert sorted(r.period for r in reports) == sorted(weeks)
    assert all(r.proven and r.value is None and r.meets for r in reports)


def test_a_batch_larger_than_the_body_budget_goes_in_several_requests(
    network: Network, reporting: Reporting, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = network.client(reporting.supplier)
    weeks = past_weeks(2)
    proven = []
    for week in weeks:
        payload = build_mtbf_report(agreement=reporting.agreement, period=week, hours=60_000, failures=1)
        context = hub.kpi_reports.attestation_context(reporting.agreement.id, kpi="mtbf", period=week)
        proven.append(
            attest_report(payload, agreement=reporting.agreement, context=context, hours=60_000, failures=1)
        )
    monkeypatch.setattr(
        "supplier_sdk.kpi_reports._BATCH_BYTES", 1
    )  # every report over budget: one request each
    transport = CountingTransport()

    results = network.client(reporting.supplier, transport=transport).kpi_reports.submit_batch(
        [(payload, f"chunk-{i}") for i, payload in enumerate(proven)]
    )

    assert [r.status for r in results] == [201, 201] and all(r.report and r.report.proven for r in results)
    assert [r.report.period for r in results if r.report] == weeks
    assert transport.paths("POST").count("/v1/kpi-reports:batch") == 2


def test_a_batch_flush_settles_each_entry_on_its_own(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    """One entry refused (its period is stored already), one sent: the refusal is kept, the other is gone."""
    live = network.client(reporting.supplier)
    stored_week, new_week = past_weeks(2)

    def short(week: str) -> KpiReportPayload:  # 500 h per failure misses 5000 h: no proof needed
        return build_mtbf_report(agreement=reporting.agreement, period=week, hours=1000, failures=2)

    live.kpi_reports.submit(short(stored_week))
    outbox = Outbox(tmp_path / "outbox.db")
    down = network.client(reporting.supplier, base_url=closed_url(), max_retries=0)
    for week in (stored_week, new_week):
        down.kpi_reports.submit(short(week), outbox=outbox)
    transport = CountingTransport()

    result = outbox.flush(network.client(reporting.supplier, transport=transport).kpi_reports)

    assert (result.sent, result.failed, result.remaining) == (1, 1, 0)
    assert (
        transport.paths("POST") == ["/oauth/token", "/v1/kpi-reports:batch"]
        or transport.paths("POST").count("/v1/kpi-reports:batch") == 1
    )
    [rejected] = outbox.rejected()
    assert (rejected.error, rejected.http_status) == ("DuplicateReport", 409)
    assert rejected.payload is not None and rejected.payload.period == stored_week
    assert [r.period for r in result.reports] == [new_week]


def test_prove_offline_then_submit_and_queue_with_the_proof_file(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    """attest context (online) → attest cpk (offline) → report submit --proof, also while the hub is down."""
    runner = CliRunner()
    data = tmp_path / "dia.csv"
    data.write_text("lot,diameter\n" + "".join(f"L{i // 5},{v:.3f}\n" for i, v in enumerate(GOOD)))
    env = {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": reporting.supplier.client_id,
        "QUALINK_KEY_FILE": str(reporting.supplier.write_key(tmp_path)),
        "QUALINK_OUTBOX": str(tmp_path / "outbox.db"),
    }
    agreement = str(reporting.agreement.id)
    weeks = past_weeks(3)
    proofs = {}
    for week in weeks:
        context = tmp_path / f"ctx-{week}.json"
        fetched = runner.invoke(
            app,
            ["attest", "context", "--agreement", agreement, "--kpi", "cpk", "--period", week,
             "--characteristic", "DIA-01", "--out", str(context)],
            env=env,
        )  # fmt: skip
        assert fetched.exit_code == 0, fetched.output
        proofs[week] = tmp_path / f"proof-{week}.json"
        made = runner.invoke(
            app,
            ["attest", "cpk", "--data", str(data), "--column", "diameter", "--subgroup-column", "lot",
             "--lsl", "24.980", "--usl", "25.020", "--resolution", "0.001", "--threshold", "1.33",
             "--context", str(context), "--out", str(proofs[week])],
        )  # fmt: skip
        assert made.exit_code == 0, made.output

    def submit(week: str, proof: Path, **extra: str) -> Result:
        args = ["report", "submit", "--agreement", agreement, "--kpi", "cpk", "--period", week, "--data",
                str(data), "--column", "diameter", "--subgroup-column", "lot", "--proof", str(proof), "--json"]  # fmt: skip
        return runner.invoke(app, args, env={**env, **extra})

    sent = submit(weeks[0], proofs[weeks[0]])
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["report"]["proven"] is True
    wrong = submit(weeks[1], proofs[weeks[2]])  # another week's proof
    assert wrong.exit_code == 2 and "ProofContextMismatch" in wrong.stderr
    queued = submit(weeks[1], proofs[weeks[1]], QUALINK_HUB_URL=closed_url())  # hub down: the kept agreement
    assert queued.exit_code == 0 and json.loads(queued.stdout)["status"] == "queued", queued.output
    assert json.loads(queued.stdout)["entry"]["proven"] is True

    flushed = runner.invoke(app, ["outbox", "flush", "--json"], env=env)
    assert flushed.exit_code == 0, flushed.output
    reports = list(network.client(network.oem).kpi_reports.list(agreement_id=reporting.agreement.id))
    assert sorted(r.period for r in reports) == sorted(weeks[:2]) and all(r.proven for r in reports)
