"""`supplier-sdk agreements`, `standing` and `webhooks` against a real hub over a socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from protocol.models.common import OrgKind
from protocol.models.rules import STANDARD_RULE_TEMPLATE
from supplier_sdk.reports import build_capability_report
from tests.supplier_sdk.cli.cli_support import cli, environment
from tests.supplier_sdk.test_client_support import Network, agreement_terms, past_weeks, running_network

pytestmark = pytest.mark.e2e

POOR = np.round(np.random.default_rng(4).normal(25.008, 0.006, 50), 4)  # CPK well below 1.33


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "cli_agreements") as network:
        yield network


def propose(network: Network, supplier_id: object, title: str) -> str:
    body = agreement_terms(supplier_id, title=title)  # type: ignore[arg-type]
    return str(network.client(network.oem).request("POST", "/v1/agreements", json=body)["id"])


def test_a_supplier_lists_shows_accepts_and_declines_agreements(network: Network, tmp_path: Path) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    env = environment(network, supplier, tmp_path)
    shaft, housing = propose(network, supplier.org_id, "Shaft"), propose(network, supplier.org_id, "Housing")

    listed = json.loads(cli(env, "agreements", "list", "--status", "proposed", "--json"))
    assert [(a["id"], a["status"]) for a in listed] == [(shaft, "proposed"), (housing, "proposed")]
    shown = cli(env, "agreements", "show", shaft)
    assert f"agreement {shaft}: Shaft" in shown and "kpi:      cpk threshold 1.33" in shown

    accepted = json.loads(cli(env, "agreements", "accept", shaft, "--reason", "terms agreed", "--json"))
    assert (accepted["id"], accepted["status"]) == (shaft, "active")
    assert "--reason" in cli(env, "agreements", "decline", housing, status=2)
    assert (
        cli(env, "agreements", "decline", housing, "--reason", "capacity booked") == f"{housing} declined\n"
    )
    assert "Conflict" in cli(env, "agreements", "accept", housing, status=2)

    by_status = {a["id"]: a["status"] for a in json.loads(cli(env, "agreements", "list", "--json"))}
    assert by_status == {shaft: "active", housing: "declined"}


def test_another_organizations_agreement_is_a_clear_not_found(network: Network, tmp_path: Path) -> None:
    owner, other = network.register(OrgKind.SUPPLIER), network.register(OrgKind.SUPPLIER)
    agreement = propose(network, owner.org_id, "Not yours")
    env = environment(network, other, tmp_path)

    for command in ("show", "accept"):
        error = cli(env, "agreements", command, agreement, status=2)
        assert (
            error
            == f"error: agreement {agreement} not found (it does not exist or is not your organization's)\n"
        )
    assert "AGREEMENT must be an id" in cli(env, "agreements", "show", "42", status=2)
    assert json.loads(cli(env, "agreements", "list", "--json")) == []


def test_standing_shows_every_change_with_rule_version_and_causes(network: Network, tmp_path: Path) -> None:
    reporting = network.reporting()
    rule = network.client(network.oem).request("POST", "/v1/rules", json=STANDARD_RULE_TEMPLATE)
    hub = network.client(reporting.supplier)
    report_ids = []
    for week in reversed(past_weeks(3)):
        payload = build_capability_report(
            agreement=reporting.agreement, characteristic="DIA-01", period=week, kpi="cpk", values=POOR
        )
        report_ids.append(str(hub.kpi_reports.submit(payload).id))
    env = environment(network, reporting.supplier, tmp_path)

    [standing] = json.loads(cli(env, "standing", "--json"))
    assert (standing["oem_id"], standing["supplier_id"]) == (
        str(network.oem.org_id),
        str(reporting.supplier.org_id),
    )
    assert (standing["tier"], standing["status"]) == ("B", "approved")
    [change] = standing["history"]
    assert (change["rule_id"], change["rule_version"]) == (rule["id"], 1)
    assert sorted(cause["report_id"] for cause in change["causes"]) == sorted(report_ids)

    text = cli(env, "standing", "--oem", str(network.oem.org_id))
    assert text.startswith(f"at OEM {network.oem.org_id}: tier B, approved")
    assert f"A/approved -> B/approved  rule {rule['id']} v1: " in text
    assert all(f"report_id={report_id}" in text for report_id in report_ids)
    assert text.count("cause: ") == 3
    other = network.register(OrgKind.OEM)
    assert json.loads(cli(env, "standing", "--oem", str(other.org_id), "--json")) == []


def test_webhooks_from_creation_to_deletion(network: Network, tmp_path: Path) -> None:
    supplier, other = network.register(OrgKind.SUPPLIER), network.register(OrgKind.SUPPLIER)
    env, other_env = environment(network, supplier, tmp_path), environment(network, other, tmp_path)

    made = cli(env, "webhooks", "create", "https://mes.example.com/qualink", "--event", "standing.changed")
    webhook_id, secret_line = made.splitlines()[0].split()[0], made.splitlines()[1]
    assert secret_line.startswith("secret: whsec_") and "not shown again" in made
    [listed] = json.loads(cli(env, "webhooks", "list", "--json"))
    assert (listed["id"], listed["event_types"], listed["disabled_at"]) == (
        webhook_id,
        ["standing.changed"],
        None,
    )
    assert "secret" not in listed and secret_line.split()[1] not in cli(env, "webhooks", "show", webhook_id)
    rotated = json.loads(
        cli(env, "webhooks", "rotate-secret", webhook_id, "--overlap-seconds", "60", "--json")
    )
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret_line.split()[1]
    assert json.loads(cli(env, "webhooks", "deliveries", webhook_id, "--status", "dead", "--json")) == []

    assert "NotFound" in cli(other_env, "webhooks", "delete", webhook_id, status=2)
    assert cli(env, "webhooks", "delete", webhook_id) == f"{webhook_id} disabled\n"
    assert json.loads(cli(env, "webhooks", "show", webhook_id, "--json"))["disabled_at"] is not None
    assert "url" in cli(env, "webhooks", "create", "ftp://mes.example.com/x", status=2).lower()


def test_a_client_without_the_scope_is_refused_in_one_line(network: Network, tmp_path: Path) -> None:
    reader = network.register(OrgKind.SUPPLIER, scopes=["agreements:read"])
    agreement = propose(network, reader.org_id, "Read only")
    env = environment(network, reader, tmp_path)

    assert [a["id"] for a in json.loads(cli(env, "agreements", "list", "--json"))] == [agreement]
    for args in (("agreements", "accept", agreement), ("webhooks", "list"), ("standing",)):
        error = cli(env, *args, status=2)
        assert (
            error.startswith("error: InsufficientScope: ") and "(HTTP 403" in error and error.count("\n") == 1
        )
    assert json.loads(cli(env, "agreements", "show", agreement, "--json"))["status"] == "proposed"
