"""Synthetic multi-tier supply networks for tests, demos and benchmarks, deterministic by seed.

Tiers, from the bottom: tier-3 component makers (a capacitor supplier among them) ship lots to tier-2 module
makers, whose lots go into tier-1 assemblies, whose lots go into the OEM's vehicles (serial parts with a model,
built in one of the OEM's plants). Every lot above the bottom consumes about three lots of the tier below (fan-in,
from different suppliers, produced around the same time), so a component lot ends up in many assemblies and
vehicles (fan-out); each lot below the top is shipped to a customer plant and lies in one or two bins there.

Level sizes grow by ``ratio`` (7) per tier, so with 1,000,000 lots and four tiers a tier-3 lot has about 10,000
descendants and there are about 3,000,000 links. :func:`build_synthetic_network` writes straight into the tables
(PostgreSQL ``COPY``, SQLite ``executemany``); 1M lots take a few minutes on PostgreSQL. :func:`write_ndjson` writes the
same network as an import file (the NDJSON of ``POST /v1/genealogy:import``) for the import benchmark.

    from hub.genealogy.synth import build_synthetic_network
    with session_factory.begin() as session:
        net = build_synthetic_network(session, lots=1_000_000, tiers=4, seed=7)
    net.hot_lot_id, net.hot_lot_descendants   # a tier-3 lot with ~10k descendants
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

import numpy as np
from sqlalchemy import Connection, Engine, Table, insert, select, text
from sqlalchemy.orm import Session

from hub.models import (
    Asset,
    AssetLink,
    InventoryPosition,
    Organization,
    PartType,
    Plant,
    Shipment,
)

FAN_IN = 3
RATIO = 7
EPOCH = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)

_TIER_ORGS: dict[int, list[tuple[str, str, str]]] = {
    # tier number -> (organization, part prefix, part name)
    3: [
        ("Capacitor Works", "CAP", "film capacitor 450 V"),
        ("Resistor Fab", "RES", "shunt resistor"),
        ("Connector Co", "CON", "board connector"),
        ("Laminate Boards", "PCB", "printed circuit board"),
    ],
    2: [
        ("Control Modules", "CTL", "motor control module"),
        ("Power Modules", "PWR", "DC/DC power module"),
        ("Sensor Modules", "SEN", "current sensor module"),
    ],
    1: [
        ("Drive Systems", "DRV", "traction inverter"),
        ("Charge Systems", "CHG", "on-board charger"),
    ],
}
_OEM = ("Motor Works", "VEH", "vehicle")
MODELS = ["Aurora 2026", "Brisa 2026", "Cirrus 2027", "Delta 2027"]
_LOT_SIZE = {3: (10000, "unit:piece"), 2: (500, "unit:piece"), 1: (200, "unit:piece")}


@dataclass
class Level:
    """One tier of the network: its organizations and how many assets it has."""

    tier: int  # 0 = OEM, 1 = tier-1, ...
    organization_ids: list[uuid.UUID]
    names: list[str]
    count: int


@dataclass
class SyntheticNetwork:
    """What a build made, with handles for tests and benchmarks (``hot_lot_id``: a tier-3 lot of the capacitor
    supplier with about 10,000 descendants in a 1M-lot network; ``vehicle_id``: a vehicle for backward traces)."""

    seed: int
    levels: list[Level]
    organizations: dict[str, uuid.UUID]
    capacitor_org_id: uuid.UUID
    oem_org_id: uuid.UUID
    hot_lot_id: uuid.UUID
    hot_lot_local_id: str
    hot_lot_descendants: int
    vehicle_id: uuid.UUID
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _uuid(seed: int, namespace: str, index: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"qualink-synth/{seed}/{namespace}/{index}")


def _plan(lots: int, tiers: int) -> list[int]:
    """Asset counts per level, bottom (highest tier number) first, growing by RATIO, summing to ``lots``."""
    weights = [RATIO**i for i in range(tiers)]
    counts = [max(1, lots * w // sum(weights)) for w in weights]
    counts[-1] += lots - sum(counts)
    return counts


class _Network:
    """The generated network as arrays; rows are produced lazily so 1M lots never sit in memory as objects."""

    def __init__(self, *, lots: int, tiers: int, seed: int) -> None:
        if tiers < 2:
            raise ValueError("tiers must be at least 2 (a component maker and an OEM)")
        if lots < 2 * tiers:
            raise ValueError(f"lots must be at least {2 * tiers} for {tiers} tiers")
        self.seed, self.tiers = seed, tiers
        self.rng = np.random.default_rng(seed)
        self.counts = _plan(lots, tiers)
        self.levels: list[Level] = []
        self.orgs: list[tuple[uuid.UUID, str, str, str, str]] = []  # id, name, kind, prefix, part name
        self.plants: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
        self.prefix: dict[uuid.UUID, str] = {}
        self.part_types: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
        for position, count in enumerate(self.counts):
            tier = tiers - 1 - position
            templates = _TIER_ORGS.get(tier) if tier else [_OEM]
            if templates is None:
                templates = [(f"Tier-{tier} Maker {c}", f"T{tier}{c}", f"tier-{tier} part") for c in "AB"]
            ids, names = [], []
            for name, prefix, part in templates:
                full = f"{name} (synth {seed})"
                org_id = _uuid(seed, "org", len(self.orgs))
                self.orgs.append((org_id, full, "oem" if tier == 0 else "supplier", prefix, part))
                ids.append(org_id)
                self.prefix[org_id] = prefix
                names.append(full)
                n_plants = 3 if tier == 0 else 2
                self.plants[org_id] = [
                    (_uuid(seed, f"plant/{org_id}", p), f"BPNS{prefix}{p:04d}") for p in range(n_plants)
                ]
                self.part_types[org_id] = [
                    (_uuid(seed, f"part/{org_id}", p), f"{prefix}-{100 + p}") for p in range(3)
                ]
            self.levels.append(Level(tier=tier, organization_ids=ids, names=names, count=count))
        self.asset_ids = [
            np.array([_uuid(seed, f"asset/{p}", i) for i in range(n)], dtype=object)
            for p, n in enumerate(self.counts)
        ]
        # children[p] : (count[p], k) indexes into level p-1, for p >= 1
        self.children: list[np.ndarray] = [np.zeros((0, 0), dtype=np.int64)]
        for p in range(1, tiers):
            below, here = self.counts[p - 1], self.counts[p]
            k = min(FAN_IN, below)
            window = max(1, min(32, below // k))
            base = (np.arange(here) * below) // here
            offsets = self.rng.integers(0, window, size=(here, k)) * k + np.arange(k)
            self.children.append((base[:, None] + offsets - (window * k) // 2) % below)

    def org_of(self, position: int, index: int) -> uuid.UUID:
        ids = self.levels[position].organization_ids
        return ids[index % len(ids)]

    def local_id(self, position: int, index: int) -> str:
        prefix = self.prefix[self.org_of(position, index)]
        return f"{prefix}-{'V' if self.levels[position].tier == 0 else 'L'}{index:08d}"

    def produced(self, position: int, index: int) -> datetime:
        # Lots of a level are produced over a year, upper tiers a few days after their components.
        span = 365 * 24 * 3600
        return EPOCH + timedelta(days=3 * position, seconds=int(index * span / self.counts[position]))

    def descendants(self, position: int, index: int) -> int:
        """Distinct assets above one asset (forward trace), by breadth-first search over the arrays."""
        current = np.array([index])
        total = 0
        for p in range(position + 1, self.tiers):
            hits = np.isin(self.children[p], current).any(axis=1)
            current = np.nonzero(hits)[0]
            total += len(current)
            if not len(current):
                break
        return total

    def hot_lot(self) -> tuple[int, int]:
        """A lot of the capacitor supplier (the first org of the bottom level) with close to 10,000 descendants."""
        n, orgs = self.counts[0], len(self.levels[0].organization_ids)
        candidates = [i for i in range(0, n, max(1, n // 16)) if i % orgs == 0][:8] or [0]
        scored = [(abs(self.descendants(0, i) - 10_000), i) for i in candidates]
        best = min(scored)[1]
        return best, self.descendants(0, best)

    # --- rows, in table column order -------------------------------------------------------------------

    def organization_rows(self) -> Iterator[dict[str, Any]]:
        for org_id, name, kind, _prefix, _part in self.orgs:
            yield {"id": org_id, "name": name, "kind": kind, "created_at": EPOCH}

    def part_type_rows(self) -> Iterator[tuple[Any, ...]]:
        for org_id, _name, _kind, _prefix, part in self.orgs:
            for pt_id, number in self.part_types[org_id]:
                yield (pt_id, org_id, number, f"C-{number}", part, part)

    def plant_rows(self) -> Iterator[tuple[Any, ...]]:
        for org_id, name, *_ in self.orgs:
            for plant_id, code in self.plants[org_id]:
                yield (plant_id, org_id, code, f"{name} plant {code[-1]}")

    def asset_rows(self) -> Iterator[tuple[Any, ...]]:
        for p, level in enumerate(self.levels):
            vehicle = level.tier == 0
            size, unit = _LOT_SIZE.get(level.tier, (1, "unit:piece"))
            ids = self.asset_ids[p]
            for i in range(level.count):
                org = self.org_of(p, i)
                plants = self.plants[org]
                yield (
                    ids[i],
                    org,
                    "serial" if vehicle else "batch",
                    self.local_id(p, i),
                    f"urn:uuid:{ids[i]}",
                    self.part_types[org][i % 3][0],
                    None,
                    MODELS[i % len(MODELS)] if vehicle else None,
                    plants[i % len(plants)][1],
                    self.produced(p, i),
                    1 if vehicle else size,
                    unit,
                    EPOCH,
                )

    def link_rows(self) -> Iterator[tuple[Any, ...]]:
        for p in range(1, self.tiers):
            ids_here, ids_below = self.asset_ids[p], self.asset_ids[p - 1]
            per = 4 if self.levels[p].tier else 1
            for i, kids in enumerate(self.children[p].tolist()):
                org, made = self.org_of(p, i), self.produced(p, i)
                for c in dict.fromkeys(kids):
                    yield (
                        f"urn:uuid:{ids_here[i]}",
                        f"urn:uuid:{ids_below[c]}",
                        ids_here[i],
                        ids_below[c],
                        per,
                        "unit:piece",
                        org,
                        made,
                    )

    def shipment_rows(self) -> Iterator[tuple[Any, ...]]:
        for p in range(self.tiers - 1):
            size, unit = _LOT_SIZE.get(self.levels[p].tier, (1, "unit:piece"))
            customers = self.levels[p + 1].organization_ids
            for i in range(self.counts[p]):
                customer = customers[(i // 2) % len(customers)]
                plant = self.plants[customer][i % len(self.plants[customer])][0]
                yield (
                    _uuid(self.seed, "shipment", p * 10_000_000 + i),
                    self.asset_ids[p][i],
                    self.org_of(p, i),
                    customer,
                    plant,
                    f"DN-{self.local_id(p, i)}",
                    (self.produced(p, i) + timedelta(days=1)).date(),
                    size,
                    unit,
                )

    def inventory_rows(self) -> Iterator[tuple[Any, ...]]:
        for p in range(self.tiers):
            tier = self.levels[p].tier
            size, unit = _LOT_SIZE.get(tier, (1, "unit:piece"))
            for i in range(self.counts[p]):
                if tier == 0:
                    if i % 20:
                        continue  # most vehicles have left the plant; 5% stand in its yard
                    org = self.org_of(p, i)
                    places = [(self.plants[org][i % 3][0], f"YARD-{i % 7}", 1)]
                else:
                    customers = self.levels[p + 1].organization_ids
                    customer = customers[(i // 2) % len(customers)]
                    plant = self.plants[customer][i % len(self.plants[customer])][0]
                    places = [(plant, f"BIN-{i % 50:02d}", size // 2)]
                    if i % 2:
                        places.append((plant, f"BIN-{(i + 17) % 50:02d}", size // 4))
                for n, (plant_id, location, quantity) in enumerate(places):
                    yield (
                        _uuid(self.seed, "inventory", (p * 10_000_000 + i) * 2 + n),
                        self.asset_ids[p][i],
                        plant_id,
                        location,
                        quantity,
                        unit,
                        EPOCH,
                    )


_COLUMNS: dict[str, list[str]] = {
    "part_types": [
        "id",
        "organization_id",
        "manufacturer_part_id",
        "customer_part_id",
        "name_at_manufacturer",
        "name_at_customer",
    ],
    "plants": ["id", "organization_id", "code", "name"],
    "assets": [
        "id",
        "organization_id",
        "kind",
        "local_id",
        "catenax_id",
        "part_type_id",
        "batch_asset_id",
        "model",
        "site",
        "production_date",
        "quantity",
        "unit",
        "created_at",
    ],
    "asset_links": [
        "parent_key",
        "child_key",
        "parent_id",
        "child_id",
        "quantity",
        "unit",
        "organization_id",
        "created_on",
    ],
    "shipments": [
        "id",
        "asset_id",
        "organization_id",
        "customer_organization_id",
        "plant_id",
        "delivery_note",
        "shipped_on",
        "quantity",
        "unit",
    ],
    "inventory_positions": [
        "id",
        "asset_id",
        "plant_id",
        "location",
        "quantity",
        "unit",
        "updated_at",
    ],
}


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _write(
    connection: Connection,
    table: Table,
    rows: Iterable[tuple[Any, ...]],
    chunk: int = 20_000,
) -> int:
    """Bulk-write rows: PostgreSQL COPY (text format; synthetic values hold no tabs or backslashes),
    elsewhere executemany in chunks."""
    columns = _COLUMNS[table.name]
    count = 0
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(map(_copy_text, row)))
                buffer.write("\n")
                count += 1
                if count % chunk == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        return count
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) >= chunk:
            connection.execute(table.insert(), batch)
            count += len(batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
        count += len(batch)
    return count


def build_synthetic_network(
    session_or_engine: Session | Engine,
    *,
    lots: int,
    tiers: int = 4,
    seed: int = 1,
    progress: Callable[[str, int], None] | None = None,
) -> SyntheticNetwork:
    """Write a synthetic network (organizations, part types, plants, assets, links, shipments, inventory) into the
    database, deterministic by ``seed``. Given a Session it writes in that session's transaction (the caller
    commits); given an Engine it commits itself. Refuses a seed whose organizations already exist."""
    started = time.perf_counter()
    network = _Network(lots=lots, tiers=tiers, seed=seed)
    if isinstance(session_or_engine, Session):
        return _build(session_or_engine.connection(), network, started, progress)
    with session_or_engine.begin() as connection:
        return _build(connection, network, started, progress)


def _build(
    connection: Connection,
    network: _Network,
    started: float,
    progress: Callable[[str, int], None] | None,
) -> SyntheticNetwork:
    names = [o[1] for o in network.orgs]
    taken = connection.execute(select(Organization.name).where(Organization.name.in_(names))).first()
    if taken is not None:
        raise ValueError(f"a synthetic network with seed {network.seed} exists already ({taken[0]})")
    connection.execute(insert(Organization), list(network.organization_rows()))
    counts = {"organizations": len(names)}
    for model, rows in (
        (PartType, network.part_type_rows()),
        (Plant, network.plant_rows()),
        (Asset, network.asset_rows()),
        (AssetLink, network.link_rows()),
        (Shipment, network.shipment_rows()),
        (InventoryPosition, network.inventory_rows()),
    ):
        table: Table = model.__table__  # type: ignore[assignment]
        counts[table.name] = _write(connection, table, rows)
        if progress is not None:
            progress(table.name, counts[table.name])
    if connection.dialect.name == "postgresql":
        for name in ("assets", "asset_links", "shipments", "inventory_positions"):
            connection.execute(text(f"ANALYZE {name}"))
    hot, hot_count = network.hot_lot()
    top = len(network.levels) - 1
    by_name = {o[1]: o[0] for o in network.orgs}
    return SyntheticNetwork(
        seed=network.seed,
        levels=network.levels,
        organizations=by_name,
        capacitor_org_id=network.levels[0].organization_ids[0],
        oem_org_id=network.levels[top].organization_ids[0],
        hot_lot_id=network.asset_ids[0][hot],
        hot_lot_local_id=network.local_id(0, hot),
        hot_lot_descendants=hot_count,
        vehicle_id=network.asset_ids[top][network.counts[top] // 2],
        counts=counts,
        seconds=time.perf_counter() - started,
    )


def write_ndjson(out: IO[str], *, lots: int, tiers: int = 4, seed: int = 1) -> dict[str, int]:
    """Write the same network as an import file: ``organization`` records first (honoured by the operator's
    ``hub genealogy import`` only), then each organization's part types, plants, lots, links, shipments and
    inventory, every record naming its ``organization_id``. Returns the record count per type."""
    network = _Network(lots=lots, tiers=tiers, seed=seed)
    counts: dict[str, int] = {}
    keys: dict[uuid.UUID, str] = {}

    def emit(record: dict[str, Any]) -> None:
        out.write(json.dumps(record, separators=(",", ":"), default=str))
        out.write("\n")
        counts[record["type"]] = counts.get(record["type"], 0) + 1

    for org in network.organization_rows():
        emit(
            {
                "type": "organization",
                "id": org["id"],
                "name": org["name"],
                "kind": org["kind"],
            }
        )
    parts: dict[uuid.UUID, str] = {}
    for pt_id, org, number, customer_number, name, _ in network.part_type_rows():
        parts[pt_id] = number
        emit(
            {
                "type": "part_type",
                "organization_id": org,
                "manufacturer_part_id": number,
                "customer_part_id": customer_number,
                "name_at_manufacturer": name,
            }
        )
    plant_codes: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    for plant_id, org, code, name in network.plant_rows():
        plant_codes[plant_id] = (org, code)
        emit({"type": "plant", "organization_id": org, "code": code, "name": name})
    for row in network.asset_rows():
        (
            asset_id,
            org,
            kind,
            local,
            catenax,
            pt,
            _b,
            model,
            site,
            produced,
            quantity,
            unit,
            _c,
        ) = row
        keys[asset_id] = catenax
        record: dict[str, Any] = {
            "type": "batch" if kind == "batch" else "serial_part",
            "organization_id": org,
        }
        record["batch_id" if kind == "batch" else "part_instance_id"] = local
        record.update(catenax_id=catenax, manufacturer_part_id=parts[pt], site=site)
        record["production_date"] = produced.isoformat()
        if kind == "batch":
            record.update(quantity=quantity, unit=unit)
        else:
            record["model"] = model
        emit(record)
    for parent, child, _p, _c, quantity, unit, org, created in network.link_rows():
        emit(
            {
                "type": "link",
                "organization_id": org,
                "parent": parent,
                "child": child,
                "quantity": quantity,
                "unit": unit,
                "created_on": created.isoformat(),
            }
        )
    for (
        _id,
        asset_id,
        org,
        customer,
        plant_id,
        note,
        shipped,
        quantity,
        unit,
    ) in network.shipment_rows():
        emit(
            {
                "type": "shipment",
                "organization_id": org,
                "asset": keys[asset_id],
                "delivery_note": note,
                "customer_organization_id": customer,
                "plant": plant_codes[plant_id][1],
                "shipped_on": shipped.isoformat(),
                "quantity": quantity,
                "unit": unit,
            }
        )
    for (
        _id,
        asset_id,
        plant_id,
        location,
        quantity,
        unit,
        _u,
    ) in network.inventory_rows():
        owner, code = plant_codes[plant_id]
        emit(
            {
                "type": "inventory",
                "organization_id": owner,
                "asset": keys[asset_id],
                "plant": code,
                "location": location,
                "quantity": quantity,
                "unit": unit,
            }
        )
    return counts
