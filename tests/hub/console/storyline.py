"""The full story's network, seeded over HTTP as the demo seeds its own (``qualink_demo``): named suppliers under
agreements, the OEM's standard rule, bad and good CPK weeks, one capacitor lot built into the OEM's vehicles and
held at its plant by the supplier's alert, and a room whose D4 the OEM owns. No tests in here."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.models.base import utcnow
from protocol.models.common import OrgKind
from protocol.periods import Period
from supplier_sdk.reports import build_capability_report
from tests.supplier_sdk.test_client_support import Network, Reporting

LOT = "CP-LOT-0815"
MODELS = {"e-Volt 2026": 2, "e-Cargo 2026": 1}
PLANT = "AUR-WOB"


@dataclass
class Story:
    castor: Reporting  # downgraded live
    gearbox: Reporting  # a good supplier, seen only by the OEM
    lot_id: str  # the hub id of the capacitor lot, for the OEM's trace
    room_id: str


def named_supplier(network: Network, name: str) -> Reporting:
    supplier = network.register(OrgKind.SUPPLIER, name)
    agreement = network.agree(supplier)
    return Reporting(
        supplier=supplier, agreement=agreement, key_id=network.client(supplier).keys.register_signing_key()
    )


def _weeks_back(count: int) -> Period:
    week = Period.week(*utcnow().isocalendar()[:2])
    for _ in range(count):
        week = week.previous()
    return week


def cpk_week(network: Network, reporting: Reporting, weeks_back: int, *, spread: float, seed: int) -> None:
    """One week's CPK report on DIA-01 (tolerance ±0.02 mm): ``spread`` 0.02 is far too wide, 0.003 capable."""
    rng = random.Random(seed)
    payload = build_capability_report(
        agreement=reporting.agreement,
        characteristic="DIA-01",
        period=str(_weeks_back(weeks_back)),
        kpi="cpk",
        values=[rng.gauss(25.0, spread) for _ in range(50)],
        subgroup_size=5,
    )
    network.client(reporting.supplier).kpi_reports.submit(payload)


def _genealogy(network: Network, castor: Reporting) -> str:
    oem, supplier = network.client(network.oem), network.client(castor.supplier)
    oem.genealogy.import_records([{"type": "plant", "code": PLANT, "name": "Wolfsburg assembly"}])
    supplier.genealogy.import_records(
        [
            {"type": "part_type", "manufacturer_part_id": "CP-220", "name_at_manufacturer": "Film capacitor"},
            {
                "type": "batch",
                "batch_id": LOT,
                "manufacturer_part_id": "CP-220",
                "quantity": 1000,
                "unit": "pcs",
            },
            {
                "type": "shipment",
                "asset": f"batch/{LOT}",
                "delivery_note": "DN-0815",
                "customer_organization_id": str(network.oem.org_id),
                "plant": PLANT,
                "shipped_on": "2026-11-02",
                "quantity": 600,
                "unit": "pcs",
            },
        ]
    )
    lot = f"{castor.supplier.org_id}/batch/{LOT}"
    records: list[dict[str, Any]] = [
        {"type": "part_type", "manufacturer_part_id": "AUR-EV", "name_at_manufacturer": "Vehicle"},
        {
            "type": "inventory",
            "asset": lot,
            "plant": PLANT,
            "location": "LINE-3",
            "quantity": 400,
            "unit": "pcs",
        },
    ]
    number = 0
    for model, count in MODELS.items():
        for _ in range(count):
            number += 1
            vin = f"WAUR2026{number:07d}"
            records += [
                {
                    "type": "serial_part",
                    "part_instance_id": vin,
                    "manufacturer_part_id": "AUR-EV",
                    "model": model,
                },
                {"type": "link", "parent": f"serial/{vin}", "child": lot, "quantity": 24, "unit": "pcs"},
            ]
    oem.genealogy.import_records(records)
    traced = supplier.request(
        "POST", "/v1/trace", json={"roots": [{"local_id": LOT}], "direction": "forward"}
    )
    return str(next(node["asset_id"] for node in traced["nodes"] if node["root"]))


def _alert(network: Network, castor: Reporting, lot_id: str) -> None:
    """Castor's alert on its lot, sent: a hold and a containment action at the OEM's plant."""
    supplier = network.client(castor.supplier)
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    alert = supplier.request(
        "POST",
        "/v1/quality-notifications",
        json={
            "type": "ALERT",
            "title": f"{LOT}: withstand voltage 380 V",
            "description": "Hipot test of retained samples failed.",
            "severity": "CRITICAL",
            "target_date": due,
            "affected_asset_ids": [lot_id],
            "containment": {"kind": "hold", "due_date": due},
        },
    )
    supplier.request(
        "POST", f"/v1/quality-notifications/{alert['id']}/send", json={"reason": "stop this lot"}
    )


def _room(network: Network, member: Reporting) -> str:
    oem, supplier = network.client(network.oem), network.client(member.supplier)
    room = oem.request(
        "POST",
        "/v1/rooms",
        json={
            "title": "Capacitor hipot failures",
            "description": "CP-LOT-0815 in the field",
            "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "members": [{"organization_id": str(member.supplier.org_id), "role": "contributor"}],
        },
    )
    supplier.request("POST", f"/v1/rooms/{room['id']}/accept", json={"people": []})
    oem.request("PUT", f"/v1/rooms/{room['id']}/8d/D4", json={"owner_id": str(network.oem.org_id)})
    oem.request(
        "PUT", f"/v1/rooms/{room['id']}/8d/D4", json={"content": "Dielectric film below specification"}
    )
    return str(room["id"])


def seed(network: Network) -> Story:
    """Everything but Castor's third bad week, which the test submits while the inbox is open."""
    oem = network.client(network.oem)
    oem.request("POST", "/v1/rules", json=oem.request("GET", "/v1/rules/templates")[0])
    castor = named_supplier(network, "Castor Capacitors s.r.o.")
    gearbox = named_supplier(network, "Gearbox Ltd")
    for back in (3, 2):
        cpk_week(network, castor, back, spread=0.02, seed=back)
    for back in (3, 2, 1):
        cpk_week(network, gearbox, back, spread=0.003, seed=10 + back)
    lot_id = _genealogy(network, castor)
    _alert(network, castor, lot_id)
    return Story(castor=castor, gearbox=gearbox, lot_id=lot_id, room_id=_room(network, castor))
