"""Genealogy after the Catena-X traceability aspect models: part types, plants, as-built assets, their links,
shipments, inventory positions and the holds placed on them.

One node table (``assets``: batches and serial parts alike) and one link table (``asset_links``), so that a trace is
one recursive query over one indexed table: forward (down the chain, child → parent) on
``ix_asset_links_child_id_parent_id``, backward (up the chain, parent → child) on ``ix_asset_links_parent_id_child_id``.

A link names its ends by natural key (``parent_key``/``child_key``: the catenaXId, or ``"<org uuid>/<kind>/<local id>"``)
and carries their ids once known: links may arrive before the lots they name and are resolved when those arrive.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin, utcnow

QUANTITY = Numeric(20, 4)


class PartType(IdMixin, Base):
    """A part number of one manufacturer (Catena-X ``partTypeInformation``)."""

    __tablename__ = "part_types"
    __table_args__ = (UniqueConstraint("organization_id", "manufacturer_part_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    manufacturer_part_id: Mapped[str] = mapped_column(String(128))
    customer_part_id: Mapped[str | None] = mapped_column(String(128))
    name_at_manufacturer: Mapped[str] = mapped_column(String(200))
    name_at_customer: Mapped[str | None] = mapped_column(String(200))


class Plant(IdMixin, Base):
    """A site of one organization (``code`` is its site id, e.g. a BPNS)."""

    __tablename__ = "plants"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))


class Asset(IdMixin, CreatedMixin, Base):
    """An as-built item: a batch (lot) or a serial part (a product, a vehicle with its model).

    ``local_id`` is the Catena-X batchId or partInstanceId, unique per owning organization and kind."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("organization_id", "kind", "local_id"),
        UniqueConstraint("catenax_id"),
        CheckConstraint("kind IN ('batch', 'serial')", name="kind"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity_not_negative"),
        Index("ix_assets_model", "model"),
        Index("ix_assets_part_type_id", "part_type_id"),
        # A forward trace goes from a lot to the serial parts made from it (batch_asset_id) on this index.
        Index(
            "ix_assets_batch_asset_id",
            "batch_asset_id",
            postgresql_where=text("batch_asset_id IS NOT NULL"),
            sqlite_where=text("batch_asset_id IS NOT NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(8))
    local_id: Mapped[str] = mapped_column(String(128))
    catenax_id: Mapped[str | None] = mapped_column(String(128))
    part_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("part_types.id"))
    batch_asset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assets.id"))
    model: Mapped[str | None] = mapped_column(String(128))
    site: Mapped[str | None] = mapped_column(String(64))
    production_date: Mapped[datetime | None]
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(32))


class AssetLink(Base):
    """Child consumed into parent (Catena-X ``SingleLevelBomAsBuilt`` ``childItems``), asserted by the parent's
    manufacturer. ``parent_id``/``child_id`` are NULL until the asset with that natural key arrives."""

    __tablename__ = "asset_links"
    __table_args__ = (
        UniqueConstraint("parent_key", "child_key"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity_not_negative"),
        Index("ix_asset_links_child_id_parent_id", "child_id", "parent_id"),
        Index("ix_asset_links_parent_id_child_id", "parent_id", "child_id"),
        Index(
            "ix_asset_links_unresolved_child_key",
            "child_key",
            postgresql_where=text("child_id IS NULL"),
            sqlite_where=text("child_id IS NULL"),
        ),
        Index(
            "ix_asset_links_unresolved_parent_key",
            "parent_key",
            postgresql_where=text("parent_id IS NULL"),
            sqlite_where=text("parent_id IS NULL"),
        ),
        Index("ix_asset_links_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    parent_key: Mapped[str] = mapped_column(String(200))
    child_key: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assets.id"))
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assets.id"))
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(32))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    created_on: Mapped[datetime] = mapped_column(default=utcnow)


class Shipment(IdMixin, Base):
    """A lot shipped by its sender to a customer organization's plant under a delivery note."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("organization_id", "delivery_note", "asset_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_shipments_asset_id", "asset_id"),
        Index("ix_shipments_customer_organization_id", "customer_organization_id"),
    )

    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assets.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    customer_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    plant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plants.id"))
    delivery_note: Mapped[str] = mapped_column(String(64))
    shipped_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(32))


class InventoryPosition(IdMixin, Base):
    """How much of an asset lies at one plant in one location (bin); its holds say how much is blocked."""

    __tablename__ = "inventory_positions"
    __table_args__ = (
        UniqueConstraint("asset_id", "plant_id", "location"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_inventory_positions_plant_id", "plant_id"),
    )

    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assets.id"))
    plant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plants.id"))
    location: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Hold(IdMixin, Base):
    """A quantity of one inventory position blocked by a quality notification (the alert) until it is released."""

    __tablename__ = "holds"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_holds_inventory_position_id", "inventory_position_id"),
        Index("ix_holds_notification_id", "notification_id"),
    )

    inventory_position_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inventory_positions.id"))
    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quality_notifications.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(200))
