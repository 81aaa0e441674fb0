"""A trace through the lot genealogy, as ``POST /v1/trace`` takes and returns it.

A **forward** trace goes down the supply chain (from a lot to the assemblies, products and vehicles that consumed
it, and the serial parts made from it); a **backward** trace goes up (from a failed product to the lots that went
into it). The answer groups the affected set by organization, part, vehicle/product model, plant and inventory
location, and is filtered by **minimal disclosure**: the caller sees its own nodes, the nodes of its direct
partners on links that touch its own nodes, and only counts (``undisclosed``) for everything else. The
``answer`` says whether the trace reached anything beyond its roots: ``yes``, ``no``, or ``unknown`` when nothing
was found but the trace was cut short (a depth limit, or links whose other end is not known to the hub yet) —
the Catena-X IRS "is my supply chain impacted?" pattern.

Example:
    >>> request = TraceRequest(roots=[{"local_id": "LOT-7", "kind": "batch"}], depth=5)
    >>> request.direction, request.roots[0].local_id, request.depth
    ('forward', 'LOT-7', 5)
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StrictInt, model_validator

from protocol.models.common import ComputedDecimal, WireModel, WireTime

MAX_DEPTH = 100
"""The deepest a trace goes (as in Catena-X IRS: depth 1 to 100); a request without ``depth`` goes this deep.

Example:
    >>> TraceRequest(roots=[{"asset_id": "0190a1b2-0000-7000-8000-000000000001"}], depth=MAX_DEPTH).depth
    100
"""

TraceDirection = Literal["forward", "backward"]
"""``forward``: down the chain, to what consumed the roots; ``backward``: up the chain, to what went into them.

Example:
    >>> TraceDirection.__args__
    ('forward', 'backward')
"""

TraceAnswer = Literal["yes", "no", "unknown"]
"""Did the trace reach anything beyond its roots: ``yes``; ``no`` (and the trace is complete); ``unknown``
(nothing found, but the trace was cut short, so something may lie beyond).

Example:
    >>> "unknown" in TraceAnswer.__args__
    True
"""

AssetKind = Literal["batch", "serial"]
"""A node of the genealogy: a lot (``batch``) or a serialized part (a product, a vehicle).

Example:
    >>> AssetKind.__args__
    ('batch', 'serial')
"""

IncompleteReason = Literal["depth_limit", "unresolved_links"]
"""Why a trace is not complete: the depth limit cut it, or it met links whose other end the hub does not know yet.

Example:
    >>> IncompleteReason.__args__
    ('depth_limit', 'unresolved_links')
"""


class TraceRoot(WireModel):
    """Where a trace starts: an asset by its hub id, by its Catena-X id, or by its natural key.

    The natural key is (``organization_id``, ``kind``, ``local_id``); ``organization_id`` defaults to the
    caller's own organization. Give exactly one of ``asset_id``, ``catenax_id`` or ``local_id``.

    Example:
        >>> TraceRoot(catenax_id="urn:uuid:580d3adf-1981-44a0-a214-13d6ceed9379").catenax_id[:8]
        'urn:uuid'
        >>> TraceRoot(local_id="LOT-7").kind
        'batch'
    """

    asset_id: UUID | None = Field(default=None, description="The hub's id of the asset")
    catenax_id: str | None = Field(default=None, min_length=1, max_length=128, description="The catenaXId")
    organization_id: UUID | None = Field(
        default=None, description="Manufacturer of the asset named by local_id; default: your organization"
    )
    kind: AssetKind = Field(default="batch", description="With local_id: a batch (lot) or a serial part")
    local_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="batchId or partInstanceId"
    )

    @model_validator(mode="after")
    def _exactly_one_reference(self) -> TraceRoot:
        given = [self.asset_id is not None, self.catenax_id is not None, self.local_id is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of asset_id, catenax_id or local_id")
        if self.organization_id is not None and self.local_id is None:
            raise ValueError("organization_id only goes with local_id")
        return self


class TraceRequest(WireModel):
    """What to trace: one or many roots, the direction, how deep and as of when.

    ``as_of`` traces the genealogy as it was known then: links created later, shipments made later and holds
    placed later (or released before) are left out. Inventory quantities are always today's.

    Example:
        >>> TraceRequest(roots=[{"local_id": "LOT-7"}]).depth is None
        True
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "roots": [{"asset_id": "7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098"}],
                    "direction": "forward",
                    "depth": 10,
                }
            ]
        }
    )

    roots: list[TraceRoot] = Field(
        min_length=1, max_length=1000, description="Lots or serial parts to trace from"
    )
    direction: TraceDirection = "forward"
    depth: StrictInt | None = Field(
        default=None, ge=1, le=MAX_DEPTH, description=f"Link levels to follow; default {MAX_DEPTH}"
    )
    as_of: WireTime | None = Field(default=None, description="Trace the genealogy as known at this time")


class TraceNode(WireModel):
    """An asset the caller may see: its own, or a direct partner's on a link with its own.

    ``depth`` is the number of link levels from the nearest root (0 for a root; a serial part made from a lot
    sits at the lot's level).

    Example:
        >>> sorted(TraceNode.model_fields)[:4]
        ['asset_id', 'catenax_id', 'depth', 'kind']
    """

    asset_id: UUID
    organization_id: UUID
    kind: AssetKind
    local_id: str
    catenax_id: str | None = None
    manufacturer_part_id: str
    model: str | None = None
    depth: int = Field(ge=0)
    root: bool = False


class TraceLink(WireModel):
    """A link the caller may see: one end is the caller's own asset (``child_id`` was consumed into ``parent_id``).

    Example:
        >>> TraceLink(parent_id=UUID(int=1), child_id=UUID(int=2), quantity="4", unit="pcs").quantity
        Decimal('4')
    """

    parent_id: UUID
    child_id: UUID
    quantity: ComputedDecimal | None = None
    unit: str | None = None


class OrganizationGroup(WireModel):
    """How many affected lots and serial parts of a disclosed organization (the caller or a direct partner) the
    caller may see.

    Example:
        >>> OrganizationGroup(organization_id=UUID(int=1), name="Cap GmbH", batches=3, serials=0).batches
        3
    """

    organization_id: UUID
    name: str
    batches: int = Field(ge=0)
    serials: int = Field(ge=0)


class PartGroup(WireModel):
    """Affected assets of one part type the caller may see.

    Example:
        >>> PartGroup(part_type_id=UUID(int=1), organization_id=UUID(int=2), manufacturer_part_id="C-10",
        ...           name="capacitor", assets=4).assets
        4
    """

    part_type_id: UUID
    organization_id: UUID
    manufacturer_part_id: str
    customer_part_id: str | None = None
    name: str
    assets: int = Field(ge=0)


class ModelGroup(WireModel):
    """Affected serial parts (products, vehicles) of one model the caller may see.

    Example:
        >>> ModelGroup(model="ID.4 2026", serials=120).serials
        120
    """

    model: str
    serials: int = Field(ge=0)


class PlantQuantity(WireModel):
    """Quantities of affected assets at one plant in one unit: in inventory, of that on hold, and shipped there.

    Example:
        >>> PlantQuantity(unit="pcs", quantity="500", held="200", shipped="0").held
        Decimal('200')
    """

    unit: str
    quantity: ComputedDecimal = Field(description="In inventory at the plant")
    held: ComputedDecimal = Field(description="Of that, blocked by holds")
    shipped: ComputedDecimal = Field(description="Shipped to the plant (as of the trace's time)")


class PlantGroup(WireModel):
    """A disclosed plant (the caller's, or a disclosed organization's) holding or receiving affected assets.

    Example:
        >>> PlantGroup(plant_id=UUID(int=1), organization_id=UUID(int=2), code="BPNS000000000001", name="Zwickau",
        ...            positions=2, quantities=[]).positions
        2
    """

    plant_id: UUID
    organization_id: UUID
    code: str
    name: str
    positions: int = Field(ge=0, description="Inventory positions holding affected assets")
    quantities: list[PlantQuantity]


class LocationGroup(WireModel):
    """Affected inventory in one location (bin) of a disclosed plant, in one unit.

    Example:
        >>> LocationGroup(plant_id=UUID(int=1), code="BPNS000000000001", location="A-01", unit="pcs",
        ...               positions=1, quantity="100", held="100").location
        'A-01'
    """

    plant_id: UUID
    code: str
    location: str
    unit: str
    positions: int = Field(ge=0)
    quantity: ComputedDecimal
    held: ComputedDecimal


class Undisclosed(WireModel):
    """Counts of what the trace reached but the caller may not see: no ids, no names, only how many.

    ``organizations`` counts the distinct owners of the undisclosed assets; ``models`` the distinct
    vehicle/product models among them; ``plants`` and ``positions`` the inventory holding them.

    Example:
        >>> u = Undisclosed(batches=3, serials=0, organizations=2, part_types=2, models=0, plants=0, positions=0)
        >>> f"{u.batches} lots at {u.organizations} undisclosed organizations"
        '3 lots at 2 undisclosed organizations'
    """

    batches: int = Field(ge=0)
    serials: int = Field(ge=0)
    organizations: int = Field(ge=0)
    part_types: int = Field(ge=0)
    models: int = Field(ge=0)
    plants: int = Field(ge=0)
    positions: int = Field(ge=0)


class TraceResult(WireModel):
    """The answer to a trace, filtered for the caller.

    ``affected_batches`` / ``affected_serials`` count everything the trace reached beyond the roots, disclosed
    or not; ``nodes`` and ``links`` list only what the caller may see (at most 1,000 each; ``truncated`` says
    more were found); the ``by_*`` groups cover the disclosed assets and ``undisclosed`` counts the rest.

    Example:
        >>> result = TraceResult(direction="forward", depth=100, answer="unknown", complete=False,
        ...     incomplete_reasons=["unresolved_links"], affected_batches=0, affected_serials=0,
        ...     undisclosed=Undisclosed(batches=0, serials=0, organizations=0, part_types=0, models=0,
        ...                             plants=0, positions=0))
        >>> result.answer, result.nodes
        ('unknown', [])
    """

    direction: TraceDirection
    depth: int = Field(ge=1, le=MAX_DEPTH, description="The depth limit the trace ran with")
    as_of: datetime | None = None
    answer: TraceAnswer
    complete: bool
    incomplete_reasons: list[IncompleteReason] = Field(default_factory=list)
    affected_batches: int = Field(ge=0)
    affected_serials: int = Field(ge=0)
    nodes: list[TraceNode] = Field(default_factory=list)
    links: list[TraceLink] = Field(default_factory=list)
    truncated: bool = False
    by_organization: list[OrganizationGroup] = Field(default_factory=list)
    by_part: list[PartGroup] = Field(default_factory=list)
    by_model: list[ModelGroup] = Field(default_factory=list)
    by_plant: list[PlantGroup] = Field(default_factory=list)
    by_location: list[LocationGroup] = Field(default_factory=list)
    undisclosed: Undisclosed


__all__ = [
    "MAX_DEPTH",
    "AssetKind",
    "IncompleteReason",
    "LocationGroup",
    "ModelGroup",
    "OrganizationGroup",
    "PartGroup",
    "PlantGroup",
    "PlantQuantity",
    "TraceAnswer",
    "TraceDirection",
    "TraceLink",
    "TraceNode",
    "TraceRequest",
    "TraceResult",
    "TraceRoot",
    "Undisclosed",
]
