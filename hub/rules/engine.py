"""The semantics of rules, free of the database: one series' recent periods in, a standing decision out.

**One rule, one series.** A series is one agreement · part · characteristic · KPI. Each new period result is
judged by the rule's condition (true: the period is bad). The rule *fires* when the newest period is bad and
the bad periods complete its pattern among the contiguous periods since it last fired (``consecutive: N``:
the last N all bad; ``k_of_last: [k, N]``: k of the last N bad). Firing resets the window: the same bad
periods never fire the rule twice. A rule with a recovery *recovers* one tier it took after M good periods in a
row, counted since it last fired or recovered.

**Several rules, one result (precedence).** Rules never fight, because per result only the most protective
outcome is applied:
1. If any rule lowers the tier, the largest lowering applies, once; the rule that asked for it (the first by
   rule order on a tie) owns those tiers. Other lowering rules still count as fired (their windows reset) but
   take no tiers, so their recoveries can never undo the owner's penalty.
2. Otherwise, if any rule raises the tier, the largest raise applies.
3. Otherwise one recovery applies (one tier), credited to the first recovering rule.
4. The most severe status asked for applies (blocked > probation > approved); none asked, none changed.
5. Notifications go once per role with every firing rule's reasons; one investigation at most per result.
Tiers stay between A and D.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from protocol.models.rules import (
    LowerTier,
    Notify,
    OpenInvestigation,
    RaiseTier,
    RuleCreate,
    SetStatus,
    StandingStatus,
    Tier,
)
from protocol.periods import parse_period

TIERS = [Tier.A, Tier.B, Tier.C, Tier.D]
SEVERITY = [StandingStatus.APPROVED, StandingStatus.PROBATION, StandingStatus.BLOCKED]


@dataclass(frozen=True)
class PeriodResult:
    """One period of one series, with what a rule condition may read and what caused it."""

    period: str
    met: bool
    missing: bool
    value: float | None
    threshold: float
    kpi: str
    part: str
    characteristic: str
    cause: dict[str, Any]

    CONTEXT_FIELDS = (
        "kpi",
        "met",
        "missing",
        "has_value",
        "value",
        "threshold",
        "part",
        "characteristic",
        "period",
    )

    def key(self) -> tuple[Any, ...]:
        """The values a condition sees, in ``CONTEXT_FIELDS`` order (hashable, for caching verdicts)."""
        value = float(self.value) if self.value is not None else 0.0
        return (
            self.kpi,
            self.met,
            self.missing,
            self.value is not None,
            value,
            float(self.threshold),
            self.part,
            self.characteristic,
            self.period,
        )

    def context(self) -> dict[str, Any]:
        """The CEL variables of this period (see ``protocol.models.rules.CEL_VARIABLES``)."""
        return dict(zip(self.CONTEXT_FIELDS, self.key(), strict=True))


@dataclass(frozen=True)
class SeriesState:
    """What one rule remembers about one series."""

    fired_through: str | None = None
    recovered_through: str | None = None
    outstanding: int = 0


@dataclass(frozen=True)
class Verdict:
    fired: bool
    recovered: bool
    state: SeriesState
    causes: list[dict[str, Any]] = field(default_factory=list)


@lru_cache(maxsize=65536)
def ordinal(period: str) -> int:
    """A period's place on its own time line: consecutive periods of one kind differ by exactly one."""
    parsed = parse_period(period)
    if parsed.kind.value == "month":
        return parsed.year * 12 + parsed.number
    return parsed.start.toordinal() // 7


def _contiguous_tail(window: Sequence[PeriodResult], since: str | None) -> list[int]:
    """Indices of the run of back-to-back periods that ends at the newest one and lies after ``since``."""
    floor = ordinal(since) if since is not None else None
    indices: list[int] = []
    previous = None
    for index in range(len(window) - 1, -1, -1):
        here = ordinal(window[index].period)
        if (floor is not None and here <= floor) or (previous is not None and here != previous - 1):
            break
        indices.append(index)
        previous = here
    indices.reverse()
    return indices


def judge(
    rule: RuleCreate, window: Sequence[PeriodResult], bad: Sequence[bool], state: SeriesState
) -> Verdict:
    """Whether ``rule`` fires or recovers on the newest period of ``window`` (oldest first; ``bad`` alongside)."""
    if not window:
        return Verdict(False, False, state)
    newest = window[-1].period
    tail = _contiguous_tail(window, state.fired_through)
    if bad[-1] and tail:
        last = tail[-rule.pattern.window :]
        count = sum(1 for i in last if bad[i])
        complete = (
            len(last) >= rule.pattern.needed and all(bad[i] for i in last)
            if rule.pattern.consecutive is not None
            else count >= rule.pattern.needed
        )
        if complete:
            causes = [window[i].cause for i in last if bad[i]]
            taken = sum(a.steps for a in rule.actions if isinstance(a, LowerTier))
            fired = replace(
                state, fired_through=newest, recovered_through=newest, outstanding=state.outstanding + taken
            )
            return Verdict(True, False, fired, causes)
    if rule.recovery is not None and state.outstanding > 0 and not bad[-1]:
        since = max(
            (m for m in (state.fired_through, state.recovered_through) if m), key=ordinal, default=None
        )
        run = _contiguous_tail(window, since)
        good = 0
        for i in reversed(run):
            if bad[i]:
                break
            good += 1
        if good >= rule.recovery.good_periods:
            recovered = replace(state, recovered_through=newest, outstanding=state.outstanding - 1)
            causes = [window[i].cause for i in run[-good:]]
            return Verdict(False, True, recovered, causes)
    return Verdict(False, False, state)


@dataclass(frozen=True)
class RuleRef:
    """A rule as the combiner needs it: identity, version, definition, and its verdict on this result."""

    rule_id: Any
    version: int
    definition: RuleCreate
    verdict: Verdict
    before: SeriesState


@dataclass(frozen=True)
class Decision:
    tier: Tier
    status: StandingStatus
    owner: RuleRef | None
    states: dict[Any, SeriesState]
    notify: dict[str, list[RuleRef]]
    investigate: list[RuleRef]
    acted: list[RuleRef]
    reason: str


def _shift(tier: Tier, steps: int) -> Tier:
    return TIERS[max(0, min(len(TIERS) - 1, TIERS.index(tier) + steps))]


def combine(refs: Sequence[RuleRef], *, tier: Tier, status: StandingStatus) -> Decision:
    """Apply the precedence in this module's docstring to the verdicts of every rule on one result."""
    fired = [r for r in refs if r.verdict.fired]
    states = {r.rule_id: r.verdict.state for r in refs if r.verdict.state != r.before}
    owner: RuleRef | None = None
    new_tier, reason = tier, ""

    def lowering(ref: RuleRef) -> int:
        return sum(a.steps for a in ref.definition.actions if isinstance(a, LowerTier))

    def raising(ref: RuleRef) -> int:
        return sum(a.steps for a in ref.definition.actions if isinstance(a, RaiseTier))

    lowerers = [r for r in fired if lowering(r)]
    raisers = [r for r in fired if raising(r)]
    recovering = [r for r in refs if r.verdict.recovered]
    if lowerers:
        owner = max(lowerers, key=lowering)  # max() keeps the first of equals: rule order breaks ties
        new_tier = _shift(tier, lowering(owner))
        for other in lowerers:
            if other is not owner:  # fired, but owns no tiers: its recovery must not undo the owner's penalty
                states[other.rule_id] = replace(other.verdict.state, outstanding=other.before.outstanding)
        reason = f"{owner.definition.name} (v{owner.version})"
    elif raisers:
        owner = max(raisers, key=raising)
        new_tier = _shift(tier, -raising(owner))
        reason = f"{owner.definition.name} (v{owner.version})"
    elif recovering:
        owner = recovering[0]
        new_tier = _shift(tier, -1)
        for other in recovering[1:]:  # one tier per result; the others recover on a later good period
            states.pop(other.rule_id, None)
        reason = f"recovery under {owner.definition.name} (v{owner.version})"
    if lowerers or raisers:
        for ref in recovering:
            states.pop(ref.rule_id, None)

    asked = [a.status for r in fired for a in r.definition.actions if isinstance(a, SetStatus)]
    new_status = max(asked, key=SEVERITY.index) if asked else status
    if new_status != status and not reason:
        status_owner = next(
            r
            for r in fired
            if any(isinstance(a, SetStatus) and a.status is new_status for a in r.definition.actions)
        )
        owner, reason = status_owner, f"{status_owner.definition.name} (v{status_owner.version})"

    notify: dict[str, list[RuleRef]] = {}
    for ref in fired:
        for action in ref.definition.actions:
            if isinstance(action, Notify):
                notify.setdefault(action.role.value, []).append(ref)
    investigate = [r for r in fired if any(isinstance(a, OpenInvestigation) for a in r.definition.actions)][
        :1
    ]
    acted = fired + [r for r in recovering if r is owner]
    return Decision(new_tier, new_status, owner, states, notify, investigate, acted, reason)
