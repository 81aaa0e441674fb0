"""The audit log: appended in each write's transaction, folded into a hash chain by the sealer.

As in Certificate Transparency (RFC 9162), a write never waits on the chain head: it inserts its entry with the
hash of its own content (``leaf_hash``). The sealer later gives entries their place (``seq``) in insertion order,
links each to the one before (``chain_hash``) and signs a checkpoint of the head.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index(
            "ix_audit_entries_unsealed",
            "id",
            sqlite_where=text("seq IS NULL"),
            postgresql_where=text("seq IS NULL"),
        ),
        # A room's timeline is read from its audit entries.
        Index("ix_audit_entries_subject", "subject_type", "subject_id", "id"),
        Index("ix_audit_entries_seq", "seq"),
    )

    # On PostgreSQL partitioned by month of ``at`` (migration 9c4d2e7a1b65), so ``at`` is in the primary key there;
    # SQLite keeps ``id`` alone (its rowid). ``seq`` is unique by construction (one sealer under a lock), and
    # ``hub audit verify`` names a duplicate or a gap.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, primary_key=True)
    actor_org_id: Mapped[uuid.UUID | None]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement by the hub: "the chain has ``seq`` entries and its head is ``chain_hash``"."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chain_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(100))


class AuditRetentionCheckpoint(Base):
    """A signed statement by the hub over audit entries retention removed: "the entries with these sequence numbers
    (``ranges``, inclusive) were verified and dropped; at the end of each range the chain hash was ``anchors``".

    ``hub audit verify`` takes a kept entry whose predecessor was dropped as linked to the anchor, and accepts a gap
    in the sequence only where a signed range covers it."""

    __tablename__ = "audit_retention_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    boundary: Mapped[datetime]  # entries written before this moment were dropped
    dropped_entries: Mapped[int]
    dropped_through: Mapped[int] = mapped_column(BigInteger)
    ranges: Mapped[list[list[int]]] = mapped_column(JSON)
    anchors: Mapped[dict[str, str]] = mapped_column(JSON)
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(100))
