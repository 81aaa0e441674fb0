# ruff: noqa: RUF002 -- Greek letters in docstrings are the notation of the published formulas
"""Exponential MTBF: point estimate, chi-square confidence bounds and demonstration-test length.

Model: failures arrive as a Poisson process (constant failure rate), T = total accumulated test hours,
r = number of failures, C = confidence level, χ²(p; ν) = the p-quantile of chi-square with ν degrees
of freedom.

- Point estimate: MTBF = T / r. With r = 0 it is undefined and returned as ``None`` (not infinity: JSON has no
  infinity, and "no failures yet" is not a number of hours); the lower bound still exists.
- **Time-terminated** test (stopped at a planned time): lower bound uses 2r+2 degrees of freedom,
  upper bound 2r. **Failure-terminated** test (stopped at the r-th failure): 2r for both, so r ≥ 1.
- One-sided at C: lower = 2T/χ²(C; ν_lower), no upper bound (``None``).
  Two-sided at C: lower = 2T/χ²((1+C)/2; ν_lower), upper = 2T/χ²((1-C)/2; 2r); the upper bound is ``None``
  when r = 0 (χ² with 0 degrees of freedom: the data put no ceiling on the MTBF).
- Demonstration test: hours needed to show MTBF ≥ M at confidence C allowing r failures,
  T = M·χ²(C; 2r+2)/2; with r = 0 this is M·(-ln(1-C)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from scipy import stats

from supplier_sdk.kpi.errors import KpiInputError

TestTermination = Literal["time", "failure"]
"""How the test ended: at a planned time (``time``) or at the last failure (``failure``)."""

Sidedness = Literal["one", "two"]
"""A one-sided lower bound or a two-sided interval."""

TEST_TERMINATIONS: tuple[str, ...] = get_args(TestTermination)
SIDEDNESS: tuple[str, ...] = get_args(Sidedness)


@dataclass(frozen=True)
class MtbfResult:
    """An MTBF point estimate with its chi-square confidence bound(s).

    Attributes:
        mtbf: T/r, or ``None`` when r = 0.
        lower: lower confidence bound on the MTBF (hours).
        upper: upper bound (hours), ``None`` for a one-sided request and for r = 0.
        total_hours: T, the accumulated test hours.
        failures: r.
        confidence: C.
        test: ``time`` or ``failure`` (how the test was terminated).
        sided: ``one`` or ``two``.

    Example:
        >>> r = mtbf(total_hours=10_000, failures=2, confidence=0.9)
        >>> r.mtbf, round(r.lower, 1), r.upper
        (5000.0, 1878.9, None)
    """

    mtbf: float | None
    lower: float
    upper: float | None
    total_hours: float
    failures: int
    confidence: float
    test: str
    sided: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form the CLI prints.

        Example:
            >>> sorted(mtbf(total_hours=500, failures=0).to_dict())[:4]
            ['confidence', 'failures', 'lower', 'mtbf']
        """
        return {
            "mtbf": self.mtbf,
            "lower": self.lower,
            "upper": self.upper,
            "total_hours": self.total_hours,
            "failures": self.failures,
            "confidence": self.confidence,
            "test": self.test,
            "sided": self.sided,
        }


def _check_confidence(confidence: float) -> float:
    value = float(confidence)
    if not 0.0 < value < 1.0:
        raise KpiInputError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    return value


def _check_failures(failures: int) -> int:
    if isinstance(failures, bool) or int(failures) != failures or failures < 0:
        raise KpiInputError(f"failures must be a whole number ≥ 0, got {failures!r}")
    return int(failures)


def _check_hours(name: str, hours: float) -> float:
    value = float(hours)
    if not (math.isfinite(value) and value > 0.0):
        raise KpiInputError(f"{name} must be a positive number of hours, got {hours!r}")
    return value


def mtbf_point_estimate(total_hours: float, failures: int) -> float | None:
    """Return T/r, or ``None`` when no failure was seen (the estimate is undefined).

    Args:
        total_hours: T, accumulated test hours (> 0).
        failures: r, failures observed (≥ 0).

    Returns:
        The MTBF point estimate in hours, or ``None`` for r = 0.

    Raises:
        KpiInputError: non-positive hours or a negative / fractional failure count.

    Example:
        >>> mtbf_point_estimate(10_000, 4), mtbf_point_estimate(10_000, 0)
        (2500.0, None)
    """
    hours = _check_hours("total test hours", total_hours)
    count = _check_failures(failures)
    return None if count == 0 else hours / count


def _two_t_over(hours: float, quantile: float, dof: int) -> float:
    return 2.0 * hours / float(stats.chi2.ppf(quantile, dof))


def mtbf(
    total_hours: float,
    failures: int,
    *,
    confidence: float = 0.90,
    test: TestTermination | str = "time",
    sided: Sidedness | str = "one",
) -> MtbfResult:
    """Estimate the MTBF of an exponential life test and its chi-square confidence bound(s).

    Args:
        total_hours: T, total accumulated test hours over all units (> 0).
        failures: r, failures observed (≥ 0; ≥ 1 for a failure-terminated test).
        confidence: C in (0, 1); 0.90 by default, the usual level of reliability demonstrations.
        test: ``"time"`` (time-terminated: lower bound on 2r+2 df) or ``"failure"``
            (failure-terminated: 2r df).
        sided: ``"one"`` for a lower bound only, ``"two"`` for a two-sided interval at C.

    Returns:
        The :class:`MtbfResult`.

    Raises:
        KpiInputError: bad hours, failures, confidence, test or sided values, or a failure-terminated test
            with no failure.

    Example:
        >>> r = mtbf(total_hours=10_000, failures=2, confidence=0.9)  # 20000 / χ²(0.9; 6) = 20000 / 10.6446
        >>> round(r.lower, 1)
        1878.9
    """
    hours = _check_hours("total test hours", total_hours)
    count = _check_failures(failures)
    level = _check_confidence(confidence)
    if test not in TEST_TERMINATIONS:
        raise KpiInputError(f"test must be one of {', '.join(TEST_TERMINATIONS)}, got {test!r}")
    if sided not in SIDEDNESS:
        raise KpiInputError(f"sided must be one of {', '.join(SIDEDNESS)}, got {sided!r}")
    if test == "failure" and count == 0:
        raise KpiInputError("a failure-terminated test ends at a failure: failures must be at least 1")
    lower_dof = 2 * count + 2 if test == "time" else 2 * count
    upper_dof = 2 * count
    if sided == "one":
        lower = _two_t_over(hours, level, lower_dof)
        upper = None
    else:
        lower = _two_t_over(hours, (1.0 + level) / 2.0, lower_dof)
        upper = None if upper_dof == 0 else _two_t_over(hours, (1.0 - level) / 2.0, upper_dof)
    return MtbfResult(
        mtbf=None if count == 0 else hours / count,
        lower=lower,
        upper=upper,
        total_hours=hours,
        failures=count,
        confidence=level,
        test=str(test),
        sided=str(sided),
    )


def demonstration_test_hours(mtbf: float, confidence: float, failures: int = 0) -> float:
    """Return the total test hours needed to demonstrate ``mtbf`` at ``confidence`` allowing ``failures``.

    T = MTBF·χ²(C; 2r+2)/2 (time-terminated test); with no failure allowed this is MTBF·(-ln(1-C)).

    Args:
        mtbf: the MTBF to demonstrate, in hours (> 0).
        confidence: C in (0, 1).
        failures: r, failures allowed during the test (≥ 0).

    Returns:
        Total unit-hours of testing.

    Raises:
        KpiInputError: bad MTBF, confidence or failure count.

    Example:
        >>> round(demonstration_test_hours(1000.0, 0.9), 1)  # 1000 · ln 10
        2302.6
    """
    goal = _check_hours("MTBF", mtbf)
    level = _check_confidence(confidence)
    count = _check_failures(failures)
    return goal * float(stats.chi2.ppf(level, 2 * count + 2)) / 2.0


__all__ = [
    "SIDEDNESS",
    "TEST_TERMINATIONS",
    "MtbfResult",
    "Sidedness",
    "TestTermination",
    "demonstration_test_hours",
    "mtbf",
    "mtbf_point_estimate",
]
