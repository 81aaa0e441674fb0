# ruff: noqa: RUF003  (σ and μ as the textbooks write them)
"""The series functions rules call: hand-computed values, Nelson's rules as printed, properties, short series."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.rules import series
from hub.rules.conditions import ConditionError, compile_condition
from hub.rules.engine import PeriodResult
from hub.rules.evaluation import history_marks, judge_all, verdicts
from hub.rules.series import SeriesView, least_squares, nelson_rule, points, sigma
from protocol.models.rules import EARLY_WARNING_TEMPLATE


def disclosed(values: list[float]) -> series.History:
    return tuple((t, v, v >= 1.33) for t, v in enumerate(values))


def proven(met: list[bool]) -> series.History:
    return tuple((t, None, m) for t, m in enumerate(met))


# --- hand-computed values ------------------------------------------------------------------------------


def test_ewma_by_hand() -> None:
    # z1 = 1; z2 = 0.5*2 + 0.5*1 = 1.5; z3 = 0.5*3 + 0.5*1.5 = 2.25
    assert SeriesView(disclosed([1.0, 2.0, 3.0])).ewma(0.5) == pytest.approx(2.25)
    # only the last n = 2 points: z1 = 2, z2 = 2.5
    assert SeriesView(disclosed([1.0, 2.0, 3.0])).ewma(0.5, 2) == pytest.approx(2.5)


def test_slope_and_projection_by_hand() -> None:
    # t = 0..3, x = 1.0 1.2 1.1 1.5: mean t 1.5, mean x 1.2, Sxx = 5, Sxy = 0.7, b = 0.14,
    # line at t = 3: 1.2 + 0.14 * 1.5 = 1.41, two periods on: 1.69
    view = SeriesView(disclosed([1.0, 1.2, 1.1, 1.5]))
    assert view.slope(4) == pytest.approx(0.14)
    assert view.projected(4, 2) == pytest.approx(1.69)


def test_a_gap_in_the_series_counts_as_time() -> None:
    # places 0, 1, 3 and values 1, 2, 4 lie on x = t + 1: slope 1, not the 1.5 a gapless fit would give
    assert least_squares([0, 1, 3], [1.0, 2.0, 4.0]) == pytest.approx((1.0, 4.0))
    view = SeriesView(((0, 1.0, False), (1, 2.0, True), (2, None, False), (3, 4.0, True)))
    assert view.slope(4) == pytest.approx(1.0)


def test_sigma_by_hand() -> None:
    # moving ranges 2 and 1, average 1.5, over d2 = 1.128
    assert sigma([1.0, 3.0, 2.0], disclosed=True) == pytest.approx(1.5 / 1.128)
    # met rate 0.75: sqrt(0.75 * 0.25)
    assert sigma([1.0, 1.0, 1.0, 0.0], disclosed=False) == pytest.approx(math.sqrt(0.1875))


def test_a_proven_only_series_reads_met_as_one_and_not_met_or_missing_as_zero() -> None:
    history = proven([True, True, False, True])
    assert points(history) == ([0, 1, 2, 3], [1.0, 1.0, 0.0, 1.0], False)
    view = SeriesView(history)
    assert view.disclosed(4) is False
    assert view.ewma(0.5) == pytest.approx(0.5 * 1 + 0.5 * (0.5 * 0 + 0.5 * 1))
    # a series with values only in some periods is disclosed, and the periods without one are left out
    mixed = ((0, None, False), (1, 1.4, True), (2, 1.5, True))
    assert points(mixed) == ([1, 2], [1.4, 1.5], True)


def test_a_rare_miss_among_met_periods_is_beyond_three_sigma() -> None:
    # p = 24/25 = 0.96, sigma = 0.196, the miss is 0.96 / 0.196 = 4.9 sigma from the met rate
    assert SeriesView(proven([True] * 24 + [False])).nelson(1) is True
    # p = 20/25 = 0.8, sigma = 0.4, a miss is 2 sigma away: not rule 1
    assert SeriesView(proven([True] * 10 + [False] * 5 + [True] * 9 + [False])).nelson(1) is False


# --- fewer periods than n -----------------------------------------------------------------------------


def test_fewer_periods_than_n_give_the_documented_neutral_values() -> None:
    view = SeriesView(disclosed([1.5, 1.2]))
    assert view.slope(6) == 0.0
    assert view.projected(6, 2) == 1.2  # the newest point
    assert view.ewma(0.3, 6) == pytest.approx(0.3 * 1.2 + 0.7 * 1.5)  # over what there is
    assert all(view.nelson(rule) is False for rule in range(1, 9))
    single = SeriesView(proven([False]))
    assert (single.slope(2), single.projected(2, 1), single.ewma(0.2)) == (0.0, 0.0, 0.0)


# --- Nelson's rules as printed (Nelson 1984; Montgomery, Introduction to SQC, table 5.1), μ = 0, σ = 1 ------


@pytest.mark.parametrize(
    ("rule", "fires", "quiet"),
    [
        (1, [0.0, 3.1], [0.0, 2.9]),
        (2, [0.5] * 9, [0.5] * 8 + [-0.5]),
        (3, [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 5]),
        (3, [6, 5, 4, 3, 2, 1], [6, 5, 4, 3, 2, 3]),
        (4, [0, 1] * 7, [0, 1] * 6 + [1, 0]),
        (5, [2.1, 0.0, 2.5], [2.1, 0.0, -2.5]),
        (5, [0.0, 2.1, 2.2], [2.1, 2.2, 0.0]),
        (6, [1.1, 1.2, 0.0, 1.5, 1.1], [1.1, 1.2, 0.0, 0.0, 1.1]),
        (7, [0.5, -0.5] * 7 + [0.2], [0.5, -0.5] * 7 + [1.2]),
        (8, [1.5, -1.5] * 4, [1.5] * 8),
    ],
)
def test_nelson_rules_fire_on_their_pattern_and_not_next_to_it(
    rule: int, fires: list[float], quiet: list[float]
) -> None:
    assert nelson_rule(rule, [float(x) for x in fires], 0.0, 1.0) is True
    assert nelson_rule(rule, [float(x) for x in quiet], 0.0, 1.0) is False


def test_a_textbook_shift_is_caught_by_the_run_rule_before_the_3_sigma_rule() -> None:
    # An in-control individuals chart around 10 (σ from its moving ranges, about 0.8) then a shift of +1.5: rule 2
    # (nine on one side) signals on the ninth shifted point while no point passes 3σ.
    base = [10.0, 11.0, 10.0, 11.0, 10.0, 9.0, 10.0, 9.0, 10.0, 9.0, 10.0, 11.0, 10.0, 11.0, 10.0, 9.0]
    shifted = [11.5, 11.0, 12.0, 11.5, 11.0, 12.0, 11.5, 11.0, 12.0]
    view = SeriesView(disclosed(base + shifted))
    assert view.nelson(2) is True
    assert view.nelson(1) is False
    assert SeriesView(disclosed(base + shifted[:-1])).nelson(2, 24) is False


# --- properties ---------------------------------------------------------------------------------------

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=30), st.floats(min_value=0.01, max_value=1.0))
def test_ewma_stays_between_the_smallest_and_largest_point(xs: list[float], lam: float) -> None:
    assert min(xs) - 1e-9 <= series.ewma(xs, lam) <= max(xs) + 1e-9


@given(finite, finite, st.integers(min_value=2, max_value=30))
def test_the_slope_of_a_straight_line_is_its_slope(a: float, b: float, n: int) -> None:
    xs = [a + b * t for t in range(n)]
    slope, newest = least_squares(list(range(n)), xs)
    assert slope == pytest.approx(b, abs=1e-6)
    assert newest == pytest.approx(xs[-1], abs=1e-6)


@given(
    st.lists(st.floats(min_value=0.5, max_value=2.0), min_size=25, max_size=25),
    st.floats(min_value=0.1, max_value=10.0),
    st.floats(min_value=-5.0, max_value=5.0),
    st.integers(min_value=1, max_value=8),
)
def test_nelson_rules_do_not_change_with_units_or_origin(
    xs: list[float], scale: float, shift: float, rule: int
) -> None:
    ys = [x * scale + shift for x in xs]
    before = SeriesView(disclosed(xs)).nelson(rule)
    assert SeriesView(disclosed(ys)).nelson(rule) == before or _near_a_limit(xs)


def _near_a_limit(xs: list[float]) -> bool:
    mu, s = sum(xs) / len(xs), sigma(xs, disclosed=True)
    return s == 0 or any(abs(abs((x - mu) / s) - k) < 1e-6 for x in xs for k in (1, 2, 3))


# --- conditions: checked on save with line and column --------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "position", "says"),
    [
        ('slope("6") < 0.0', "1:7", "argument 1 of slope must be an int literal"),
        ("slope(6) + 1 > 0.0", "1:12", "needs a double such as 1.0"),
        ("met &&\n  ewma(1.5) > 1.0", "2:3", "λ must be in (0, 1]"),
        ("nelson(1) < 2", "1:13", "nelson(…) is a bool"),
        ("nelson(9)", "1:1", "rules 1 to 8"),
        ("slope(99) < 0.0", "1:1", "between 2 and 52"),
        ("met\n && slope(6) < 'x'", "2:16", "not the string 'x'"),
    ],
)
def test_a_wrong_series_call_is_refused_with_line_and_column(
    condition: str, position: str, says: str
) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(condition)
    assert caught.value.position == position
    assert says in str(caught.value)


def test_lookback_is_the_longest_reach_of_a_condition() -> None:
    assert series.lookback("missing || !met") == 0
    assert series.lookback("slope(6) < 0.0 && ewma(0.2) < 1.4") == 20
    assert series.lookback("nelson(2, 30) || projected(8, 2) < 1.33") == 30
    assert series.lookback("'slope(40)' == part") == 0  # inside a string it is no call


# --- verdicts over a window: each period judged with its own history ------------------------------------


def results(values: list[float | None], met: list[bool] | None = None) -> list[PeriodResult]:
    flags = met or [v is not None and v >= 1.33 for v in values]
    return [
        PeriodResult(
            period=f"2026-W{10 + i:02d}",
            met=flags[i],
            missing=False,
            value=v,
            threshold=1.33,
            kpi="cpk",
            part="P-1",
            characteristic="C-1",
            cause={"period": f"2026-W{10 + i:02d}"},
        )
        for i, v in enumerate(values)
    ]


def test_the_early_warning_fires_while_met_when_the_trend_crosses_within_two_periods() -> None:
    condition = EARLY_WARNING_TEMPLATE["condition"]
    window = results([1.60, 1.58, 1.56, 1.50, 1.46, 1.42, 1.40])
    # period 6 (index 5): 1.60..1.42, slope -0.0377, line at newest 1.4133, +2: 1.338 -> no warning yet
    # period 7: 1.58..1.40, slope -0.0389, line 1.3905, +2: 1.3127 < 1.33 while met -> warning
    assert verdicts(condition, window, 7, history_marks(window)) == [False] * 6 + [True]


def test_the_early_warning_on_a_proven_only_series_reads_the_met_rate() -> None:
    condition = EARLY_WARNING_TEMPLATE["condition"]
    met = [True, True, True, True, False, True, False, True]
    window = results([None] * len(met), met)
    bad = verdicts(condition, window, len(met), history_marks(window))
    # the last period: met rates 1 1 0 1 0 1 over the last 6, slope -1/7, line 0.524, +2: 0.238 < 0.5
    assert bad[-1] is True
    assert bad[:5] == [False] * 5  # fewer than 6 periods: a flat projection of a met period, 1.0


def test_judge_all_judges_only_the_newest_periods_and_reads_the_rest_as_history() -> None:
    from hub.rules.evaluation import LoadedRule
    from protocol.models.rules import RuleCreate

    rule = LoadedRule(__import__("uuid").uuid4(), 1, RuleCreate.model_validate(EARLY_WARNING_TEMPLATE))
    window = results([1.60, 1.58, 1.56, 1.50, 1.46, 1.42, 1.40])
    [ref] = judge_all([rule], window, {}, judged=1)
    assert ref.verdict.fired and ref.verdict.causes == [{"period": "2026-W16"}]
