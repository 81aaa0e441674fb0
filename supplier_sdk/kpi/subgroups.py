# ruff: noqa: RUF002 -- Greek letters in docstrings are the notation of the published formulas
"""Rational subgroups and the within-subgroup sigma estimators (Minitab / AIAG conventions).

Subgrouping (:func:`split_subgroups`):

- ``subgroup_size=N``: the values, in order, are cut into consecutive subgroups of N. A count that is not a
  multiple of N is an error that names the leftover count (Minitab would silently keep a short last
  subgroup; a KPI claim should not depend on a silently ragged tail).
- ``subgroup_labels``: one label per value; a new subgroup starts whenever the label differs from the previous
  value's label (Minitab's "subgroup ID column" rule). A label that reappears later starts a *new* subgroup:
  labels are not pooled across the file, because order matters for the moving range and for the process story.
- neither (or ``subgroup_size=1``, or labels that never repeat consecutively): individual values.

Within-subgroup sigma (:func:`within_sigma`), with the degrees of freedom ν that Minitab uses for the Cp
confidence interval (k subgroups, n̄ = N/k their average size):

=========  ===========================================================  ==============================
method     σ_within                                                     ν
=========  ===========================================================  ==============================
pooled     Sp / c4(d+1), Sp = sqrt(ΣΣ(x-x̄ᵢ)² / d), d = Σ(nᵢ-1)          d
rbar       Σ fᵢ·rᵢ/d2(nᵢ) / Σ fᵢ, fᵢ = d2(nᵢ)²/d3(nᵢ)²  (= R̄/d2(n))      0.9·k·(n̄-1)
sbar       Σ hᵢ·sᵢ/c4(nᵢ) / Σ hᵢ, hᵢ = c4(nᵢ)²/(1-c4(nᵢ)²) (= S̄/c4(n))  f(n̄)·k·(n̄-1), Minitab's table
mr         MR̄ / d2(2), moving ranges of span 2 (individuals only)        N - 1  (k - span + 1)
=========  ===========================================================  ==============================

For ``sbar`` the table factor f is looked up at n̄ rounded to the nearest integer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from supplier_sdk.kpi.constants import c4, d2, d3
from supplier_sdk.kpi.errors import KpiInputError

SigmaMethod = Literal["pooled", "rbar", "sbar", "mr"]
"""The within-subgroup sigma estimators: pooled SD, average range, average SD, average moving range."""

SIGMA_METHODS: tuple[str, ...] = get_args(SigmaMethod)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Minitab's adjustment f(n) for the degrees of freedom of S̄/c4: (largest n of the row, f).
_SBAR_DOF_FACTOR: tuple[tuple[int, float], ...] = (
    (2, 0.88),
    (3, 0.92),
    (4, 0.94),
    (5, 0.95),
    (7, 0.96),
    (9, 0.97),
    (17, 0.98),
    (64, 0.99),
)
_MR_SPAN = 2


@dataclass(frozen=True)
class Subgroups:
    """Values cut into consecutive subgroups: subgroup i is ``values[starts[i] : starts[i] + sizes[i]]``.

    Attributes:
        values: all values, in their original order.
        starts: index of each subgroup's first value.
        sizes: number of values in each subgroup.
        labels: each subgroup's label when subgroups came from a label column, else ``None``.

    Example:
        >>> groups = split_subgroups([1.0, 2.0, 3.0, 4.0], subgroup_size=2)
        >>> groups.count, groups.sizes.tolist()
        (2, [2, 2])
    """

    values: FloatArray
    starts: IntArray
    sizes: IntArray
    labels: list[str] | None = None

    @property
    def count(self) -> int:
        """Number of subgroups (for individual values: the number of values)."""
        return int(self.sizes.size)

    @property
    def individuals(self) -> bool:
        """True when every subgroup holds one value (individual measurements)."""
        return bool(np.all(self.sizes == 1))

    def describe(self, index: int) -> str:
        """Name subgroup ``index`` for an error message, e.g. ``"subgroup 3 (label 'B')"``."""
        if self.labels is not None:
            return f"subgroup {index + 1} (label {self.labels[index]!r})"
        return f"subgroup {index + 1}"


@dataclass(frozen=True)
class WithinSigma:
    """A within-subgroup sigma estimate and the degrees of freedom its confidence intervals use.

    Attributes:
        sigma: the estimate of σ_within.
        dof: degrees of freedom ν for the chi-square (Cp) and Bissell (Cpk) intervals.
        method: which estimator produced it (one of :data:`SIGMA_METHODS`).

    Example:
        >>> est = within_sigma(split_subgroups([1.0, 3.0, 2.0, 4.0], subgroup_size=2), "pooled")
        >>> est.method, est.dof
        ('pooled', 2.0)
    """

    sigma: float
    dof: float
    method: str


def split_subgroups(
    values: FloatArray | Sequence[float],
    *,
    subgroup_size: int | None = None,
    subgroup_labels: Sequence[object] | None = None,
) -> Subgroups:
    """Cut ``values`` (in order) into subgroups: by a fixed size, by consecutive equal labels, or individuals.

    Args:
        values: the measurements, in production order.
        subgroup_size: a fixed subgroup size N ≥ 1; the count of values must be a multiple of N.
        subgroup_labels: one label per value; consecutive equal labels form one subgroup.

    Returns:
        The :class:`Subgroups`; with neither argument every value is its own subgroup.

    Raises:
        KpiInputError: both arguments given, a bad size, a ragged last subgroup, or a label count mismatch.

    Example:
        >>> split_subgroups([5.0, 6.0, 7.0], subgroup_labels=["a", "a", "b"]).sizes.tolist()
        [2, 1]
    """
    data = np.asarray(values, dtype=np.float64)
    n = int(data.size)
    if subgroup_size is not None and subgroup_labels is not None:
        raise KpiInputError("give either a subgroup size or a subgroup column, not both")
    if subgroup_labels is not None:
        return _split_by_labels(data, subgroup_labels)
    size = 1 if subgroup_size is None else subgroup_size
    if isinstance(size, bool) or int(size) != size or size < 1:
        raise KpiInputError(f"subgroup size must be a whole number ≥ 1, got {subgroup_size!r}")
    size = int(size)
    leftover = n % size
    if leftover:
        raise KpiInputError(
            f"{n} values do not split into subgroups of {size}: the last subgroup would hold {leftover} "
            f"value{'s' if leftover != 1 else ''}; supply a multiple of {size} values or a subgroup column"
        )
    starts = np.arange(0, n, size, dtype=np.int64)
    return Subgroups(values=data, starts=starts, sizes=np.full(starts.size, size, dtype=np.int64))


def _split_by_labels(data: FloatArray, subgroup_labels: Sequence[object]) -> Subgroups:
    labels = np.asarray([str(label) for label in subgroup_labels], dtype=object)
    if labels.size != data.size:
        raise KpiInputError(f"{labels.size} subgroup labels for {data.size} values: give one label per value")
    if data.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Subgroups(values=data, starts=empty, sizes=empty, labels=[])
    changes = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate(([0], changes)).astype(np.int64)
    sizes = np.diff(np.append(starts, data.size)).astype(np.int64)
    return Subgroups(values=data, starts=starts, sizes=sizes, labels=[str(labels[i]) for i in starts])


def _per_size(sizes: IntArray, constant: Callable[[int], float]) -> FloatArray:
    """Evaluate a size-dependent constant once per distinct subgroup size and spread it over the subgroups."""
    distinct, inverse = np.unique(sizes, return_inverse=True)
    table = np.array([constant(int(size)) for size in distinct], dtype=np.float64)
    return table[inverse]


def _sbar_dof_factor(mean_size: float) -> float:
    n = round(mean_size)
    for largest, factor in _SBAR_DOF_FACTOR:
        if n <= largest:
            return factor
    return 1.0


def within_sigma(groups: Subgroups, method: SigmaMethod | str) -> WithinSigma:
    """Estimate σ_within from ``groups`` by ``method`` (see the module docstring for the formulas and ν).

    Args:
        groups: the subgrouped values (from :func:`split_subgroups`).
        method: ``"pooled"``, ``"rbar"`` or ``"sbar"`` (every subgroup needs ≥ 2 values), or ``"mr"``
            (individual values only).

    Returns:
        The estimate with its degrees of freedom.

    Raises:
        KpiInputError: unknown method, a subgroup too small for the method, ``mr`` on subgrouped data, or zero
            within-subgroup variation.

    Example:
        >>> groups = split_subgroups([1.0, 2.0, 3.0, 4.0, 5.0])
        >>> round(within_sigma(groups, "mr").sigma, 6)  # MR̄ = 1, d2(2) = 2/√π
        0.886227
    """
    if method not in SIGMA_METHODS:
        raise KpiInputError(f"unknown sigma method {method!r}: choose one of {', '.join(SIGMA_METHODS)}")
    if method == "mr":
        estimate = _moving_range(groups)
    else:
        too_small = np.flatnonzero(groups.sizes < 2)
        if too_small.size:
            first = int(too_small[0])
            hint = " (for individual values use 'mr')" if groups.individuals else ""
            count = int(groups.sizes[first])
            raise KpiInputError(
                f"{groups.describe(first)} has {count} value{'s' if count != 1 else ''}; sigma method "
                f"{method!r} needs at least 2 values in every subgroup{hint}"
            )
        estimate = _subgroup_estimate(groups, method)
    if not estimate.sigma > 0.0:
        raise KpiInputError(
            "within-subgroup variation is zero (every subgroup is constant): capability is undefined"
        )
    return estimate


def _moving_range(groups: Subgroups) -> WithinSigma:
    if not groups.individuals:
        raise KpiInputError(
            "sigma method 'mr' (average moving range) is for individual values, but these data have "
            f"subgroups of up to {int(groups.sizes.max())} values: use pooled, rbar or sbar"
        )
    n = groups.values.size
    if n < _MR_SPAN:
        raise KpiInputError(f"the moving range needs at least {_MR_SPAN} values, got {n}")
    moving_ranges = np.abs(np.diff(groups.values))
    sigma = float(moving_ranges.mean()) / d2(_MR_SPAN)
    return WithinSigma(sigma=sigma, dof=float(n - _MR_SPAN + 1), method="mr")


def _subgroup_estimate(groups: Subgroups, method: str) -> WithinSigma:
    values, starts, sizes = groups.values, groups.starts, groups.sizes
    k = groups.count
    mean_size = values.size / k
    equal_sizes = bool(np.all(sizes == sizes[0]))
    if method == "rbar":
        ranges = np.maximum.reduceat(values, starts) - np.minimum.reduceat(values, starts)
        if equal_sizes:
            sigma = float(ranges.mean()) / d2(int(sizes[0]))
        else:
            d2s = _per_size(sizes, d2)
            weights = d2s**2 / _per_size(sizes, d3) ** 2
            sigma = float(np.sum(weights * ranges / d2s) / np.sum(weights))
        return WithinSigma(sigma=sigma, dof=0.9 * k * (mean_size - 1.0), method="rbar")
    means = np.add.reduceat(values, starts) / sizes
    deviations = values - np.repeat(means, sizes)
    squares = np.add.reduceat(deviations * deviations, starts)
    if method == "pooled":
        pooled_dof = int(values.size - k)
        pooled_sd = float(np.sqrt(squares.sum() / pooled_dof))
        return WithinSigma(sigma=pooled_sd / c4(pooled_dof + 1), dof=float(pooled_dof), method="pooled")
    sds = np.sqrt(squares / (sizes - 1))
    if equal_sizes:
        sigma = float(sds.mean()) / c4(int(sizes[0]))
    else:
        c4s = _per_size(sizes, c4)
        weights = c4s**2 / (1.0 - c4s**2)
        sigma = float(np.sum(weights * sds / c4s) / np.sum(weights))
    sbar_dof = _sbar_dof_factor(mean_size) * k * (mean_size - 1.0)
    return WithinSigma(sigma=sigma, dof=sbar_dof, method="sbar")


__all__ = ["SIGMA_METHODS", "SigmaMethod", "Subgroups", "WithinSigma", "split_subgroups", "within_sigma"]
