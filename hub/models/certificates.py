"""Certificates: the signed credentials certification bodies issue for supplier sites, whom their suppliers share
them with, and what certificate rules remember per supplier."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, IdMixin, utcnow


class Certificate(IdMixin, Base):
    """A certificate as issued (``credential``, its proof verified on receipt) with its fields copied out for
    queries, and the status the certifier sets (``expired`` is never stored: it is read from ``valid_until``)."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("certifier_id", "number", name="uq_certificates_certifier_number"),
        UniqueConstraint("credential_id", name="uq_certificates_credential_id"),
        Index("ix_certificates_supplier_standard", "supplier_id", "standard"),
    )

    certifier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    key_id: Mapped[str] = mapped_column(String(64))
    credential_id: Mapped[str] = mapped_column(String(200))
    standard: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(1000))
    site_id: Mapped[str] = mapped_column(String(100))
    site_name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime] = mapped_column(index=True)
    audit_score: Mapped[int | None]
    audit_grade: Mapped[str | None] = mapped_column(String(1))
    credential: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str] = mapped_column(String(1000), default="")
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expiring_announced_at: Mapped[datetime | None]


class CertificateShare(IdMixin, Base):
    """A customer (OEM) a supplier shares one certificate with; unsharing deletes the row."""

    __tablename__ = "certificate_shares"
    __table_args__ = (
        UniqueConstraint("certificate_id", "oem_id", name="uq_certificate_shares_certificate_oem"),
        Index("ix_certificate_shares_oem_id", "oem_id"),
    )

    certificate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("certificates.id"))
    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertificateRuleState(IdMixin, Base):
    """Whether a certificate rule's condition held for a supplier when last evaluated: a rule fires when it
    starts to hold, so a withdrawn certificate fires it once, not on every daily sweep after."""

    __tablename__ = "certificate_rule_states"
    __table_args__ = (
        UniqueConstraint("rule_id", "supplier_id", name="uq_certificate_rule_states_rule_supplier"),
    )

    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rules.id"))
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    holding: Mapped[bool]
    changed_at: Mapped[datetime]
