"""A hand-built four-tier network, small enough to know every answer by heart.

    tier-3 Capacitor (T3):  C1 ──┐            C2 ──┐          C3 ──▶ (unknown parent)    C4 (unused)
    tier-3 Resistor (T3B):  R1 ──┤                 │
    tier-2 Modules (T2):         M1 ──┬──────────▶ M2 ◀── (unknown child)        X1 ⇄ X2 (a cycle)
                                      │     ┌──────┘
    tier-1 Drives (T1):          I1 ◀─┘     I2 ◀── M1 too
                                 └ S1 (serial of lot I1)
    OEM Motor Works (OEM):       V1 ◀── S1   V2 ◀── I2   V3 ◀── I2 (link created 2026-06-01)

Models: V1, V2 "Aurora 2026"; V3 "Brisa 2027". Plants: P-T2 (tier-2) holds C1 (300, 100 held) and received a
shipment of C1 (500); P-T1 holds M1 (40); P-OEM holds I1 (50, 20 held) and I2 (30) and received I1 (60).
Every link was created on 2026-01-01 except I2 → V3.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.models import (
    Asset,
    AssetLink,
    Hold,
    InventoryPosition,
    Organization,
    PartType,
    Plant,
    QualityNotification,
    Shipment,
)
from protocol.models.common import OrgKind
from tests.hub.conftest import Actor, make_actor, make_org

EARLY = datetime(2026, 1, 1, tzinfo=UTC)
LATE = datetime(2026, 6, 1, tzinfo=UTC)
BETWEEN = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Network:
    orgs: dict[str, Organization]
    assets: dict[str, Asset] = field(default_factory=dict)
    plants: dict[str, Plant] = field(default_factory=dict)
    parts: dict[str, PartType] = field(default_factory=dict)

    def id(self, name: str) -> uuid.UUID:
        return self.assets[name].id

    def caller(self, org: str) -> Caller:
        return Caller(self.orgs[org].id, OrgKind(self.orgs[org].kind), "test", frozenset())

    def names(self, ids: object) -> set[str]:
        by_id = {asset.id: name for name, asset in self.assets.items()}
        return {by_id[i] for i in ids}  # type: ignore[attr-defined]


def build_network(db: Session, orgs: dict[str, Organization]) -> Network:
    net = Network(orgs=orgs)
    suffix = uuid.uuid4().hex[:6]
    for org, part, name in [
        ("T3", "CAP-450", "film capacitor"),
        ("T3B", "RES-10", "shunt resistor"),
        ("T2", "CTL-1", "control module"),
        ("T1", "INV-7", "traction inverter"),
        ("OEM", "VEH-A", "vehicle"),
    ]:
        net.parts[org] = PartType(
            organization_id=orgs[org].id,
            manufacturer_part_id=part,
            customer_part_id=f"C-{part}",
            name_at_manufacturer=name,
        )
        db.add(net.parts[org])
    for code, org in [("P-T2", "T2"), ("P-T1", "T1"), ("P-OEM", "OEM")]:
        net.plants[code] = Plant(organization_id=orgs[org].id, code=f"{code}-{suffix}", name=f"plant {code}")
        db.add(net.plants[code])
    db.flush()

    def asset(
        name: str, org: str, kind: str = "batch", model: str | None = None, batch: str | None = None
    ) -> None:
        net.assets[name] = Asset(
            id=uuid.uuid4(),
            organization_id=orgs[org].id,
            kind=kind,
            local_id=f"{name}-{suffix}",
            catenax_id=f"urn:uuid:{uuid.uuid4()}",
            part_type_id=net.parts[org].id,
            batch_asset_id=net.assets[batch].id if batch else None,
            model=model,
            created_at=EARLY,
            quantity=Decimal(1000) if kind == "batch" else None,
            unit="unit:piece",
        )
        db.add(net.assets[name])
        db.flush()

    for name in ("C1", "C2", "C3", "C4"):
        asset(name, "T3")
    asset("R1", "T3B")
    for name in ("M1", "M2", "X1", "X2"):
        asset(name, "T2")
    asset("I1", "T1")
    asset("I2", "T1")
    asset("S1", "T1", "serial", batch="I1")
    asset("V1", "OEM", "serial", "Aurora 2026")
    asset("V2", "OEM", "serial", "Aurora 2026")
    asset("V3", "OEM", "serial", "Brisa 2027")

    def link(child: str, parent: str, created: datetime = EARLY) -> None:
        c, p = net.assets.get(child), net.assets.get(parent)
        db.add(
            AssetLink(
                parent_key=p.catenax_id if p else f"urn:uuid:unknown-{parent}-{suffix}",
                child_key=c.catenax_id if c else f"urn:uuid:unknown-{child}-{suffix}",
                parent_id=p.id if p else None,
                child_id=c.id if c else None,
                quantity=Decimal(4),
                unit="unit:piece",
                organization_id=(p or c).organization_id,  # type: ignore[union-attr]
                created_on=created,
            )
        )

    for child, parent in [
        ("C1", "M1"),
        ("R1", "M1"),
        ("C2", "M2"),
        ("M1", "I1"),
        ("M1", "I2"),
        ("M2", "I2"),
        ("S1", "V1"),
        ("I2", "V2"),
        ("X1", "X2"),
        ("X2", "X1"),
        ("C3", "nowhere"),
        ("ghost", "M2"),
    ]:
        link(child, parent)
    link("I2", "V3", LATE)

    # The alert the held quantities below belong to (holds name the notification that placed them).
    alert = QualityNotification(
        type="ALERT",
        status="SENT",
        severity="MAJOR",
        title="held for the trace tests",
        description="",
        sender_id=orgs["T2"].id,
        receiver_id=orgs["T1"].id,
        created_by="trace tests",
    )
    db.add(alert)
    db.flush()

    def stock(name: str, plant: str, location: str, quantity: int, held: int = 0) -> None:
        position = InventoryPosition(
            asset_id=net.id(name),
            plant_id=net.plants[plant].id,
            location=location,
            quantity=Decimal(quantity),
            unit="unit:piece",
        )
        db.add(position)
        db.flush()
        if held:
            db.add(Hold(inventory_position_id=position.id, notification_id=alert.id, quantity=Decimal(held)))

    stock("C1", "P-T2", "B-07", 300, held=100)
    stock("M1", "P-T1", "X-01", 40)
    stock("I1", "P-OEM", "A-01", 50, held=20)
    stock("I2", "P-OEM", "A-02", 30)

    def ship(name: str, sender: str, customer: str, plant: str, quantity: int) -> None:
        db.add(
            Shipment(
                asset_id=net.id(name),
                organization_id=orgs[sender].id,
                customer_organization_id=orgs[customer].id,
                plant_id=net.plants[plant].id,
                delivery_note=f"DN-{name}-{suffix}",
                shipped_on=date(2026, 1, 2),
                quantity=Decimal(quantity),
                unit="unit:piece",
            )
        )

    ship("C1", "T3", "T2", "P-T2", 500)
    ship("I1", "T1", "OEM", "P-OEM", 60)
    db.flush()
    return net


KINDS = {
    "T3": OrgKind.SUPPLIER,
    "T3B": OrgKind.SUPPLIER,
    "T2": OrgKind.SUPPLIER,
    "T1": OrgKind.SUPPLIER,
    "OEM": OrgKind.OEM,
}


@pytest.fixture
def network(db: Session) -> Network:
    return build_network(db, {name: make_org(db, kind) for name, kind in KINDS.items()})


@dataclass
class Parties:
    """The network with an API client for each organization."""

    net: Network
    actors: dict[str, Actor]


@pytest.fixture
def parties(db: Session, client: TestClient) -> Parties:
    actors = {name: make_actor(db, client, kind) for name, kind in KINDS.items()}
    net = build_network(db, {name: actor.org for name, actor in actors.items()})
    db.commit()
    return Parties(net=net, actors=actors)
