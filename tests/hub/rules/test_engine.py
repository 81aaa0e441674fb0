"""The rule semantics against a small reference model written straight from the issue's words.

Random sequences of results (good, bad, missing periods, gaps where a period is absent) and random patterns
and recoveries: the engine and the reference must agree on the tier after every period."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.rules.engine import PeriodResult, RuleRef, SeriesState, combine, judge
from protocol.models.rules import RuleCreate, StandingStatus, Tier
from protocol.periods import Period

TIERS = [Tier.A, Tier.B, Tier.C, Tier.D]


@dataclass
class Step:
    gap: bool  # the period before this one is absent (no result at all, not even "missing")
    bad: bool


def rule_of(
    consecutive: int | None, k_of_last: tuple[int, int] | None, good: int | None, steps: int = 1
) -> RuleCreate:
    pattern = {"consecutive": consecutive} if consecutive else {"k_of_last": list(k_of_last or (1, 1))}
    return RuleCreate.model_validate(
        {
            "name": "r",
            "condition": "missing || !met",
            "pattern": pattern,
            "actions": [{"type": "lower_tier", "steps": steps}],
            "recovery": {"good_periods": good} if good else None,
        }
    )


def reference(
    steps: list[Step], consecutive: int | None, k_of_last: tuple[int, int] | None, good: int | None
) -> list[int]:
    """Tier index after each period, by the rules as stated: the pattern counts back-to-back periods since the
    rule last fired; firing lowers one tier; ``good`` good periods in a row since the last firing or recovery
    give one tier back, never more than the rule took."""
    tiers, tier, taken = [], 0, 0
    run: list[bool] = []  # back-to-back results since the last firing
    good_run = 0  # good results in a row since the last firing, recovery or bad period
    for step in steps:
        if step.gap:
            run, good_run = [], 0
        run.append(step.bad)
        fired = False
        if step.bad:
            good_run = 0
            if consecutive:
                fired = len(run) >= consecutive and all(run[-consecutive:])
            else:
                k, n = k_of_last  # type: ignore[misc]
                fired = sum(run[-n:]) >= k
        else:
            good_run += 1
        if fired:
            tier, taken, run, good_run = min(3, tier + 1), taken + 1, [], 0
        elif good and taken and good_run >= good:
            tier, taken, good_run = max(0, tier - 1), taken - 1, 0
        tiers.append(tier)
    return tiers


def engine(steps: list[Step], rule: RuleCreate) -> list[int]:
    window: list[PeriodResult] = []
    bad: list[bool] = []
    state, tier, tiers = SeriesState(), Tier.A, []
    period = Period.week(2025, 1)
    for step in steps:
        if step.gap:
            period = period.next()
        window.append(
            PeriodResult(
                str(period), not step.bad, False, None, 1.33, "cpk", "P", "C", {"period": str(period)}
            )
        )
        bad.append(step.bad)
        verdict = judge(rule, window[-104:], bad[-104:], state)
        decision = combine([RuleRef("r", 1, rule, verdict, state)], tier=tier, status=StandingStatus.APPROVED)
        state, tier = decision.states.get("r", state), decision.tier
        tiers.append(TIERS.index(tier))
        period = period.next()
    return tiers


sequences = st.lists(
    st.builds(
        Step,
        gap=st.booleans().map(lambda b: b and False) | st.just(True).filter(lambda _: False) | st.booleans(),
        bad=st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.builds(Step, gap=st.sampled_from([False, False, False, False, True]), bad=st.booleans()),
        max_size=40,
    ),
    consecutive=st.none() | st.integers(1, 5),
    k=st.integers(1, 4),
    extra=st.integers(0, 3),
    good=st.none() | st.integers(1, 5),
)
def test_engine_agrees_with_the_reference_model(
    steps: list[Step], consecutive: int | None, k: int, extra: int, good: int | None
) -> None:
    k_of_last = None if consecutive else (k, k + extra)
    rule = rule_of(consecutive, k_of_last, good)
    assert engine(steps, rule) == reference(steps, consecutive, k_of_last, good)


def test_the_standard_story_three_bad_weeks_then_four_good() -> None:
    rule = rule_of(3, None, 4)
    story = [Step(False, b) for b in (True, True, True, False, False, False, False)]
    assert engine(story, rule) == [0, 0, 1, 1, 1, 1, 0]


def _ref(name: str, steps: int, fired: bool = True, recovered: bool = False, outstanding: int = 0) -> RuleRef:
    from hub.rules.engine import Verdict

    rule = rule_of(1, None, 1, steps=steps).model_copy(update={"name": name})
    before = SeriesState(outstanding=outstanding)
    after = SeriesState(fired_through="2026-W01", outstanding=outstanding + (steps if fired else 0))
    if recovered:
        after = SeriesState(recovered_through="2026-W01", outstanding=outstanding - 1)
    return RuleRef(name, 1, rule, Verdict(fired, recovered, after, [{"period": "2026-W01"}]), before)


def test_two_lowering_rules_lower_once_and_only_the_larger_owns_the_tiers() -> None:
    small, large = _ref("small", 1), _ref("large", 2)
    decision = combine([small, large], tier=Tier.A, status=StandingStatus.APPROVED)
    assert decision.tier is Tier.C  # 2 steps, not 3
    assert decision.owner is large
    assert decision.states["large"].outstanding == 2
    assert decision.states["small"].outstanding == 0  # fired, but took nothing it could give back later


def test_a_lowering_beats_a_recovery_in_the_same_result() -> None:
    lowering, recovering = _ref("lower", 1), _ref("recover", 1, fired=False, recovered=True, outstanding=1)
    decision = combine([recovering, lowering], tier=Tier.B, status=StandingStatus.APPROVED)
    assert decision.tier is Tier.C
    assert "recover" not in decision.states  # its recovery waits for a later good period


def test_tiers_stay_between_a_and_d() -> None:
    assert combine([_ref("x", 3)], tier=Tier.C, status=StandingStatus.APPROVED).tier is Tier.D
    recovering = _ref("r", 1, fired=False, recovered=True, outstanding=1)
    assert combine([recovering], tier=Tier.A, status=StandingStatus.APPROVED).tier is Tier.A


def test_the_most_severe_status_wins() -> None:
    def with_status(name: str, status: str) -> RuleRef:
        ref = _ref(name, 1)
        actions = [{"type": "set_status", "status": status}]
        definition = RuleCreate.model_validate({**ref.definition.model_dump(), "actions": actions})
        return RuleRef(name, 1, definition, ref.verdict, ref.before)

    decision = combine(
        [with_status("p", "probation"), with_status("b", "blocked"), with_status("a", "approved")],
        tier=Tier.A,
        status=StandingStatus.APPROVED,
    )
    assert decision.status is StandingStatus.BLOCKED and decision.tier is Tier.A
