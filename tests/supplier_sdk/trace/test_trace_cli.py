"""`supplier-sdk genealogy import`, `trace`, `notifications` and `containment` against a real hub: output and exit
statuses (0 done, 0 + warning for rejected rows, 3 with --strict, 2 bad input or a hub refusal, 1 unreachable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from protocol.models.common import OrgKind
from supplier_sdk.cli import app
from tests.supplier_sdk.test_client_support import Network, Party, closed_url
from tests.supplier_sdk.trace.tiers import MODEL, Tiers

pytestmark = pytest.mark.e2e


Environment = dict[str, str]


def env(network: Network, party: Party, folder: Path) -> Environment:
    return {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": party.client_id,
        "QUALINK_KEY_FILE": str(party.write_key(folder)),
    }


@pytest.fixture
def tier_environments(
    network: Network, tiers: Tiers, tmp_path: Path
) -> tuple[Environment, Environment, Environment]:
    """The environments of the OEM, the ECU maker and the capacitor maker."""
    oem, ecu, capacitor = (
        env(network, tier.party, tmp_path) for tier in (tiers.oem, tiers.ecu, tiers.capacitor)
    )
    return oem, ecu, capacitor


def cli(environment: Environment, *args: str, status: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(app, list(args), env=environment)
    assert result.exit_code == status, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def create_notification(environment: Environment, *args: str) -> dict[str, Any]:
    """``notifications create ARGS --json``: the created notification."""
    created: dict[str, Any] = json.loads(cli(environment, "notifications", "create", *args, "--json")[0])
    return created


def test_genealogy_import_prints_the_report_and_warns_about_rejected_rows(
    network: Network, tiers: Tiers, tmp_path: Path
) -> None:
    as_cap = env(network, tiers.capacitor.party, tmp_path)
    lots = tmp_path / "lots.csv"
    lots.write_text(
        f"batch_id,manufacturer_part_id,quantity\nCLI1-{tiers.tag},CAP-100,10\nCLI2-{tiers.tag},CAP-100,-1\n"
    )

    out, err = cli(as_cap, "genealogy", "import", str(lots), "--type", "batch")
    assert "2 rows (csv): 1 accepted" in out and "1 rejected" in out
    assert "rejected rows" in out and "quantity" in out  # line 3, field quantity
    assert err.strip().endswith("warning: 1 rows rejected, the other rows were kept")

    _, err = cli(as_cap, "genealogy", "import", str(lots), "--type", "batch", "--strict", status=3)
    assert "warning: 1 rows rejected" in err
    out, _ = cli(as_cap, "genealogy", "import", str(tiers.capacitor_file), "--json")
    report = json.loads(out)
    assert report["rejected"] == 0 and report["unchanged"] == report["rows"]


def test_genealogy_import_bad_input_exits_2_and_unreachable_hub_1(
    network: Network, tiers: Tiers, tmp_path: Path
) -> None:
    as_cap = env(network, tiers.capacitor.party, tmp_path)
    _, err = cli(as_cap, "genealogy", "import", str(tmp_path / "lots.txt"), status=2)
    assert err.startswith("error: cannot tell the format of 'lots.txt'")
    _, err = cli(as_cap, "genealogy", "import", str(tmp_path / "missing.ndjson"), status=2)
    assert err == f"error: no such file: {tmp_path / 'missing.ndjson'}\n"
    _, err = cli(as_cap, "genealogy", "import", str(tiers.capacitor_file), "--type", "batch", status=2)
    assert err.startswith("error: InvalidInput:") and "[query.type:" in err
    _, err = cli(
        {**as_cap, "QUALINK_HUB_URL": closed_url()},
        "genealogy",
        "import",
        str(tiers.capacitor_file),
        status=1,
    )
    assert "unreachable" in err


def test_trace_prints_the_answer_and_groups_without_third_party_identities(
    network: Network, tiers: Tiers, tmp_path: Path
) -> None:
    as_cap = env(network, tiers.capacitor.party, tmp_path)
    out, _ = cli(as_cap, "trace", tiers.lot("C1"))
    assert out.startswith("answer: yes\n")
    assert "2 serial parts affected" in out and "by organization" in out and tiers.ecu.party.name in out
    assert "undisclosed: 0 lots, 2 serial parts at 1 organizations" in out
    assert "200 pcs" in out and "300 pcs" in out and "0000" not in out  # its own and its customer's bins
    assert MODEL not in out and tiers.oem.party.name not in out and f"OEM-{tiers.tag}" not in out

    out, _ = cli(as_cap, "trace", tiers.lot("C1"), "--depth", "1", "--json")
    result = json.loads(out)
    assert (
        result["answer"] == "yes" and result["depth"] == 1 and "depth_limit" in result["incomplete_reasons"]
    )

    out, _ = cli(as_cap, "trace", tiers.lot("C1"), "--as-of", "2020-01-01T00:00:00")  # before any link: UTC
    assert out.startswith("answer: no\n") and "as of 2020-01-01T00:00:00+00:00" in out

    as_oem = env(network, tiers.oem.party, tmp_path)
    out, _ = cli(as_oem, "trace", f"serial/V1-{tiers.tag}", "--backward")
    assert "answer: yes" in out and "backward" in out and tiers.lot("E1") not in out  # groups, not nodes
    assert "by model" in out and MODEL in out  # its own vehicle's model


def test_trace_errors_exit_2(network: Network, tiers: Tiers, tmp_path: Path) -> None:
    as_oem = env(network, tiers.oem.party, tmp_path)
    _, err = cli(as_oem, "trace", f"{tiers.capacitor.org_id}/batch/{tiers.lot('C1')}", status=2)
    assert err.startswith("error: NotFound:")
    _, err = cli(as_oem, "trace", "LOT", "--depth", "0", status=2)
    assert "--depth" in err
    reader = network.register(OrgKind.SUPPLIER, scopes=["alerts:read"])
    _, err = cli(env(network, reader, tmp_path), "trace", "LOT-1", status=2)
    assert err.startswith("error: InsufficientScope:")


def test_an_investigation_and_an_alert_from_the_command_line(
    tiers: Tiers, tier_environments: tuple[Environment, Environment, Environment]
) -> None:
    as_oem, as_ecu, as_cap = tier_environments
    nodes = json.loads(
        cli(as_oem, "trace", f"serial/V1-{tiers.tag}", "--backward", "--depth", "1", "--json")[0]
    )
    e1 = next(node["asset_id"] for node in nodes["nodes"] if node["local_id"] == tiers.lot("E1"))

    investigation = create_notification(
        as_oem,
        "--type",
        "INVESTIGATION",
        "--title",
        "ECU resets",
        "--asset",
        e1,
        "--severity",
        "MAJOR",
        "--send",
    )
    assert investigation["status"] == "SENT"
    nid = investigation["id"]
    out, _ = cli(as_ecu, "notifications", "list", "--role", "receiver", "--status", "SENT")
    assert nid in out and "INVESTIGATION" in out
    cli(as_ecu, "notifications", "receive", nid)
    cli(as_ecu, "notifications", "acknowledge", nid, "--reason", "analysis started")
    _, err = cli(as_ecu, "notifications", "accept", nid, status=2)
    assert "--reason" in err
    out, _ = cli(as_ecu, "notifications", "accept", nid, "--reason", "cold-solder joints confirmed")
    assert "ACCEPTED" in out.splitlines()[0] and "cold-solder joints confirmed" in out
    _, err = cli(as_ecu, "notifications", "close", nid, "--reason", "x", status=2)
    assert err.startswith("error: ")
    out, _ = cli(as_oem, "notifications", "show", nid)
    assert "ACCEPTED" in out and "analysis started" in out

    c1 = json.loads(cli(as_cap, "trace", tiers.lot("C1"), "--json")[0])["nodes"]
    c1_id = next(node["asset_id"] for node in c1 if node["root"])
    out, _ = cli(
        as_cap, "notifications", "create", "--type", "ALERT", "--title", "38 V", "--asset", c1_id,
        "--severity", "CRITICAL", "--containment", "hold", "--send",
    )  # fmt: skip
    alert = out.split()[0]
    assert "containment (hold): 3 plants" in out

    out, _ = cli(as_ecu, "containment", "list", "--notification", alert, "--status", "open")
    action = out.split()[0]
    assert "ECU-1" in out and len(out.splitlines()) == 1
    out, _ = cli(as_ecu, "containment", "show", action)
    assert "bin R1: 300 pcs" in out and "bin F1: 50 pcs" in out
    _, err = cli(as_oem, "containment", "acknowledge", action, "--owner", "me", status=2)
    assert err.startswith("error: NotFound:")
    _, err = cli(as_ecu, "containment", "close", action, "--result", "done", status=2)
    assert err.startswith("error: Conflict")
    out, _ = cli(as_ecu, "containment", "acknowledge", action, "--owner", "Jana Novak")
    assert "acknowledged" in out and "owner Jana Novak" in out
    out, _ = cli(as_ecu, "containment", "close", action, "--result", "350 pcs sorted", "--json")
    assert json.loads(out)["status"] == "closed"
    out, _ = cli(as_cap, "notifications", "show", alert)
    assert "1 closed" in out
    _, err = cli(as_ecu, "containment", "show", "not-an-id", status=2)
    assert err == "error: ACTION must be an id (a UUID), not 'not-an-id'\n"


def test_the_progress_bar_counts_the_bytes_sent_on_a_terminal(
    network: Network, tiers: Tiers, tmp_path: Path
) -> None:
    as_cap = {
        **env(network, tiers.capacitor.party, tmp_path),
        "FORCE_COLOR": "1",
    }  # rich: stderr is a terminal
    out, err = cli(as_cap, "genealogy", "import", str(tiers.capacitor_file))
    size_kb = tiers.capacitor_file.stat().st_size / 1000
    assert "importing capacitor.ndjson" in err and f"{size_kb:.1f}/{size_kb:.1f} kB" in err
    assert "unchanged" in out and "importing" not in out


def test_forward_decline_and_cancel_from_the_command_line(
    tiers: Tiers, tier_environments: tuple[Environment, Environment, Environment]
) -> None:
    as_oem, as_ecu, as_cap = tier_environments
    backward = json.loads(cli(as_ecu, "trace", tiers.lot("E1"), "--backward", "--json")[0])
    c1 = next(node["asset_id"] for node in backward["nodes"] if not node["root"])
    e1 = next(node["asset_id"] for node in backward["nodes"] if node["root"])
    made = create_notification(as_oem, "--type", "INVESTIGATION", "--title", "t", "--asset", e1)
    _, err = cli(
        as_ecu, "notifications", "receive", made["id"], status=2
    )  # unsent: the receiver does not see it
    assert err.startswith("error: NotFound:")
    cli(as_oem, "notifications", "send", made["id"])
    out, _ = cli(
        as_ecu, "notifications", "forward", made["id"], "--asset", c1, "--reason", "capacitor?", "--json"
    )
    forwarded = json.loads(out)
    assert forwarded["forwarded_from_id"] == made["id"] and forwarded["receiver_id"] == str(
        tiers.capacitor.org_id
    )
    cli(as_cap, "notifications", "acknowledge", forwarded["id"])
    out, _ = cli(as_cap, "notifications", "decline", forwarded["id"], "--reason", "samples passed")
    assert "DECLINED" in out.splitlines()[0]
    out, _ = cli(as_oem, "notifications", "show", made["id"])
    assert "samples passed" in out

    second = create_notification(as_oem, "--type", "INVESTIGATION", "--title", "t2", "--asset", e1, "--send")
    out, _ = cli(as_oem, "notifications", "cancel", second["id"], "--reason", "raised by mistake")
    assert "CANCELED" in out.splitlines()[0] and "raised by mistake" in out
    _, err = cli(
        as_oem, "notifications", "create", "--type", "ALERT", "--title", "x", "--asset", "nope", status=2
    )
    assert err == "error: --asset must be an id (a UUID), not 'nope'\n"
    _, err = cli(as_oem, "notifications", "list", "--role", "both", status=2)
    assert err == "error: --role must be sender or receiver, not 'both'\n"
