"""``mtbf_at_least``: committed total test time T and failure count r give MTBF ≥ M.

Units: T is committed as ``T_s = ⌊hours / resolution⌋`` (rounding down only makes the claim harder), r as
an integer; M = p/d and the resolution rho = rho_n/rho_d are public decimals.

**Point form** (MTBF = T/max(r, 1)): T ≥ M·max(r, 1) ⇔ T - M·r ≥ 0 and T - M ≥ 0. With r = 0 the point
estimate T/r is infinite, so T - M·r ≥ 0 alone would let a zero-failure test of any length "meet" any M; the
second range makes a zero-failure test at least as long as one MTBF (M hours). **Chi-square lower-bound form** (time-terminated test, confidence C): the lower bound is
2T/χ²(C; 2r+2), and 2T/χ²(C; 2r+2) ≥ M ⇔ T ≥ M·g(r) with g(r) = χ²(C; 2r+2)/2. g is not linear in r, so
the statement uses a public line alpha + beta·r that lies above g at every integer r in [r_min, r_max]; then
T ≥ M·(alpha + beta·r) implies the bound. Both forms are the one inequality with (alpha, beta) = (0, 1) for the point form::

    D = K₁·T_s - K₂ - K₃·r ≥ 0,   K₁ = rho_n·d·alpha_d·beta_d,  K₂ = p·rho_d·alpha_n·beta_d,  K₃ = p·rho_d·betaₙ·alpha_d.

The point form adds E = L₁·T_s - L₂ ≥ 0 with L₁ = rho_n·d, L₂ = p·rho_d (T·rho_n/rho_d ≥ p/d, divided by
their gcd), derived by the verifier from C(T) as L₁·C(T) - L₂·G like every other range value. The
chi-square form needs no such range: its line has alpha ≥ g(0) > 0, so r = 0 already demands T ≥ M·alpha.

For even degrees of freedom the chi-square quantile is a Poisson tail: P(χ²₂ₖ ≤ 2u) = P(Poisson(u) ≥ k), so
g(r) is the u with P(Poisson(u) ≤ r) = 1 - C. This module computes it in pure Python (no SciPy in
``protocol``): the prover picks the line (the chord of g over [r_min, r_max], lifted until it is above g at
every integer, rounded up to 10⁻⁶), and the verifier re-checks the line it is given, P(Poisson(alpha + beta·r) ≤ r)
≤ 1 - C for every integer r in [r_min, r_max], with a relative safety margin. The tests compare with
scipy.stats.chi2.

The failure range [r_min, r_max] is public, r_max - r_min + 1 = 2^w a power of two, and the range proof
r - r_min ∈ [0, 2^w) is the bound. By default the prover takes the smallest k ≥ 4 with r < 2^k and the bucket
[2^(k-1), 2^k) (or [0, 15] for k = 4), revealing only that bucket; a line over one octave is within a few percent
of g, where a line over [0, 2^k) would be up to ~2.7 times g at r = 0 (the tests measure the slack). Range
proof: T_s - 1 ∈ [0, 2⁴⁴) (T > 0), r - r_min ∈ [0, 2^w) (r ∈ [0, 2³²) in the point form),
D ∈ [0, 2^w_d) with w_d = bitlen(K₁·2⁴⁴) and, in the point form only, E ∈ [0, 2^w_e) with
w_e = bitlen(L₁·2⁴⁴) (public input ``bits_m``); the statement is refused unless K₂ + K₃·2^k + 2^w_d and
L₂ + 2^w_e are < r_group/2, so a negative integer D or E cannot wrap into the range (the CPK module
docstring gives the argument). The point form's four ranges total 166 bits for K₁ = L₁ = 1, so its
aggregated proof is 256 bits wide (one more inner-product round than 128).

Example:
    >>> from decimal import Decimal
    >>> st = MtbfStatement(threshold=Decimal(50000), resolution=Decimal("0.001"), form="point",
    ...                    confidence=None, r_max=None)
    >>> st.meets(hours_scaled=150_000_000, failures=3), st.meets(hours_scaled=150_000_000, failures=4)
    (True, False)
    >>> st.meets(hours_scaled=49_999_999, failures=0), st.meets(hours_scaled=50_000_000, failures=0)
    (False, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from protocol.zk.errors import ProofInvalid
from protocol.zk.group.base import ORDER
from protocol.zk.pedersen import Combination, Opening
from protocol.zk.statements.cpk import decimal_text, parse_decimal
from protocol.zk.statements.relations import Relations

STATEMENT = "mtbf_at_least"
"""The statement name absorbed by the transcript and written in the attestation.

Example:
    >>> STATEMENT
    'mtbf_at_least'
"""

T_BITS = 44
"""Width of the range proof on T_s - 1 (at 0.001 h resolution, up to 1.7·10¹⁰ hours); with r < 2³²,
D < K₁·2⁴⁴ and E < L₁·2⁴⁴ the point form's ranges total 166 bits for K₁ = L₁ = 1 (a 256-bit proof).

Example:
    >>> T_BITS
    44
"""

POINT_R_BITS = 32
"""Width of the range proof on r in the point form.

Example:
    >>> POINT_R_BITS
    32
"""

MAX_R_BITS = 8
"""Chi-square form: r_max ≤ 2^8 - 1 (so at most 255 failures).

Example:
    >>> 2**MAX_R_BITS - 1
    255
"""

_LINE_DENOMINATOR = 10**6
_MARGIN = 1e-9


def poisson_cdf(r: int, u: float) -> float:
    """P(Poisson(u) ≤ r), summed in floating point from the mode outwards-safe recurrence.

    Example:
        >>> round(poisson_cdf(0, 1.0), 6)
        0.367879
    """
    if u <= 0:
        return 1.0
    log_term = -u
    total = 0.0
    for i in range(r + 1):
        if i:
            log_term += math.log(u) - math.log(i)
        total += math.exp(log_term)
    return min(total, 1.0)


def chi2_half_quantile(confidence: float, failures: int) -> float:
    """g(r) = χ²(C; 2r+2)/2, the u with P(Poisson(u) ≤ r) = 1 - C (bisection to 1e-12).

    Example:
        >>> round(chi2_half_quantile(0.9, 0), 6)  # -ln(0.1)
        2.302585
    """
    target = 1.0 - confidence
    lo, hi = 0.0, 1.0
    while poisson_cdf(failures, hi) > target:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if poisson_cdf(failures, mid) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return hi


def chi2_line(confidence: float, r_max: int, r_min: int = 0) -> tuple[Fraction, Fraction]:
    """The public line (alpha, beta) with alpha + beta·r ≥ g(r) for every integer r in [r_min, r_max] (prover side).

    Example:
        >>> alpha, beta = chi2_line(0.9, 15)
        >>> all(float(alpha + beta * r) >= chi2_half_quantile(0.9, r) for r in range(16))
        True
    """
    rs = range(r_min, r_max + 1)
    g = [chi2_half_quantile(confidence, r) for r in rs]
    beta = Fraction(math.ceil((g[-1] - g[0]) / (r_max - r_min) * _LINE_DENOMINATOR), _LINE_DENOMINATOR)
    lift = max(value - float(beta) * r for r, value in zip(rs, g, strict=True))
    alpha = Fraction(math.ceil(lift * _LINE_DENOMINATOR) + 1, _LINE_DENOMINATOR)
    return alpha, beta


def line_is_upper_bound(
    confidence: float, r_max: int, alpha: Fraction, beta: Fraction, r_min: int = 0
) -> bool:
    """The verifier's re-check: P(Poisson(alpha + beta·r) ≤ r) ≤ (1 - C)·(1 - 10⁻⁹) for every r in [r_min, r_max].

    Example:
        >>> line_is_upper_bound(0.9, 15, *chi2_line(0.9, 15))
        True
        >>> line_is_upper_bound(0.9, 15, Fraction(2), Fraction(1))
        False
    """
    target = (1.0 - confidence) * (1.0 - _MARGIN)
    return all(poisson_cdf(r, float(alpha + beta * r)) <= target for r in range(r_min, r_max + 1))


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _parse_fraction(text: object, name: str) -> Fraction:
    parts = text.split("/") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isdigit() and str(int(p)) == p for p in parts) or int(parts[1]) == 0:
        raise ProofInvalid(f"public input {name} is a fraction 'p/q'", check=f"public input {name}")
    value = Fraction(int(parts[0]), int(parts[1]))
    if _fraction_text(value) != text:
        raise ProofInvalid(f"public input {name} is not in lowest terms", check=f"public input {name}")
    return value


@dataclass(frozen=True)
class MtbfStatement:
    """The public inputs of ``mtbf_at_least`` and the algebra derived from them.

    Args:
        threshold: M in hours (positive decimal); resolution: hours per unit of T_s.
        form: ``"point"`` or ``"chi2_lower"``; confidence: C in (0.5, 1) for the chi-square form.
        r_max, r_min: the public failure range of the chi-square form (r_max - r_min + 1 a power of two ≥ 16,
            r_max < 256);
        alpha, beta: the public line (``None``: computed by :func:`chi2_line`).

    Example:
        >>> st = MtbfStatement(threshold=Decimal(1000), resolution=Decimal(1), form="chi2_lower",
        ...                    confidence=Decimal("0.9"), r_max=15)
        >>> st.line[0] > 2  # alpha ≥ -ln(0.1)
        True
    """

    threshold: Decimal
    resolution: Decimal
    form: str
    confidence: Decimal | None
    r_max: int | None
    r_min: int = 0
    alpha: Fraction | None = None
    beta: Fraction | None = None

    def __post_init__(self) -> None:
        if not self.threshold > 0 or not self.resolution > 0:
            raise ValueError("the threshold and the resolution are positive")
        if self.form == "point":
            if self.confidence is not None or self.r_max is not None or self.r_min:
                raise ValueError("the point form has no confidence, r_min or r_max")
        elif self.form == "chi2_lower":
            if self.confidence is None or not Decimal("0.5") <= self.confidence < 1:
                raise ValueError("the chi-square form needs a confidence in [0.5, 1)")
            r_max, span = self.r_max, (self.r_max or 0) - self.r_min + 1
            if r_max is None or self.r_min < 0 or span & (span - 1) or span < 16 or r_max >= 1 << MAX_R_BITS:
                raise ValueError("r_max - r_min + 1 is a power of two >= 16, r_min >= 0 and r_max <= 255")
        else:
            raise ValueError("form is 'point' or 'chi2_lower'")
        _, k2, k3 = self.coefficients
        _, l2 = self.margin_coefficients
        _, r_bits, d_bits, m_bits = self.widths
        if (
            max(d_bits, m_bits) > 128
            or k2 + k3 * 2**r_bits + 2**d_bits >= ORDER // 2
            or l2 + 2**m_bits >= ORDER // 2
        ):
            raise ValueError("the statement's numbers are too large for a sound range proof")

    @cached_property
    def line(self) -> tuple[Fraction, Fraction]:
        """(alpha, beta): (0, 1) for the point form, the given or computed chi-square line otherwise.

        Example:
            >>> MtbfStatement(threshold=Decimal(1), resolution=Decimal(1), form="point", confidence=None,
            ...               r_max=None).line
            (Fraction(0, 1), Fraction(1, 1))
        """
        if self.form == "point":
            return Fraction(0), Fraction(1)
        if self.alpha is not None and self.beta is not None:
            return self.alpha, self.beta
        assert self.confidence is not None and self.r_max is not None
        return chi2_line(float(self.confidence), self.r_max, self.r_min)

    @cached_property
    def coefficients(self) -> tuple[int, int, int]:
        """(K₁, K₂, K₃) of D = K₁·T_s - K₂ - K₃·r.

        Example:
            >>> MtbfStatement(threshold=Decimal(50), resolution=Decimal("0.5"), form="point", confidence=None,
            ...               r_max=None).coefficients
            (1, 0, 100)
        """
        m, res = Fraction(self.threshold), Fraction(self.resolution)
        alpha, beta = self.line
        p, d = m.numerator, m.denominator
        k1 = res.numerator * d * alpha.denominator * beta.denominator
        k2 = p * res.denominator * alpha.numerator * beta.denominator
        k3 = p * res.denominator * beta.numerator * alpha.denominator
        g = math.gcd(k1, k2, k3)
        return k1 // g, k2 // g, k3 // g

    @cached_property
    def margin_coefficients(self) -> tuple[int, int]:
        """(L₁, L₂) of the point form's E = L₁·T_s - L₂ (T ≥ M in units of the resolution).

        Example:
            >>> MtbfStatement(threshold=Decimal(50), resolution=Decimal("0.5"), form="point", confidence=None,
            ...               r_max=None).margin_coefficients
            (1, 100)
        """
        m, res = Fraction(self.threshold), Fraction(self.resolution)
        l1, l2 = res.numerator * m.denominator, m.numerator * res.denominator
        g = math.gcd(l1, l2)
        return l1 // g, l2 // g

    @cached_property
    def widths(self) -> tuple[int, int, int, int]:
        """Range widths of T_s - 1, r, D and E (0: the chi-square form has no E range).

        Example:
            >>> MtbfStatement(threshold=Decimal(50), resolution=Decimal(1), form="point", confidence=None,
            ...               r_max=None).widths
            (44, 32, 45, 45)
        """
        r_bits = POINT_R_BITS if self.r_max is None else (self.r_max - self.r_min + 1).bit_length() - 1
        m_bits = (self.margin_coefficients[0] << T_BITS).bit_length() if self.form == "point" else 0
        return T_BITS, r_bits, (self.coefficients[0] << T_BITS).bit_length(), m_bits

    def relations(self) -> Relations:
        """The range relations: T_s - 1, r, D and, in the point form, E (no squares).

        Example:
            >>> rel = MtbfStatement(threshold=Decimal(50), resolution=Decimal(1), form="point", confidence=None,
            ...                     r_max=None).relations()
            >>> [w for _, w in rel.ranges]
            [44, 32, 45, 45]
        """
        k1, k2, k3 = self.coefficients
        l1, l2 = self.margin_coefficients
        t_bits, r_bits, d_bits, m_bits = self.widths
        ranges = [
            (Combination(-1, {"T": 1}), t_bits),
            (Combination(-self.r_min, {"r": 1}), r_bits),
            (Combination(-k2, {"T": k1, "r": -k3}), d_bits),
        ]
        if m_bits:
            ranges.append((Combination(-l2, {"T": l1}), m_bits))
        return Relations(squares=[], ranges=ranges)

    def meets(self, *, hours_scaled: int, failures: int) -> bool:
        """True when an honest proof exists for T_s = ``hours_scaled`` and r = ``failures``.

        Example:
            >>> st = MtbfStatement(threshold=Decimal(10), resolution=Decimal(1), form="point", confidence=None,
            ...                    r_max=None)
            >>> st.meets(hours_scaled=9, failures=0), st.meets(hours_scaled=10, failures=0)
            (False, True)
        """
        values = {"T": hours_scaled, "r": failures}
        return all(0 <= form.evaluate(values) < 1 << w for form, w in self.relations().ranges)

    def openings(self, *, hours_scaled: int, failures: int) -> dict[str, Opening]:
        """Fresh openings of the commitments T and r.

        Example:
            >>> st = MtbfStatement(threshold=Decimal(10), resolution=Decimal(1), form="point", confidence=None,
            ...                    r_max=None)
            >>> sorted(st.openings(hours_scaled=5, failures=0))
            ['T', 'r']
        """
        return {"T": Opening.fresh(hours_scaled), "r": Opening.fresh(failures)}

    def public(self) -> dict[str, int | str]:
        """The named public inputs (``bits_m``, the width of E, only in the point form).

        Example:
            >>> MtbfStatement(threshold=Decimal(10), resolution=Decimal(1), form="point", confidence=None,
            ...               r_max=None).public()["form"]
            'point'
        """
        m = Fraction(self.threshold)
        alpha, beta = self.line
        t_bits, r_bits, d_bits, m_bits = self.widths
        public: dict[str, int | str] = {
            "threshold": decimal_text(self.threshold),
            "threshold_p": m.numerator,
            "threshold_d": m.denominator,
            "resolution": decimal_text(self.resolution),
            "form": self.form,
            "confidence": "" if self.confidence is None else decimal_text(self.confidence),
            "r_max": -1 if self.r_max is None else self.r_max,
            "r_min": self.r_min,
            "alpha": _fraction_text(alpha),
            "beta": _fraction_text(beta),
            "bits_t": t_bits,
            "bits_r": r_bits,
            "bits_d": d_bits,
        }
        if m_bits:
            public["bits_m"] = m_bits
        return public

    @classmethod
    def from_public(cls, public: Mapping[str, object]) -> MtbfStatement:
        """Rebuild the statement from public inputs, re-checking the chi-square line and every derived value.

        Example:
            >>> st = MtbfStatement(threshold=Decimal(10), resolution=Decimal(1), form="chi2_lower",
            ...                    confidence=Decimal("0.9"), r_max=15)
            >>> MtbfStatement.from_public(st.public()).line == st.line
            True
            >>> MtbfStatement.from_public({**st.public(), "alpha": "1/1"})
            Traceback (most recent call last):
            ...
            protocol.zk.errors.ProofInvalid: the public line is not above the chi-square quantile
        """
        form = public.get("form")
        r_max = public.get("r_max")
        confidence = public.get("confidence")
        if form not in {"point", "chi2_lower"}:
            raise ProofInvalid("public input form is 'point' or 'chi2_lower'", check="public input form")
        r_min = public.get("r_min")
        for name, value in (("r_max", r_max), ("r_min", r_min)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ProofInvalid(f"public input {name} is an integer", check=f"public input {name}")
        alpha = _parse_fraction(public.get("alpha"), "alpha")
        beta = _parse_fraction(public.get("beta"), "beta")
        try:
            statement = cls(
                threshold=parse_decimal(public.get("threshold"), "threshold"),
                resolution=parse_decimal(public.get("resolution"), "resolution"),
                form=str(form),
                confidence=None if confidence == "" else parse_decimal(confidence, "confidence"),
                r_max=None if r_max == -1 else int(str(r_max)),
                r_min=int(str(r_min)),
                alpha=alpha if form == "chi2_lower" else None,
                beta=beta if form == "chi2_lower" else None,
            )
        except ValueError as exc:
            raise ProofInvalid(
                f"the public inputs do not form a statement: {exc}", check="public input"
            ) from exc
        if statement.form == "chi2_lower":
            assert statement.confidence is not None and statement.r_max is not None
            if not line_is_upper_bound(
                float(statement.confidence), statement.r_max, alpha, beta, statement.r_min
            ):
                raise ProofInvalid(
                    "the public line is not above the chi-square quantile", check="public input alpha"
                )
        expected = statement.public()
        for name in sorted(set(expected) | set(public)):
            if public.get(name) != expected.get(name):
                raise ProofInvalid(
                    f"public input {name} does not match the statement", check=f"public input {name}"
                )
        return statement


__all__ = [
    "MAX_R_BITS",
    "POINT_R_BITS",
    "STATEMENT",
    "T_BITS",
    "MtbfStatement",
    "chi2_half_quantile",
    "chi2_line",
    "line_is_upper_bound",
    "poisson_cdf",
]
