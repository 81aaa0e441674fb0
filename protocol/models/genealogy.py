"""Genealogy import: the records of ``POST /v1/genealogy:import`` and the report it answers with.

Three formats carry the same records. NDJSON (``application/x-ndjson``): one JSON object per line with a ``type``
(``part_type``, ``plant``, ``batch``, ``serial_part``, ``link``, ``shipment``, ``inventory``). CSV (``text/csv``):
one record type per file (``?type=batch`` or a ``type`` column), the header naming the fields below. Catena-X JSON
(``application/json``): one object or an array of the aspect models ``Batch``, ``SerialPart`` and
``SingleLevelBomAsBuilt`` (version 3), camelCase as Catena-X writes them.

An asset key names a lot or serial part: its catenaXId (``urn:uuid:…``), ``<organization uuid>/<kind>/<local id>``
or, for your own assets, ``<kind>/<local id>`` (kind ``batch`` or ``serial``).

Example:
    >>> BatchRecord(batch_id="LOT-1", manufacturer_part_id="CAP-100").type
    'batch'
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from protocol.models.common import WireModel

__all__ = [
    "AssetKey",
    "BatchRecord",
    "CatenaXItem",
    "ChildItem",
    "ChildQuantity",
    "ImportRecord",
    "ImportReport",
    "InventoryRecord",
    "LinkRecord",
    "LocalId",
    "LocalIdentifier",
    "ManufacturingInformation",
    "OrganizationRecord",
    "PartTypeInformation",
    "PartTypeRecord",
    "PlantRecord",
    "Quantity",
    "RecordType",
    "RejectedRow",
    "SerialPartRecord",
    "ShipmentRecord",
    "SingleLevelBomAsBuilt",
    "Site",
    "TypeCounts",
]

Quantity = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=4)]
"""A quantity that is never negative, at most 4 decimal places.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(Quantity).validate_python("12.5")
    Decimal('12.5')
"""

AssetKey = Annotated[str, Field(min_length=3, max_length=200)]
"""A catenaXId, ``<organization uuid>/<kind>/<local id>`` or ``<kind>/<local id>`` (your own).

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(AssetKey).validate_python("batch/LOT-1")
    'batch/LOT-1'
"""

LocalId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^/\s]([^/]*[^/\s])?$")]
"""A batchId or partInstanceId: no slashes, no surrounding blanks.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(LocalId).validate_python("LOT-2026-0001")
    'LOT-2026-0001'
"""

_Code = Annotated[str, Field(min_length=1, max_length=64)]
_Unit = Annotated[str, Field(min_length=1, max_length=32)]


class _Record(WireModel):
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="Whose record this is; when given it must be the caller's organization",
    )


class OrganizationRecord(WireModel):
    """An organization, honoured only by the operator's ``hub genealogy import`` (it creates missing ones).

    Example:
        >>> OrganizationRecord(id=uuid.UUID(int=1), name="Capacitor Works", kind="supplier").kind
        'supplier'
    """

    type: Literal["organization"] = "organization"
    id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["oem", "supplier", "lab"]


class PartTypeRecord(_Record):
    """A part number of the importing manufacturer (Catena-X ``partTypeInformation``).

    Example:
        >>> PartTypeRecord(manufacturer_part_id="CAP-100", name_at_manufacturer="film capacitor").customer_part_id
    """

    type: Literal["part_type"] = "part_type"
    manufacturer_part_id: _Code
    name_at_manufacturer: str = Field(min_length=1, max_length=200)
    customer_part_id: _Code | None = None
    name_at_customer: str | None = Field(default=None, max_length=200)


class PlantRecord(_Record):
    """A site of the importing organization; ``code`` is its site id (e.g. a BPNS).

    Example:
        >>> PlantRecord(code="BPNS0001", name="Plant Nord").code
        'BPNS0001'
    """

    type: Literal["plant"] = "plant"
    code: _Code
    name: str = Field(min_length=1, max_length=200)


class BatchRecord(_Record):
    """A lot the importing organization made (Catena-X ``Batch``); its part type is created if new.

    Example:
        >>> BatchRecord(batch_id="LOT-1", manufacturer_part_id="CAP-100", quantity="10000").quantity
        Decimal('10000')
    """

    type: Literal["batch"] = "batch"
    batch_id: LocalId
    manufacturer_part_id: _Code
    name_at_manufacturer: str | None = Field(default=None, max_length=200)
    catenax_id: str | None = Field(default=None, min_length=3, max_length=128)
    site: _Code | None = None
    production_date: datetime | None = None
    quantity: Quantity | None = None
    unit: _Unit | None = None


class SerialPartRecord(_Record):
    """A serialized part the importing organization made: a product or a vehicle with its model (Catena-X
    ``SerialPart``). ``batch_id`` names its own lot.

    Example:
        >>> SerialPartRecord(part_instance_id="VIN-1", manufacturer_part_id="VEH-1", model="Aurora 2026").model
        'Aurora 2026'
    """

    type: Literal["serial_part"] = "serial_part"
    part_instance_id: LocalId
    manufacturer_part_id: _Code
    name_at_manufacturer: str | None = Field(default=None, max_length=200)
    catenax_id: str | None = Field(default=None, min_length=3, max_length=128)
    batch_id: LocalId | None = None
    model: str | None = Field(default=None, max_length=128)
    site: _Code | None = None
    production_date: datetime | None = None


class LinkRecord(_Record):
    """``child`` consumed into ``parent`` (one ``childItems`` entry of ``SingleLevelBomAsBuilt``). The parent is
    the importer's own; the child may be a supplier's lot, and may arrive later.

    Example:
        >>> LinkRecord(parent="batch/MOD-1", child="urn:uuid:5f0e0b1c-0000-4000-8000-000000000001", quantity=4).unit
    """

    type: Literal["link"] = "link"
    parent: AssetKey
    child: AssetKey
    quantity: Quantity | None = None
    unit: _Unit | None = None
    created_on: datetime | None = None


class ShipmentRecord(_Record):
    """An own lot shipped to a customer organization's plant under a delivery note.

    Example:
        >>> ShipmentRecord(asset="batch/LOT-1", delivery_note="DN-1", customer_organization_id=uuid.UUID(int=2),
        ...     shipped_on="2026-11-02", quantity=500, unit="unit:piece").shipped_on
        datetime.date(2026, 11, 2)
    """

    type: Literal["shipment"] = "shipment"
    asset: AssetKey
    delivery_note: _Code
    customer_organization_id: uuid.UUID
    plant: _Code | None = Field(default=None, description="The customer's plant code")
    shipped_on: date
    quantity: Quantity
    unit: _Unit


class InventoryRecord(_Record):
    """How much of a lot (yours or a supplier's) lies in one of your plants at one location (bin).

    Example:
        >>> InventoryRecord(asset="batch/LOT-1", plant="BPNS0001", location="BIN-07", quantity=120,
        ...     unit="unit:piece").location
        'BIN-07'
    """

    type: Literal["inventory"] = "inventory"
    asset: AssetKey
    plant: _Code
    location: _Code
    quantity: Quantity
    unit: _Unit


ImportRecord = Annotated[
    OrganizationRecord
    | PartTypeRecord
    | PlantRecord
    | BatchRecord
    | SerialPartRecord
    | LinkRecord
    | ShipmentRecord
    | InventoryRecord,
    Field(discriminator="type"),
]
"""One line of an NDJSON import, told apart by ``type``.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(ImportRecord).validate_python({"type": "plant", "code": "P1", "name": "Nord"}).name
    'Nord'
"""

RecordType = Literal[
    "organization",
    "part_type",
    "plant",
    "batch",
    "serial_part",
    "link",
    "shipment",
    "inventory",
]
"""The ``type`` of an import record.

Example:
    >>> "link" in RecordType.__args__
    True
"""


# --- Catena-X aspect models (version 3), as received -------------------------------------------------------


class _CatenaX(WireModel):
    # Catena-X payloads carry more than we keep (classifications, customers, …): ignore, don't refuse.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class LocalIdentifier(_CatenaX):
    """A ``localIdentifiers`` entry: manufacturerId, batchId, partInstanceId, van.

    Example:
        >>> LocalIdentifier(key="batchId", value="LOT-1").value
        'LOT-1'
    """

    key: str = Field(max_length=64)
    value: str = Field(max_length=128)


class Site(_CatenaX):
    """A manufacturing site (``catenaXsiteId`` is a BPNS).

    Example:
        >>> Site(catenaXsiteId="BPNS000000000001").catenaXsiteId
        'BPNS000000000001'
    """

    catenaXsiteId: str = Field(max_length=64)
    function: str | None = None


class ManufacturingInformation(_CatenaX):
    """When, where and in which sites an item was made.

    Example:
        >>> ManufacturingInformation(date="2026-02-04T14:48:54Z").date.year
        2026
    """

    date: datetime
    country: str | None = None
    sites: list[Site] = Field(default_factory=list)


class PartTypeInformation(_CatenaX):
    """Manufacturer and customer part ids and names.

    Example:
        >>> PartTypeInformation(manufacturerPartId="CAP-100", nameAtManufacturer="capacitor").customerPartId
    """

    manufacturerPartId: str = Field(min_length=1, max_length=64)
    customerPartId: str | None = Field(default=None, max_length=64)
    nameAtManufacturer: str = Field(min_length=1, max_length=200)
    nameAtCustomer: str | None = Field(default=None, max_length=200)


class CatenaXItem(_CatenaX):
    """A Catena-X ``Batch`` or ``SerialPart`` (told apart by a ``batchId`` or ``partInstanceId`` local id).

    Example:
        >>> CatenaXItem(catenaXId="urn:uuid:1", localIdentifiers=[{"key": "batchId", "value": "L1"}],
        ...     partTypeInformation={"manufacturerPartId": "P", "nameAtManufacturer": "n"}).catenaXId
        'urn:uuid:1'
    """

    catenaXId: str = Field(min_length=3, max_length=128)
    localIdentifiers: list[LocalIdentifier] = Field(min_length=1)
    manufacturingInformation: ManufacturingInformation | None = None
    partTypeInformation: PartTypeInformation


class ChildQuantity(_CatenaX):
    """How much of a child went into the parent.

    Example:
        >>> ChildQuantity(value=4, unit="unit:piece").value
        Decimal('4')
    """

    value: Quantity
    unit: _Unit


class ChildItem(_CatenaX):
    """One ``childItems`` entry of ``SingleLevelBomAsBuilt``.

    Example:
        >>> ChildItem(catenaXId="urn:uuid:2", quantity={"value": 1, "unit": "unit:piece"}).catenaXId
        'urn:uuid:2'
    """

    catenaXId: str = Field(min_length=3, max_length=128)
    quantity: ChildQuantity | None = None
    businessPartner: str | None = None
    createdOn: datetime | None = None
    lastModifiedOn: datetime | None = None
    hasAlternatives: bool | None = None


class SingleLevelBomAsBuilt(_CatenaX):
    """The children an item was built from.

    Example:
        >>> len(SingleLevelBomAsBuilt(catenaXId="urn:uuid:1", childItems=[]).childItems)
        0
    """

    catenaXId: str = Field(min_length=3, max_length=128)
    childItems: list[ChildItem]


# --- the answer ---------------------------------------------------------------------------------------------


class RejectedRow(WireModel):
    """A row that was not imported: its line (1-based; for Catena-X JSON the item's position), field and why.

    Example:
        >>> RejectedRow(line=3, field="quantity", reason="must not be negative").field
        'quantity'
    """

    line: int = Field(ge=1)
    type: str | None = None
    field: str | None = None
    reason: str


class TypeCounts(WireModel):
    """Per record type: inserted, changed, already there as given, rejected.

    Example:
        >>> TypeCounts(accepted=2).unchanged
        0
    """

    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class ImportReport(WireModel):
    """What an import did. Rejected rows are listed up to ``rejections_listed_max``; the counts are complete.

    Example:
        >>> ImportReport(format="ndjson", rows=1, accepted=1).rejected
        0
    """

    format: Literal["ndjson", "csv", "catenax"]
    rows: int = 0
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    by_type: dict[str, TypeCounts] = Field(default_factory=dict)
    rejections: list[RejectedRow] = Field(default_factory=list)
    rejections_listed_max: int = 1000
    links_resolved: int = Field(
        default=0, description="Earlier links whose missing end arrived in this import"
    )
    seconds: float = 0.0
