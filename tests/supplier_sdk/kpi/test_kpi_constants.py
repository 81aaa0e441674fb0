"""c4, d2 and d3 against the published (AIAG / ASTM) tables and closed forms."""

from __future__ import annotations

import math

import pytest

from supplier_sdk.kpi import KpiInputError, c4, d2, d3

# Published to 3 decimals (AIAG SPC manual, ASTM STP 15D).
D2_TABLE = {
    2: 1.128,
    3: 1.693,
    4: 2.059,
    5: 2.326,
    6: 2.534,
    7: 2.704,
    8: 2.847,
    9: 2.970,
    10: 3.078,
    15: 3.472,
    20: 3.735,
    25: 3.931,
}
D3_TABLE = {2: 0.853, 3: 0.888, 4: 0.880, 5: 0.864, 6: 0.848, 10: 0.797}
# Published to 4 decimals.
C4_TABLE = {2: 0.7979, 3: 0.8862, 4: 0.9213, 5: 0.9400, 6: 0.9515, 10: 0.9727, 25: 0.9896}


@pytest.mark.parametrize(("n", "published"), sorted(D2_TABLE.items()))
def test_d2_matches_published_table(n: int, published: float) -> None:
    assert round(d2(n), 3) == pytest.approx(published, abs=1e-9)


@pytest.mark.parametrize(("n", "published"), sorted(D3_TABLE.items()))
def test_d3_matches_published_table(n: int, published: float) -> None:
    assert round(d3(n), 3) == pytest.approx(published, abs=1e-9)


@pytest.mark.parametrize(("n", "published"), sorted(C4_TABLE.items()))
def test_c4_matches_published_table(n: int, published: float) -> None:
    assert round(c4(n), 4) == pytest.approx(published, abs=1e-9)


def test_closed_forms_hold_to_double_precision() -> None:
    # E[range] of 2 and of 3 standard normals is 2/sqrt(pi) and 3/sqrt(pi); Var[range of 2] = 2 - 4/pi.
    assert d2(2) == pytest.approx(2 / math.sqrt(math.pi), rel=1e-12)
    assert d2(3) == pytest.approx(3 / math.sqrt(math.pi), rel=1e-12)
    assert d3(2) == pytest.approx(math.sqrt(2 - 4 / math.pi), rel=1e-9)
    assert c4(2) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-14)
    assert c4(3) == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-14)


def test_c4_stays_accurate_for_pooled_degrees_of_freedom() -> None:
    # Math.gamma overflows long before this; the asymptotic series is 1 - 1/(4n) - 7/(32n²).
    n = 80_001
    assert c4(n) == pytest.approx(1 - 1 / (4 * n) - 7 / (32 * n * n), rel=1e-12)
    assert c4(10) == pytest.approx(math.sqrt(2 / 9) * math.gamma(5) / math.gamma(4.5), rel=1e-13)


@pytest.mark.parametrize("function", [c4, d2, d3])
@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, True])
def test_sizes_below_two_are_rejected(function: object, bad: object) -> None:
    with pytest.raises(KpiInputError, match="integer ≥ 2"):
        function(bad)  # type: ignore[operator]
