"""cpk_at_least: the integer algebra against the SDK's Ppk / pooled Cpk, scaling, public inputs, proofs."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.zk.attestation import parse_statement, prove_cpk_at_least, verify_attestation
from protocol.zk.errors import ProofInvalid, WitnessDoesNotMeet
from protocol.zk.statements.context import CONTEXT_FIELDS
from protocol.zk.statements.cpk import CpkStatement, decimal_text, scaled
from supplier_sdk.kpi import c4, capability
from supplier_sdk.kpi.errors import KpiInputError
from tests.protocol.zk.proof_cases import CONTEXT, LSL, RESOLUTION, USL, capable_values, cpk_attestation


def statement(n: int, subgroups: tuple[int, ...] | None = None, threshold: str = "1.33") -> CpkStatement:
    return CpkStatement(
        n=n, lsl=LSL, usl=USL, resolution=RESOLUTION, threshold=Decimal(threshold), subgroups=subgroups
    )


def ys_of(values: list[Decimal]) -> list[int]:
    return [scaled(v - LSL, RESOLUTION, "x") for v in values]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(2, 80),
    sd=st.floats(0.002, 0.05),
    shift=st.floats(-0.12, 0.12),
    threshold=st.sampled_from(["1", "1.33", "1.67", "2"]),
    seed=st.integers(0, 10**9),
)
def test_overall_form_is_exactly_the_sdk_ppk(
    n: int, sd: float, shift: float, threshold: str, seed: int
) -> None:
    values = capable_values(n, seed=seed, sd=sd, mean=10.0 + shift)
    if len(set(values)) < 2:
        return
    ppk = capability([float(v) for v in values], lsl=float(LSL), usl=float(USL)).ppk
    t = float(threshold)
    if abs(ppk - t) < 1e-9:
        return  # too close for the float reference to decide
    assert statement(n, threshold=threshold).meets(ys_of(values)) == (ppk >= t)


@settings(max_examples=150, deadline=None)
@given(
    k=st.integers(2, 30),
    size=st.integers(2, 8),
    sd=st.floats(0.002, 0.04),
    shift=st.floats(-0.08, 0.08),
    seed=st.integers(0, 10**9),
)
def test_pooled_form_is_conservative_for_the_sdk_cpk_with_c4(
    k: int, size: int, sd: float, shift: float, seed: int
) -> None:
    """Verified ⇒ the SDK's pooled Cpk (Sp / c4(nu+1), grand mean) ≥ t; and it is not much stricter."""
    n = k * size
    values = capable_values(n, seed=seed, sd=sd, mean=10.0 + shift)
    try:
        result = capability([float(v) for v in values], lsl=float(LSL), usl=float(USL), subgroup_size=size)
    except KpiInputError:
        return  # every subgroup constant: the SDK prints no Cpk (the statement holds with Q = 0)
    assert result.sigma_method == "pooled"
    st_ = statement(n, (size,) * k)
    meets = st_.meets(ys_of(values))
    t = 1.33
    if meets:
        assert result.cpk >= t - 1e-12
    nu = st_.dof
    if result.cpk >= t * (1 + 1 / nu**2) and result.cpk > 0:
        assert meets


def test_pooled_form_with_unequal_subgroups_uses_the_lcm() -> None:
    values = capable_values(12, seed=5, sd=0.01)
    st_ = statement(12, (4, 6, 2))
    assert st_.lcm == 12 and st_.dof == 9
    # Q = M·S2 - Σ (M/nⱼ)·S1ⱼ² equals M times the pooled sum of squares.
    ys = ys_of(values)
    groups = [ys[:4], ys[4:10], ys[10:]]
    ssw = sum(sum((y - Fraction(sum(g), len(g))) ** 2 for y in g) for g in groups)
    q_form = st_.relations().ranges[3][0]
    assert q_form.evaluate(st_.witness(ys)) == 12 * ssw


@pytest.mark.parametrize("m", [*range(2, 40), 100, 1000, 10**5])
def test_the_kershaw_bound_lies_below_c4_squared(m: int) -> None:
    assert Fraction(2 * m - 3, 2 * m - 2) < Fraction(c4(m)) ** 2


def test_measurements_off_the_resolution_grid_are_refused() -> None:
    values = [*capable_values(10), Decimal("10.0005")]
    with pytest.raises(ValueError, match="multiple of the resolution"):
        prove_cpk_at_least(
            values,
            lsl=LSL,
            usl=USL,
            resolution=RESOLUTION,
            threshold=Decimal("1"),
            subgroups=None,
            context=CONTEXT,
        )
    with pytest.raises(ValueError, match="multiple of the resolution"):
        CpkStatement(
            n=5, lsl=LSL, usl=Decimal("10.1005"), resolution=RESOLUTION, threshold=Decimal(1), subgroups=None
        )


def test_binary_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="Decimals"):
        prove_cpk_at_least(
            [10.01, 9.99],  # type: ignore[list-item]
            lsl=LSL,
            usl=USL,
            resolution=RESOLUTION,
            threshold=Decimal(1),
            subgroups=None,
            context=CONTEXT,
        )


def test_data_below_the_threshold_is_refused_by_the_prover() -> None:
    with pytest.raises(WitnessDoesNotMeet, match=r"CPK >= 1\.33"):
        prove_cpk_at_least(
            capable_values(30, sd=0.05),
            lsl=LSL,
            usl=USL,
            resolution=RESOLUTION,
            threshold=Decimal("1.33"),
            subgroups=None,
            context=CONTEXT,
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 1}, "at least 2"),
        ({"threshold": Decimal(0)}, "positive"),
        ({"usl": Decimal("9.9")}, "USL must be above LSL"),
        ({"subgroups": (5, 4)}, "add up to n"),
        ({"subgroups": (1,) * 10}, "at least two values"),
        ({"resolution": Decimal("1E-30")}, "too large"),
    ],
)
def test_statements_that_cannot_be_proven_soundly_are_refused(
    kwargs: dict[str, object], message: str
) -> None:
    fields: dict[str, object] = {
        "n": 10,
        "lsl": LSL,
        "usl": USL,
        "resolution": RESOLUTION,
        "threshold": Decimal("1.33"),
        "subgroups": None,
    }
    with pytest.raises(ValueError, match=message):
        CpkStatement(**{**fields, **kwargs})  # type: ignore[arg-type]


def test_widths_leave_no_room_for_wrap_around() -> None:
    from protocol.zk.group.base import ORDER

    st_ = statement(500, threshold="3")
    wz, wq, we = st_.widths
    c1, c2 = st_.coefficients
    nw = st_.n * st_.width
    assert nw < 1 << wz and c1 * nw * nw < 1 << we and c1 * nw * nw // c2 < 1 << wq
    assert 4 ** (wz + 1) < ORDER // 4 and c2 * 2**wq + 2**we < ORDER // 2


def test_public_inputs_round_trip_and_are_canonical() -> None:
    st_ = statement(60, (5,) * 12, threshold="1.50")
    public = st_.public()
    assert public["threshold"] == "1.5" and (public["threshold_p"], public["threshold_d"]) == (3, 2)
    assert public["subgroups"] == ",".join(["5"] * 12) and public["sigma"] == "pooled"
    assert CpkStatement.from_public(public) == st_
    for name, bad in [
        ("threshold", "1.50"),
        ("lsl", "9.9000"),
        ("n", "60"),
        ("subgroups", "5,x"),
        ("sigma", "x"),
    ]:
        with pytest.raises(ProofInvalid) as info:
            CpkStatement.from_public({**public, name: bad})
        assert info.value.check.startswith("public input")
    with pytest.raises(ProofInvalid) as info:
        CpkStatement.from_public({**public, "extra": 1})
    assert info.value.check == "public input extra"


def test_decimal_text_is_canonical() -> None:
    assert [decimal_text(Decimal(x)) for x in ("1.00", "0.0010", "1E+2", "-0")] == ["1", "0.001", "100", "0"]
    with pytest.raises(ValueError):
        decimal_text(Decimal("NaN"))


@pytest.mark.parametrize("pooled", [False, True])
def test_an_attestation_carries_public_inputs_commitments_and_proof_only(pooled: bool) -> None:
    att = cpk_attestation(pooled)
    verify_attestation(att, expected=CONTEXT)
    st_ = parse_statement(att)
    assert isinstance(st_, CpkStatement) and st_.n == 60 and st_.threshold == Decimal("1.33")
    assert set(att.public) == set(st_.public()) | set(CONTEXT_FIELDS)
    assert sorted(att.commitments) == st_.commitment_names()
    text = att.model_dump_json()
    # No measurement, no aggregate: the only decimals are the public limits, resolution and threshold.
    for value in capable_values()[:10]:
        assert f'"{value}"' not in text
    assert set(att.proof) == ({"quadratic", "squares", "range"} if pooled else {"squares", "range"})
    assert len(att.proof["squares"]) == (1 if pooled else 2)
    if pooled:
        assert len(att.proof["quadratic"]["s"]) == 12  # one answer per subgroup


def test_each_proof_uses_fresh_randomness() -> None:
    kwargs = {"lsl": LSL, "usl": USL, "resolution": RESOLUTION, "threshold": Decimal(1), "subgroups": None}
    values = capable_values(20, seed=random.randrange(10**6), sd=0.01)
    a = prove_cpk_at_least(values, context=CONTEXT, **kwargs)  # type: ignore[arg-type]
    b = prove_cpk_at_least(values, context=CONTEXT, **kwargs)  # type: ignore[arg-type]
    assert a.commitments["S1"] != b.commitments["S1"]
    assert a.proof["range"]["A"] != b.proof["range"]["A"]
