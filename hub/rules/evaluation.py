"""Recording period outcomes and evaluating the OEM's rules on them, inside the caller's transaction.

Incremental by construction: a new outcome reads the newest few periods of its own series (bounded by the
longest pattern and recovery in force), the few rule states that series has, and the OEM's rule set from a
per-process cache that a single indexed query keeps current. The (OEM, supplier) standing row is locked first,
so concurrent results for one supplier are evaluated one after the other (PostgreSQL row lock; SQLite has one
writer anyway).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ScalarSelect, func, insert, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from hub.db import insert_or_ignore, insert_or_ignore_many
from hub.models import (
    Investigation,
    PeriodOutcome,
    RuleSeriesState,
    RuleVersion,
    Standing,
)
from hub.models.base import uuid7
from hub.rules import certificate_functions, consequences, standings
from hub.rules import series as series_functions
from hub.rules import service as rules
from hub.rules.conditions import compile_condition, with_series
from hub.rules.engine import Decision, PeriodResult, RuleRef, SeriesState, combine, judge, ordinal
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


class RuleIndex:
    """An OEM's rules bucketed by KPI and supplier, so that a result finds the rules watching it without
    looking at the rest: with 1,000 rules scoped to their suppliers, a report meets a handful."""

    def __init__(self, rules: list[LoadedRule]) -> None:
        self.rules = rules
        self._order = {rule.rule_id: position for position, rule in enumerate(rules)}
        self._buckets: dict[tuple[str | None, uuid.UUID | None], list[LoadedRule]] = {}
        for rule in rules:
            scope = rule.definition.scope
            kpis: list[str | None] = [k.value for k in scope.kpis] or [None]
            suppliers: list[uuid.UUID | None] = list(scope.suppliers) or [None]
            for kpi in kpis:
                for supplier in suppliers:
                    self._buckets.setdefault((kpi, supplier), []).append(rule)

    def watching(self, series: Series) -> list[LoadedRule]:
        found: list[LoadedRule] = []
        for kpi in (series.kpi, None):
            for supplier in (series.supplier_id, None):
                found.extend(r for r in self._buckets.get((kpi, supplier), ()) if r.watches(series))
        return sorted(found, key=lambda r: self._order[r.rule_id]) if len(found) > 1 else found


_RULESETS: dict[uuid.UUID, tuple[int, RuleIndex]] = {}


def revision_of(oem_id: QueryableAttribute[uuid.UUID] | uuid.UUID) -> ScalarSelect[int]:
    """The OEM's rule-set revision (its newest rule version's id; 0 without rules) as a scalar subquery, so a
    caller that sends a statement anyway (the KPI report path's lookup) reads it without a round trip."""
    newest = func.coalesce(func.max(RuleVersion.id), 0)
    return select(newest).where(RuleVersion.oem_id == oem_id).scalar_subquery()


def ruleset(session: Session, *, oem_id: uuid.UUID, now: datetime, revision: int | None = None) -> RuleIndex:
    """The OEM's active rules in force now, parsed once per change of its rule set (any save is a new row).

    ``revision`` is :func:`revision_of` as read in this transaction, when the caller has it."""
    if revision is None:
        revision = session.scalar(select(revision_of(oem_id)))
    if not revision:
        return RuleIndex([])
    cached = _RULESETS.get(oem_id)
    if cached is not None and cached[0] == revision:
        return cached[1]
    loaded = [
        LoadedRule(v.rule_id, v.version, RuleCreate.model_validate(v.definition))
        for v in sorted(rules.active_versions(session, oem_id=oem_id, at=now), key=lambda v: v.rule_id)
    ]
    # A rule that reads certificates is judged per supplier (hub.rules.certificate_rules), never on a period.
    loaded = [
        rule for rule in loaded if not certificate_functions.reads_certificates(rule.definition.condition)
    ]
    for rule in loaded:
        compile_condition(rule.definition.condition)
    index = RuleIndex(loaded)
    _RULESETS[oem_id] = (revision, index)
    return index


@dataclass(frozen=True)
class Outcome:
    """One period's outcome of one series, as a report (or its absence) decided it."""

    series: Series
    period: Period
    met: bool
    missing: bool
    value: Decimal | None
    threshold: Decimal
    report_id: uuid.UUID | None

    def row(self, now: datetime) -> PeriodOutcome:
        return PeriodOutcome(
            id=uuid7(),
            oem_id=self.series.oem_id,
            supplier_id=self.series.supplier_id,
            agreement_id=self.series.agreement_id,
            part_number=self.series.part_number,
            characteristic=self.series.characteristic,
            kpi=self.series.kpi,
            period=str(self.period),
            period_start=self.period.start,
            met=self.met,
            missing=self.missing,
            value=self.value,
            threshold=self.threshold,
            report_id=self.report_id,
            recorded_at=now,
        )


_OUTCOME_CONFLICT = ["agreement_id", "part_number", "characteristic", "kpi", "period", "period_start"]


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
) -> PeriodResult | None:
    """Store one period's outcome unless the period has one already (the first outcome stands).

    Returns the outcome as the rules read it, or None when the period was decided before."""
    row = Outcome(series, period, met, missing, value, threshold, report_id).row(now)
    values = {column.key: getattr(row, column.key) for column in PeriodOutcome.__table__.columns}
    return (
        as_result(row)
        if insert_or_ignore(session, PeriodOutcome, values, conflict=_OUTCOME_CONFLICT)
        else None
    )


def record_unwatched(session: Session, outcomes: Sequence[Outcome], *, now: datetime) -> None:
    """Store outcomes of series no rule watches (the first outcome of a period stands), with one statement:
    nothing is evaluated on them, so nothing needs to know which were new."""
    rows = [outcome.row(now) for outcome in outcomes]
    columns = PeriodOutcome.__table__.columns
    values = [{column.key: getattr(row, column.key) for column in columns} for row in rows]
    insert_or_ignore_many(session, PeriodOutcome, values, conflict=_OUTCOME_CONFLICT)


def watched(session: Session, *, series: Series, now: datetime, revision: int | None = None) -> bool:
    """Whether any of the OEM's rules in force watches ``series`` (in memory, once the rule set is loaded)."""
    return bool(ruleset(session, oem_id=series.oem_id, now=now, revision=revision).watching(series))


def locked_standing(
    session: Session, *, oem_id: uuid.UUID, supplier_id: uuid.UUID, now: datetime
) -> Standing:
    insert_or_ignore(
        session,
        Standing,
        {
            "id": uuid7(),
            "oem_id": oem_id,
            "supplier_id": supplier_id,
            "tier": standings.INITIAL_TIER.value,
            "status": standings.INITIAL_STATUS.value,
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


@lru_cache(maxsize=262_144)
def is_bad(condition: str, key: tuple[Any, ...]) -> bool:
    """A period's verdict under a condition never changes, so each is computed once per process: a new report
    costs one CEL evaluation per distinct condition, not one per period of every window."""
    return bool(
        compile_condition(condition).execute(dict(zip(PeriodResult.CONTEXT_FIELDS, key, strict=True)))
    )


@lru_cache(maxsize=65_536)
def is_bad_in_series(condition: str, key: tuple[Any, ...], history: series_functions.History) -> bool:
    """A verdict that reads the series too: fixed by the period and the history before it, so cached alike."""
    context = dict(zip(PeriodResult.CONTEXT_FIELDS, key, strict=True))
    return bool(compile_condition(condition).execute(with_series(context, history)))


def history_marks(window: list[PeriodResult]) -> list[tuple[int, float | None, bool]]:
    """What series functions read of each period: its place in time, its value, whether it was met."""
    return [(ordinal(r.period), r.value, r.met) for r in window]


def verdicts(
    condition: str, window: list[PeriodResult], judged: int, marks: list[tuple[int, float | None, bool]]
) -> list[bool]:
    """Whether each of the newest ``judged`` periods of ``window`` is bad; the rest is history to read."""
    reach = series_functions.lookback(condition)
    start = max(0, len(window) - judged)
    if not reach:
        return [is_bad(condition, r.key()) for r in window[start:]]
    return [
        is_bad_in_series(condition, window[i].key(), tuple(marks[max(0, i - reach + 1) : i + 1]))
        for i in range(start, len(window))
    ]


def judge_all(
    watching: list[LoadedRule],
    window: list[PeriodResult],
    states: dict[uuid.UUID, SeriesState],
    *,
    judged: int | None = None,
) -> list[RuleRef]:
    """Every watching rule's verdict on the newest period, judging the newest ``judged`` periods of ``window``
    (all by default; the older ones are history that series functions read). Each distinct condition is
    evaluated once per period."""
    judged = len(window) if judged is None else min(judged, len(window))
    marks = history_marks(window)
    bad_by_condition: dict[str, list[bool]] = {}
    refs = []
    for rule in watching:
        condition = rule.definition.condition
        if condition not in bad_by_condition:
            bad_by_condition[condition] = verdicts(condition, window, judged, marks)
        before = states.get(rule.rule_id, SeriesState())
        verdict = judge(rule.definition, window[len(window) - judged :], bad_by_condition[condition], before)
        refs.append(RuleRef(rule.rule_id, rule.version, rule.definition, verdict, before))
    return refs


def _nothing_to_do(
    session: Session, *, series: Series, watching: list[LoadedRule], recorded: PeriodResult
) -> bool:
    """A period no watching rule calls bad can fire nothing; if no rule holds tiers on this series either, it
    cannot recover anything, and the lock, window and states need not be read. (A recovery that a concurrent
    transaction would have made possible is then counted from the next good period instead.)"""
    context = recorded.context()
    if any(series_functions.lookback(rule.definition.condition) for rule in watching):
        return False  # a condition reading the series is judged with its history, which needs the window
    if any(compile_condition(rule.definition.condition).execute(context) for rule in watching):
        return False
    holding = session.scalar(
        select(RuleSeriesState.id)
        .where(
            RuleSeriesState.agreement_id == series.agreement_id,
            RuleSeriesState.part_number == series.part_number,
            RuleSeriesState.characteristic == series.characteristic,
            RuleSeriesState.kpi == series.kpi,
            RuleSeriesState.outstanding_tiers > 0,
        )
        .limit(1)
    )
    return holding is None


def evaluate(
    session: Session,
    *,
    series: Series,
    now: datetime,
    recorded: PeriodResult | None = None,
    revision: int | None = None,
) -> Decision | None:
    """Run the OEM's rules on the newest period of ``series`` and apply what they decide.

    ``recorded`` is the outcome just stored, when the caller has it: a good one usually needs no more work;
    ``revision`` is the rule set's revision (:func:`revision_of`), when the caller read it."""
    watching = ruleset(session, oem_id=series.oem_id, now=now, revision=revision).watching(series)
    if not watching:
        return None
    if recorded is not None and _nothing_to_do(session, series=series, watching=watching, recorded=recorded):
        return None
    standing = locked_standing(session, oem_id=series.oem_id, supplier_id=series.supplier_id, now=now)
    size = min(
        2 * MAX_WINDOW,
        max(
            r.definition.pattern.window + (r.definition.recovery.good_periods if r.definition.recovery else 0)
            for r in watching
        ),
    )
    # Series functions read further back than the periods judged: the same one query, a few rows longer.
    reach = max(series_functions.lookback(r.definition.condition) for r in watching)
    window = _window(session, series, size + max(0, reach - 1))
    # Plain rows, not ORM objects: a series that many rules watch has as many state rows to read.
    stored = session.execute(
        select(
            RuleSeriesState.rule_id,
            RuleSeriesState.id,
            RuleSeriesState.fired_through,
            RuleSeriesState.recovered_through,
            RuleSeriesState.outstanding_tiers,
        ).where(
            RuleSeriesState.agreement_id == series.agreement_id,
            RuleSeriesState.part_number == series.part_number,
            RuleSeriesState.characteristic == series.characteristic,
            RuleSeriesState.kpi == series.kpi,
        )
    ).all()
    rows = {row[0]: row[1] for row in stored}
    states = {row[0]: SeriesState(row[2], row[3], row[4]) for row in stored}
    decision = combine(
        judge_all(watching, window, states, judged=size),
        tier=Tier(standing.tier),
        status=StandingStatus(standing.status),
    )
    _apply(session, series=series, standing=standing, decision=decision, rows=rows, now=now)
    return decision


def _title(movement: str, status: str, names: list[str]) -> str:
    rules_named = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more rule(s)"
    return f"Supplier tier {movement}, status {status}: {rules_named}"[:300]


def _apply(
    session: Session,
    *,
    series: Series,
    standing: Standing,
    decision: Decision,
    rows: dict[uuid.UUID, int],
    now: datetime,
) -> None:
    updates, inserts = [], []
    for rule_id, state in decision.states.items():
        values = {
            "fired_through": state.fired_through,
            "recovered_through": state.recovered_through,
            "outstanding_tiers": state.outstanding,
        }
        if rule_id in rows:
            updates.append({"id": rows[rule_id], **values})
        else:
            inserts.append(
                {
                    "rule_id": rule_id,
                    "supplier_id": series.supplier_id,
                    "agreement_id": series.agreement_id,
                    "part_number": series.part_number,
                    "characteristic": series.characteristic,
                    "kpi": series.kpi,
                    **values,
                }
            )
    if updates:
        session.execute(update(RuleSeriesState), updates)
    if inserts:
        session.execute(insert(RuleSeriesState), inserts)

    causes = [cause for ref in decision.acted for cause in ref.verdict.causes]
    before_tier, before_status = consequences.move_standing(
        session, standing, decision, causes=causes, now=now
    )
    movement = (
        f"{before_tier.value}→{decision.tier.value}" if decision.tier != before_tier else decision.tier.value
    )
    consequences.notify_roles(
        session,
        oem_id=series.oem_id,
        notify=decision.notify,
        title=lambda names: _title(movement, decision.status.value, names),
        body={
            "supplier_id": str(series.supplier_id),
            "agreement_id": str(series.agreement_id),
            "part_number": series.part_number,
            "characteristic": series.characteristic or None,
            "kpi": series.kpi,
            "tier": {"from": before_tier.value, "to": decision.tier.value},
            "status": {"from": before_status.value, "to": decision.status.value},
        },
        now=now,
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
