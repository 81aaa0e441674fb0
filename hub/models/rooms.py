"""Joint investigation rooms: members, encrypted datasets (ciphertext chunks and wrapped keys), annotations,
the 8D record and the signed summary kept after closing.

Ciphertext lives in ``room_dataset_chunks`` rows of about 1 MiB and data keys only wrapped, one row per
recipient, so crypto-shredding is two DELETEs; the dataset row stays and says it was shredded."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin, utcnow


class Room(IdMixin, CreatedMixin, Base):
    __tablename__ = "rooms"
    __table_args__ = (Index("ix_rooms_status_expires_at", "status", "expires_at"),)

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    deletion_policy: Mapped[str] = mapped_column(String(32))
    # The alert or investigation the room was opened from, one its opener sent or received.
    notification_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("quality_notifications.id"))
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))
    shredded_at: Mapped[datetime | None]


class RoomMember(IdMixin, Base):
    __tablename__ = "room_members"
    __table_args__ = (
        UniqueConstraint("room_id", "organization_id"),
        Index("ix_room_members_organization", "organization_id"),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(16))
    people: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    invited_by: Mapped[uuid.UUID | None]
    accepted_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]


class RoomDataset(CreatedMixin, Base):
    """A dataset's metadata. ``id`` is chosen by the uploader, who binds it into the ciphertext."""

    __tablename__ = "room_datasets"
    __table_args__ = (Index("ix_room_datasets_room", "room_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id"))
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(127))
    plaintext_size: Mapped[int] = mapped_column(BigInteger)
    chunk_size: Mapped[int] = mapped_column(Integer)
    ciphertext_size: Mapped[int] = mapped_column(BigInteger)
    ciphertext_sha256: Mapped[str] = mapped_column(String(64))
    manifest_signature: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="awaiting_content")
    uploaded_at: Mapped[datetime | None]
    shredded_at: Mapped[datetime | None]


class RoomDatasetChunk(Base):
    """About 1 MiB of a dataset's ciphertext; ``seq`` from 0."""

    __tablename__ = "room_dataset_chunks"

    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("room_datasets.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RoomWrappedKey(IdMixin, CreatedMixin, Base):
    """A dataset's data key wrapped to one member organization's X25519 key (the hub cannot unwrap it)."""

    __tablename__ = "room_wrapped_keys"
    __table_args__ = (UniqueConstraint("dataset_id", "organization_id", "recipient_key_id"),)

    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("room_datasets.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    recipient_key_id: Mapped[str] = mapped_column(String(128))
    ephemeral_public_key: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[str] = mapped_column(String(512))
    algorithm: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))


class RoomAnnotation(IdMixin, CreatedMixin, Base):
    __tablename__ = "room_annotations"
    __table_args__ = (Index("ix_room_annotations_room", "room_id", "created_at"),)

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("room_annotations.id"))
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("room_datasets.id"))
    anchor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tag: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoomAnnotationRevision(IdMixin, Base):
    """Every version of an annotation, the current one included, so an edit never loses what was said."""

    __tablename__ = "room_annotation_revisions"
    __table_args__ = (UniqueConstraint("annotation_id", "revision"),)

    annotation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("room_annotations.id"))
    revision: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    tag: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoomStep(IdMixin, Base):
    """One step (D1..D8) of a room's 8D record."""

    __tablename__ = "room_steps"
    __table_args__ = (UniqueConstraint("room_id", "step"),)

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id"))
    step: Mapped[str] = mapped_column(String(2))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    content: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None]
    signed_off_at: Mapped[datetime | None]
    signed_off_by: Mapped[uuid.UUID | None]


class RoomSummary(CreatedMixin, Base):
    """The 8D summary the hub signed when the room closed (a SignedEnvelope as JSON); kept after shredding."""

    __tablename__ = "room_summaries"

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
