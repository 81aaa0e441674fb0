"""Invariants of the capability indices, checked over generated data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from supplier_sdk.kpi import CapabilityResult, KpiInputError, capability

INDICES = ("cp", "cpk", "cpl", "cpu", "pp", "ppk", "ppl", "ppu", "cpm")


@st.composite
def samples(draw: st.DrawFn) -> tuple[np.ndarray, int, str, float, float, float]:
    """Values on a 0.001 grid (like a gauge's resolution), a subgroup size, a method and a specification."""
    size = draw(st.sampled_from([1, 2, 3, 5]))
    groups = draw(st.integers(min_value=2 if size > 1 else 3, max_value=30))
    ints = draw(st.lists(st.integers(-5000, 5000), min_size=size * groups, max_size=size * groups))
    values = np.asarray(ints, dtype=np.float64) / 1000.0
    method = "mr" if size == 1 else draw(st.sampled_from(["pooled", "rbar", "sbar"]))
    lsl = draw(st.integers(-9000, -5001)) / 1000.0
    usl = draw(st.integers(5001, 9000)) / 1000.0
    target = draw(st.integers(int(lsl * 1000), int(usl * 1000))) / 1000.0
    return values, size, method, lsl, usl, target


def run(
    values: np.ndarray, size: int, method: str, lsl: float | None, usl: float | None, target: float | None
) -> CapabilityResult:
    try:
        return capability(values, lsl=lsl, usl=usl, target=target, subgroup_size=size, sigma=method)
    except KpiInputError as exc:
        assume("variation is zero" not in str(exc) and "are equal" not in str(exc))
        raise


def assert_same_indices(a: CapabilityResult, b: CapabilityResult) -> None:
    for name in INDICES:
        left, right = getattr(a, name), getattr(b, name)
        assert (left is None) == (right is None), name
        if left is not None:
            assert left == pytest.approx(right, rel=1e-8, abs=1e-9), name
    for kpi in ("cp", "cpk", "pp", "ppk"):
        assert a.ci[kpi] == pytest.approx(b.ci[kpi], rel=1e-8, abs=1e-9), kpi


@settings(max_examples=150, deadline=None)
@given(samples(), st.integers(-(10**6), 10**6))
def test_shifting_data_limits_and_target_together_changes_nothing(
    sample: tuple[np.ndarray, int, str, float, float, float], shift: int
) -> None:
    values, size, method, lsl, usl, target = sample
    base = run(values, size, method, lsl, usl, target)
    moved = run(values + shift, size, method, lsl + shift, usl + shift, target + shift)
    assert_same_indices(base, moved)
    assert moved.ppm["within"]["total"] == pytest.approx(base.ppm["within"]["total"], rel=1e-6, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(samples(), st.sampled_from([1e-3, 0.25, 3.0, 1e4]))
def test_scaling_data_limits_and_target_together_changes_nothing(
    sample: tuple[np.ndarray, int, str, float, float, float], factor: float
) -> None:
    values, size, method, lsl, usl, target = sample
    base = run(values, size, method, lsl, usl, target)
    scaled = run(values * factor, size, method, lsl * factor, usl * factor, target * factor)
    assert_same_indices(base, scaled)
    assert scaled.sigma_within == pytest.approx(base.sigma_within * factor, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(samples())
def test_k_indices_are_the_worse_side_and_never_exceed_the_spread_index(
    sample: tuple[np.ndarray, int, str, float, float, float],
) -> None:
    values, size, method, lsl, usl, target = sample
    r = run(values, size, method, lsl, usl, target)
    assert r.cp is not None and r.pp is not None and r.cpl is not None and r.cpu is not None
    assert r.ppl is not None and r.ppu is not None and r.cpm is not None
    assert r.cpk == min(r.cpl, r.cpu) and r.ppk == min(r.ppl, r.ppu)
    assert r.cpk <= r.cp + 1e-12 and r.ppk <= r.pp + 1e-12
    assert r.cp == pytest.approx((r.cpl + r.cpu) / 2, rel=1e-12)  # Cp is the mean of CPL and CPU
    # sigma_T^2 = s^2 + N/(N-1)(mean-T)^2 >= s^2 and min(T-LSL, USL-T) <= (USL-LSL)/2, so Cpm <= Pp.
    assert r.cpm <= r.pp + 1e-12
    for kpi in ("cp", "cpk", "pp", "ppk"):
        interval = r.ci[kpi]
        assert interval is not None
        assert interval[0] < getattr(r, kpi) < interval[1]


@settings(max_examples=100, deadline=None)
@given(samples())
def test_mirroring_swaps_the_lower_and_upper_sides(
    sample: tuple[np.ndarray, int, str, float, float, float],
) -> None:
    values, size, method, lsl, usl, target = sample
    r = run(values, size, method, lsl, usl, target)
    m = run(-values, size, method, -usl, -lsl, -target)
    assert m.cpl == pytest.approx(r.cpu, rel=1e-9) and m.cpu == pytest.approx(r.cpl, rel=1e-9)
    assert m.ppm["overall"]["below"] == pytest.approx(r.ppm["overall"]["above"], rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(samples())
def test_one_sided_index_equals_its_side_of_the_two_sided_study(
    sample: tuple[np.ndarray, int, str, float, float, float],
) -> None:
    values, size, method, lsl, usl, _ = sample
    both = run(values, size, method, lsl, usl, None)
    lower = run(values, size, method, lsl, None, None)
    upper = run(values, size, method, None, usl, None)
    assert lower.cpk == both.cpl and upper.cpk == both.cpu
    assert lower.ppk == both.ppl and upper.ppk == both.ppu
    total = both.ppm["within"]["total"]
    assert total == pytest.approx(
        (lower.ppm["within"]["total"] or 0.0) + (upper.ppm["within"]["total"] or 0.0), rel=1e-12
    )
