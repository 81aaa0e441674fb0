"""The trace as recursive queries over ``asset_links``: the same SQLAlchemy Core expressions on PostgreSQL and SQLite.

A step goes along an **edge** ``src → dst``:

- forward (down the chain): a link's child to its parent (``ix_asset_links_child_id_parent_id``), and a lot to the
  serial parts made from it (``ix_assets_batch_asset_id``): a serial part whose lot is traced contains that lot;
- backward (up the chain): a link's parent to its child (``ix_asset_links_parent_id_child_id``), and a serial part
  to its lot (primary key).

A link is one level of depth; a lot → serial step is none (the serial part *is* made of the lot, it did not
consume it). ``reach(id, depth)`` is a recursive CTE with ``UNION`` (not ``UNION ALL``): a row already found is not
found again, so a cycle ends at the latest when the depth bound is reached, and a node met at several depths is
kept once per depth (at most ``depth`` times). ``affected(id, depth)`` keeps each node once, at its smallest depth.
Every other query here reads ``affected``; PostgreSQL materializes a recursive CTE once per statement, so a
statement that aggregates several ways still walks the graph once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    FromClause,
    Integer,
    Numeric,
    Select,
    String,
    Uuid,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union,
    union_all,
)

from hub.models import Asset, AssetLink, Hold, InventoryPosition, Organization, PartType, Plant, Shipment

Direction = Literal["forward", "backward"]


@dataclass(frozen=True)
class Scope:
    """What a trace covers: from which roots, which way, how many link levels deep, as of when."""

    roots: Sequence[uuid.UUID]
    direction: Direction
    depth: int
    as_of: datetime | None = None


_asset = Asset.__table__
_link = AssetLink.__table__
_position = InventoryPosition.__table__
_hold = Hold.__table__
_shipment = Shipment.__table__


def _int(value: int) -> ColumnElement[int]:
    # Rendered inline, so PostgreSQL types both terms of the recursive CTE as integer (a bound 0 may arrive as int2).
    return literal_column(str(int(value)), Integer)


def _step(
    frontier: CTE, direction: Direction, as_of: datetime | None
) -> tuple[FromClause, ColumnElement[Any], ColumnElement[int]]:
    """One step from each ``frontier`` row: the joins, the node each joined row reaches, and the depth it costs.

    Each frontier row is paired with a two-row ``kind`` table (1: along a link, 0: lot ↔ serial part) and left-joined
    to ``asset_links`` and to ``assets`` on ``key = CASE WHEN kind = ... THEN frontier.id END``: the key is the
    frontier's id for the matching kind and NULL for the other, so each frontier row costs one index probe per edge
    kind (a NULL key ends a probe at once). (A ``UNION ALL`` of the two edge kinds as one subquery reads better, but
    PostgreSQL does not push the join into it inside a recursive CTE and scans every link on every level.)
    """
    kind = union_all(select(_int(1).label("step")), select(_int(0).label("step"))).subquery("kind")
    along_link = case((kind.c.step == 1, frontier.c.id))
    along_lot = case((kind.c.step == 0, frontier.c.id))
    member = _asset.alias("member")
    if direction == "forward":
        near, far = _link.c.child_id, _link.c.parent_id
        member_on, member_dst = member.c.batch_asset_id == along_lot, member.c.id
    else:
        near, far = _link.c.parent_id, _link.c.child_id
        # A serial part without a lot yields NULL and is dropped with the other dead ends.
        member_on, member_dst = member.c.id == along_lot, member.c.batch_asset_id
    link_on: list[ColumnElement[bool]] = [near == along_link, far.is_not(None)]
    member_conditions: list[ColumnElement[bool]] = [member_on]
    if as_of is not None:
        link_on.append(_link.c.created_on <= as_of)
        member_conditions.append(member.c.created_at <= as_of)
    joined = (
        frontier.join(kind, true())
        .outerjoin(_link, and_(*link_on))
        .outerjoin(member, and_(*member_conditions))
    )
    return joined, func.coalesce(far, member_dst), kind.c.step


def reach(roots: Sequence[uuid.UUID], direction: Direction, depth: int, as_of: datetime | None) -> CTE:
    """The recursive CTE ``reach(id, depth)``: every node within ``depth`` link levels of a root, roots included.

    A link costs one level; a lot ↔ serial part step none (the serial part is made of the lot, it did not consume it).
    """
    seed = select(_asset.c.id.label("id"), _int(0).label("depth")).where(_asset.c.id.in_(list(roots)))
    found = seed.cte("reach", recursive=True)
    joined, dst, cost = _step(found, direction, as_of)
    further = (
        select(dst.label("id"), (found.c.depth + cost).label("depth"))
        .select_from(joined)
        .where(dst.is_not(None), found.c.depth + cost <= depth)
    )
    return found.union(further)


def affected(reached: CTE) -> CTE:
    """``affected(id, depth)``: each reached node once, at the smallest depth it was met."""
    return (
        select(reached.c.id.label("id"), func.min(reached.c.depth).label("depth"))
        .group_by(reached.c.id)
        .cte("affected")
    )


def held(as_of: datetime | None) -> ColumnElement[Any]:
    """Quantity of the current inventory position (correlated) blocked by holds in force (at ``as_of``)."""
    active = [_hold.c.inventory_position_id == _position.c.id]
    if as_of is None:
        active.append(_hold.c.released_at.is_(None))
    else:
        active += [
            _hold.c.placed_at <= as_of,
            or_(_hold.c.released_at.is_(None), _hold.c.released_at > as_of),
        ]
    return (
        select(func.coalesce(func.sum(_hold.c.quantity), 0))
        .where(*active)
        .correlate(_position)
        .scalar_subquery()
    )


def positions(nodes: CTE, as_of: datetime | None) -> CTE:
    """``positions``: inventory positions of affected assets (``nodes``) with the quantity held on each, and the
    asset's owner and visibility carried along (no second join to the affected set to group them)."""
    return (
        select(
            nodes.c.organization_id,
            nodes.c.visible,
            _position.c.id,
            _position.c.asset_id,
            _position.c.plant_id,
            _position.c.location,
            _position.c.quantity,
            _position.c.unit,
            held(as_of).label("held"),
        )
        .select_from(nodes.join(_position, _position.c.asset_id == nodes.c.id))
        .cte("positions")
    )


def unresolved(found: CTE, direction: Direction, as_of: datetime | None) -> ColumnElement[bool]:
    """True when an affected node has a link whose far end the hub does not know yet (the trace stops there)."""
    near, far = (
        (_link.c.child_id, _link.c.parent_id)
        if direction == "forward"
        else (_link.c.parent_id, _link.c.child_id)
    )
    where: list[ColumnElement[bool]] = [near.in_(select(found.c.id)), far.is_(None)]
    if as_of is not None:
        where.append(_link.c.created_on <= as_of)
    return exists(select(_link.c.id).where(*where))


def cut(
    reached: CTE, found: CTE, direction: Direction, depth: int, as_of: datetime | None
) -> ColumnElement[bool]:
    """True when the depth limit left a link unfollowed: a node at the limit leads to one not reached."""
    near, far = (
        (_link.c.child_id, _link.c.parent_id)
        if direction == "forward"
        else (_link.c.parent_id, _link.c.child_id)
    )
    where: list[ColumnElement[bool]] = [
        reached.c.depth == depth,
        far.is_not(None),
        far.not_in(select(found.c.id)),
    ]
    if as_of is not None:
        where.append(_link.c.created_on <= as_of)
    return exists(select(far).select_from(reached.join(_link, near == reached.c.id)).where(*where))


def visible(
    base: CTE, *, caller: uuid.UUID, roots: Sequence[uuid.UUID], as_of: datetime | None
) -> ColumnElement[int]:
    """1 for an affected asset (a row of ``base``, the affected set joined once to ``assets``) the caller may see,
    else 0.

    The caller sees its own assets, the roots (it was allowed to name them), its direct partners' assets on links
    that touch one of its own affected assets, whichever way the link points, and the lots shipped to it. Every
    test reads ``base`` (owners already joined), so the affected set is looked up in ``assets`` once, not once per
    test.
    """
    own = select(base.c.id).where(base.c.organization_id == caller)
    partner_links = [_link.c.created_on <= as_of] if as_of is not None else []
    partners = union(
        select(_link.c.parent_id).where(_link.c.child_id.in_(own), *partner_links),
        select(_link.c.child_id).where(_link.c.parent_id.in_(own), *partner_links),
    )
    received = [_shipment.c.customer_organization_id == caller, _shipment.c.asset_id.in_(select(base.c.id))]
    if as_of is not None:
        received.append(_shipment.c.shipped_on <= as_of.date())
    return case(
        (base.c.organization_id == caller, 1),
        (base.c.id.in_(list(roots)), 1),
        (base.c.id.in_(partners), 1),
        (base.c.id.in_(select(_shipment.c.asset_id).where(*received)), 1),
        else_=0,
    )


def _typed_null(kind: Any) -> ColumnElement[Any]:
    return cast(null(), kind)


GROUP_COLUMNS = (
    "dim",
    "organization_id",
    "ref_id",
    "label",
    "unit",
    "visible",
    "root",
    "n",
    "quantity",
    "held",
)


def groups(scope: Scope, *, caller: uuid.UUID, listed: int) -> CompoundSelect:
    """One statement, one walk of the graph: the affected set counted several ways, tagged by ``dim``.

    Rows (``GROUP_COLUMNS``), each split by ``visible`` (may the caller see the asset):

    - ``node``: assets by owner (``organization_id``), ``label`` = kind, ``root`` = is a root;
    - ``part``: assets by part type (``ref_id``);
    - ``model``: assets by vehicle/product model (``label``);
    - ``location``: inventory by plant (``ref_id``), location (``label``) and unit, with the asset's owner in
      ``organization_id``; ``n`` positions, quantity and held quantity;
    - ``shipment``: quantities shipped to a customer plant (``ref_id``) by unit, the asset's owner in
      ``organization_id``;
    - ``unresolved`` / ``cut``: one row each with ``n`` = 1 when the trace met unknown links / the depth limit;
    - ``asset``: up to ``listed`` assets the caller sees (``ref_id``), nearest first, ``n`` = depth;
    - ``link``: up to ``listed`` links on each side of the caller's own assets (``organization_id`` = child,
      ``ref_id`` = parent, ``label`` = which side), with quantity and unit; a link between two own assets
      comes twice.
    """
    reached = reach(scope.roots, scope.direction, scope.depth, scope.as_of)
    found = affected(reached)
    # In id order: the probes into assets, inventory and shipments (one per affected asset each, the cost of the
    # answer beyond the walk) then land on neighbouring index pages one after another; ~10 % less backend CPU
    # than probing in the hash order the grouping leaves. (PostgreSQL keeps a CTE's row order in the nested loops
    # reading it; elsewhere the order only costs a sort.)
    by_id = select(found.c.id, found.c.depth).order_by(found.c.id).subquery("by_id")
    base = (
        select(
            by_id.c.id,
            _asset.c.organization_id,
            _asset.c.kind,
            _asset.c.part_type_id,
            _asset.c.model,
            by_id.c.depth,
        )
        .select_from(by_id.join(_asset, _asset.c.id == by_id.c.id))
        .cte("base")
    )
    nodes = select(
        *base.c,
        visible(base, caller=caller, roots=scope.roots, as_of=scope.as_of).label("visible"),
        case((base.c.id.in_(list(scope.roots)), 1), else_=0).label("root"),
    ).cte("nodes")
    stock = positions(nodes, scope.as_of)
    u, s, n = Uuid(), String(), Numeric(20, 4)
    by_node = select(
        literal("node", String).label("dim"),
        nodes.c.organization_id,
        _typed_null(u).label("ref_id"),
        nodes.c.kind.label("label"),
        _typed_null(s).label("unit"),
        nodes.c.visible,
        nodes.c.root,
        func.count().label("n"),
        _typed_null(n).label("quantity"),
        _typed_null(n).label("held"),
    ).group_by(nodes.c.organization_id, nodes.c.kind, nodes.c.visible, nodes.c.root)
    by_part = select(
        literal("part", String),
        _typed_null(u),
        nodes.c.part_type_id,
        _typed_null(s),
        _typed_null(s),
        nodes.c.visible,
        _int(0),
        func.count(),
        _typed_null(n),
        _typed_null(n),
    ).group_by(nodes.c.part_type_id, nodes.c.visible)
    by_model = (
        select(
            literal("model", String),
            _typed_null(u),
            _typed_null(u),
            nodes.c.model,
            _typed_null(s),
            nodes.c.visible,
            _int(0),
            func.count(),
            _typed_null(n),
            _typed_null(n),
        )
        .where(nodes.c.model.is_not(None))
        .group_by(nodes.c.model, nodes.c.visible)
    )
    by_location = select(
        literal("location", String),
        stock.c.organization_id,
        stock.c.plant_id,
        stock.c.location,
        stock.c.unit,
        stock.c.visible,
        _int(0),
        func.count(),
        func.sum(stock.c.quantity),
        func.sum(stock.c.held),
    ).group_by(stock.c.organization_id, stock.c.plant_id, stock.c.location, stock.c.unit, stock.c.visible)
    shipped: list[ColumnElement[bool]] = [_shipment.c.plant_id.is_not(None)]
    if scope.as_of is not None:
        shipped.append(_shipment.c.shipped_on <= scope.as_of.date())
    by_shipment = (
        select(
            literal("shipment", String),
            nodes.c.organization_id,
            _shipment.c.plant_id,
            _typed_null(s),
            _shipment.c.unit,
            nodes.c.visible,
            _int(0),
            func.count(),
            func.sum(_shipment.c.quantity),
            _typed_null(n),
        )
        .select_from(nodes.join(_shipment, _shipment.c.asset_id == nodes.c.id))
        .where(*shipped)
        .group_by(nodes.c.organization_id, _shipment.c.plant_id, _shipment.c.unit, nodes.c.visible)
    )

    def flag(name: str, condition: ColumnElement[bool]) -> Select[Any]:
        return select(
            literal(name, String),
            _typed_null(u),
            _typed_null(u),
            _typed_null(s),
            _typed_null(s),
            _int(0),
            _int(0),
            case((condition, 1), else_=0),
            _typed_null(n),
            _typed_null(n),
        )

    seen = (
        select(
            literal("asset", String).label("dim"),
            nodes.c.organization_id,
            nodes.c.id.label("ref_id"),
            _typed_null(s).label("label"),
            _typed_null(s).label("unit"),
            nodes.c.visible,
            nodes.c.root,
            nodes.c.depth.label("n"),
            _typed_null(n).label("quantity"),
            _typed_null(n).label("held"),
        )
        .where(nodes.c.visible == 1)
        .order_by(nodes.c.depth, nodes.c.id)
        .limit(listed)
        .subquery("seen")
    )
    own = select(nodes.c.id).where(nodes.c.organization_id == caller)
    in_set = select(nodes.c.id)

    def links(mine: ColumnElement[Any], other: ColumnElement[Any], name: str) -> Select[Any]:
        where: list[ColumnElement[bool]] = [mine.in_(own), other.in_(in_set)]
        if scope.as_of is not None:
            where.append(_link.c.created_on <= scope.as_of)
        listing = (
            select(
                literal("link", String).label("dim"),
                _link.c.child_id.label("organization_id"),
                _link.c.parent_id.label("ref_id"),
                literal(name, String).label("label"),
                _link.c.unit,
                _int(1).label("visible"),
                _int(0).label("root"),
                _int(0).label("n"),
                _link.c.quantity,
                _typed_null(n).label("held"),
            )
            .where(*where)
            .order_by(_link.c.id)
            .limit(listed)
            .subquery(name)
        )
        return select(*listing.c)

    return union_all(
        by_node,
        by_part,
        by_model,
        by_location,
        by_shipment,
        flag("unresolved", unresolved(found, scope.direction, scope.as_of)),
        flag("cut", cut(reached, found, scope.direction, scope.depth, scope.as_of)),
        select(*seen.c),
        links(_link.c.child_id, _link.c.parent_id, "up"),
        links(_link.c.parent_id, _link.c.child_id, "down"),
    )


def affected_positions(scope: Scope) -> Select[Any]:
    """Every affected asset (unfiltered) with its inventory positions, one row per (asset, position or none).

    Each row also carries ``unresolved`` and ``cut`` (1 or 0; the same on every row): PostgreSQL evaluates the two
    uncorrelated EXISTS once, so one statement walks the graph once for everything containment needs."""
    reached = reach(scope.roots, scope.direction, scope.depth, scope.as_of)
    found = affected(reached)
    return (
        select(
            found.c.id.label("asset_id"),
            found.c.depth,
            _position.c.id.label("position_id"),
            _position.c.plant_id,
            Plant.organization_id.label("plant_organization_id"),
            _position.c.location,
            _position.c.quantity,
            _position.c.unit,
            case((unresolved(found, scope.direction, scope.as_of), 1), else_=0).label("unresolved"),
            case((cut(reached, found, scope.direction, scope.depth, scope.as_of), 1), else_=0).label("cut"),
        )
        .select_from(
            found.outerjoin(_position, _position.c.asset_id == found.c.id).outerjoin(
                Plant, Plant.id == _position.c.plant_id
            )
        )
        .order_by(found.c.depth, found.c.id, _position.c.id)
    )


LOOKUP_COLUMNS = ("what", "id", "organization_id", "a", "b", "c", "d", "e")


def _lookup(
    what: str, id_: ColumnElement[Any], organization_id: ColumnElement[Any] | None, *texts: Any
) -> Select[Any]:
    """One arm of :func:`lookups`: the named columns, the unused ones as typed NULLs."""
    strings = [*texts, *([_typed_null(String())] * (5 - len(texts)))]
    owner = organization_id if organization_id is not None else _typed_null(Uuid())
    columns = [literal(what, String), id_, owner, *strings]
    return select(*(c.label(name) for c, name in zip(columns, LOOKUP_COLUMNS, strict=True)))


def lookups(
    organizations: set[uuid.UUID], parts: set[uuid.UUID], plants: set[uuid.UUID], assets: Sequence[uuid.UUID]
) -> CompoundSelect:
    """What a trace's groups name, in one statement, ``LOOKUP_COLUMNS`` tagged by ``what``:

    - ``organization``: ``a`` = name;
    - ``part``: owner, ``a`` = manufacturer part id, ``b`` = customer part id, ``c`` = name at the manufacturer;
    - ``plant``: owner, ``a`` = code, ``b`` = name;
    - ``asset``: owner, ``a`` = kind, ``b`` = local id, ``c`` = catenaXId, ``d`` = manufacturer part id,
      ``e`` = model.
    """
    part, plant = PartType.__table__, Plant.__table__
    organization = Organization.__table__
    return union_all(
        _lookup("organization", organization.c.id, None, organization.c.name).where(
            organization.c.id.in_(organizations)
        ),
        _lookup(
            "part",
            part.c.id,
            part.c.organization_id,
            part.c.manufacturer_part_id,
            part.c.customer_part_id,
            part.c.name_at_manufacturer,
        ).where(part.c.id.in_(parts)),
        _lookup("plant", plant.c.id, plant.c.organization_id, plant.c.code, plant.c.name).where(
            plant.c.id.in_(plants)
        ),
        _lookup(
            "asset",
            _asset.c.id,
            _asset.c.organization_id,
            _asset.c.kind,
            _asset.c.local_id,
            _asset.c.catenax_id,
            part.c.manufacturer_part_id,
            _asset.c.model,
        )
        .select_from(_asset.join(part, part.c.id == _asset.c.part_type_id))
        .where(_asset.c.id.in_(list(assets))),
    )
