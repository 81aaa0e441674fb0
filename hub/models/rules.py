"""Rules (versioned), the per-period outcomes they read, their per-series state, standings and the inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin, utcnow
from protocol.models.rule_approvals import ApprovalState


class Rule(IdMixin, CreatedMixin, Base):
    """The rule's identity; what it says lives in its versions. ``version`` is the newest."""

    __tablename__ = "rules"

    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleVersion(Base):
    """Every saved form of a rule (its status included), in force from ``valid_from`` until ``valid_until``.

    ``id`` grows with every save of any rule, so an OEM's newest ``id`` says whether its rule set changed."""

    __tablename__ = "rule_versions"
    __table_args__ = (
        UniqueConstraint("rule_id", "version"),
        Index("ix_rule_versions_oem_id_id", "oem_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rules.id"))
    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    version: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))


class PeriodOutcome(IdMixin, Base):
    """One period of one series (agreement · part · characteristic · KPI): met, not met, or missing.

    A report writes its outcome; the due-date sweep writes ``missing`` for a period nobody reported. The first
    outcome of a period stands: a report that arrives after its period was marked missing does not change it."""

    __tablename__ = "period_outcomes"
    __table_args__ = (
        # period_start follows from period; it is here because PostgreSQL partitions the table by it (migration
        # 9c4d2e7a1b65) and a partitioned table's unique keys must hold the partition key.
        UniqueConstraint(
            "agreement_id",
            "part_number",
            "characteristic",
            "kpi",
            "period",
            "period_start",
            name="uq_period_outcomes_period",
        ),
        Index(
            "ix_period_outcomes_series",
            "agreement_id",
            "part_number",
            "characteristic",
            "kpi",
            "period_start",
        ),
        Index("ix_period_outcomes_oem_recorded", "oem_id", "recorded_at"),
    )

    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_agreements.id"))
    part_number: Mapped[str] = mapped_column(String(64))
    characteristic: Mapped[str] = mapped_column(String(64))
    kpi: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    met: Mapped[bool]
    missing: Mapped[bool]
    value: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    threshold: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("kpi_reports.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleSeriesState(Base):
    """What one rule remembers about one series: where its window last reset, and the tiers it took.

    Only series a rule has acted on have a row, so evaluating a report reads a handful, not one per rule."""

    __tablename__ = "rule_series_states"
    __table_args__ = (UniqueConstraint("rule_id", "agreement_id", "part_number", "characteristic", "kpi"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rules.id"))
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supply_agreements.id"), index=True)
    part_number: Mapped[str] = mapped_column(String(64))
    characteristic: Mapped[str] = mapped_column(String(64))
    kpi: Mapped[str] = mapped_column(String(8))
    fired_through: Mapped[str | None] = mapped_column(String(8))
    recovered_through: Mapped[str | None] = mapped_column(String(8))
    outstanding_tiers: Mapped[int] = mapped_column(default=0)


class Standing(IdMixin, Base):
    """A supplier's delivery-priority tier and status at one OEM; locked while a result changes it."""

    __tablename__ = "standings"
    __table_args__ = (UniqueConstraint("oem_id", "supplier_id"),)

    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    tier: Mapped[str] = mapped_column(String(1), default="A")
    status: Mapped[str] = mapped_column(String(16), default="approved")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StandingChange(Base):
    """One change of a standing, with the rule version and the reports or missing periods that caused it."""

    __tablename__ = "standing_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    standing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("standings.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_tier: Mapped[str] = mapped_column(String(1))
    to_tier: Mapped[str] = mapped_column(String(1))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rules.id"))
    rule_version: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(2000))
    causes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class InboxNotification(IdMixin, CreatedMixin, Base):
    __tablename__ = "inbox_notifications"
    __table_args__ = (Index("ix_inbox_notifications_recipient", "organization_id", "role", "created_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Set when a person marks it done (the actor, as audited); reopening clears both.
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))


class Investigation(IdMixin, CreatedMixin, Base):
    """An OEM's investigation of a supplier, opened by a rule or by hand; the trace work extends it."""

    __tablename__ = "investigations"

    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="open")
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rules.id"))
    rule_version: Mapped[int | None]
    causes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class RuleApproval(IdMixin, Base):
    """A change to a rule that waits for a second person (four-eyes): the definition to save, and the version it
    was asked against. Approving saves it as the rule's next version; a rule saved since makes it stale."""

    __tablename__ = "rule_approvals"
    __table_args__ = (Index("ix_rule_approvals_oem_id_state", "oem_id", "state"),)

    oem_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rules.id"), index=True)
    base_version: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[ApprovalState] = mapped_column(
        Enum(ApprovalState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_by_person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(2000))
    applied_version: Mapped[int | None]
