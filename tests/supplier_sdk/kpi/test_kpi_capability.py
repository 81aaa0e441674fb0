"""capability() against hand-worked examples and a second, loop-by-loop implementation of the formulas."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import importlib
import itertools
import json
import math
import statistics

import numpy as np
import pytest
from scipy import stats

from supplier_sdk.kpi import CapabilityResult, KpiInputError, capability

# Six-decimal d2 and four-decimal d3 values as printed in the ASTM / AIAG tables, used by the reference
# implementation so that it shares no code with the library's numerical integration.
D2 = {2: 1.128379, 3: 1.692569, 4: 2.058751, 5: 2.325929}
D3 = {2: 0.8525, 3: 0.8884, 4: 0.8798, 5: 0.8641}
SBAR_DOF_FACTOR = {2: 0.88, 3: 0.92, 4: 0.94, 5: 0.95}
CONTRACT_KEYS = [
    "n",
    "subgroups",
    "mean",
    "sigma_within",
    "sigma_overall",
    "cp",
    "cpk",
    "cpl",
    "cpu",
    "pp",
    "ppk",
    "ppl",
    "ppu",
    "cpm",
    "ci",
    "ppm",
    "sigma_method",
]


def ref_c4(n: int) -> float:
    return math.sqrt(2.0 / (n - 1)) * math.gamma(n / 2) / math.gamma((n - 1) / 2)


def ref_within(groups: list[list[float]], method: str) -> tuple[float, float]:
    """(sigma, dof) by Minitab's published formulas, one subgroup at a time."""
    k = len(groups)
    total = sum(len(g) for g in groups)
    nbar = total / k
    if method == "pooled":
        d = sum(len(g) - 1 for g in groups)
        sp = math.sqrt(sum(sum((x - statistics.fmean(g)) ** 2 for x in g) for g in groups) / d)
        return sp / ref_c4(d + 1), d
    if method == "rbar":
        f = [D2[len(g)] ** 2 / D3[len(g)] ** 2 for g in groups]
        est = sum(fi * (max(g) - min(g)) / D2[len(g)] for fi, g in zip(f, groups, strict=True)) / sum(f)
        return est, 0.9 * k * (nbar - 1)
    if method == "sbar":
        h = [ref_c4(len(g)) ** 2 / (1 - ref_c4(len(g)) ** 2) for g in groups]
        est = sum(hi * statistics.stdev(g) / ref_c4(len(g)) for hi, g in zip(h, groups, strict=True)) / sum(h)
        return est, SBAR_DOF_FACTOR[round(nbar)] * k * (nbar - 1)
    values = [x for g in groups for x in g]
    mrbar = statistics.fmean(abs(b - a) for a, b in itertools.pairwise(values))
    return mrbar / D2[2], total - 1


def ref_capability(
    groups: list[list[float]], lsl: float, usl: float, method: str, confidence: float = 0.95
) -> dict[str, float]:
    values = [x for g in groups for x in g]
    n = len(values)
    mean = statistics.fmean(values)
    s = statistics.stdev(values)
    sw, nu = ref_within(groups, method)
    alpha = 1 - confidence
    z = stats.norm.ppf(1 - alpha / 2)
    out = {
        "cp": (usl - lsl) / (6 * sw),
        "cpl": (mean - lsl) / (3 * sw),
        "cpu": (usl - mean) / (3 * sw),
        "pp": (usl - lsl) / (6 * s),
        "ppl": (mean - lsl) / (3 * s),
        "ppu": (usl - mean) / (3 * s),
        "sigma_within": sw,
        "sigma_overall": s,
        "dof": nu,
    }
    out["cpk"] = min(out["cpl"], out["cpu"])
    out["ppk"] = min(out["ppl"], out["ppu"])
    for index, dof in (("cp", nu), ("pp", n - 1)):
        out[f"{index}_low"] = out[index] * math.sqrt(stats.chi2.ppf(alpha / 2, dof) / dof)
        out[f"{index}_high"] = out[index] * math.sqrt(stats.chi2.ppf(1 - alpha / 2, dof) / dof)
    for index, dof in (("cpk", nu), ("ppk", n - 1)):
        half = z * math.sqrt(1 / (9 * n) + out[index] ** 2 / (2 * dof))
        out[f"{index}_low"], out[f"{index}_high"] = out[index] - half, out[index] + half
    out["ppm_within_below"] = stats.norm.cdf((lsl - mean) / sw) * 1e6
    out["ppm_within_above"] = (1 - stats.norm.cdf((usl - mean) / sw)) * 1e6
    out["ppm_overall_below"] = stats.norm.cdf((lsl - mean) / s) * 1e6
    out["ppm_overall_above"] = (1 - stats.norm.cdf((usl - mean) / s)) * 1e6
    return out


def assert_matches_reference(result: CapabilityResult, ref: dict[str, float]) -> None:
    rel = 1e-6  # limited by the six-decimal d2 table in the reference
    for name in ("cp", "cpk", "cpl", "cpu", "pp", "ppk", "ppl", "ppu", "sigma_within", "sigma_overall"):
        assert getattr(result, name) == pytest.approx(ref[name], rel=rel), name
    assert result.dof_within == pytest.approx(ref["dof"], rel=1e-12)
    for index in ("cp", "cpk", "pp", "ppk"):
        interval = result.ci[index]
        assert interval is not None
        assert interval == pytest.approx((ref[f"{index}_low"], ref[f"{index}_high"]), rel=rel), index
    for kind in ("within", "overall"):
        sides = result.ppm[kind]
        assert sides["below"] == pytest.approx(ref[f"ppm_{kind}_below"], rel=1e-4)
        assert sides["above"] == pytest.approx(ref[f"ppm_{kind}_above"], rel=1e-4)
        assert sides["total"] == pytest.approx(sides["below"] + sides["above"], rel=1e-12)  # type: ignore[operator]


@pytest.fixture
def shafts() -> list[list[float]]:
    """25 subgroups of 5 shaft diameters (mm), a fixed pseudo-random sample with a slight drift."""
    rng = np.random.default_rng(20260101)
    drift = np.repeat(rng.normal(0.0, 0.004, 25), 5)
    values = np.round(25.0 + drift + rng.normal(0.0, 0.01, 125), 4)
    return [values[i : i + 5].tolist() for i in range(0, 125, 5)]


@pytest.mark.parametrize("method", ["pooled", "rbar", "sbar"])
def test_subgroups_of_five_match_reference(shafts: list[list[float]], method: str) -> None:
    flat = [x for g in shafts for x in g]
    result = capability(flat, lsl=24.96, usl=25.05, subgroup_size=5, sigma=method)
    assert (result.n, result.subgroups, result.sigma_method) == (125, 25, method)
    assert result.mean == pytest.approx(statistics.fmean(flat), rel=1e-14)
    assert_matches_reference(result, ref_capability(shafts, 24.96, 25.05, method))


@pytest.mark.parametrize("method", ["pooled", "rbar", "sbar"])
def test_unequal_subgroups_from_labels_match_reference(shafts: list[list[float]], method: str) -> None:
    groups = [g[: 3 + i % 3] for i, g in enumerate(shafts)]  # sizes 3, 4, 5, 3, 4, 5, ...
    flat = [x for g in groups for x in g]
    labels = [f"lot-{i}" for i, g in enumerate(groups) for _ in g]
    result = capability(flat, lsl=24.96, usl=25.05, subgroup_labels=labels, sigma=method, confidence=0.9)
    assert result.subgroups == len(groups)
    ref = ref_capability(groups, 24.96, 25.05, method, confidence=0.9)
    if method == "rbar":  # the reference's d3 has four decimals: the weights, hence sigma, agree to ~1e-4
        assert result.sigma_within == pytest.approx(ref["sigma_within"], rel=2e-4)
    else:
        assert_matches_reference(result, ref)


def test_individuals_use_moving_range_and_match_reference(shafts: list[list[float]]) -> None:
    flat = [x for g in shafts for x in g]
    result = capability(flat, lsl=24.96, usl=25.05)
    assert (result.sigma_method, result.subgroups, result.dof_within) == ("mr", 125, 124.0)
    assert_matches_reference(result, ref_capability([[x] for x in flat], 24.96, 25.05, "mr"))


def test_hand_worked_individuals() -> None:
    # x = 1..5: every moving range is 1, so sigma_within = 1/d2(2) = sqrt(pi)/2; s = sqrt(2.5); mean = 3.
    result = capability([1.0, 2.0, 3.0, 4.0, 5.0], lsl=0.0, usl=6.0, target=3.0)
    assert result.sigma_within == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-12)
    assert result.cp == pytest.approx(2 / math.sqrt(math.pi), rel=1e-12)  # 6 / (6 * sqrt(pi)/2)
    assert result.cpk == pytest.approx(result.cp, rel=1e-12)  # centred
    assert result.pp == pytest.approx(1 / math.sqrt(2.5), rel=1e-12)
    # Minitab's Cpm with T = mean: sqrt(sum((x-T)^2)/(N-1)) = s, so Cpm = Pp.
    assert result.cpm == pytest.approx(result.pp, rel=1e-12)


def test_hand_worked_pooled() -> None:
    # Subgroups (1, 3) and (2, 4): each variance 2, Sp = sqrt(2), d = 2, c4(3) = sqrt(pi)/2.
    result = capability([1.0, 3.0, 2.0, 4.0], lsl=-1.0, usl=6.0, subgroup_size=2)
    assert result.sigma_within == pytest.approx(math.sqrt(2) / (math.sqrt(math.pi) / 2), rel=1e-12)
    assert result.dof_within == 2.0
    assert result.sigma_overall == pytest.approx(statistics.stdev([1, 3, 2, 4]), rel=1e-14)


def test_centred_cpk_of_4_over_3_gives_63_ppm_and_32_one_sided() -> None:
    # REFERENCES.md: Cpk 1.33 ~ 63 ppm two-sided for a centred process, ~32 ppm one-sided (2*Phi(-4) = 63.34).
    values = np.random.default_rng(7).normal(50.0, 2.0, 400)
    probe = capability(values, lsl=0.0, usl=100.0, subgroup_size=4)
    lsl, usl = probe.mean - 4 * probe.sigma_within, probe.mean + 4 * probe.sigma_within
    both = capability(values, lsl=lsl, usl=usl, subgroup_size=4)
    assert both.cpk == pytest.approx(4 / 3, rel=1e-12)
    assert both.ppm["within"]["total"] == pytest.approx(63.342, abs=1e-3)
    upper_only = capability(values, lsl=None, usl=usl, subgroup_size=4)
    assert upper_only.ppm["within"]["total"] == pytest.approx(31.671, abs=1e-3)


def test_one_sided_specification_leaves_two_limit_indices_empty(shafts: list[list[float]]) -> None:
    flat = [x for g in shafts for x in g]
    lower = capability(flat, lsl=24.96, usl=None, subgroup_size=5)
    assert (lower.cp, lower.pp, lower.cpu, lower.ppu, lower.cpm) == (None, None, None, None, None)
    assert lower.cpk == lower.cpl and lower.ppk == lower.ppl
    assert lower.ci["cp"] is None and lower.ci["pp"] is None
    assert lower.ci["cpk"] is not None and lower.ci["cpk"][0] < lower.cpk < lower.ci["cpk"][1]
    assert lower.ppm["within"]["above"] is None
    assert lower.ppm["within"]["total"] == lower.ppm["within"]["below"]
    upper = capability(flat, lsl=None, usl=25.05, subgroup_size=5, target=25.0)
    assert upper.cpk == upper.cpu and upper.cpl is None
    deviation = math.sqrt(sum((x - 25.0) ** 2 for x in flat) / (len(flat) - 1))
    assert upper.cpm == pytest.approx((25.05 - 25.0) / (3 * deviation), rel=1e-12)


def test_cpm_follows_minitab_and_is_none_without_target(shafts: list[list[float]]) -> None:
    flat = [x for g in shafts for x in g]
    n, mean, s = len(flat), statistics.fmean(flat), statistics.stdev(flat)
    assert capability(flat, lsl=24.96, usl=25.05, subgroup_size=5).cpm is None
    off_centre = capability(flat, lsl=24.96, usl=25.05, target=25.01, subgroup_size=5)
    sigma_t = math.sqrt(sum((x - 25.01) ** 2 for x in flat) / (n - 1))
    assert off_centre.cpm == pytest.approx(min(25.01 - 24.96, 25.05 - 25.01) / (3 * sigma_t), rel=1e-12)
    centred = capability(flat, lsl=24.96, usl=25.04, target=25.0, subgroup_size=5)
    sigma_c = math.sqrt(sum((x - 25.0) ** 2 for x in flat) / (n - 1))
    assert centred.cpm == pytest.approx(0.08 / (6 * sigma_c), rel=1e-12)
    # Minitab's sigma_T^2 = s^2 + N/(N-1)(mean-T)^2; the textbook s^2 + (mean-T)^2 differs only by N/(N-1).
    textbook = 0.08 / (6 * math.sqrt(s**2 + (mean - 25.0) ** 2))
    assert centred.cpm is not None
    assert centred.cpm == pytest.approx(textbook, rel=1e-3)
    assert centred.cpm <= textbook


def test_subgroup_labels_group_consecutive_runs_only() -> None:
    values = [1.0, 2.0, 3.0, 5.0, 4.0, 6.0]
    result = capability(values, lsl=0.0, usl=10.0, subgroup_labels=["a", "a", "b", "b", "a", "a"])
    assert result.subgroups == 3  # the second run of "a" is its own subgroup
    assert result.sigma_within == pytest.approx(
        ref_within([[1.0, 2.0], [3.0, 5.0], [4.0, 6.0]], "pooled")[0], rel=1e-12
    )


def test_explicit_subgroup_size_one_is_individuals() -> None:
    result = capability([1.0, 2.0, 4.0, 3.0], lsl=0.0, usl=5.0, subgroup_size=1)
    assert result.sigma_method == "mr" and result.subgroups == 4


def test_to_dict_is_the_json_contract(shafts: list[list[float]]) -> None:
    flat = [x for g in shafts for x in g]
    result = capability(flat, lsl=24.96, usl=25.05, subgroup_size=5, target=25.0)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(payload) >= set(CONTRACT_KEYS)
    assert payload["cpk"] == result.cpk
    assert payload["ci"]["cpk"] == list(result.ci["cpk"] or ())
    assert all(len(payload["ci"][k]) == 2 for k in ("cp", "cpk", "pp", "ppk"))
    assert set(payload["ppm"]) >= {"within", "overall"}
    assert set(payload["ppm"]["overall"]) == {"below", "above", "total"}


def test_result_is_frozen_and_can_be_copied(shafts: list[list[float]]) -> None:
    result = capability([x for g in shafts for x in g], lsl=24.96, usl=25.05, subgroup_size=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.cp = 2.0  # type: ignore[misc]
    assert copy.deepcopy(result) == result
    assert dataclasses.asdict(result)["ci"]["cpk"] == result.ci["cpk"]


def test_observed_ppm_counts_values_outside() -> None:
    result = capability([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], lsl=1.5, usl=7.5, subgroup_size=2)
    assert result.ppm["observed"] == {"below": 125_000.0, "above": 125_000.0, "total": 250_000.0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": [1.0, float("nan"), 3.0]}, r"value 2 of 3 is nan"),
        ({"values": [1.0, 2.0, float("inf")]}, r"value 3 of 3 is inf"),
        ({"values": [1.0]}, r"at least 2 values, got 1"),
        ({"values": [1.0, "x", 2.0]}, r"values must be numbers"),
        ({"values": [[1.0, 2.0], [3.0, 4.0]]}, r"flat sequence of numbers"),
        ({"values": [2.0, 2.0, 2.0]}, r"all 3 values are equal"),
        ({"values": [1.0, 1.0, 2.0, 2.0], "subgroup_size": 2}, r"within-subgroup variation is zero"),
        ({"lsl": 5.0, "usl": 5.0}, r"LSL \(5\) must be below USL \(5\)"),
        ({"lsl": 6.0, "usl": 5.0}, r"LSL \(6\) must be below USL \(5\)"),
        ({"lsl": None, "usl": None}, r"at least one specification limit"),
        ({"lsl": float("nan")}, r"LSL must be a finite number"),
        ({"target": 20.0}, r"target \(20\) must lie within"),
        ({"confidence": 1.0}, r"confidence must be between 0 and 1"),
        (
            {"subgroup_size": 2, "subgroup_labels": list("aabb")},
            r"either a subgroup size or a subgroup column",
        ),
        ({"values": [1.0, 2.0, 3.0, 4.0, 5.0], "subgroup_size": 2}, r"last subgroup would hold 1 value"),
        ({"subgroup_size": 0}, r"whole number ≥ 1"),
        ({"sigma": "pooled"}, r"subgroup 1 has 1 value; sigma method 'pooled' needs at least 2 .*use 'mr'"),
        ({"sigma": "rbar", "subgroup_labels": ["a", "a", "b", "c"]}, r"subgroup 2 \(label 'b'\) has 1 value"),
        ({"sigma": "mr", "subgroup_size": 2}, r"'mr' .* is for individual values"),
        ({"sigma": "median"}, r"unknown sigma method 'median'"),
        ({"subgroup_labels": ["a", "b"]}, r"2 subgroup labels for 4 values"),
    ],
)
def test_bad_input_raises_one_clear_error(kwargs: dict[str, object], message: str) -> None:
    call: dict[str, object] = {"values": [1.0, 2.0, 4.0, 3.0], "lsl": 0.0, "usl": 10.0} | kwargs
    with pytest.raises(KpiInputError, match=message) as caught:
        capability(**call)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_large_input_is_fast_and_exact() -> None:
    values = np.random.default_rng(3).normal(10.0, 0.1, 100_000)
    result = capability(values, lsl=9.5, usl=10.5, subgroup_size=5)
    block = values.reshape(-1, 5)
    sp = math.sqrt(float(((block - block.mean(axis=1, keepdims=True)) ** 2).sum()) / 80_000)
    assert result.sigma_within == pytest.approx(sp / ref_c4_large(80_001), rel=1e-12)
    assert result.dof_within == 80_000


def ref_c4_large(n: int) -> float:
    return 1 - 1 / (4 * n) - 7 / (32 * n * n)


@pytest.mark.parametrize(
    "name", ["", ".capability", ".constants", ".data", ".errors", ".reliability", ".subgroups"]
)
def test_docstring_examples_hold(name: str) -> None:
    # import_module: the package attribute "capability" is the function, which shadows the module.
    module = importlib.import_module(f"supplier_sdk.kpi{name}")
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failures == 0
