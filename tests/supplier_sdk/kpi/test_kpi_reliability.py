"""Exponential MTBF bounds and demonstration-test hours against known chi-square values."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from supplier_sdk.kpi import KpiInputError, demonstration_test_hours, mtbf, mtbf_point_estimate


def test_time_terminated_one_sided_lower_bound_known_value() -> None:
    # chi2(0.90; 6) = 10.645 in the printed tables: 2 * 10000 / 10.645 = 1878.8 (to table precision).
    result = mtbf(total_hours=10_000, failures=2, confidence=0.9, test="time", sided="one")
    assert result.lower == pytest.approx(20_000 / 10.645, rel=1e-4)
    assert result.lower == pytest.approx(20_000 / stats.chi2.ppf(0.9, 6), rel=1e-12)
    assert result.mtbf == 5000.0
    assert result.upper is None


def test_failure_terminated_uses_2r_degrees_of_freedom() -> None:
    # chi2(0.90; 4) = 7.779: 20000 / 7.779 = 2571.0
    result = mtbf(total_hours=10_000, failures=2, confidence=0.9, test="failure")
    assert result.lower == pytest.approx(20_000 / 7.779, rel=1e-4)
    assert result.upper is None


def test_two_sided_time_terminated_bounds() -> None:
    # 90 % two-sided: lower on chi2(0.95; 2r+2), upper on chi2(0.05; 2r); r = 2: chi2(0.95; 6) = 12.592,
    # chi2(0.05; 4) = 0.711.
    result = mtbf(total_hours=10_000, failures=2, confidence=0.9, sided="two")
    assert result.lower == pytest.approx(20_000 / 12.592, rel=1e-4)
    assert result.upper == pytest.approx(20_000 / 0.711, rel=1e-3)
    assert result.upper is not None and result.lower < 5000.0 < result.upper


def test_two_sided_failure_terminated_bounds_share_degrees_of_freedom() -> None:
    result = mtbf(total_hours=5_000, failures=4, confidence=0.8, test="failure", sided="two")
    assert result.lower == pytest.approx(10_000 / stats.chi2.ppf(0.9, 8), rel=1e-12)
    assert result.upper == pytest.approx(10_000 / stats.chi2.ppf(0.1, 8), rel=1e-12)


def test_zero_failures_have_a_lower_bound_but_no_point_estimate_or_upper_bound() -> None:
    one = mtbf(total_hours=2_302.585, failures=0, confidence=0.9)
    assert one.mtbf is None and one.upper is None
    assert one.lower == pytest.approx(2_302.585 / -math.log(0.1), rel=1e-6)  # ~1000 h
    two = mtbf(total_hours=1_000, failures=0, confidence=0.9, sided="two")
    assert two.upper is None
    assert two.lower == pytest.approx(2_000 / stats.chi2.ppf(0.95, 2), rel=1e-12)
    assert mtbf_point_estimate(1_000, 0) is None
    assert mtbf_point_estimate(1_000, 4) == 250.0


def test_lower_bound_rises_with_hours_and_falls_with_confidence() -> None:
    assert mtbf(total_hours=2_000, failures=1).lower > mtbf(total_hours=1_000, failures=1).lower
    assert (
        mtbf(total_hours=1_000, failures=1, confidence=0.95).lower < mtbf(total_hours=1_000, failures=1).lower
    )


def test_to_dict_has_the_cli_keys() -> None:
    payload = mtbf(total_hours=10_000, failures=2).to_dict()
    assert {"mtbf", "lower", "upper"} <= set(payload)
    assert payload["upper"] is None and payload["test"] == "time" and payload["sided"] == "one"


@pytest.mark.parametrize(
    ("failures", "confidence", "expected"),
    [
        (0, 0.9, 1000.0 * math.log(10.0)),  # -ln(1 - C)
        (0, 0.8, 1000.0 * -math.log(0.2)),
        (1, 0.9, 1000.0 * 7.779 / 2),  # chi2(0.9; 4) = 7.779
        (2, 0.9, 1000.0 * 10.645 / 2),  # chi2(0.9; 6) = 10.645
    ],
)
def test_demonstration_test_hours(failures: int, confidence: float, expected: float) -> None:
    assert demonstration_test_hours(1000.0, confidence, failures) == pytest.approx(expected, rel=1e-4)


def test_demonstration_then_test_gives_exactly_the_goal_as_lower_bound() -> None:
    hours = demonstration_test_hours(1500.0, 0.85, failures=3)
    assert mtbf(total_hours=hours, failures=3, confidence=0.85).lower == pytest.approx(1500.0, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total_hours": 0.0}, "positive number of hours"),
        ({"total_hours": float("inf")}, "positive number of hours"),
        ({"failures": -1}, "whole number ≥ 0"),
        ({"failures": 1.5}, "whole number ≥ 0"),
        ({"confidence": 1.0}, "between 0 and 1"),
        ({"confidence": 0.0}, "between 0 and 1"),
        ({"test": "sequential"}, "test must be one of time, failure"),
        ({"sided": "both"}, "sided must be one of one, two"),
        ({"failures": 0, "test": "failure"}, "failures must be at least 1"),
    ],
)
def test_bad_mtbf_input(kwargs: dict[str, object], message: str) -> None:
    call: dict[str, object] = {"total_hours": 1000.0, "failures": 1} | kwargs
    with pytest.raises(KpiInputError, match=message):
        mtbf(**call)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "message"),
    [((0.0, 0.9), "MTBF must be a positive"), ((100.0, 1.2), "between 0 and 1"), ((100.0, 0.9, -2), "≥ 0")],
)
def test_bad_demonstration_input(args: tuple[float, ...], message: str) -> None:
    with pytest.raises(KpiInputError, match=message):
        demonstration_test_hours(*args)  # type: ignore[arg-type]
