"""Genealogy, trace, investigations and containment through the SDK, over a real socket against the real hub:
a three-tier network imported as an NDJSON file, records and a CSV file; the capacitor maker's trace (yes, counts,
no third-party identities); the OEM's investigation answered by the ECU maker; the capacitor maker's alert whose
containment action the ECU maker acknowledges and closes; and the hub's refusals as typed SDK errors."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from protocol.models.common import OrgKind
from protocol.models.containment import ContainmentStatus
from protocol.models.notifications import NotificationStatus, NotificationType
from supplier_sdk.errors import ConflictError, InvalidRequest, NotFound, PermissionDenied
from supplier_sdk.genealogy import CHUNK_SIZE
from supplier_sdk.trace import by_catenax_id, by_local_id
from tests.supplier_sdk.test_client_support import CountingTransport, Network
from tests.supplier_sdk.trace.tiers import FILLER_LOTS, MODEL, Tiers

pytestmark = pytest.mark.e2e


def test_the_network_is_imported_from_a_file_records_and_csv(tiers: Tiers) -> None:
    capacitor = tiers.reports["capacitor"]
    assert capacitor.format == "ndjson" and capacitor.rejected == 0, capacitor.rejections
    assert capacitor.by_type["batch"].accepted == 1 + FILLER_LOTS
    assert (capacitor.by_type["inventory"].accepted, capacitor.by_type["shipment"].accepted) == (1, 1)
    assert tiers.capacitor_file.stat().st_size > CHUNK_SIZE  # streamed in more than one piece
    assert tiers.reports["ecu"].rejected == 0, tiers.reports["ecu"].rejections
    assert tiers.reports["ecu"].by_type["link"].accepted == 1
    assert (
        tiers.reports["ecu_shipment"].by_type["shipment"].accepted == 1
    )  # a mapping with date, Decimal, UUID
    vehicles = tiers.reports["oem_vehicles"]
    assert (vehicles.format, vehicles.by_type["serial_part"].accepted) == ("csv", 2)
    assert tiers.reports["oem"].accepted == 3, tiers.reports["oem"].rejections


def test_reimporting_the_file_changes_nothing_and_reports_progress(tiers: Tiers) -> None:
    seen: list[int] = []
    again = tiers.capacitor.client.genealogy.import_file(tiers.capacitor_file, on_progress=seen.append)
    assert (again.accepted, again.updated, again.unchanged) == (0, 0, again.rows)
    assert seen[0] == 0 and seen[-1] == tiers.capacitor_file.stat().st_size and len(seen) > 2
    assert seen == sorted(seen)


def test_a_file_goes_out_chunked_under_its_format_s_content_type(network: Network, tiers: Tiers) -> None:
    transport = CountingTransport()
    client = network.client(tiers.capacitor.party, transport=transport)
    client.genealogy.import_file(tiers.capacitor_file)
    client.genealogy.import_file(tiers.capacitor_file, format="ndjson")
    untyped = tiers.capacitor_file.with_name("lots.csv")
    untyped.write_text(f"batch_id,manufacturer_part_id\nCSV-{tiers.tag},CAP-100\n")
    assert client.genealogy.import_file(untyped, record_type="batch").accepted == 1

    imports = [r for r in transport.requests if r.url.path == "/v1/genealogy:import"]
    assert [r.headers["content-type"] for r in imports] == ["application/x-ndjson"] * 2 + ["text/csv"]
    assert imports[0].headers["transfer-encoding"] == "chunked" and "content-length" not in imports[0].headers
    assert imports[2].url.params["type"] == "batch" and "type" not in imports[0].url.params
    assert len({r.headers["idempotency-key"] for r in imports}) == 3


def test_rejected_rows_are_reported_and_the_rest_is_kept(tiers: Tiers) -> None:
    report = tiers.capacitor.client.genealogy.import_records(
        [
            {
                "type": "batch",
                "batch_id": f"NEG-{tiers.tag}",
                "manufacturer_part_id": "CAP-100",
                "quantity": -5,
            },
            {
                "type": "batch",
                "batch_id": f"OK-{tiers.tag}",
                "manufacturer_part_id": "CAP-100",
                "quantity": 5,
            },
        ]
    )
    assert (report.accepted, report.rejected) == (1, 1)
    assert report.rejections[0].line == 1 and report.rejections[0].field == "quantity"


def test_the_capacitor_maker_learns_yes_and_counts_but_no_third_party_identities(tiers: Tiers) -> None:
    result = tiers.capacitor.client.trace.run([tiers.lot("C1")])

    assert result.answer == "yes" and result.complete
    assert result.direction == "forward"
    disclosed = {node.local_id: node for node in result.nodes}
    assert set(disclosed) == {tiers.lot("C1"), tiers.lot("E1")}  # its lot and its customer's module
    assert disclosed[tiers.lot("C1")].root and disclosed[tiers.lot("E1")].organization_id == tiers.ecu.org_id
    assert result.affected_serials == 2
    assert (result.undisclosed.serials, result.undisclosed.organizations, result.undisclosed.models) == (
        2,
        1,
        1,
    )
    assert result.undisclosed.plants == 1 and result.undisclosed.positions == 1
    text = result.model_dump_json()
    for secret in (str(tiers.oem.org_id), MODEL, f"OEM-{tiers.tag}", f"V1-{tiers.tag}"):
        assert secret not in text


def test_roots_by_catenax_id_natural_key_and_backward_from_a_vehicle(tiers: Tiers) -> None:
    c1 = tiers.capacitor.client.trace.run([tiers.lot("C1")]).nodes
    catenax_id = next(node.catenax_id for node in c1 if node.root)
    assert catenax_id is not None
    by_urn = tiers.ecu.client.trace.run([by_catenax_id(catenax_id)])
    assert by_urn.answer == "yes" and {n.local_id for n in by_urn.nodes} >= {tiers.lot("E1")}

    shallow = tiers.oem.client.trace.run(
        [by_local_id(f"V1-{tiers.tag}", kind="serial")], direction="backward", depth=1
    )
    assert {n.local_id for n in shallow.nodes} == {f"V1-{tiers.tag}", tiers.lot("E1")}
    assert shallow.depth == 1
    deep = tiers.oem.client.trace.run([f"serial/V1-{tiers.tag}"], direction="backward")
    assert deep.affected_batches == 2 and deep.undisclosed.batches == 1  # C1 only counted
    assert str(tiers.capacitor.org_id) not in deep.model_dump_json()


def test_an_investigation_from_the_oem_is_answered_by_the_ecu_maker(tiers: Tiers) -> None:
    oem, ecu = tiers.oem.client, tiers.ecu.client
    nodes = oem.trace.run([f"serial/V2-{tiers.tag}"], direction="backward", depth=1).nodes
    module = next(node.asset_id for node in nodes if node.local_id == tiers.lot("E1"))
    created = oem.notifications.create(
        type="INVESTIGATION", title="ECU resets at cold start", severity="MAJOR", affected_asset_ids=[module]
    )
    assert created.status is NotificationStatus.CREATED and created.receiver_id == tiers.ecu.org_id
    oem.notifications.send(created.id)

    waiting = [n.id for n in ecu.notifications.list(role="receiver", status="SENT", page_size=1)]
    assert created.id in waiting
    assert ecu.notifications.receive(created.id).status is NotificationStatus.RECEIVED
    ecu.notifications.acknowledge(created.id, reason="analysis started")
    again = ecu.notifications.acknowledge(created.id)  # as a retry after a lost answer would: already done
    assert again.status is NotificationStatus.ACKNOWLEDGED
    assert [m.event for m in again.messages].count("acknowledged") == 1
    with pytest.raises(PermissionDenied):  # only the sender closes
        ecu.notifications.close(created.id, reason="done")
    accepted = ecu.notifications.accept(created.id, reason="cold-solder joints on E1 confirmed")
    assert accepted.status is NotificationStatus.ACCEPTED

    seen = oem.notifications.get(created.id)
    assert seen.status is NotificationStatus.ACCEPTED
    assert seen.messages[-1].reason == "cold-solder joints on E1 confirmed"
    assert seen.messages[-1].author_org_id == tiers.ecu.org_id
    closed = oem.notifications.close(created.id, reason="8D opened with the ECU maker")
    assert closed.status is NotificationStatus.CLOSED
    with pytest.raises(ConflictError):
        oem.notifications.cancel(created.id)


def test_the_ecu_maker_forwards_the_investigation_and_the_answer_flows_back(tiers: Tiers) -> None:
    oem, ecu, cap = tiers.oem.client, tiers.ecu.client, tiers.capacitor.client
    nodes = oem.trace.run([f"serial/V1-{tiers.tag}"], direction="backward", depth=1).nodes
    module = next(node.asset_id for node in nodes if node.local_id == tiers.lot("E1"))
    original = oem.notifications.create(
        type="INVESTIGATION", title="ECU brown-out", affected_asset_ids=[module]
    )
    oem.notifications.send(original.id)
    ecu.notifications.acknowledge(original.id)
    c1 = next(
        node.asset_id
        for node in ecu.trace.run([tiers.lot("E1")], direction="backward").nodes
        if not node.root
    )

    forwarded = ecu.notifications.forward(
        original.id, affected_asset_ids=[c1], reason="capacitor lot suspected"
    )
    assert forwarded.forwarded_from_id == original.id and forwarded.status is NotificationStatus.SENT
    assert forwarded.receiver_id == tiers.capacitor.org_id
    with pytest.raises(PermissionDenied):  # only the receiver forwards
        oem.notifications.forward(original.id, affected_asset_ids=[module])
    cap.notifications.acknowledge(forwarded.id)
    cap.notifications.decline(forwarded.id, reason="withstand test of retained samples passed")

    history = oem.notifications.get(original.id)
    assert any(m.reason and "withstand test of retained samples passed" in m.reason for m in history.messages)
    assert str(tiers.capacitor.org_id) not in history.model_dump_json()


def test_an_alert_opens_containment_the_plant_acknowledges_and_closes(tiers: Tiers) -> None:
    cap, ecu, oem = tiers.capacitor.client, tiers.ecu.client, tiers.oem.client
    c1 = next(node.asset_id for node in cap.trace.run([tiers.lot("C1")]).nodes if node.root)
    alert = cap.notifications.create(
        type=NotificationType.ALERT,
        title="Withstand voltage 38 V instead of 50 V",
        severity="CRITICAL",
        affected_asset_ids=[c1],
        containment={"kind": "sort"},
        id=uuid.uuid4(),
    )
    sent = cap.notifications.send(alert.id, reason="found at final test")
    assert sent.containment is not None and sent.containment.plants == 3  # CAP-1, ECU-1, the OEM's plant

    actions = list(ecu.containment.list(notification_id=alert.id))
    assert [(a.plant_code, a.kind.value, a.status) for a in actions] == [
        ("ECU-1", "sort", ContainmentStatus.OPEN)
    ]
    action = actions[0]
    assert action.quantity == 350 and action.positions == 2
    held = ecu.containment.get(action.id).holds or []
    assert {(h.location, h.quantity) for h in held} == {("R1", 300), ("F1", 50)}

    with pytest.raises(NotFound):  # another organization's action
        oem.containment.acknowledge(action.id, owner="not mine")
    with pytest.raises(ConflictError):  # closing before acknowledging
        ecu.containment.close(action.id, result="sorted")
    acknowledged = ecu.containment.acknowledge(action.id, owner="Jana Novak, ECU plant quality")
    assert ecu.containment.acknowledge(action.id, owner="Jana Novak").owner == "Jana Novak, ECU plant quality"
    assert acknowledged.status is ContainmentStatus.ACKNOWLEDGED and acknowledged.owner.startswith("Jana")
    closed = ecu.containment.close(action.id, result="350 pcs sorted, 12 scrapped")
    assert closed.status is ContainmentStatus.CLOSED and closed.result == "350 pcs sorted, 12 scrapped"

    progress = cap.notifications.get(alert.id).containment
    assert progress is not None and progress.actions_closed == 1 and progress.plants == 3
    oem_actions = list(oem.containment.list(notification_id=alert.id))
    assert [a.plant_code for a in oem_actions] == [f"OEM-{tiers.tag}"]
    assert f"OEM-{tiers.tag}" not in cap.notifications.get(alert.id).model_dump_json()


def test_hub_refusals_are_typed_sdk_errors(network: Network, tiers: Tiers) -> None:
    oem = tiers.oem.client
    c1 = next(
        node.asset_id for node in tiers.capacitor.client.trace.run([tiers.lot("C1")]).nodes if node.root
    )
    with pytest.raises(InvalidRequest) as refused:  # the OEM never received nor built in C1
        oem.notifications.create(type="INVESTIGATION", title="Capacitor?", affected_asset_ids=[c1])
    assert refused.value.http_status == 422
    assert any("affected_asset_ids" in field.loc for field in refused.value.fields)

    with pytest.raises(NotFound):  # a root the OEM has no relation to
        oem.trace.run([f"{tiers.capacitor.org_id}/batch/F00001-{tiers.tag}"])
    with pytest.raises(NotFound):
        tiers.ecu.client.notifications.get(uuid.uuid4())

    reader = network.register(OrgKind.SUPPLIER, scopes=["alerts:read"])
    limited = network.client(reader)
    with pytest.raises(PermissionDenied) as denied:
        limited.trace.run(["LOT-1"])
    assert denied.value.http_status == 403
    with pytest.raises(PermissionDenied):
        limited.genealogy.import_records([{"type": "plant", "code": "P", "name": "P"}])
    with pytest.raises(PermissionDenied):
        limited.notifications.create(type="ALERT", title="t", affected_asset_ids=[c1])
    assert list(limited.containment.list()) == []

    with pytest.raises(InvalidRequest) as wrong_type:  # ?type= goes with CSV only
        tiers.ecu.client.genealogy.import_file(tiers.capacitor_file, record_type="batch")
    assert wrong_type.value.http_status == 422 and wrong_type.value.fields[0].loc == "query.type"
    untyped = tiers.capacitor_file.with_name("untyped.csv")
    untyped.write_text("code,name\nP9,Nine\n")
    report = tiers.ecu.client.genealogy.import_file(
        untyped
    )  # a CSV that names no type: its rows are rejected
    assert report.rejected == 1 and report.rejections[0].field == "type"


def test_local_validation_happens_before_anything_is_sent(tiers: Tiers, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot tell the format"):
        tiers.ecu.client.genealogy.import_file(tmp_path / "lots.txt")
    with pytest.raises(FileNotFoundError):
        tiers.ecu.client.genealogy.import_file(tmp_path / "missing.ndjson")
    with pytest.raises(ValueError, match="not an asset id"):
        tiers.ecu.client.trace.run(["a/b/c/d"])
    with pytest.raises(ValueError):
        tiers.ecu.client.trace.run(["LOT-1"], depth=0)
