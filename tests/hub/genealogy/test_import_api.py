"""POST /v1/genealogy:import: the three formats, idempotence, late links, the rejected-rows report, isolation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.app import create_app
from hub.auth.scopes import check_grantable
from hub.config import Settings
from hub.db import get_session
from hub.models import Asset, AssetLink, AuditEntry, Event, InventoryPosition, PartType, Plant, Shipment
from protocol.models.common import OrgKind
from tests.hub.conftest import Actor

URL = "/v1/genealogy:import"
NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def post(actor: Actor, body: str | bytes, content_type: str = "application/x-ndjson", **kw: Any) -> Any:
    headers = {**actor.headers(), "Content-Type": content_type}
    return actor.http.post(URL, content=body, headers=headers, **kw)


def network(supplier: Actor, oem: Actor) -> str:
    """A capacitor lot of the supplier, shipped to the OEM, consumed into an OEM vehicle."""
    return ndjson(
        {"type": "part_type", "manufacturer_part_id": "CAP-100", "name_at_manufacturer": "film capacitor"},
        {"type": "plant", "code": "BPNS-SUP-1", "name": "Supplier plant"},
        {
            "type": "batch",
            "batch_id": "LOT-1",
            "manufacturer_part_id": "CAP-100",
            "catenax_id": "urn:uuid:00000000-0000-4000-8000-000000000001",
            "site": "BPNS-SUP-1",
            "production_date": "2026-11-02T06:00:00Z",
            "quantity": "10000",
            "unit": "unit:piece",
        },
        {"type": "batch", "batch_id": "LOT-2", "manufacturer_part_id": "CAP-100", "quantity": 500},
    )


def test_ndjson_import_writes_every_record_type_and_reports_counts(
    db: Session, supplier: Actor, oem: Actor
) -> None:
    response = post(supplier, network(supplier, oem))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"] == "ndjson"
    assert (report["rows"], report["accepted"], report["rejected"]) == (4, 4, 0)
    assert report["by_type"]["batch"]["accepted"] == 2
    lot = db.scalars(select(Asset).where(Asset.local_id == "LOT-1")).one()
    assert lot.organization_id == supplier.org.id
    assert lot.kind == "batch" and lot.quantity == Decimal("10000") and lot.site == "BPNS-SUP-1"
    assert lot.catenax_id == "urn:uuid:00000000-0000-4000-8000-000000000001"
    assert db.scalar(select(PartType.name_at_manufacturer).where(PartType.id == lot.part_type_id)) == (
        "film capacitor"
    )
    # the OEM: its plant, a vehicle with a model, the link, inventory of the supplier's lot in its plant
    oem_file = ndjson(
        {"type": "plant", "code": "BPNS-OEM-1", "name": "Assembly Nord"},
        {
            "type": "serial_part",
            "part_instance_id": "VIN-1",
            "manufacturer_part_id": "VEH",
            "model": "Aurora",
        },
        {
            "type": "link",
            "parent": "serial/VIN-1",
            "child": "urn:uuid:00000000-0000-4000-8000-000000000001",
            "quantity": 4,
            "unit": "unit:piece",
        },
        {
            "type": "inventory",
            "asset": f"{supplier.org.id}/batch/LOT-2",
            "plant": "BPNS-OEM-1",
            "location": "BIN-7",
            "quantity": 120,
            "unit": "unit:piece",
        },
    )
    report = post(oem, oem_file).json()
    assert (report["accepted"], report["rejected"]) == (4, 0), report
    vehicle = db.scalars(select(Asset).where(Asset.local_id == "VIN-1")).one()
    assert vehicle.kind == "serial" and vehicle.model == "Aurora"
    link = db.scalars(select(AssetLink)).one()
    assert (link.parent_id, link.child_id, link.organization_id) == (vehicle.id, lot.id, oem.org.id)
    assert link.quantity == 4
    position = db.scalars(select(InventoryPosition)).one()
    assert position.quantity == 120 and position.location == "BIN-7"
    # the supplier ships LOT-1 to the OEM's plant
    shipment = ndjson(
        {
            "type": "shipment",
            "asset": "batch/LOT-1",
            "delivery_note": "DN-1",
            "customer_organization_id": str(oem.org.id),
            "plant": "BPNS-OEM-1",
            "shipped_on": "2026-11-03",
            "quantity": 5000,
            "unit": "unit:piece",
        }
    )
    assert post(supplier, shipment).json()["accepted"] == 1
    sent = db.scalars(select(Shipment)).one()
    assert sent.plant_id == db.scalar(select(Plant.id).where(Plant.code == "BPNS-OEM-1"))
    # one audit entry and one event per import
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "genealogy.import")).all()
    assert len(entries) == 3 and entries[0].data["accepted"] == 4
    assert db.scalar(select(func.count()).select_from(Event).where(Event.type == "genealogy.imported")) == 3


def test_reimport_is_idempotent_and_changes_are_updates(db: Session, supplier: Actor, oem: Actor) -> None:
    body = network(supplier, oem)
    post(supplier, body)
    again = post(supplier, body).json()
    assert (again["accepted"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert db.scalar(select(func.count()).select_from(Asset)) == 2
    changed = body.replace('"quantity": 500', '"quantity": 450')
    report = post(supplier, changed).json()
    assert (report["accepted"], report["updated"], report["unchanged"]) == (0, 1, 3)
    assert db.scalar(select(Asset.quantity).where(Asset.local_id == "LOT-2")) == 450


def test_an_equal_value_is_unchanged_a_repeated_row_is_an_update_and_an_updated_row_keeps_its_id(
    db: Session, supplier: Actor, oem: Actor
) -> None:
    post(supplier, network(supplier, oem))
    lot_id = db.scalar(select(Asset.id).where(Asset.local_id == "LOT-2"))
    # the same quantity written with another scale and the same instant in another zone are no change
    same = (
        network(supplier, oem)
        .replace('"quantity": 500', '"quantity": "500.0000"')
        .replace("2026-11-02T06:00:00Z", "2026-11-02T08:00:00+02:00")
    )
    assert (post(supplier, same).json()["unchanged"], db.scalar(select(func.count()).select_from(Asset))) == (
        4,
        2,
    )
    lot = {"type": "batch", "batch_id": "LOT-2", "manufacturer_part_id": "CAP-100", "quantity": 300}
    twice = ndjson(lot, {**lot, "quantity": 200})
    report = post(supplier, twice).json()
    # the later row replaces the earlier one of the same file: one update for it, one for the stored row
    assert (report["accepted"], report["updated"], report["unchanged"]) == (0, 2, 0)
    db.expire_all()
    stored = db.scalars(select(Asset).where(Asset.local_id == "LOT-2")).one()
    assert (stored.id, stored.quantity) == (lot_id, 200)


def test_links_arriving_before_their_lots_are_resolved_when_the_lot_arrives(
    db: Session, supplier: Actor, oem: Actor
) -> None:
    early = ndjson(
        {"type": "serial_part", "part_instance_id": "VIN-9", "manufacturer_part_id": "VEH"},
        {
            "type": "link",
            "parent": "serial/VIN-9",
            "child": f"{supplier.org.id}/batch/LOT-LATE",
            "quantity": 2,
        },
    )
    assert post(oem, early).json()["accepted"] == 2
    link = db.scalars(select(AssetLink)).one()
    assert link.parent_id is not None and link.child_id is None
    report = post(
        supplier, ndjson({"type": "batch", "batch_id": "LOT-LATE", "manufacturer_part_id": "C"})
    ).json()
    assert report["links_resolved"] == 1
    db.refresh(link)
    assert link.child_id == db.scalar(select(Asset.id).where(Asset.local_id == "LOT-LATE"))


def test_rejected_rows_are_reported_with_line_field_and_reason_and_the_rest_kept(
    db: Session, supplier: Actor, oem: Actor
) -> None:
    body = (
        ndjson({"type": "batch", "batch_id": "LOT-OK", "manufacturer_part_id": "C"})
        + "{not json\n"
        + ndjson(
            {"type": "batch", "batch_id": "LOT-NEG", "manufacturer_part_id": "C", "quantity": -5},
            {
                "type": "shipment",
                "asset": "batch/NOPE",
                "delivery_note": "DN",
                "customer_organization_id": str(oem.org.id),
                "shipped_on": "2026-11-03",
                "quantity": 1,
                "unit": "unit:piece",
            },
            {
                "type": "batch",
                "batch_id": "LOT-X",
                "manufacturer_part_id": "C",
                "organization_id": str(oem.org.id),
            },
            {"type": "gadget"},
        )
        + '{"type": ["batch"]}\n'
    )
    report = post(supplier, body).json()
    assert (report["rows"], report["accepted"], report["rejected"]) == (7, 1, 6)
    assert set(report["by_type"]) == {"batch", "shipment"}
    reasons = {r["line"]: (r["field"], r["reason"]) for r in report["rejections"]}
    assert reasons[2][1].startswith("not JSON")
    assert reasons[3][0] == "quantity" and "greater than or equal to 0" in reasons[3][1]
    assert reasons[4] == ("asset", "unknown lot")
    assert reasons[5] == ("organization_id", "not your organization")
    assert 6 in reasons
    assert db.scalars(select(Asset.local_id)).all() == ["LOT-OK"]


def test_a_link_that_closes_a_cycle_is_refused_and_named(db: Session, supplier: Actor) -> None:
    body = ndjson(
        *[{"type": "batch", "batch_id": f"L{i}", "manufacturer_part_id": "C"} for i in range(3)],
        {"type": "link", "parent": "batch/L0", "child": "batch/L1"},
        {"type": "link", "parent": "batch/L1", "child": "batch/L2"},
        {"type": "link", "parent": "batch/L2", "child": "batch/L0"},
        {"type": "link", "parent": "batch/L2", "child": "batch/L2"},
    )
    report = post(supplier, body).json()
    assert report["by_type"]["link"]["accepted"] == 2, report
    rejected = {r["line"]: r for r in report["rejections"]}
    org = supplier.org.id
    assert (
        rejected[6]["reason"] == f"cycle: {org}/batch/L2 > {org}/batch/L0 > {org}/batch/L1 > {org}/batch/L2"
    )
    assert rejected[7]["reason"].startswith("cycle:")
    assert db.scalar(select(func.count()).select_from(AssetLink)) == 2


def test_another_organizations_lot_cannot_be_linked_as_parent_or_shipped(
    db: Session, supplier: Actor, other_supplier: Actor, oem: Actor
) -> None:
    post(
        supplier,
        ndjson(
            {"type": "batch", "batch_id": "LOT-S", "manufacturer_part_id": "C", "catenax_id": "urn:uuid:s"}
        ),
    )
    body = ndjson(
        {"type": "link", "parent": f"{supplier.org.id}/batch/LOT-S", "child": "batch/MINE"},
        {"type": "link", "parent": "urn:uuid:s", "child": "batch/MINE"},
        {
            "type": "shipment",
            "asset": "urn:uuid:s",
            "delivery_note": "DN",
            "customer_organization_id": str(oem.org.id),
            "shipped_on": "2026-11-03",
            "quantity": 1,
            "unit": "unit:piece",
        },
        {"type": "batch", "batch_id": "COPY", "manufacturer_part_id": "C", "catenax_id": "urn:uuid:s"},
    )
    report = post(other_supplier, body).json()
    assert report["rejected"] == 4, report
    fields = [r["field"] for r in report["rejections"]]
    assert fields == ["parent", "parent", "asset", "catenax_id"]  # in line order
    assert db.scalar(select(func.count()).select_from(AssetLink)) == 0


def test_csv_import_by_query_type_and_by_column(db: Session, supplier: Actor) -> None:
    body = (
        "batch_id,manufacturer_part_id,quantity,unit\nC-1,CAP-100,100,unit:piece\nC-2,CAP-100,-1,unit:piece\n"
    )
    report = post(supplier, body, "text/csv", params={"type": "batch"}).json()
    assert (report["format"], report["accepted"], report["rejected"]) == ("csv", 1, 1)
    assert report["rejections"][0]["line"] == 3 and report["rejections"][0]["field"] == "quantity"
    plants = 'type,code,name\nplant,P1,Nord\nplant,P2,"Süd, Halle 2"\n'
    assert post(supplier, plants, "text/csv; charset=utf-8").json()["accepted"] == 2
    assert db.scalar(select(Plant.name).where(Plant.code == "P2")) == "Süd, Halle 2"


def test_catenax_batch_serial_part_and_bom(db: Session, supplier: Actor, oem: Actor) -> None:
    batch = {
        "catenaXId": "urn:uuid:cx-lot",
        "localIdentifiers": [
            {"key": "manufacturerId", "value": "BPNL000000000001"},
            {"key": "batchId", "value": "CX-LOT-1"},
        ],
        "manufacturingInformation": {
            "date": "2026-02-04T14:48:54",
            "country": "DEU",
            "sites": [{"catenaXsiteId": "BPNS000000000001", "function": "production"}],
        },
        "partTypeInformation": {
            "manufacturerPartId": "CAP-7",
            "nameAtManufacturer": "capacitor",
            "partClassification": [{"classificationStandard": "x"}],
        },
    }
    assert post(supplier, json.dumps(batch), "application/json").json()["accepted"] == 1
    items = [
        {
            "catenaXId": "urn:uuid:cx-car",
            "localIdentifiers": [
                {"key": "partInstanceId", "value": "VIN-CX"},
                {"key": "van", "value": "OMA"},
            ],
            "partTypeInformation": {"manufacturerPartId": "VEH-1", "nameAtManufacturer": "Aurora 2026"},
        },
        {
            "catenaXId": "urn:uuid:cx-car",
            "childItems": [
                {
                    "catenaXId": "urn:uuid:cx-lot",
                    "quantity": {"value": 4, "unit": "unit:piece"},
                    "hasAlternatives": False,
                }
            ],
        },
        {"catenaXId": "urn:uuid:x", "localIdentifiers": [{"key": "other", "value": "1"}]},
    ]
    report = post(oem, json.dumps(items), "application/json").json()
    assert (report["format"], report["accepted"], report["rejected"]) == ("catenax", 2, 1), report
    assert report["rejections"][0]["line"] == 3
    car = db.scalars(select(Asset).where(Asset.catenax_id == "urn:uuid:cx-car")).one()
    lot = db.scalars(select(Asset).where(Asset.catenax_id == "urn:uuid:cx-lot")).one()
    assert car.model == "Aurora 2026" and lot.site == "BPNS000000000001"
    assert lot.production_date is not None and lot.production_date.tzinfo is not None
    link = db.scalars(select(AssetLink)).one()
    assert (link.parent_id, link.child_id, link.quantity) == (car.id, lot.id, 4)


def test_missing_scope_is_403_and_malformed_requests_422(supplier: Actor) -> None:
    headers = {**supplier.headers("org:read"), "Content-Type": "application/x-ndjson"}
    response = supplier.http.post(URL, content=b"", headers=headers)
    assert response.status_code == 403 and "genealogy:write" in response.json()["detail"]
    response = post(supplier, "x", "text/plain")
    assert response.status_code == 422 and response.json()["fields"][0]["loc"] == "header.content-type"
    response = post(supplier, "a,b\n", "text/csv")
    assert response.status_code == 200 and response.json()["rejections"][0]["field"] == "type"
    response = post(supplier, "{}", "application/x-ndjson", params={"type": "batch"})
    assert response.status_code == 422 and response.json()["fields"][0]["loc"] == "query.type"
    response = post(supplier, "a\n", "text/csv", params={"type": "nonsense"})
    assert response.status_code == 422 and "type" in response.json()["fields"][0]["loc"]


def test_imports_have_their_own_body_limit(db: Session, settings: Settings, supplier: Actor) -> None:
    small = settings.model_copy(update={"max_body_bytes": 2048, "genealogy_import_max_body_bytes": 64 * 1024})
    app = create_app(small)

    def _session() -> Iterator[Session]:
        yield db
        db.commit()

    app.dependency_overrides[get_session] = _session
    lots = ndjson(
        *[{"type": "batch", "batch_id": f"B{i:05d}", "manufacturer_part_id": "C"} for i in range(200)]
    )
    assert 2048 < len(lots) < 64 * 1024
    headers = {**supplier.headers(), "Content-Type": "application/x-ndjson"}
    with TestClient(app, base_url="http://localhost:8000") as http:
        response = http.post(URL, content=lots, headers=headers)
        assert response.status_code == 200 and response.json()["accepted"] == 200
        too_big = (lots * 20).encode()
        response = http.post(URL, content=too_big, headers=headers)
        assert response.status_code == 413 and "65536" in response.json()["detail"]
        streamed = http.post(
            URL, content=iter([too_big[i : i + 8192] for i in range(0, len(too_big), 8192)]), headers=headers
        )
        assert streamed.status_code == 413
        other = http.post("/v1/trace", content=lots, headers={**headers, "Content-Type": "application/json"})
        assert other.status_code == 413
    assert db.scalar(select(func.count()).select_from(Asset)) == 200


def test_genealogy_scopes_go_to_parts_makers_only() -> None:
    for kind in (OrgKind.SUPPLIER, OrgKind.OEM):
        check_grantable(kind, ["genealogy:write", "genealogy:read"])
    with pytest.raises(ValueError, match="genealogy:write"):
        check_grantable(OrgKind.LAB, ["genealogy:write"])


def test_a_waiting_link_that_closes_a_cycle_when_its_lot_arrives_is_removed_and_named(
    db: Session, supplier: Actor
) -> None:
    early = ndjson(
        {"type": "batch", "batch_id": "A", "manufacturer_part_id": "C"},
        {"type": "link", "parent": "batch/A", "child": "batch/B"},
        {"type": "link", "parent": "batch/B", "child": "batch/A"},
    )
    report = post(supplier, early).json()
    assert report["accepted"] == 3 and report["rejected"] == 0
    assert db.scalar(select(func.count()).select_from(AssetLink).where(AssetLink.child_id.is_(None))) == 1
    report = post(supplier, ndjson({"type": "batch", "batch_id": "B", "manufacturer_part_id": "C"})).json()
    assert report["by_type"]["batch"]["accepted"] == 1 and report["links_resolved"] == 1
    assert report["rejections"][0]["line"] == 1 and report["rejections"][0]["field"] == "link"
    assert "cycle:" in report["rejections"][0]["reason"] and "removed" in report["rejections"][0]["reason"]
    assert db.scalar(select(func.count()).select_from(AssetLink)) == 1


def test_nul_characters_are_rejected_rows_quoted_without_the_nul(db: Session, supplier: Actor) -> None:
    rows = [
        {"type": "plant", "code": "P\x00", "name": "Nord"},
        {"type": "a\x00b"},
        {"type": "plant", "code": "P1", "name": "Nord"},
    ]
    response = post(supplier, "\n".join(json.dumps(row) for row in rows))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["accepted"] == 1 and report["rejected"] == 2, report
    reasons = [rejection["reason"] for rejection in report["rejections"]]
    assert "NUL" in reasons[0] and "\x00" not in "".join(reasons) and "\\u0000" in reasons[1], reasons
    plants = db.scalars(select(Plant.code).where(Plant.organization_id == supplier.org.id)).all()
    assert plants == ["P1"]


@pytest.mark.parametrize("depth", [65, 5000])
def test_a_catenax_item_nested_too_deep_is_a_rejected_item_not_a_500(
    db: Session, supplier: Actor, depth: int
) -> None:
    good = {
        "catenaXId": "urn:uuid:cx-deep-ok",
        "localIdentifiers": [{"key": "batchId", "value": "CX-OK"}],
        "partTypeInformation": {"manufacturerPartId": "CAP-7", "nameAtManufacturer": "capacitor"},
    }
    deep = "[" * depth + "]" * depth
    body = f'[{json.dumps(good)}, {{"catenaXId": "urn:uuid:cx-deep", "childItems": {deep}}}]'
    response = post(supplier, body, "application/json")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (1, 1), report
    assert (
        report["rejections"][0]["line"] == 2 and "nested deeper than 64" in report["rejections"][0]["reason"]
    )


def test_an_ndjson_line_nested_too_deep_is_a_rejected_row(db: Session, supplier: Actor) -> None:
    deep = {
        "type": "batch",
        "batch_id": "LOT-D",
        "manufacturer_part_id": "C",
        "x": json.loads("[" * 70 + "]" * 70),
    }
    body = (
        ndjson({"type": "part_type", "manufacturer_part_id": "C", "name_at_manufacturer": "c"})
        + json.dumps(deep)
        + "\n"
    )
    report = post(supplier, body).json()
    assert (report["accepted"], report["rejected"]) == (1, 1), report
    assert (
        report["rejections"][0]["line"] == 2 and "nested deeper than 64" in report["rejections"][0]["reason"]
    )
