"""Trace a lot or serial part forward (down the chain) or backward (up), in the database.

- :func:`trace` answers a caller, filtered by minimal disclosure (:mod:`hub.trace.disclosure`).
- :func:`affected_assets` is the unfiltered affected set with its inventory, for the hub's own use (containment
  places holds on it); it never leaves the hub as such.

Both run the recursive queries of :mod:`hub.trace.queries`. Roots are checked first: a caller may trace from its
own assets, from a direct partner's asset linked to one of its own, and from a lot shipped to it; any other root,
existing or not, is a 404 that names the root as the caller gave it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session, aliased

from hub.auth.tokens import Caller
from hub.errors import InvalidInput, NotFound
from hub.models import Asset, AssetLink, Shipment
from hub.trace import queries
from hub.trace.disclosure import GroupRow, PartInfo, PlantInfo, fold
from protocol.models.trace import (
    MAX_DEPTH,
    TraceDirection,
    TraceLink,
    TraceNode,
    TraceRequest,
    TraceResult,
    TraceRoot,
)

LISTED = 1000  # nodes and links listed in one answer; the groups still cover everything


@dataclass(frozen=True)
class AffectedPosition:
    """An inventory position holding an affected asset."""

    position_id: uuid.UUID
    asset_id: uuid.UUID
    plant_id: uuid.UUID
    plant_organization_id: uuid.UUID
    location: str
    quantity: Decimal
    unit: str


@dataclass(frozen=True)
class AffectedSet:
    """Everything a trace reaches from its roots (roots included), unfiltered.

    ``depth`` maps each asset to its link levels from the nearest root; ``complete`` is False when the depth limit
    cut the trace or it met links whose other end is not known yet (``incomplete_reasons`` says which)."""

    roots: tuple[uuid.UUID, ...]
    depth: dict[uuid.UUID, int]
    positions: list[AffectedPosition]
    incomplete_reasons: tuple[str, ...] = ()
    plant_ids: frozenset[uuid.UUID] = field(default=frozenset())

    @property
    def asset_ids(self) -> list[uuid.UUID]:
        return list(self.depth)

    @property
    def complete(self) -> bool:
        return not self.incomplete_reasons

    def positions_by_plant(self) -> dict[uuid.UUID, list[AffectedPosition]]:
        grouped: dict[uuid.UUID, list[AffectedPosition]] = {}
        for position in self.positions:
            grouped.setdefault(position.plant_id, []).append(position)
        return grouped


def _limit(depth: int | None) -> int:
    if depth is None:
        return MAX_DEPTH
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidInput(f"depth must be between 1 and {MAX_DEPTH}", loc="depth")
    return depth


def _aware(as_of: datetime | None) -> datetime | None:
    if as_of is not None and as_of.utcoffset() is None:
        raise InvalidInput("as_of must carry a time zone (UTC)", loc="as_of")
    return as_of


def _reasons(unresolved: bool, cut: bool) -> tuple[str, ...]:
    return tuple(name for name, flag in (("depth_limit", cut), ("unresolved_links", unresolved)) if flag)


def _require_existing(session: Session, roots: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Root id → owner; NotFound naming the first root that does not exist."""
    if not roots:
        raise InvalidInput("give at least one root", loc="roots")
    rows = session.execute(select(Asset.id, Asset.organization_id).where(Asset.id.in_(list(roots))))
    owners = {row.id: row.organization_id for row in rows}
    for index, root in enumerate(roots):
        if root not in owners:
            raise NotFound(f"roots[{index}]: no lot or serial part {root} visible to your organization")
    return owners


def _require_visible_roots(
    session: Session, *, caller: Caller, roots: Sequence[uuid.UUID], names: Sequence[str] | None = None
) -> None:
    """Each root must be the caller's, a direct partner's linked to the caller's, or shipped to the caller."""
    if not roots:
        raise InvalidInput("give at least one root", loc="roots")
    owners = {
        row.id: row.organization_id
        for row in session.execute(select(Asset.id, Asset.organization_id).where(Asset.id.in_(list(roots))))
    }
    foreign = [r for r in roots if r in owners and owners[r] != caller.org_id]
    seen: set[uuid.UUID] = set()
    if foreign:
        mine = aliased(Asset)
        seen = set(
            session.scalars(
                union(
                    select(AssetLink.child_id)
                    .join(mine, mine.id == AssetLink.parent_id)
                    .where(AssetLink.child_id.in_(foreign), mine.organization_id == caller.org_id),
                    select(AssetLink.parent_id)
                    .join(mine, mine.id == AssetLink.child_id)
                    .where(AssetLink.parent_id.in_(foreign), mine.organization_id == caller.org_id),
                    select(Shipment.asset_id).where(
                        Shipment.asset_id.in_(foreign), Shipment.customer_organization_id == caller.org_id
                    ),
                )
            )
        )
    for index, root in enumerate(roots):
        if root not in owners or (owners[root] != caller.org_id and root not in seen):
            shown = names[index] if names else str(root)
            raise NotFound(f"roots[{index}]: no lot or serial part {shown} visible to your organization")


def _describe(root: TraceRoot) -> str:
    if root.asset_id is not None:
        return str(root.asset_id)
    if root.catenax_id is not None:
        return root.catenax_id
    owner = f"{root.organization_id}/" if root.organization_id else ""
    return f"{owner}{root.kind}/{root.local_id}"


def resolve_roots(session: Session, *, caller: Caller, roots: Sequence[TraceRoot]) -> list[uuid.UUID]:
    """The asset ids the roots name (by id, catenaXId or natural key); 404 naming a root that names nothing."""
    resolved: list[uuid.UUID] = []
    for index, root in enumerate(roots):
        if root.asset_id is not None:
            resolved.append(root.asset_id)
            continue
        if root.catenax_id is not None:
            where = [Asset.catenax_id == root.catenax_id]
        else:
            where = [
                Asset.organization_id == (root.organization_id or caller.org_id),
                Asset.kind == root.kind,
                Asset.local_id == root.local_id,
            ]
        found = session.scalar(select(Asset.id).where(*where))
        if found is None:
            raise NotFound(
                f"roots[{index}]: no lot or serial part {_describe(root)} visible to your organization"
            )
        resolved.append(found)
    return resolved


def affected_assets(
    session: Session,
    *,
    roots: Sequence[uuid.UUID],
    direction: TraceDirection = "forward",
    depth: int | None = None,
    as_of: datetime | None = None,
) -> AffectedSet:
    """The whole affected set with its inventory positions, for the hub's own use (no disclosure filter).

    Raises NotFound naming a root that does not exist, InvalidInput for a depth outside 1..100."""
    limit, as_of = _limit(depth), _aware(as_of)
    _require_existing(session, roots)
    scope = queries.Scope(roots=list(roots), direction=direction, depth=limit, as_of=as_of)
    levels: dict[uuid.UUID, int] = {}
    positions = []
    unresolved = cut = 0
    for row in session.execute(queries.affected_positions(scope)):
        asset_id, level, position_id, plant_id, plant_owner, location, quantity, unit, unresolved, cut = row
        levels.setdefault(asset_id, level)
        if position_id is not None:
            positions.append(
                AffectedPosition(position_id, asset_id, plant_id, plant_owner, location, quantity, unit)
            )
    return AffectedSet(
        roots=tuple(roots),
        depth=levels,
        positions=positions,
        incomplete_reasons=_reasons(bool(unresolved), bool(cut)),
        plant_ids=frozenset(p.plant_id for p in positions),
    )


def trace(
    session: Session,
    *,
    caller: Caller,
    roots: Sequence[uuid.UUID],
    direction: TraceDirection = "forward",
    depth: int | None = None,
    as_of: datetime | None = None,
    root_names: Sequence[str] | None = None,
) -> TraceResult:
    """Trace from ``roots`` for ``caller``: its own and its direct partners' assets and links, counts for the rest.

    Raises NotFound for a root the caller may not trace from (named as given in ``root_names``, else by id),
    InvalidInput for a depth outside 1..100."""
    limit, as_of = _limit(depth), _aware(as_of)
    roots = list(roots)
    _require_visible_roots(session, caller=caller, roots=roots, names=root_names)
    scope = queries.Scope(roots=roots, direction=direction, depth=limit, as_of=as_of)
    statement = queries.groups(scope, caller=caller.org_id, listed=LISTED + 1)
    rows = [GroupRow.of(r) for r in session.execute(statement)]
    listed = [r for r in rows if r.dim == "asset"]
    found = _Lookups.of(
        session,
        organizations={
            r.organization_id for r in rows if r.dim == "node" and r.visible and r.organization_id
        },
        parts={r.ref_id for r in rows if r.dim == "part" and r.visible and r.ref_id},
        plants={r.ref_id for r in rows if r.dim in ("location", "shipment") and r.ref_id},
        assets=[r.ref_id for r in listed if r.ref_id is not None],
    )
    folded = fold(
        rows, caller=caller.org_id, organization_names=found.names, parts=found.parts, plants=found.plants
    )
    nodes = _nodes(found.assets, listed)
    links: dict[tuple[uuid.UUID, uuid.UUID], TraceLink] = {}
    sides: dict[str, int] = {}
    for r in rows:
        if r.dim == "link" and r.organization_id is not None and r.ref_id is not None:
            links.setdefault(
                (r.organization_id, r.ref_id),
                TraceLink(child_id=r.organization_id, parent_id=r.ref_id, quantity=r.quantity, unit=r.unit),
            )
            sides[r.label or ""] = sides.get(r.label or "", 0) + 1
    reasons = _reasons(folded.unresolved, folded.cut)
    reached = folded.affected_batches + folded.affected_serials
    return TraceResult(
        direction=direction,
        depth=limit,
        as_of=as_of,
        answer="yes" if reached else ("no" if not reasons else "unknown"),
        complete=not reasons,
        incomplete_reasons=list(reasons),
        affected_batches=folded.affected_batches,
        affected_serials=folded.affected_serials,
        nodes=nodes[:LISTED],
        links=list(links.values())[:LISTED],
        truncated=len(nodes) > LISTED or len(links) > LISTED or any(n > LISTED for n in sides.values()),
        by_organization=folded.by_organization,
        by_part=folded.by_part,
        by_model=folded.by_model,
        by_plant=folded.by_plant,
        by_location=folded.by_location,
        undisclosed=folded.undisclosed,
    )


@dataclass
class _Lookups:
    """What the groups name, read in one statement (one round trip instead of four): organization names, part
    types, plants, and the listed assets' identities."""

    names: dict[uuid.UUID, str] = field(default_factory=dict)
    parts: dict[uuid.UUID, PartInfo] = field(default_factory=dict)
    plants: dict[uuid.UUID, PlantInfo] = field(default_factory=dict)
    assets: dict[uuid.UUID, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        session: Session,
        *,
        organizations: set[uuid.UUID],
        parts: set[uuid.UUID],
        plants: set[uuid.UUID],
        assets: list[uuid.UUID],
    ) -> _Lookups:
        found = cls()
        for row in session.execute(queries.lookups(organizations, parts, plants, assets)):
            if row.what == "organization":
                found.names[row.id] = row.a
            elif row.what == "part":
                found.parts[row.id] = PartInfo(row.organization_id, row.a, row.b, row.c)
            elif row.what == "plant":
                found.plants[row.id] = PlantInfo(row.organization_id, row.a, row.b)
            else:
                found.assets[row.id] = row
        return found


def _nodes(found: dict[uuid.UUID, Any], listed: list[GroupRow]) -> list[TraceNode]:
    """The listed assets' identities (rows of :func:`hub.trace.queries.lookups`), in the order the trace found
    them."""
    return [
        TraceNode(
            asset_id=r.ref_id,
            organization_id=found[r.ref_id].organization_id,
            kind=found[r.ref_id].a,
            local_id=found[r.ref_id].b,
            catenax_id=found[r.ref_id].c,
            manufacturer_part_id=found[r.ref_id].d,
            model=found[r.ref_id].e,
            depth=r.n,
            root=r.root,
        )
        for r in listed
        if r.ref_id in found
    ]


def trace_request(session: Session, *, caller: Caller, request: TraceRequest) -> TraceResult:
    """``POST /v1/trace``: resolve the roots as given (id, catenaXId or natural key), then :func:`trace`."""
    roots = resolve_roots(session, caller=caller, roots=request.roots)
    return trace(
        session,
        caller=caller,
        roots=roots,
        direction=request.direction,
        depth=request.depth,
        as_of=request.as_of,
        root_names=[_describe(root) for root in request.roots],
    )


__all__ = ["AffectedPosition", "AffectedSet", "affected_assets", "resolve_roots", "trace", "trace_request"]
