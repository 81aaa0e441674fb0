"""Dry run: replay stored period outcomes under a rule's newest version, in memory, before it is switched on.

The replay starts every supplier at tier A, approved, and applies only the rule being tried, so the answer is
"what this rule alone would have done, and when". Nothing is written.

**Lead time of a warning.** The same replay also runs the OEM's active rules that lower a tier (the standard
template when it has none), each alone, and reports per supplier the first period one of them would have lowered
the tier, the first period the rule being tried fired at or before it, and how many periods earlier that was:
what an early-warning rule would have bought on history."""

from __future__ import annotations

import bisect
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.models import PeriodOutcome
from hub.models.base import utcnow
from hub.rules import certificate_functions
from hub.rules import series as series_functions
from hub.rules import service as rules
from hub.rules.engine import PeriodResult, RuleRef, SeriesState, combine, judge, ordinal
from hub.rules.evaluation import LoadedRule, Series, as_result, history_marks, ruleset, verdicts
from protocol.models import rules as wire
from protocol.models.rules import MAX_WINDOW, LowerTier, StandingStatus, Tier
from protocol.periods import parse_period

REPLAY_LIMIT = 200_000


def dry_run(
    session: Session, *, caller: Caller, rule_id: uuid.UUID, since: datetime | None
) -> wire.DryRunResult:
    rule, version = rules.get_rule(session, caller=caller, rule_id=rule_id)
    loaded = LoadedRule(rule.id, version.version, wire.RuleCreate.model_validate(version.definition))
    if certificate_functions.reads_certificates(loaded.definition.condition):
        return wire.DryRunResult(
            evaluated=0, changes=[]
        )  # judged per supplier on certificates, not on periods
    downgraders = _downgraders(session, oem_id=caller.org_id, trying=loaded)
    conditions = sorted({r.definition.condition for r in [loaded, *downgraders]})
    reach = max(series_functions.lookback(c) for c in conditions)
    query = select(PeriodOutcome).where(PeriodOutcome.oem_id == caller.org_id)
    if since is not None:
        query = query.where(PeriodOutcome.recorded_at >= since)
    query = query.order_by(PeriodOutcome.recorded_at, PeriodOutcome.id).limit(REPLAY_LIMIT)

    windows: dict[Series, list[tuple[PeriodResult, dict[str, bool]]]] = {}
    states: dict[Series, SeriesState] = {}
    lowering: dict[tuple[Series, int], SeriesState] = {}
    first_warning: dict[uuid.UUID, list[str]] = {}
    first_downgrade: dict[uuid.UUID, str] = {}
    standings: dict[uuid.UUID, tuple[Tier, StandingStatus]] = {}
    changes: list[wire.DryRunChange] = []
    evaluated = 0
    for row in session.scalars(query).yield_per(2000):
        series = Series(
            row.oem_id, row.supplier_id, row.agreement_id, row.part_number, row.characteristic, row.kpi
        )
        watched = loaded.watches(series)
        lowered_by = [i for i, rule in enumerate(downgraders) if rule.watches(series)]
        if not watched and not lowered_by:
            continue
        window = windows.setdefault(series, [])
        keys = [parse_period(r.period) for r, _ in window]
        at = bisect.bisect(keys, parse_period(row.period))
        window.insert(at, (as_result(row), {}))
        results = [r for r, _ in window[: at + 1]]
        marks = history_marks(results)
        window[at][1].update({c: verdicts(c, results, 1, marks)[0] for c in conditions})
        del window[: max(0, len(window) - 2 * MAX_WINDOW - reach)]
        judged = window[-2 * MAX_WINDOW :]
        for i in lowered_by:
            lowerer = downgraders[i]
            before = lowering.get((series, i), SeriesState())
            bad = [flags[lowerer.definition.condition] for _, flags in judged]
            verdict = judge(lowerer.definition, [r for r, _ in judged], bad, before)
            lowering[(series, i)] = verdict.state
            if verdict.fired:
                first_downgrade.setdefault(series.supplier_id, row.period)
        if not watched:
            continue
        evaluated += 1
        before = states.get(series, SeriesState())
        bad = [flags[loaded.definition.condition] for _, flags in judged]
        verdict = judge(loaded.definition, [r for r, _ in judged], bad, before)
        if verdict.fired and first_downgrade.get(series.supplier_id, row.period) == row.period:
            first_warning.setdefault(series.supplier_id, []).append(row.period)
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
    return wire.DryRunResult(
        evaluated=evaluated, changes=changes, leads=_leads(first_warning, first_downgrade)
    )


def _downgraders(session: Session, *, oem_id: uuid.UUID, trying: LoadedRule) -> list[LoadedRule]:
    """The OEM's active rules that lower a tier, other than the one being tried; the standard rule if none."""
    active = [
        rule
        for rule in ruleset(session, oem_id=oem_id, now=utcnow()).rules
        if rule.rule_id != trying.rule_id and any(isinstance(a, LowerTier) for a in rule.definition.actions)
    ]
    if active:
        return active
    return [LoadedRule(uuid.UUID(int=0), 1, wire.RuleCreate.model_validate(wire.STANDARD_RULE_TEMPLATE))]


def _leads(warnings: dict[uuid.UUID, list[str]], downgrades: dict[uuid.UUID, str]) -> list[wire.DryRunLead]:
    leads = []
    for supplier_id in sorted(set(warnings) | set(downgrades), key=str):
        warned = warnings.get(supplier_id, [])
        warning = min(warned, key=ordinal) if warned else None
        downgrade = downgrades.get(supplier_id)
        lead = None
        if warning is not None and downgrade is not None and ("W" in warning) == ("W" in downgrade):
            lead = ordinal(downgrade) - ordinal(warning)  # same kind of period (week or month)
        leads.append(
            wire.DryRunLead(
                supplier_id=supplier_id,
                first_warning_period=warning,
                first_downgrade_period=downgrade,
                lead_periods=lead,
            )
        )
    return leads
