"""Labs: their accreditations, their parts of agreements, and the measurements they attest."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, IdMixin, utcnow


class LabAccreditation(IdMixin, Base):
    """An accreditation (e.g. ISO/IEC 17025) the operator recorded for a lab; a T2 proof needs one that covers
    the measurement date."""

    __tablename__ = "lab_accreditations"

    lab_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(1000))
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgreementLab(IdMixin, Base):
    """A lab named in an agreement (for one or more of its terms) and the lab's own answer: the lab accepts its
    part as the supplier accepts the agreement."""

    __tablename__ = "agreement_labs"
    __table_args__ = (UniqueConstraint("agreement_id", "lab_id", name="uq_agreement_labs_agreement_lab"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_agreements.id"))
    lab_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    decided_at: Mapped[datetime | None]


class LabMeasurement(IdMixin, Base):
    """A lab's signed measurement attestation and the openings sealed to the supplier (which the hub cannot
    read). ``digest`` is what a T2 proof names; a report that used it points here."""

    __tablename__ = "lab_measurements"
    __table_args__ = (
        UniqueConstraint("digest", name="uq_lab_measurements_digest"),
        Index("ix_lab_measurements_supplier_agreement", "supplier_id", "agreement_id"),
    )

    lab_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_agreements.id"))
    part_number: Mapped[str] = mapped_column(String(64))
    characteristic: Mapped[str] = mapped_column(String(64))
    kpi: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(8))
    measured_on: Mapped[date]
    digest: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_openings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
