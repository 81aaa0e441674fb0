"""Certificates end to end over a real socket with the CLI: the certifier issues, the supplier shares, the OEM
lists, the certifier withdraws, and anyone verifies the credential offline (a forged one fails by name)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from protocol.models.common import OrgKind
from supplier_sdk.cli import app
from tests.supplier_sdk.test_client_support import Network, Party, running_network

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_certificates") as network:
        yield network


def env_for(network: Network, party: Party, folder: Path) -> dict[str, str]:
    return {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": party.client_id,
        "QUALINK_KEY_FILE": str(party.write_key(folder)),
    }


def run(args: list[str], env: dict[str, str], status: int = 0) -> str:
    result = CliRunner().invoke(app, ["certificate", *args], env=env)
    assert result.exit_code == status, result.output
    return result.stdout if status == 0 else result.stderr


def test_issue_share_list_withdraw_and_verify_offline(network: Network, tmp_path: Path) -> None:
    certifier = network.register(OrgKind.CERTIFIER)
    network.client(certifier).keys.register_signing_key()
    supplier = network.register(OrgKind.SUPPLIER)
    as_certifier = env_for(network, certifier, tmp_path)
    as_supplier = env_for(network, supplier, tmp_path)
    as_oem = env_for(network, network.oem, tmp_path)
    today = date.today()
    credential = tmp_path / "iatf.json"

    issued = json.loads(
        run(["issue", "--standard", "IATF 16949", "--number", f"IATF-{today:%j}-1", "--scope", "brake calipers",
             "--supplier", str(supplier.org_id), "--site-id", "gy-1", "--site-name", "Győr plant",
             "--valid-from", (today - timedelta(days=10)).isoformat(),
             "--valid-until", (today + timedelta(days=1000)).isoformat(), "--out", str(credential), "--json"],
            as_certifier)
    )  # fmt: skip
    assert (issued["standard"], issued["status"]) == ("IATF 16949", "active")
    certificate_id = issued["certificate_id"]

    assert json.loads(run(["list", "--json"], as_oem))["items"] == []
    shared = json.loads(
        run(["share", certificate_id, "--oem", str(network.oem.org_id), "--json"], as_supplier)
    )
    assert shared["shared_with"] == [str(network.oem.org_id)]
    listed = run(["list", "--supplier", str(supplier.org_id)], as_oem)
    assert "IATF 16949" in listed and "active" in listed and certificate_id in listed

    withdrawn = json.loads(
        run(["withdraw", certificate_id, "--reason", "audit failed", "--json"], as_certifier)
    )
    assert withdrawn["status"] == "withdrawn"
    assert json.loads(run(["show", certificate_id, "--json"], as_oem))["status"] == "withdrawn"
    run(["withdraw", certificate_id], as_certifier, status=2)  # withdrawn stays withdrawn

    shown = tmp_path / "from-hub.json"
    run(["show", certificate_id, "--out", str(shown)], as_supplier)
    verified = json.loads(run(["verify", str(shown), "--json"], {}))
    assert (verified["valid"], verified["number"]) == (True, f"IATF-{today:%j}-1")
    assert json.loads(shown.read_text()) == json.loads(credential.read_text())

    forged = json.loads(credential.read_text())
    forged["validUntil"] = "2099-01-01T00:00:00Z"
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert "credential check 'signature' failed" in run(
        ["verify", str(tmp_path / "forged.json")], {}, status=2
    )


def test_a_supplier_cannot_issue_and_bad_input_is_one_line(network: Network, tmp_path: Path) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    env = env_for(network, supplier, tmp_path)
    args = ["issue", "--standard", "ISO 9001", "--number", "Q-1", "--scope", "all", "--supplier",
            str(supplier.org_id), "--site-id", "s", "--site-name", "S", "--valid-from", "2026-01-01",
            "--valid-until", "2029-01-01"]  # fmt: skip
    assert "InsufficientScope" in run(args, env, status=2)
    assert "grade" in run(
        [*args[:2], "VDA 6.3", *args[3:], "--audit-score", "95", "--audit-grade", "B"], env, 2
    )
    assert "--valid-from" in run([*args[:-4], "--valid-from", "soon", *args[-2:]], env, status=2)
    assert "must be an id" in run(["share", "nope", "--oem", str(supplier.org_id)], env, status=2)
