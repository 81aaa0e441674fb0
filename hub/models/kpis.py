"""Accepted KPI reports, kept with the signed envelope they arrived in."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, IdMixin, utcnow


class KpiReport(IdMixin, Base):
    """``characteristic`` is '' for part-level KPIs (MTBF), so that the one-report-per-period rule is a plain
    unique constraint on both databases (NULLs never collide)."""

    __tablename__ = "kpi_reports"
    __table_args__ = (
        UniqueConstraint(
            "supplier_id", "agreement_id", "characteristic", "kpi", "period", name="uq_kpi_reports_period"
        ),
        UniqueConstraint("key_id", "nonce", name="uq_kpi_reports_nonce"),
        Index("ix_kpi_reports_oem_period", "oem_id", "period_start"),
        Index("ix_kpi_reports_agreement_period", "agreement_id", "period_start"),
    )

    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_agreements.id"))
    part_number: Mapped[str] = mapped_column(String(64))
    characteristic: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[datetime]
    kpi: Mapped[str] = mapped_column(String(8))
    meets: Mapped[bool]
    value: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    threshold: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    disclosure: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(ForeignKey("org_keys.key_id"))
    nonce: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    has_proof: Mapped[bool] = mapped_column(default=False)
    # Tier T2: the lab whose signed measurement the proof was made over, as readers are told (no value).
    lab_measurement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lab_measurements.id"))
    lab_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    lab_name: Mapped[str | None] = mapped_column(String(200))
    lab_measured_on: Mapped[date | None]


class KpiAttestation(IdMixin, Base):
    """The KPI-ZK proof a report carried, kept apart from the report as the hub verified it.

    The envelope holds the same bytes; this row is what reads and audits use without parsing envelopes: which
    statement was proven, under which hub nonce, over which commitments, and when the hub verified it. One per
    report, and (through the report's own unique constraint) one per supplier·agreement·characteristic·KPI·period.
    """

    __tablename__ = "kpi_attestations"
    __table_args__ = (UniqueConstraint("report_id", name="uq_kpi_attestations_report_id"),)

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kpi_reports.id", ondelete="CASCADE"))
    statement: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(128))
    commitments: Mapped[dict[str, Any]] = mapped_column(JSON)
    attestation: Mapped[dict[str, Any]] = mapped_column(JSON)
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(Base):
    """The first answer to a POST with an ``Idempotency-Key``: a repeat gets the same resource back.

    ``request_hash`` covers what the caller means (for a KPI report, the signed payload), not transport details,
    so that a supplier's offline outbox may re-sign a queued report with a fresh timestamp under the same key.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("organization_id", "endpoint", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    endpoint: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
