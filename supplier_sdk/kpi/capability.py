# ruff: noqa: RUF002 -- Greek letters in docstrings are the notation of the published formulas
"""Process capability (Cp, Cpk, Pp, Ppk, Cpm), confidence intervals and expected PPM, on the supplier side.

Raw measurements never leave the supplier: this module turns them into the KPI figures a report claims.

Conventions (Minitab's defaults, AIAG SPC manual labelling; JMP prints the same names):

- **Within indices** Cp, CPL, CPU, Cpk use σ_within from :mod:`supplier_sdk.kpi.subgroups` (pooled
  SD / c4(d+1) by default for subgroups, MR̄/d2(2) for individual values; R̄/d2 and S̄/c4 on request).
- **Overall indices** Pp, PPL, PPU, Ppk use the overall sample SD ``s`` (divisor N-1) **without** c4(N)
  unbiasing: Minitab stopped unbiasing the overall SD by default in release 15. SAS/QC's CAPABILITY
  procedure prints these overall-sigma figures under the names Cp/Cpk.
- Cp = (USL-LSL)/(6σ), CPL = (x̄-LSL)/(3σ), CPU = (USL-x̄)/(3σ), Cpk = min(CPL, CPU); likewise with ``s`` for
  the P indices. One-sided specifications work: an index that needs a missing limit is ``None``, and Cpk/Ppk
  are then the one index that exists.
- **Cpm** (Minitab's form, Chan-Cheng-Spiring estimator): σ_T = sqrt(Σ(x-T)²/(N-1)) and
  Cpm = min(T-LSL, USL-T)/(3σ_T) over the limits given, which is (USL-LSL)/(6σ_T) for a centred target.
  Note σ_T² = s² + N/(N-1)·(x̄-T)², slightly larger than the textbook s² + (x̄-T)² for small N. ``None``
  without a target; the target must lie within the limits.
- **Confidence intervals**, two-sided at ``confidence``: chi-square for Cp and Pp,
  ``[C·sqrt(χ²(α/2; ν)/ν), C·sqrt(χ²(1-α/2; ν)/ν)]``; Bissell for Cpk and Ppk,
  ``C ± z(1-α/2)·sqrt(1/(9N) + C²/(2ν))``. ν is the within sigma's degrees of freedom (Minitab's: Σ(nᵢ-1) for
  pooled, 0.9·k·(n̄-1) for R̄, f(n̄)·k·(n̄-1) for S̄, N-1 for the moving range) and N-1 for overall.
- **Expected PPM** from the normal model: below = Φ((LSL-x̄)/σ)·10⁶, above = (1-Φ((USL-x̄)/σ))·10⁶, for
  σ_within and for s; a side without a limit is ``None`` and the total sums the sides that exist. The
  observed PPM of the data themselves is reported alongside.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from supplier_sdk.kpi.errors import KpiInputError
from supplier_sdk.kpi.subgroups import FloatArray, SigmaMethod, split_subgroups, within_sigma

PPM_SCALE = 1_000_000.0
CI_KPIS: tuple[str, ...] = ("cp", "cpk", "pp", "ppk")

Interval = tuple[float, float]


@dataclass(frozen=True)
class CapabilityResult:
    """Capability indices of one characteristic, with their intervals and expected PPM.

    Attributes:
        n: number of values.
        subgroups: number of subgroups (``n`` for individual values).
        mean: grand mean x̄.
        sigma_within: within-subgroup sigma (by ``sigma_method``).
        sigma_overall: overall sample SD (divisor n-1, not unbiased).
        cp, cpk, cpl, cpu: within indices; ``None`` where a needed limit is missing.
        pp, ppk, ppl, ppu: overall indices; ``None`` where a needed limit is missing.
        cpm: Taguchi index against ``target``, ``None`` without a target.
        ci: ``{"cp"|"cpk"|"pp"|"ppk": (low, high) or None}``, two-sided at ``confidence``.
        ppm: ``{"within"|"overall"|"observed": {"below"|"above"|"total": ppm or None}}``.
        sigma_method: ``pooled``, ``rbar``, ``sbar`` or ``mr``.
        lsl, usl, target: the specification used.
        confidence: confidence level of ``ci``.
        dof_within, dof_overall: degrees of freedom behind the intervals.

    Example:
        >>> r = capability([9.8, 10.1, 10.0, 10.2, 9.9, 10.0], lsl=9.0, usl=11.0, subgroup_size=2)
        >>> r.sigma_method, r.subgroups, r.cpk <= r.cp
        ('pooled', 3, True)
    """

    n: int
    subgroups: int
    mean: float
    sigma_within: float
    sigma_overall: float
    cp: float | None
    cpk: float
    cpl: float | None
    cpu: float | None
    pp: float | None
    ppk: float
    ppl: float | None
    ppu: float | None
    cpm: float | None
    ci: Mapping[str, Interval | None]
    ppm: Mapping[str, Mapping[str, float | None]]
    sigma_method: str
    lsl: float | None
    usl: float | None
    target: float | None
    confidence: float
    dof_within: float
    dof_overall: float

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form the CLI prints: intervals as ``[low, high]`` lists, missing as ``None``.

        Example:
            >>> r = capability([1.0, 2.0, 3.0, 4.0, 5.0], lsl=0.0, usl=6.0)
            >>> d = r.to_dict()
            >>> d["cpm"] is None, len(d["ci"]["cp"]), sorted(d["ppm"]["within"])
            (True, 2, ['above', 'below', 'total'])
        """
        return {
            "n": self.n,
            "subgroups": self.subgroups,
            "mean": self.mean,
            "sigma_within": self.sigma_within,
            "sigma_overall": self.sigma_overall,
            "sigma_method": self.sigma_method,
            "cp": self.cp,
            "cpk": self.cpk,
            "cpl": self.cpl,
            "cpu": self.cpu,
            "pp": self.pp,
            "ppk": self.ppk,
            "ppl": self.ppl,
            "ppu": self.ppu,
            "cpm": self.cpm,
            "ci": {kpi: (None if pair is None else [pair[0], pair[1]]) for kpi, pair in self.ci.items()},
            "ppm": {kind: dict(sides) for kind, sides in self.ppm.items()},
            "confidence": self.confidence,
            "dof": {"within": self.dof_within, "overall": self.dof_overall},
            "lsl": self.lsl,
            "usl": self.usl,
            "target": self.target,
        }


@dataclass(frozen=True)
class _Indices:
    spread: float | None
    lower: float | None
    upper: float | None

    @property
    def worst(self) -> float:
        return min(v for v in (self.lower, self.upper) if v is not None)


def _finite_or_none(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise KpiInputError(f"{name} must be a finite number, got {value!r}")
    return number


def _check_spec(lsl: float | None, usl: float | None, target: float | None) -> None:
    if lsl is None and usl is None:
        raise KpiInputError("give at least one specification limit (LSL or USL)")
    if lsl is not None and usl is not None and lsl >= usl:
        raise KpiInputError(f"LSL ({lsl:g}) must be below USL ({usl:g})")
    if target is not None and ((lsl is not None and target < lsl) or (usl is not None and target > usl)):
        raise KpiInputError(f"target ({target:g}) must lie within the specification limits")


def _check_values(values: FloatArray | Sequence[float]) -> FloatArray:
    try:
        data = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise KpiInputError(f"values must be numbers: {exc}") from None
    if data.ndim != 1:
        raise KpiInputError(f"values must be a flat sequence of numbers, got an array of shape {data.shape}")
    if data.size < 2:
        raise KpiInputError(f"capability needs at least 2 values, got {data.size}")
    bad = np.flatnonzero(~np.isfinite(data))
    if bad.size:
        first = int(bad[0])
        raise KpiInputError(
            f"value {first + 1} of {data.size} is {float(data[first])}: every value must be a finite number "
            f"({bad.size} non-finite in all)"
        )
    return data


def _indices(mean: float, sigma: float, lsl: float | None, usl: float | None) -> _Indices:
    lower = None if lsl is None else (mean - lsl) / (3.0 * sigma)
    upper = None if usl is None else (usl - mean) / (3.0 * sigma)
    spread = None if lsl is None or usl is None else (usl - lsl) / (6.0 * sigma)
    return _Indices(spread=spread, lower=lower, upper=upper)


def _cpm(data: FloatArray, lsl: float | None, usl: float | None, target: float | None) -> float | None:
    if target is None:
        return None
    deviations = data - target
    sigma_target = math.sqrt(float(deviations @ deviations) / (data.size - 1))
    distances = [target - lsl] if lsl is not None else []
    if usl is not None:
        distances.append(usl - target)
    return min(distances) / (3.0 * sigma_target)


def _chi_square_interval(index: float | None, dof: float, alpha: float) -> Interval | None:
    if index is None:
        return None
    low = index * math.sqrt(float(stats.chi2.ppf(alpha / 2.0, dof)) / dof)
    high = index * math.sqrt(float(stats.chi2.ppf(1.0 - alpha / 2.0, dof)) / dof)
    return (low, high)


def _bissell_interval(index: float, n: int, dof: float, alpha: float) -> Interval:
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    half_width = z * math.sqrt(1.0 / (9.0 * n) + index * index / (2.0 * dof))
    return (index - half_width, index + half_width)


def _expected_ppm(mean: float, sigma: float, lsl: float | None, usl: float | None) -> dict[str, float | None]:
    below = None if lsl is None else float(stats.norm.cdf((lsl - mean) / sigma)) * PPM_SCALE
    above = None if usl is None else float(stats.norm.sf((usl - mean) / sigma)) * PPM_SCALE
    return {"below": below, "above": above, "total": (below or 0.0) + (above or 0.0)}


def _observed_ppm(data: FloatArray, lsl: float | None, usl: float | None) -> dict[str, float | None]:
    below = None if lsl is None else float(np.count_nonzero(data < lsl)) / data.size * PPM_SCALE
    above = None if usl is None else float(np.count_nonzero(data > usl)) / data.size * PPM_SCALE
    return {"below": below, "above": above, "total": (below or 0.0) + (above or 0.0)}


def capability(
    values: FloatArray | Sequence[float],
    *,
    lsl: float | None,
    usl: float | None,
    target: float | None = None,
    subgroup_size: int | None = None,
    subgroup_labels: Sequence[object] | None = None,
    sigma: SigmaMethod | str | None = None,
    confidence: float = 0.95,
) -> CapabilityResult:
    """Compute Cp, Cpk, Pp, Ppk, Cpm, their confidence intervals and expected PPM for ``values``.

    Args:
        values: measurements in production order (any sequence of numbers or a 1-D numpy array).
        lsl: lower specification limit, or ``None`` for an upper-only specification.
        usl: upper specification limit, or ``None`` for a lower-only specification.
        target: target value for Cpm (must lie within the limits); ``None`` leaves Cpm ``None``.
        subgroup_size: cut the values into consecutive subgroups of this size (a multiple is required).
        subgroup_labels: one label per value; consecutive equal labels form a subgroup.
        sigma: within-sigma method ``"pooled"``, ``"rbar"``, ``"sbar"`` or ``"mr"``; ``None`` picks Minitab's
            default: ``"pooled"`` for subgroups, ``"mr"`` for individual values.
        confidence: two-sided confidence level of the intervals, in (0, 1).

    Returns:
        A frozen :class:`CapabilityResult`.

    Raises:
        KpiInputError: non-finite values, fewer than 2 values, no limit, LSL ≥ USL, a target outside the
            limits, a subgrouping problem, a subgroup too small for the method, or zero variation.

    Example:
        >>> r = capability([1.0, 2.0, 3.0, 4.0, 5.0], lsl=0.0, usl=6.0)  # individuals: MR̄/d2(2)
        >>> r.sigma_method, round(r.cp, 4), round(r.pp, 4)
        ('mr', 1.1284, 0.6325)
    """
    data = _check_values(values)
    lsl_f = _finite_or_none("LSL", lsl)
    usl_f = _finite_or_none("USL", usl)
    target_f = _finite_or_none("target", target)
    _check_spec(lsl_f, usl_f, target_f)
    if not 0.0 < confidence < 1.0:
        raise KpiInputError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")

    groups = split_subgroups(data, subgroup_size=subgroup_size, subgroup_labels=subgroup_labels)
    mean = float(data.mean())
    sigma_overall = float(data.std(ddof=1))
    if not sigma_overall > 0.0:
        raise KpiInputError(f"all {data.size} values are equal (zero variation): capability is undefined")
    method = sigma if sigma is not None else ("mr" if groups.individuals else "pooled")
    within = within_sigma(groups, method)

    n = int(data.size)
    alpha = 1.0 - confidence
    dof_overall = float(n - 1)
    within_ix = _indices(mean, within.sigma, lsl_f, usl_f)
    overall_ix = _indices(mean, sigma_overall, lsl_f, usl_f)
    ci: dict[str, Interval | None] = {
        "cp": _chi_square_interval(within_ix.spread, within.dof, alpha),
        "cpk": _bissell_interval(within_ix.worst, n, within.dof, alpha),
        "pp": _chi_square_interval(overall_ix.spread, dof_overall, alpha),
        "ppk": _bissell_interval(overall_ix.worst, n, dof_overall, alpha),
    }
    ppm = {
        "within": _expected_ppm(mean, within.sigma, lsl_f, usl_f),
        "overall": _expected_ppm(mean, sigma_overall, lsl_f, usl_f),
        "observed": _observed_ppm(data, lsl_f, usl_f),
    }
    return CapabilityResult(
        n=n,
        subgroups=groups.count,
        mean=mean,
        sigma_within=within.sigma,
        sigma_overall=sigma_overall,
        cp=within_ix.spread,
        cpk=within_ix.worst,
        cpl=within_ix.lower,
        cpu=within_ix.upper,
        pp=overall_ix.spread,
        ppk=overall_ix.worst,
        ppl=overall_ix.lower,
        ppu=overall_ix.upper,
        cpm=_cpm(data, lsl_f, usl_f, target_f),
        ci=ci,
        ppm=ppm,
        sigma_method=within.method,
        lsl=lsl_f,
        usl=usl_f,
        target=target_f,
        confidence=confidence,
        dof_within=within.dof,
        dof_overall=dof_overall,
    )


__all__ = ["CI_KPIS", "CapabilityResult", "capability"]
