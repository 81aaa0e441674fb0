"""mtbf_at_least: the pure-Python chi-square quantile and line against SciPy and the SDK; both forms."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from protocol.zk.attestation import prove_mtbf_at_least, verify_attestation
from protocol.zk.errors import ProofInvalid, WitnessDoesNotMeet
from protocol.zk.statements.mtbf import (
    MtbfStatement,
    chi2_half_quantile,
    chi2_line,
    line_is_upper_bound,
    poisson_cdf,
)
from supplier_sdk.kpi import mtbf
from tests.protocol.zk.proof_cases import MTBF_CONTEXT, mtbf_attestation


@pytest.mark.parametrize("confidence", [0.5, 0.6, 0.8, 0.9, 0.95, 0.99])
def test_the_quantile_matches_scipy(confidence: float) -> None:
    for r in [*range(0, 40), 100, 255]:
        expected = stats.chi2.ppf(confidence, 2 * r + 2) / 2
        assert chi2_half_quantile(confidence, r) == pytest.approx(expected, rel=1e-9)


def test_the_poisson_cdf_matches_scipy() -> None:
    for r, u in [(0, 0.5), (3, 2.0), (20, 25.0), (255, 300.0)]:
        assert poisson_cdf(r, u) == pytest.approx(stats.poisson.cdf(r, u), rel=1e-9)


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize(
    ("r_min", "r_max", "worst"), [(0, 15, 1.6), (16, 31, 1.05), (128, 255, 1.01), (0, 63, 3.0)]
)
def test_the_public_line_lies_above_the_scipy_quantile(
    confidence: float, r_min: int, r_max: int, worst: float
) -> None:
    alpha, beta = chi2_line(confidence, r_max, r_min)
    slack = []
    for r in range(r_min, r_max + 1):
        g = stats.chi2.ppf(confidence, 2 * r + 2) / 2
        bound = float(alpha + beta * r)
        assert bound >= g
        slack.append(bound / g)
    # The price of linearity: exact near one point, loosest at the ends; one octave keeps it small.
    assert min(slack) < 1.0001
    assert max(slack) < worst
    assert line_is_upper_bound(confidence, r_max, alpha, beta, r_min)
    assert not line_is_upper_bound(confidence, r_max, alpha - Fraction(1, 1000), beta, r_min)


@settings(max_examples=150, deadline=None)
@given(
    hours=st.integers(1, 10**7),
    failures=st.integers(0, 15),
    confidence=st.sampled_from(["0.6", "0.8", "0.9", "0.95"]),
    threshold=st.sampled_from([1000, 5000, 50000]),
)
def test_chi2_form_is_conservative_for_the_sdk_lower_bound(
    hours: int, failures: int, confidence: str, threshold: int
) -> None:
    st_ = MtbfStatement(
        threshold=Decimal(threshold),
        resolution=Decimal(1),
        form="chi2_lower",
        confidence=Decimal(confidence),
        r_max=15,
    )
    lower = mtbf(total_hours=hours, failures=failures, confidence=float(confidence)).lower
    if st_.meets(hours_scaled=hours, failures=failures):
        assert lower >= threshold * (1 - 1e-12)


@settings(max_examples=150, deadline=None)
@given(hours=st.integers(1, 10**7), failures=st.integers(0, 1000), threshold=st.integers(1, 10**6))
def test_point_form_is_t_over_max_r_1(hours: int, failures: int, threshold: int) -> None:
    st_ = MtbfStatement(
        threshold=Decimal(threshold), resolution=Decimal(1), form="point", confidence=None, r_max=None
    )
    assert st_.meets(hours_scaled=hours, failures=failures) == (hours >= threshold * max(failures, 1))


def test_zero_failures_need_one_mtbf_of_testing_in_the_point_form_and_t_times_ln_in_the_chi2_form() -> None:
    # A short zero-failure test used to "meet" any threshold (T - M·0 >= 0); now T >= M is required.
    for hours in (Decimal(1), Decimal("999999.999")):
        with pytest.raises(WitnessDoesNotMeet):
            prove_mtbf_at_least(
                hours=hours,
                failures=0,
                threshold=Decimal(10**6),
                form="point",
                confidence=None,
                context=MTBF_CONTEXT,
            )
    point = prove_mtbf_at_least(
        hours=Decimal(10**6),
        failures=0,
        threshold=Decimal(10**6),
        form="point",
        confidence=None,
        context=MTBF_CONTEXT,
    )
    verify_attestation(point, expected=MTBF_CONTEXT)
    assert point.public["bits_m"] == 45
    # Zero failures at 90 %: T ≥ M·(-ln 0.1) = 2.3026·M, plus the line's slack at r = 0.
    with pytest.raises(WitnessDoesNotMeet):
        prove_mtbf_at_least(
            hours=Decimal(2_302_585),
            failures=0,
            threshold=Decimal(10**6),
            form="chi2_lower",
            confidence=Decimal("0.9"),
            context=MTBF_CONTEXT,
        )
    alpha, _ = chi2_line(0.9, 15)
    enough = Decimal(int(alpha * 10**6) + 1)
    att = prove_mtbf_at_least(
        hours=enough,
        failures=0,
        threshold=Decimal(10**6),
        form="chi2_lower",
        confidence=Decimal("0.9"),
        context=MTBF_CONTEXT,
    )
    verify_attestation(att)


def test_hours_are_rounded_down_to_the_resolution() -> None:
    # 100000.0009 h at 0.001 h is committed as 100000.000 h: exactly 2 x 50000, still meets the point form.
    att = prove_mtbf_at_least(
        hours=Decimal("100000.0009"),
        failures=2,
        threshold=Decimal(50000),
        form="point",
        confidence=None,
        context=MTBF_CONTEXT,
    )
    verify_attestation(att)
    with pytest.raises(WitnessDoesNotMeet):
        prove_mtbf_at_least(
            hours=Decimal("99999.9999"),
            failures=2,
            threshold=Decimal(50000),
            form="point",
            confidence=None,
            context=MTBF_CONTEXT,
        )


def test_r_max_is_the_smallest_power_of_two_bound() -> None:
    kwargs = {
        "threshold": Decimal(10),
        "form": "chi2_lower",
        "confidence": Decimal("0.9"),
        "context": MTBF_CONTEXT,
    }
    assert prove_mtbf_at_least(hours=Decimal(10**6), failures=3, **kwargs).public["r_max"] == 15  # type: ignore[arg-type]
    assert prove_mtbf_at_least(hours=Decimal(10**6), failures=16, **kwargs).public["r_max"] == 31  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at most 255"):
        prove_mtbf_at_least(hours=Decimal(10**9), failures=256, **kwargs)  # type: ignore[arg-type]


def test_a_line_below_the_quantile_is_rejected_by_the_verifier() -> None:
    att = mtbf_attestation("chi2_lower")
    alpha = Fraction(str(att.public["alpha"]))
    lower = alpha - Fraction(1, 10)
    changed = att.model_copy(
        update={"public": {**att.public, "alpha": f"{lower.numerator}/{lower.denominator}"}}
    )
    with pytest.raises(ProofInvalid) as info:
        verify_attestation(changed)
    assert info.value.check == "public input alpha"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("form", "interval"),
        ("r_max", "15"),
        ("alpha", "2/4"),
        ("beta", "1.5"),
        ("confidence", "0.90"),
        ("bits_t", 32),
        ("bits_m", 45),  # the chi-square form has no E range
    ],
)
def test_malformed_public_inputs_are_rejected(name: str, value: object) -> None:
    att = mtbf_attestation("chi2_lower")
    with pytest.raises(ProofInvalid) as info:
        MtbfStatement.from_public({**att.statement_public(), name: value})
    assert info.value.check.startswith("public input")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"form": "point", "confidence": Decimal("0.9"), "r_max": None}, "no confidence"),
        ({"form": "chi2_lower", "confidence": Decimal("0.3"), "r_max": 15}, "confidence"),
        ({"form": "chi2_lower", "confidence": Decimal("0.9"), "r_max": 10}, "power of two"),
        ({"form": "chi2_lower", "confidence": Decimal("0.9"), "r_max": 511}, "power of two"),
        ({"form": "chi2_lower", "confidence": Decimal("0.9"), "r_max": 31, "r_min": 8}, "power of two"),
        ({"form": "weibull", "confidence": None, "r_max": None}, "form"),
    ],
)
def test_statements_outside_the_supported_forms_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MtbfStatement(threshold=Decimal(1), resolution=Decimal(1), **kwargs)  # type: ignore[arg-type]


@settings(max_examples=10, deadline=None)
@given(
    failures=st.integers(0, 40),
    margin=st.floats(1.0, 3.0),
    form=st.sampled_from(["point", "chi2_lower"]),
    confidence=st.sampled_from(["0.6", "0.9", "0.95"]),
)
def test_tests_that_meet_the_threshold_always_verify(
    failures: int, margin: float, form: str, confidence: str
) -> None:
    threshold = Decimal(50000)
    g = max(failures, 1) if form == "point" else stats.chi2.ppf(float(confidence), 2 * failures + 2) / 2
    hours = Decimal(int(float(threshold) * g * margin * 1.1) + 1)  # 10 % above the line's worst slack
    att = prove_mtbf_at_least(
        hours=hours,
        failures=failures,
        threshold=threshold,
        form="point" if form == "point" else "chi2_lower",
        confidence=None if form == "point" else Decimal(confidence),
        context=MTBF_CONTEXT,
    )
    verify_attestation(att, expected=MTBF_CONTEXT)
