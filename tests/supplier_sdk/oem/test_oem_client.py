"""supplier_sdk.oem.OemClient against a real hub on a local socket: the OEM's whole cycle with one supplier
(agreement, rule, reports over several pages, an offline-verified proof, the standing, a trace and an
investigation) and the hub's refusals as the SDK's typed errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from protocol.models.common import AgreementStatus, OrgKind
from protocol.models.kpi import KpiReport
from protocol.models.notifications import NotificationStatus
from protocol.models.rules import STANDARD_RULE_TEMPLATE, Rule, RuleStatus, Tier
from protocol.zk.errors import ProofInvalid
from supplier_sdk.attest import attest_report
from supplier_sdk.errors import InvalidRequest, NotFound, PermissionDenied
from supplier_sdk.oem import OemClient
from supplier_sdk.reports import build_capability_report, build_mtbf_report
from tests.supplier_sdk.test_client_support import (
    Network,
    Party,
    agreement_terms,
    past_weeks,
    running_network,
)

pytestmark = pytest.mark.e2e

SPREAD = np.round(np.random.default_rng(7).normal(25.0, 0.02, 40), 3)  # CPK far below 1.33
TERMS = {
    "kpis": [
        {"kpi": "cpk", "threshold": "1.33", "disclosure": "value"},
        {"kpi": "mtbf", "threshold": "5000", "disclosure": "value+proof"},
    ]
}


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_oem_client") as network:
        yield network


def oem_client(network: Network, party: Party) -> OemClient:
    return OemClient(client=network.client(party))


def test_an_oem_runs_the_whole_cycle_with_one_supplier(network: Network) -> None:
    oem = oem_client(network, network.oem)
    supplier = network.register(OrgKind.SUPPLIER)
    hub = network.client(supplier)
    hub.keys.register_signing_key()

    proposed = oem.agreements.propose(agreement_terms(supplier.org_id, **TERMS))
    assert proposed.status is AgreementStatus.PROPOSED and proposed.oem_id == network.oem.org_id
    hub.agreements.accept(proposed.id, reason="terms agreed")
    agreement = oem.agreements.get(proposed.id)
    assert agreement.status is AgreementStatus.ACTIVE
    assert agreement.id in {a.id for a in oem.agreements.list(status="active", page_size=1)}

    rule_terms = {
        **STANDARD_RULE_TEMPLATE,
        "status": "draft",
        "scope": {"suppliers": [str(supplier.org_id)], "kpis": ["cpk"]},
    }
    draft = oem.rules.create(rule_terms)
    assert isinstance(draft, Rule) and draft.status is RuleStatus.DRAFT
    assert oem.rules.dry_run(draft.id).evaluated == 0  # nothing reported yet
    active = oem.rules.activate(draft.id)
    assert isinstance(active, Rule) and (active.status, active.version) == (RuleStatus.ACTIVE, 2)
    assert [v.version for v in oem.rules.versions(draft.id)] == [1, 2]
    assert any(t.name == STANDARD_RULE_TEMPLATE["name"] for t in oem.rules.templates())

    weeks = past_weeks(3)
    for week in reversed(weeks):
        hub.kpi_reports.submit(
            build_capability_report(agreement=agreement, characteristic="DIA-01", period=week, kpi="cpk",
                                    values=SPREAD, subgroup_size=5)
        )  # fmt: skip
    mtbf = build_mtbf_report(agreement=agreement, period=weeks[0], hours=60_000, failures=3)
    context = hub.kpi_reports.attestation_context(agreement.id, kpi="mtbf", period=weeks[0])
    hub.kpi_reports.submit(
        attest_report(mtbf, agreement=agreement, context=context, hours=60_000, failures=3)
    )

    listing = oem.kpi_reports.list(agreement_id=agreement.id, page_size=3)
    assert [len(items) for items, _ in listing.pages()] == [3, 1]
    reports = listing.all()
    assert all(isinstance(r, KpiReport) for r in reports) and len({r.id for r in reports}) == 4
    assert sorted(r.period for r in reports if r.kpi == "cpk") == sorted(weeks)
    proven = next(r for r in reports if r.kpi == "mtbf")
    assert proven.proven and oem.kpi_reports.get(proven.id) == proven

    attestation = oem.proofs.verify_offline(proven)
    assert attestation.statement == "mtbf_at_least"
    assert attestation.context().supplier == str(supplier.org_id)
    cpk_report = next(r for r in reports if r.kpi == "cpk")
    with pytest.raises(ProofInvalid) as bound:  # the proof is another report's: refused before any maths
        oem.proofs.verify_offline(cpk_report, proof=attestation)
    assert bound.value.check == "context binding"
    with pytest.raises(NotFound):  # a value-only report carries no proof
        oem.proofs.get(cpk_report.id)

    assert_the_proof_is_only_for_readers_of_the_report(network, proven)

    standing = oem.standings.get(supplier.org_id)
    assert standing.tier is not Tier.A  # three misses in a row lowered it
    history = oem.standings.history(supplier.org_id)
    assert history[0].rule_id == draft.id and history[0].to_tier is standing.tier
    assert supplier.org_id in {s.supplier_id for s in oem.standings.list(page_size=1)}

    tag = uuid.uuid4().hex[:8]
    hub.genealogy.import_records(
        [{"type": "batch", "batch_id": f"L-{tag}", "manufacturer_part_id": "SH-4410"}]
    )
    oem.client.genealogy.import_records(
        [
            {"type": "serial_part", "part_instance_id": f"V-{tag}", "manufacturer_part_id": "CAR-1"},
            {"type": "link", "parent": f"serial/V-{tag}", "child": f"{supplier.org_id}/batch/L-{tag}",
             "quantity": 1, "unit": "pcs"},
        ]
    )  # fmt: skip
    upstream = oem.trace.backward([f"serial/V-{tag}"], depth=1).nodes
    lot = next(node.asset_id for node in upstream if node.local_id == f"L-{tag}")
    assert any(
        node.local_id == f"V-{tag}" for node in oem.trace.forward([f"{supplier.org_id}/batch/L-{tag}"]).nodes
    )
    raised = oem.notifications.raise_notification(
        type="INVESTIGATION",
        title="Shaft diameter out of tolerance",
        affected_asset_ids=[lot],
        severity="MAJOR",
    )
    assert raised.status is NotificationStatus.SENT and raised.receiver_id == supplier.org_id
    assert raised.id in {n.id for n in hub.notifications.list(role="receiver", status="SENT")}


def assert_the_proof_is_only_for_readers_of_the_report(network: Network, report: KpiReport) -> None:
    """``GET /v1/kpi-reports/{id}/proof``: another OEM's report is a 404, no ``kpi:read`` a 403, a bad id 422."""
    stranger = oem_client(network, network.register(OrgKind.OEM))
    with pytest.raises(NotFound):
        stranger.proofs.get(report.id)
    with pytest.raises(NotFound):
        stranger.proofs.verify_offline(report)
    unscoped = oem_client(network, network.register(OrgKind.OEM, scopes=["agreements:read"]))
    with pytest.raises(PermissionDenied):
        unscoped.proofs.get(report.id)
    with pytest.raises(InvalidRequest) as malformed:
        stranger.client.request("GET", "/v1/kpi-reports/not-a-report/proof")
    assert [field.loc for field in malformed.value.fields] == ["path.report_id"]


def test_a_propose_retried_with_the_same_idempotency_key_makes_one_agreement(network: Network) -> None:
    oem = oem_client(network, network.oem)
    supplier = network.register(OrgKind.SUPPLIER)
    terms = agreement_terms(supplier.org_id, title="Retried proposal")
    key = str(uuid.uuid4())

    first = oem.agreements.propose(terms, idempotency_key=key)
    again = oem.agreements.propose(terms, idempotency_key=key)

    assert again == first
    assert [a.id for a in oem.agreements.list(supplier_id=supplier.org_id)] == [first.id]


def test_another_oems_agreement_is_not_found(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    theirs = oem_client(network, network.oem).agreements.propose(agreement_terms(supplier.org_id))
    other = oem_client(network, network.register(OrgKind.OEM))

    with pytest.raises(NotFound) as caught:
        other.agreements.get(theirs.id)

    assert caught.value.http_status == 404 and caught.value.error == "NotFound"
    assert theirs.id not in {a.id for a in other.agreements.list()}


def test_a_client_without_the_scope_is_denied(network: Network) -> None:
    reader = oem_client(network, network.register(OrgKind.OEM, scopes=["agreements:read"]))
    supplier = network.register(OrgKind.SUPPLIER)

    with pytest.raises(PermissionDenied) as caught:
        reader.agreements.propose(agreement_terms(supplier.org_id))

    assert caught.value.http_status == 403
    assert reader.agreements.list().all() == []


def test_a_malformed_rule_is_refused_naming_the_field(network: Network) -> None:
    oem = oem_client(network, network.oem)

    with pytest.raises(InvalidRequest) as caught:
        oem.rules.create({**STANDARD_RULE_TEMPLATE, "status": "draft", "condition": "met &&"})

    assert caught.value.http_status == 422
    assert [field.loc for field in caught.value.fields] == ["body.condition"]
    assert "does not parse" in caught.value.fields[0].msg
