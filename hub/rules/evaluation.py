"""Recording period outcomes and evaluating the OEM's rules on them, inside the caller's transaction.

Incremental by construction: a new outcome reads the newest few periods of its own series (bounded by the
longest pattern and recovery in force), the few rule states that series has, and the OEM's rule set from a
per-process cache that a single indexed query keeps current. The (OEM, supplier) standing row is locked first,
so concurrent results for one supplier are evaluated one after the other (PostgreSQL row lock; SQLite has one
writer anyway).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.db import insert_or_ignore
from hub.models import (
    InboxNotification,
    Investigation,
    PeriodOutcome,
    RuleSeriesState,
    RuleVersion,
    Standing,
    StandingChange,
)
from hub.models.base import uuid7
from hub.rules import service as rules
from hub.rules.conditions import compile_condition
from hub.rules.engine import Decision, PeriodResult, RuleRef, SeriesState, combine, judge
from protocol.models.rules import MAX_WINDOW, RuleCreate, StandingStatus, Tier
from protocol.periods import Period


@dataclass(frozen=True)
class Series:
    oem_id: uuid.UUID
    supplier_id: uuid.UUID
    agreement_id: uuid.UUID
    part_number: str
    characteristic: str
    kpi: str


@dataclass(frozen=True)
class LoadedRule:
    rule_id: uuid.UUID
    version: int
    definition: RuleCreate

    def watches(self, series: Series) -> bool:
        scope = self.definition.scope
        return (
            (not scope.kpis or series.kpi in {k.value for k in scope.kpis})
            and (not scope.suppliers or series.supplier_id in scope.suppliers)
            and (not scope.parts or series.part_number in scope.parts)
            and (not scope.characteristics or series.characteristic in scope.characteristics)
        )


_RULESETS: dict[uuid.UUID, tuple[int, list[LoadedRule]]] = {}


def ruleset(session: Session, *, oem_id: uuid.UUID, now: datetime) -> list[LoadedRule]:
    """The OEM's active rules in force now, parsed once per change of its rule set (any save is a new row)."""
    revision = session.scalar(select(func.max(RuleVersion.id)).where(RuleVersion.oem_id == oem_id))
    if revision is None:
        return []
    cached = _RULESETS.get(oem_id)
    if cached is not None and cached[0] == revision:
        return cached[1]
    loaded = [
        LoadedRule(v.rule_id, v.version, RuleCreate.model_validate(v.definition))
        for v in sorted(rules.active_versions(session, oem_id=oem_id, at=now), key=lambda v: v.rule_id)
    ]
    for rule in loaded:
        compile_condition(rule.definition.condition)
    _RULESETS[oem_id] = (revision, loaded)
    return loaded


def record_outcome(
    session: Session,
    *,
    series: Series,
    period: Period,
    met: bool,
    missing: bool,
    value: Decimal | None,
    threshold: Decimal,
    report_id: uuid.UUID | None,
    now: datetime,
) -> bool:
    """Store one period's outcome unless the period has one already (the first outcome stands)."""
    return insert_or_ignore(
        session,
        PeriodOutcome,
        {
            "id": uuid7(),
            "oem_id": series.oem_id,
            "supplier_id": series.supplier_id,
            "agreement_id": series.agreement_id,
            "part_number": series.part_number,
            "characteristic": series.characteristic,
            "kpi": series.kpi,
            "period": str(period),
            "period_start": period.start,
            "met": met,
            "missing": missing,
            "value": value,
            "threshold": threshold,
            "report_id": report_id,
            "recorded_at": now,
        },
        conflict=["agreement_id", "part_number", "characteristic", "kpi", "period"],
    )


def _locked_standing(
    session: Session, *, oem_id: uuid.UUID, supplier_id: uuid.UUID, now: datetime
) -> Standing:
    insert_or_ignore(
        session,
        Standing,
        {
            "id": uuid7(),
            "oem_id": oem_id,
            "supplier_id": supplier_id,
            "tier": "A",
            "status": "approved",
            "updated_at": now,
        },
        conflict=["oem_id", "supplier_id"],
    )
    return session.execute(
        select(Standing)
        .where(Standing.oem_id == oem_id, Standing.supplier_id == supplier_id)
        .with_for_update()
    ).scalar_one()


def _window(session: Session, series: Series, size: int) -> list[PeriodResult]:
    rows = session.scalars(
        select(PeriodOutcome)
        .where(
            PeriodOutcome.agreement_id == series.agreement_id,
            PeriodOutcome.part_number == series.part_number,
            PeriodOutcome.characteristic == series.characteristic,
            PeriodOutcome.kpi == series.kpi,
        )
        .order_by(PeriodOutcome.period_start.desc())
        .limit(size)
    ).all()
    return [as_result(row) for row in reversed(rows)]


def as_result(row: PeriodOutcome) -> PeriodResult:
    cause: dict[str, Any] = {
        "period": row.period,
        "kpi": row.kpi,
        "characteristic": row.characteristic or None,
    }
    if row.missing:
        cause["missing"] = True
    else:
        cause["report_id"] = str(row.report_id)
        cause["value"] = None if row.value is None else format(row.value.normalize(), "f")
    return PeriodResult(
        period=row.period,
        met=row.met,
        missing=row.missing,
        value=None if row.value is None else float(row.value),
        threshold=float(row.threshold),
        kpi=row.kpi,
        part=row.part_number,
        characteristic=row.characteristic,
        cause=cause,
    )


def judge_all(
    watching: list[LoadedRule], window: list[PeriodResult], states: dict[uuid.UUID, SeriesState]
) -> list[RuleRef]:
    """Every watching rule's verdict on the newest period; each distinct condition is evaluated once per period."""
    bad_by_condition: dict[str, list[bool]] = {}
    refs = []
    for rule in watching:
        condition = rule.definition.condition
        if condition not in bad_by_condition:
            program = compile_condition(condition)
            bad_by_condition[condition] = [bool(program.execute(r.context())) for r in window]
        before = states.get(rule.rule_id, SeriesState())
        verdict = judge(rule.definition, window, bad_by_condition[condition], before)
        refs.append(RuleRef(rule.rule_id, rule.version, rule.definition, verdict, before))
    return refs


def evaluate(session: Session, *, series: Series, now: datetime) -> Decision | None:
    """Run the OEM's rules on the newest period of ``series`` and apply what they decide."""
    watching = [r for r in ruleset(session, oem_id=series.oem_id, now=now) if r.watches(series)]
    if not watching:
        return None
    standing = _locked_standing(session, oem_id=series.oem_id, supplier_id=series.supplier_id, now=now)
    size = min(
        2 * MAX_WINDOW,
        max(
            r.definition.pattern.window + (r.definition.recovery.good_periods if r.definition.recovery else 0)
            for r in watching
        ),
    )
    window = _window(session, series, size)
    rows = {
        row.rule_id: row
        for row in session.scalars(
            select(RuleSeriesState).where(
                RuleSeriesState.agreement_id == series.agreement_id,
                RuleSeriesState.part_number == series.part_number,
                RuleSeriesState.characteristic == series.characteristic,
                RuleSeriesState.kpi == series.kpi,
            )
        )
    }
    states = {
        rule_id: SeriesState(row.fired_through, row.recovered_through, row.outstanding_tiers)
        for rule_id, row in rows.items()
    }
    decision = combine(
        judge_all(watching, window, states), tier=Tier(standing.tier), status=StandingStatus(standing.status)
    )
    _apply(session, series=series, standing=standing, decision=decision, rows=rows, now=now)
    return decision


def _rule_summary(ref: RuleRef) -> dict[str, Any]:
    return {
        "rule_id": str(ref.rule_id),
        "version": ref.version,
        "name": ref.definition.name,
        "causes": ref.verdict.causes,
    }


def _apply(
    session: Session,
    *,
    series: Series,
    standing: Standing,
    decision: Decision,
    rows: dict[uuid.UUID, RuleSeriesState],
    now: datetime,
) -> None:
    for rule_id, state in decision.states.items():
        row = rows.get(rule_id)
        if row is None:
            row = RuleSeriesState(
                rule_id=rule_id,
                supplier_id=series.supplier_id,
                agreement_id=series.agreement_id,
                part_number=series.part_number,
                characteristic=series.characteristic,
                kpi=series.kpi,
            )
            session.add(row)
        row.fired_through, row.recovered_through = state.fired_through, state.recovered_through
        row.outstanding_tiers = state.outstanding

    before_tier, before_status = Tier(standing.tier), StandingStatus(standing.status)
    changed = (decision.tier, decision.status) != (before_tier, before_status)
    causes = [cause for ref in decision.acted for cause in ref.verdict.causes]
    if changed:
        standing.tier, standing.status, standing.updated_at = decision.tier.value, decision.status.value, now
        owner = decision.owner
        session.add(
            StandingChange(
                standing_id=standing.id,
                at=now,
                from_tier=before_tier.value,
                to_tier=decision.tier.value,
                from_status=before_status.value,
                to_status=decision.status.value,
                rule_id=owner.rule_id if owner else None,
                rule_version=owner.version if owner else None,
                reason=decision.reason,
                causes=causes,
            )
        )
        audit.record(
            session,
            actor="rules",
            actor_org_id=series.oem_id,
            action="standing.changed",
            subject_type="standing",
            subject_id=standing.id,
            data={
                "supplier_id": str(series.supplier_id),
                "tier": [before_tier.value, decision.tier.value],
                "status": [before_status.value, decision.status.value],
                "rule_id": str(owner.rule_id) if owner else None,
                "rule_version": owner.version if owner else None,
            },
        )
    movement = (
        f"{before_tier.value}→{decision.tier.value}" if decision.tier != before_tier else decision.tier.value
    )
    for role, refs in decision.notify.items():
        session.add(
            InboxNotification(
                id=uuid7(),
                organization_id=series.oem_id,
                role=role,
                kind="rule.fired",
                title=f"Supplier tier {movement}, status {decision.status.value}: {', '.join(r.definition.name for r in refs)}",
                body={
                    "supplier_id": str(series.supplier_id),
                    "agreement_id": str(series.agreement_id),
                    "part_number": series.part_number,
                    "characteristic": series.characteristic or None,
                    "kpi": series.kpi,
                    "tier": {"from": before_tier.value, "to": decision.tier.value},
                    "status": {"from": before_status.value, "to": decision.status.value},
                    "rules": [_rule_summary(r) for r in refs],
                },
                created_at=now,
            )
        )
    for ref in decision.investigate:
        session.add(
            Investigation(
                id=uuid7(),
                oem_id=series.oem_id,
                supplier_id=series.supplier_id,
                title=f"{ref.definition.name}: {series.kpi} of {series.characteristic or series.part_number}",
                rule_id=ref.rule_id,
                rule_version=ref.version,
                causes=ref.verdict.causes,
                created_at=now,
            )
        )
