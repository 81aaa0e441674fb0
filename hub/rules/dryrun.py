"""Dry run: replay stored period outcomes under a rule's newest version, in memory, before it is switched on.

The replay starts every supplier at tier A, approved, and applies only the rule being tried, so the answer is
"what this rule alone would have done, and when". Nothing is written."""

from __future__ import annotations

import bisect
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.models import PeriodOutcome
from hub.rules import service as rules
from hub.rules.conditions import compile_condition
from hub.rules.engine import PeriodResult, RuleRef, SeriesState, combine, judge
from hub.rules.evaluation import LoadedRule, Series, as_result
from protocol.models import rules as wire
from protocol.models.rules import MAX_WINDOW, StandingStatus, Tier
from protocol.periods import parse_period

REPLAY_LIMIT = 200_000


def dry_run(
    session: Session, *, caller: Caller, rule_id: uuid.UUID, since: datetime | None
) -> wire.DryRunResult:
    rule, version = rules.get_rule(session, caller=caller, rule_id=rule_id)
    loaded = LoadedRule(rule.id, version.version, wire.RuleCreate.model_validate(version.definition))
    program = compile_condition(loaded.definition.condition)
    query = select(PeriodOutcome).where(PeriodOutcome.oem_id == caller.org_id)
    if since is not None:
        query = query.where(PeriodOutcome.recorded_at >= since)
    query = query.order_by(PeriodOutcome.recorded_at, PeriodOutcome.id).limit(REPLAY_LIMIT)

    windows: dict[Series, list[tuple[PeriodResult, bool]]] = {}
    states: dict[Series, SeriesState] = {}
    standings: dict[uuid.UUID, tuple[Tier, StandingStatus]] = {}
    changes: list[wire.DryRunChange] = []
    evaluated = 0
    for row in session.scalars(query).yield_per(2000):
        series = Series(
            row.oem_id, row.supplier_id, row.agreement_id, row.part_number, row.characteristic, row.kpi
        )
        if not loaded.watches(series):
            continue
        evaluated += 1
        window = windows.setdefault(series, [])
        keys = [parse_period(r.period) for r, _ in window]
        result = as_result(row)
        window.insert(
            bisect.bisect(keys, parse_period(row.period)), (result, bool(program.execute(result.context())))
        )
        del window[: max(0, len(window) - 2 * MAX_WINDOW)]
        before = states.get(series, SeriesState())
        verdict = judge(loaded.definition, [r for r, _ in window], [bad for _, bad in window], before)
        tier, status = standings.get(series.supplier_id, (Tier.A, StandingStatus.APPROVED))
        decision = combine(
            [RuleRef(loaded.rule_id, loaded.version, loaded.definition, verdict, before)],
            tier=tier,
            status=status,
        )
        states[series] = decision.states.get(loaded.rule_id, before)
        if verdict.fired or verdict.recovered:
            standings[series.supplier_id] = (decision.tier, decision.status)
            actions = [a.type for a in loaded.definition.actions] if verdict.fired else ["recovery"]
            changes.append(
                wire.DryRunChange(
                    at=row.recorded_at,
                    period=row.period,
                    supplier_id=series.supplier_id,
                    from_tier=tier,
                    to_tier=decision.tier,
                    from_status=status,
                    to_status=decision.status,
                    actions=actions,
                    causes=verdict.causes,
                )
            )
    return wire.DryRunResult(evaluated=evaluated, changes=changes)
