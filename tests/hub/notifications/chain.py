"""A small supply chain for notification and containment tests: capacitor maker → ECU maker → OEM.

    capacitor lot C1 (1000 pcs) ──built into──▶ ECU lot E1 ──built into──▶ vehicles V1, V2 (ID.4 2026)
    capacitor lot C2            ──built into──▶ ECU lot E2 ──built into──▶ vehicle  V3 (ID.4 2026)
    connector lot K1 (a second supplier)       ──built into──▶ ECU lot E1
    connector lot K2, shipped straight to the OEM (no stock): lets the OEM investigate two suppliers at once

Shipments: C1, C2 and K1 to the ECU maker's plant; E1, E2 to the OEM's plant 1. Inventory (pcs):

    C1: capacitor plant CAP-1 bin A 200, ECU plant ECU-1 bin R1 300
    E1: ECU-1 bin F1 50, OEM-1 bin X 40, OEM-2 bin Y 10;  V1: OEM-1 yard 1
    C2: ECU-1 bin R2 100;  E2: OEM-1 bin X2 30;  V3: OEM-1 yard 1        (not affected by C1)

An alert on C1 holds 6 positions at 4 plants: CAP-1 200, ECU-1 350 (2 positions), OEM-1 41 (2), OEM-2 10.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.models import Asset, AssetLink, InventoryPosition, PartType, Plant, Shipment
from protocol.models.common import OrgKind
from tests.hub.conftest import Actor, make_actor


@dataclass
class Chain:
    capacitor: Actor
    ecu: Actor
    oem: Actor
    connector: Actor
    assets: dict[str, uuid.UUID] = field(default_factory=dict)
    plants: dict[str, uuid.UUID] = field(default_factory=dict)

    def asset(self, name: str) -> str:
        return str(self.assets[name])


def _part(db: Session, org: uuid.UUID, number: str) -> uuid.UUID:
    part = PartType(organization_id=org, manufacturer_part_id=number, name_at_manufacturer=number)
    db.add(part)
    db.flush()
    return part.id


def build_chain(db: Session, client: TestClient) -> Chain:
    chain = Chain(
        capacitor=make_actor(db, client, OrgKind.SUPPLIER),
        ecu=make_actor(db, client, OrgKind.SUPPLIER),
        oem=make_actor(db, client, OrgKind.OEM),
        connector=make_actor(db, client, OrgKind.SUPPLIER),
    )
    cap, ecu, oem, con = (a.org.id for a in (chain.capacitor, chain.ecu, chain.oem, chain.connector))
    for code, org in (("CAP-1", cap), ("ECU-1", ecu), ("OEM-1", oem), ("OEM-2", oem)):
        site = Plant(organization_id=org, code=code, name=f"plant {code}")
        db.add(site)
        db.flush()
        chain.plants[code] = site.id
    parts = {
        "cap": _part(db, cap, "CAP-100uF"),
        "con": _part(db, con, "CON-12"),
        "ecu": _part(db, ecu, "ECU-7"),
        "car": _part(db, oem, "ID4"),
    }
    specs = [
        ("C1", cap, "batch", "cap", None, 1000),
        ("C2", cap, "batch", "cap", None, 1000),
        ("K1", con, "batch", "con", None, 500),
        ("K2", con, "batch", "con", None, 500),
        ("E1", ecu, "batch", "ecu", None, 100),
        ("E2", ecu, "batch", "ecu", None, 100),
        ("V1", oem, "serial", "car", "ID.4 2026", 1),
        ("V2", oem, "serial", "car", "ID.4 2026", 1),
        ("V3", oem, "serial", "car", "ID.4 2026", 1),
    ]
    for name, org, kind, part, model, quantity in specs:
        asset = Asset(
            organization_id=org,
            kind=kind,
            local_id=f"{name}-{uuid.uuid4().hex[:6]}",
            part_type_id=parts[part],
            model=model,
            quantity=Decimal(quantity),
            unit="pcs",
        )
        db.add(asset)
        db.flush()
        chain.assets[name] = asset.id
    owner = {
        "C1": cap,
        "C2": cap,
        "K1": con,
        "K2": con,
        "E1": ecu,
        "E2": ecu,
        "V1": oem,
        "V2": oem,
        "V3": oem,
    }
    for parent, child in (("E1", "C1"), ("E1", "K1"), ("E2", "C2"), ("V1", "E1"), ("V2", "E1"), ("V3", "E2")):
        db.add(
            AssetLink(
                parent_key=str(chain.assets[parent]),
                child_key=str(chain.assets[child]),
                parent_id=chain.assets[parent],
                child_id=chain.assets[child],
                quantity=Decimal(2),
                unit="pcs",
                organization_id=owner[parent],
            )
        )
    shipments = [("C1", "ECU-1", ecu), ("C2", "ECU-1", ecu), ("K1", "ECU-1", ecu), ("E1", "OEM-1", oem)]
    shipments += [("E2", "OEM-1", oem), ("K2", "OEM-1", oem)]
    for index, (name, plant, customer) in enumerate(shipments):
        db.add(
            Shipment(
                asset_id=chain.assets[name],
                organization_id=owner[name],
                customer_organization_id=customer,
                plant_id=chain.plants[plant],
                delivery_note=f"DN-{index}",
                shipped_on=date(2026, 11, 2),
                quantity=Decimal(100),
                unit="pcs",
            )
        )
    stock = [
        ("C1", "CAP-1", "A", 200),
        ("C1", "ECU-1", "R1", 300),
        ("E1", "ECU-1", "F1", 50),
        ("E1", "OEM-1", "X", 40),
        ("E1", "OEM-2", "Y", 10),
        ("V1", "OEM-1", "yard", 1),
        ("C2", "ECU-1", "R2", 100),
        ("E2", "OEM-1", "X2", 30),
        ("V3", "OEM-1", "yard", 1),
    ]
    for name, plant, location, quantity in stock:
        db.add(
            InventoryPosition(
                asset_id=chain.assets[name],
                plant_id=chain.plants[plant],
                location=location,
                quantity=Decimal(quantity),
                unit="pcs",
            )
        )
    db.commit()
    return chain
