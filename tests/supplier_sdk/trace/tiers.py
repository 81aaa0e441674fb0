"""A three-tier network built through the SDK against a real hub (no tests in here).

    capacitor lot C1 ──built into──▶ ECU lot E1 ──built into──▶ vehicles V1, V2 (model "Aurora 2026")

The capacitor maker imports an NDJSON *file* (its part type, plant CAP-1, C1, :data:`FILLER_LOTS` more lots so the
body streams in several pieces, stock CAP-1/A 200, and C1 shipped to the ECU maker's plant ECU-1); the ECU maker
imports *records* (plant ECU-1, E1, the link E1 ← C1, stock of C1 ECU-1/R1 300 and of E1 ECU-1/F1 50, E1 shipped
to the OEM's OEM-1); the OEM imports its vehicles from a *CSV file* and the rest as records (plant OEM-1, links
V1, V2 ← E1, stock of E1 at OEM-1/X 40).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from protocol.models.common import OrgKind
from protocol.models.genealogy import BatchRecord, ImportReport, LinkRecord, PlantRecord
from supplier_sdk.client import Client
from tests.supplier_sdk.test_client_support import Network, Party

FILLER_LOTS = 3000
"""Extra capacitor lots in the NDJSON file: about 300 KB, more than one piece of the streamed body."""

MODEL = "Aurora 2026"


@dataclass
class Tier:
    party: Party
    client: Client

    @property
    def org_id(self) -> uuid.UUID:
        return self.party.org_id


@dataclass
class Tiers:
    capacitor: Tier
    ecu: Tier
    oem: Tier
    tag: str
    reports: dict[str, ImportReport]
    capacitor_file: Path

    def lot(self, name: str) -> str:
        return f"{name}-{self.tag}"


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record) + "\n"


def capacitor_file(folder: Path, tag: str, ecu_org: uuid.UUID) -> Path:
    lines = [
        _line(
            {"type": "part_type", "manufacturer_part_id": "CAP-100", "name_at_manufacturer": "film capacitor"}
        ),
        _line({"type": "plant", "code": "CAP-1", "name": "Capacitor works"}),
        _line(
            {
                "type": "batch",
                "batch_id": f"C1-{tag}",
                "manufacturer_part_id": "CAP-100",
                "catenax_id": f"urn:uuid:{uuid.uuid4()}",
                "site": "CAP-1",
                "quantity": "1000",
                "unit": "pcs",
            }
        ),
    ]
    lines += [
        _line(
            {
                "type": "batch",
                "batch_id": f"F{n:05d}-{tag}",
                "manufacturer_part_id": "CAP-100",
                "quantity": 50,
            }
        )
        for n in range(FILLER_LOTS)
    ]
    lines += [
        _line(
            {
                "type": "inventory",
                "asset": f"batch/C1-{tag}",
                "plant": "CAP-1",
                "location": "A",
                "quantity": 200,
                "unit": "pcs",
            }
        ),
        _line(
            {
                "type": "shipment",
                "asset": f"batch/C1-{tag}",
                "delivery_note": f"DN-C1-{tag}",
                "customer_organization_id": str(ecu_org),
                "plant": "ECU-1",
                "shipped_on": "2026-11-02",
                "quantity": 500,
                "unit": "pcs",
            }
        ),
    ]
    path = folder / "capacitor.ndjson"
    path.write_text("".join(lines))
    return path


def build_tiers(network: Network, folder: Path) -> Tiers:
    """Register the capacitor and ECU makers (the OEM is the network's) and import the network through the SDK."""
    tag = uuid.uuid4().hex[:6]
    capacitor = network.register(OrgKind.SUPPLIER, f"Capacitor maker {tag}")
    ecu = network.register(OrgKind.SUPPLIER, f"ECU maker {tag}")
    cap = Tier(capacitor, network.client(capacitor))
    ecu_tier = Tier(ecu, network.client(ecu))
    oem = Tier(network.oem, network.client(network.oem))
    reports: dict[str, ImportReport] = {}

    # The ECU's plant must exist before the capacitor maker ships to it.
    reports["ecu_plant"] = ecu_tier.client.genealogy.import_records(
        [PlantRecord(code="ECU-1", name="ECU line")]
    )
    path = capacitor_file(folder, tag, ecu.org_id)
    reports["capacitor"] = cap.client.genealogy.import_file(path)

    reports["ecu"] = ecu_tier.client.genealogy.import_records(
        [
            BatchRecord(batch_id=f"E1-{tag}", manufacturer_part_id="ECU-7", quantity=100, unit="pcs"),
            LinkRecord(
                parent=f"batch/E1-{tag}", child=f"{capacitor.org_id}/batch/C1-{tag}", quantity=2, unit="pcs"
            ),
            {
                "type": "inventory",
                "asset": f"{capacitor.org_id}/batch/C1-{tag}",
                "plant": "ECU-1",
                "location": "R1",
                "quantity": 300,
                "unit": "pcs",
            },
            {
                "type": "inventory",
                "asset": f"batch/E1-{tag}",
                "plant": "ECU-1",
                "location": "F1",
                "quantity": 50,
                "unit": "pcs",
            },
            {"type": "plant", "code": "ECU-2", "name": "ECU spare line"},
        ]
    )
    reports["oem_plant"] = oem.client.genealogy.import_records(
        [PlantRecord(code=f"OEM-{tag}", name="Assembly")]
    )
    reports["ecu_shipment"] = ecu_tier.client.genealogy.import_records(
        [
            {
                "type": "shipment",
                "asset": f"batch/E1-{tag}",
                "delivery_note": f"DN-E1-{tag}",
                "customer_organization_id": oem.org_id,
                "plant": f"OEM-{tag}",
                "shipped_on": date(
                    2026, 11, 4
                ),  # dates, decimals and UUIDs in a mapping are sent as JSON text
                "quantity": Decimal(50),
                "unit": "pcs",
            }
        ]
    )
    vehicles = folder / "vehicles.csv"
    vehicles.write_text(
        "part_instance_id,manufacturer_part_id,model\n"
        + "".join(f"V{n}-{tag},CAR-1,{MODEL}\n" for n in (1, 2))
    )
    reports["oem_vehicles"] = oem.client.genealogy.import_file(vehicles, record_type="serial_part")
    reports["oem"] = oem.client.genealogy.import_records(
        [
            *(
                LinkRecord(
                    parent=f"serial/V{n}-{tag}", child=f"{ecu.org_id}/batch/E1-{tag}", quantity=1, unit="pcs"
                )
                for n in (1, 2)
            ),
            {
                "type": "inventory",
                "asset": f"{ecu.org_id}/batch/E1-{tag}",
                "plant": f"OEM-{tag}",
                "location": "X",
                "quantity": 40,
                "unit": "pcs",
            },
        ]
    )
    return Tiers(capacitor=cap, ecu=ecu_tier, oem=oem, tag=tag, reports=reports, capacitor_file=path)
