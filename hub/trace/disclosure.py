"""Minimal disclosure: what of a trace's affected set a caller may see, and the counts it gets for the rest.

The rules (DESIGN.md "Identity, permissions and minimal sharing"; Catena-X: each company sees only its direct
customers and direct suppliers):

- **Assets**: the caller sees its own, the roots it named, its direct partners' assets on links that touch one
  of its own affected assets (the customer's assembly its lot went into; the supplier's lot that went into its
  assembly), and lots shipped to it. Every other asset is *undisclosed*: it is counted (lots, serial parts), never
  identified. A serial part made from a lot does not disclose the lot, nor the lot its serial parts.
- **Organizations**: named when they own an asset the caller sees; the owners of undisclosed assets are only
  counted ("3 lots at 2 undisclosed organizations").
- **Part types and models**: named when an asset the caller sees carries them. A vehicle model is therefore named
  to the OEM (its own vehicles) and to a tier-1 whose lot went straight into those vehicles (it knows the
  customer's item on the link), and only counted for a tier-3 whose lot reached them through others.
- **Plants and locations**: named with quantities when the plant is the caller's own (its inventory is its own
  data, whoever made the lot), or when the asset is one the caller sees and the plant belongs to a disclosed
  organization. Otherwise counted (plants, positions), without quantities.

Everything here folds the rows of :func:`hub.trace.queries.groups`; the grouping itself happens in SQL.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from protocol.models.trace import (
    LocationGroup,
    ModelGroup,
    OrganizationGroup,
    PartGroup,
    PlantGroup,
    PlantQuantity,
    Undisclosed,
)


@dataclass(frozen=True)
class GroupRow:
    """One row of :func:`hub.trace.queries.groups`."""

    dim: str
    organization_id: uuid.UUID | None
    ref_id: uuid.UUID | None
    label: str | None
    unit: str | None
    visible: bool
    root: bool
    n: int
    quantity: Decimal | None
    held: Decimal | None

    @classmethod
    def of(cls, row: Any) -> GroupRow:
        return cls(
            dim=row.dim,
            organization_id=row.organization_id,
            ref_id=row.ref_id,
            label=row.label,
            unit=row.unit,
            visible=bool(row.visible),
            root=bool(row.root),
            n=int(row.n or 0),
            quantity=row.quantity,
            held=row.held,
        )


@dataclass(frozen=True)
class PartInfo:
    organization_id: uuid.UUID
    manufacturer_part_id: str
    customer_part_id: str | None
    name: str


@dataclass(frozen=True)
class PlantInfo:
    organization_id: uuid.UUID
    code: str
    name: str


@dataclass
class Folded:
    """Groups of a trace as the caller may see them."""

    affected_batches: int = 0
    affected_serials: int = 0
    unresolved: bool = False
    cut: bool = False
    by_organization: list[OrganizationGroup] = field(default_factory=list)
    by_part: list[PartGroup] = field(default_factory=list)
    by_model: list[ModelGroup] = field(default_factory=list)
    by_plant: list[PlantGroup] = field(default_factory=list)
    by_location: list[LocationGroup] = field(default_factory=list)
    undisclosed: Undisclosed = field(
        default_factory=lambda: Undisclosed(
            batches=0, serials=0, organizations=0, part_types=0, models=0, plants=0, positions=0
        )
    )


def disclosed_organizations(rows: Iterable[GroupRow], caller: uuid.UUID) -> set[uuid.UUID]:
    """The caller and every organization owning an asset the caller sees."""
    found = {caller}
    found.update(r.organization_id for r in rows if r.dim == "node" and r.visible and r.organization_id)
    return found


def plant_disclosed(row: GroupRow, plant: PlantInfo, *, caller: uuid.UUID, disclosed: set[uuid.UUID]) -> bool:
    if plant.organization_id == caller:
        return True
    return row.visible and plant.organization_id in disclosed


def fold(
    rows: list[GroupRow],
    *,
    caller: uuid.UUID,
    organization_names: Mapping[uuid.UUID, str],
    parts: Mapping[uuid.UUID, PartInfo],
    plants: Mapping[uuid.UUID, PlantInfo],
) -> Folded:
    """Fold the SQL groups into what the caller may see; everything else becomes counts in ``undisclosed``."""
    out = Folded()
    disclosed = disclosed_organizations(rows, caller)
    kinds: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: {"batch": 0, "serial": 0})
    hidden: dict[str, int] = defaultdict(int)
    hidden_orgs: set[uuid.UUID] = set()
    hidden_plants: set[uuid.UUID] = set()
    part_counts: dict[uuid.UUID, int] = defaultdict(int)
    model_counts: dict[str, int] = defaultdict(int)
    plant_positions: dict[uuid.UUID, int] = defaultdict(int)
    plant_units: dict[uuid.UUID, dict[str, list[Decimal]]] = defaultdict(dict)
    locations: dict[tuple[uuid.UUID, str, str], list[Any]] = {}

    def units(plant_id: uuid.UUID, unit: str) -> list[Decimal]:
        return plant_units[plant_id].setdefault(unit, [Decimal(0), Decimal(0), Decimal(0)])

    for row in rows:
        if row.dim == "node" and row.organization_id is not None:
            kind = row.label or "batch"
            if not row.root:
                if kind == "serial":
                    out.affected_serials += row.n
                else:
                    out.affected_batches += row.n
            if row.visible:
                kinds[row.organization_id][kind] += row.n
            else:
                hidden["serials" if kind == "serial" else "batches"] += row.n
                hidden_orgs.add(row.organization_id)
        elif row.dim == "part" and row.ref_id is not None:
            if row.visible:
                part_counts[row.ref_id] += row.n
            else:
                hidden["part_types"] += 1
        elif row.dim == "model" and row.label is not None:
            if row.visible:
                model_counts[row.label] += row.n
            else:
                hidden["models"] += 1
        elif row.dim in ("location", "shipment") and row.ref_id is not None:
            plant = plants.get(row.ref_id)
            if plant is None or not plant_disclosed(row, plant, caller=caller, disclosed=disclosed):
                hidden_plants.add(row.ref_id)
                if row.dim == "location":
                    hidden["positions"] += row.n
                continue
            unit = row.unit or ""
            if row.dim == "location":
                plant_positions[row.ref_id] += row.n
                totals = units(row.ref_id, unit)
                totals[0] += row.quantity or 0
                totals[1] += row.held or 0
                key = (row.ref_id, row.label or "", unit)
                entry = locations.setdefault(key, [0, Decimal(0), Decimal(0)])
                entry[0] += row.n
                entry[1] += row.quantity or 0
                entry[2] += row.held or 0
            else:
                plant_positions.setdefault(row.ref_id, 0)
                units(row.ref_id, unit)[2] += row.quantity or 0
        elif row.dim == "unresolved":
            out.unresolved = row.n > 0
        elif row.dim == "cut":
            out.cut = row.n > 0

    out.by_organization = sorted(
        (
            OrganizationGroup(
                organization_id=org,
                name=organization_names.get(org, ""),
                batches=counts["batch"],
                serials=counts["serial"],
            )
            for org, counts in kinds.items()
        ),
        key=lambda g: (-(g.batches + g.serials), g.name),
    )
    out.by_part = sorted(
        (
            PartGroup(
                part_type_id=pt,
                organization_id=parts[pt].organization_id,
                manufacturer_part_id=parts[pt].manufacturer_part_id,
                customer_part_id=parts[pt].customer_part_id,
                name=parts[pt].name,
                assets=n,
            )
            for pt, n in part_counts.items()
            if pt in parts
        ),
        key=lambda g: (-g.assets, g.manufacturer_part_id),
    )
    out.by_model = sorted(
        (ModelGroup(model=m, serials=n) for m, n in model_counts.items()), key=lambda g: (-g.serials, g.model)
    )
    out.by_plant = sorted(
        (
            PlantGroup(
                plant_id=pid,
                organization_id=plants[pid].organization_id,
                code=plants[pid].code,
                name=plants[pid].name,
                positions=plant_positions[pid],
                quantities=[
                    PlantQuantity(unit=unit, quantity=q, held=h, shipped=s)
                    for unit, (q, h, s) in sorted(plant_units[pid].items())
                ],
            )
            for pid in plant_positions
        ),
        key=lambda g: g.code,
    )
    out.by_location = sorted(
        (
            LocationGroup(
                plant_id=pid,
                code=plants[pid].code,
                location=location,
                unit=unit,
                positions=n,
                quantity=q,
                held=h,
            )
            for (pid, location, unit), (n, q, h) in locations.items()
        ),
        key=lambda g: (g.code, g.location, g.unit),
    )
    out.undisclosed = Undisclosed(
        batches=hidden["batches"],
        serials=hidden["serials"],
        organizations=len(hidden_orgs),
        part_types=hidden["part_types"],
        models=hidden["models"],
        plants=len(hidden_plants),
        positions=hidden["positions"],
    )
    return out
