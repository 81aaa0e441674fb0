# ruff: noqa: RUF002 -- Greek letters in docstrings are the notation of the published formulas
"""Unbiasing constants c4(n), d2(n) and d3(n), computed exactly rather than read from 3-decimal tables.

- ``c4(n) = sqrt(2/(n-1)) · Γ(n/2) / Γ((n-1)/2)``: E[s] = c4(n)·σ for a sample of n normal values. The
  gamma ratio is scipy's Pochhammer symbol, so that it stays accurate for the very large n of a pooled SD
  (Minitab unbiases the pooled SD with c4(d+1), d = Σ(nᵢ-1), which can be 10⁵ or more).
- ``d2(n) = E[R]/σ``, the expected range of n standard normal values:
  ``∫ 1 - (1-Φ(x))ⁿ - Φ(x)ⁿ dx`` over the real line (numerical quadrature).
- ``d3(n) = SD[R]/σ`` from ``E[R²] = 2 ∬_{x<y} 1 - (1-Φ(x))ⁿ - Φ(y)ⁿ + (Φ(y)-Φ(x))ⁿ dx dy``. Minitab needs it
  to weight subgroup ranges of unequal sizes (R̄ method).

Results are cached per n; the published AIAG / ASTM tables are these values rounded.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import integrate, special

from supplier_sdk.kpi.errors import KpiInputError

# Beyond ±_TAIL standard deviations Φ(x)ⁿ and (1-Φ(x))ⁿ differ from 0/1 by less than n·1e-30: the
# integrands vanish there to double precision for any subgroup size used in practice.
_TAIL = 12.0
_GL_NODES = 256


def _check_n(n: int, *, minimum: int) -> int:
    if isinstance(n, bool) or int(n) != n or n < minimum:
        raise KpiInputError(f"subgroup size must be an integer ≥ {minimum}, got {n!r}")
    return int(n)


@lru_cache(maxsize=4096)
def _c4_cached(n: int) -> float:
    # Γ(n/2)/Γ((n-1)/2) as the Pochhammer symbol ((n-1)/2)_(1/2): accurate to a few ulp for any n, where
    # exp(gammaln(a) - gammaln(b)) loses ~1e-11 at the n ≈ 1e5 of a pooled SD over a large file.
    return float(math.sqrt(2.0 / (n - 1)) * special.poch((n - 1) / 2.0, 0.5))


def c4(n: int) -> float:
    """Return c4(n), the factor with E[s] = c4(n)·σ for a sample SD of ``n`` normal values.

    Args:
        n: sample size, an integer ≥ 2.

    Returns:
        c4(n) in (0, 1); it tends to 1 as n grows.

    Raises:
        KpiInputError: ``n`` is not an integer ≥ 2.

    Example:
        >>> round(c4(5), 4)
        0.94
        >>> round(c4(25), 4)
        0.9896
    """
    return _c4_cached(_check_n(n, minimum=2))


def _range_cdf_gap(x: float, n: int) -> float:
    """1 - P(max < x) - P(min > x) for n standard normals: the integrand of E[R]."""
    return float(1.0 - special.ndtr(x) ** n - special.ndtr(-x) ** n)


@lru_cache(maxsize=512)
def _d2_cached(n: int) -> float:
    # The integrand is symmetric in x; integrate one half and double it for accuracy.
    half, _ = integrate.quad(_range_cdf_gap, 0.0, _TAIL, args=(n,), epsabs=1e-13, epsrel=1e-12, limit=200)
    return float(2.0 * half)


def d2(n: int) -> float:
    """Return d2(n), the expected range of ``n`` independent standard normal values (E[R] = d2·σ).

    Args:
        n: subgroup size (or moving-range span), an integer ≥ 2.

    Returns:
        d2(n); for example d2(2) = 2/√π ≈ 1.128.

    Raises:
        KpiInputError: ``n`` is not an integer ≥ 2.

    Example:
        >>> round(d2(2), 3), round(d2(5), 3), round(d2(10), 3)
        (1.128, 2.326, 3.078)
    """
    return _d2_cached(_check_n(n, minimum=2))


@lru_cache(maxsize=1)
def _gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(nodes)


@lru_cache(maxsize=512)
def _d3_cached(n: int) -> float:
    # E[R²] = 2 ∬_{x<y} P(min ≤ x, max ≥ y) dx dy. With y = x + u (u ≥ 0) the domain is a rectangle and the
    # integrand is smooth, so a tensor Gauss-Legendre rule evaluated in one vectorized pass is accurate to
    # ~1e-12 (checked against adaptive dblquad), a thousand times faster than nested adaptive quadrature.
    nodes, weights = _gauss_legendre(_GL_NODES)
    x = (_TAIL * nodes)[:, None]
    u = (_TAIL * (nodes + 1.0))[None, :]
    y = x + u
    lower_tail = special.ndtr(-x) ** n
    upper_tail = special.ndtr(y) ** n
    between = (special.ndtr(y) - special.ndtr(x)) ** n
    integrand = 1.0 - lower_tail - upper_tail + between
    scaled = _TAIL * weights
    second_moment = 2.0 * float(scaled @ integrand @ scaled)
    variance = second_moment - _d2_cached(n) ** 2
    return float(math.sqrt(max(variance, 0.0)))


def d3(n: int) -> float:
    """Return d3(n), the standard deviation of the range of ``n`` standard normal values.

    Used by the R̄ method to weight subgroups of unequal size (Minitab's weights fᵢ = d2(nᵢ)²/d3(nᵢ)²).

    Args:
        n: subgroup size, an integer ≥ 2.

    Returns:
        d3(n).

    Raises:
        KpiInputError: ``n`` is not an integer ≥ 2.

    Example:
        >>> round(d3(2), 3), round(d3(5), 3)
        (0.853, 0.864)
    """
    return _d3_cached(_check_n(n, minimum=2))


__all__ = ["c4", "d2", "d3"]
