"""Supply agreements between an OEM and a supplier."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin


class SupplyAgreement(IdMixin, CreatedMixin, Base):
    """The terms (parts, characteristics, KPI thresholds and disclosure) are read whole, so they are one JSON."""

    __tablename__ = "supply_agreements"

    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # Deferred: a KPI report needs the agreement's head, not its (possibly large) terms; see terms_of().
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    period: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    report_due_days: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(String(1000), default="")
    # The newest period the due-date sweep has closed (missing reports marked); None before the first sweep.
    swept_through: Mapped[str | None] = mapped_column(String(8))
