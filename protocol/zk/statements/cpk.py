"""``cpk_at_least``: the committed aggregates of a period's measurements give a capability index ≥ t.

Units. Every measurement x is scaled by the public resolution: ``y = (x - LSL)/resolution`` must be an
integer (the prover refuses otherwise), ``W = (USL - LSL)/resolution`` likewise; t = p/d is the threshold as
a reduced fraction. All algebra below is over integers.

**Overall sigma (Ppk; ``subgroups`` absent).** With N values, S1 = Σy, S2 = Σy², Q = N·S2 - S1²,
a = N·W - S1 (N times the distance to USL), b = S1 (N times the distance to LSL) and the sample SD
s² = Q/(N(N-1)) (divisor N-1, no c4, as the SDK prints Pp/Ppk)::

    Ppk ≥ t  ⇔  for z in {a, b}: z ≥ 0 and (N-1)·d²·z² - 9·N·p²·Q ≥ 0        (exact)

**Pooled within-subgroup sigma (Cpk; subgroup sizes n₁…n_k public).** The SDK (Minitab's default) prints
sigma_within = Sp/c4(nu+1), Sp² = Σⱼ(S2ⱼ - S1ⱼ²/nⱼ)/nu, nu = Σ(nⱼ - 1), with the *grand* mean for the distances.
Let M = lcm(nⱼ) and Q = M·S2 - Σⱼ (M/nⱼ)·S1ⱼ² = M·nu·Sp² (S2 = ΣΣy², S1ⱼ the subgroup sums). c4 is not
rational; Kershaw's inequality Γ(x+1)/Γ(x+½) > √(x+¼) gives c4(m)² > (2m-3)/(2m-2), i.e. with m = nu+1
``c4(nu+1)² > (2nu-1)/(2nu)``. Requiring ``(2nu-1)/(2nu)·(z/N)² ≥ 9t²·Sp²`` therefore implies
``c4²·(z/N)² ≥ 9t²·Sp²``, i.e. the SDK's Cpk ≥ t. Multiplied out::

    for z in {a, b}: z ≥ 0 and (2nu-1)·M·d²·z² - 18·p²·N²·Q ≥ 0               (conservative, nu ≥ 1)

so a verified pooled proof means the SDK's printed Cpk (with the c4(nu+1) correction) is ≥ t; near the
threshold an honest prover whose printed Cpk is a hair above t may be refused (the bound sits just below c4²).

**Proof shape: one distance bound instead of two squared differences.** The prover also commits to
Z = ⌈√(c₂·Q/c₁)⌉, the smallest integer with c₁·Z² ≥ c₂·Q (c₁, c₂ the coefficients above), and proves

    Z ≥ 0,  a - Z ≥ 0,  b - Z ≥ 0,  Q ≥ 0,  E = c₁·Z² - c₂·Q ≥ 0

which is equivalent to the inequality for both z (min(a, b) ≥ Z ≥ 0 and c₁·min(a,b)² ≥ c₁·Z² ≥ c₂·Q; and
an honest min(a, b) ≥ √(c₂Q/c₁) is an integer, so it is ≥ Z). One big-width range (E) replaces two
(D_a, D_b), which keeps a typical proof at 128 bits instead of 256.

**Commitments** (Pedersen, fresh blindings): overall: S1, S2, S1sq, Z, Zsq; pooled: P, S1, S2, T, Z, Zsq,
where P = Σ S1ⱼ·Pⱼ + r·H is one vector commitment to the subgroup sums (generators Pⱼ from hash-to-curve) and
T = Σⱼ (M/nⱼ)·S1ⱼ². Sigma proofs: Zsq = Z²; overall S1sq = S1²; pooled, one quadratic-form proof that S1 = Σ S1ⱼ
and T = Σ (M/nⱼ)·S1ⱼ² over the values in P (:func:`protocol.zk.sigma.prove_quadratic`: one scalar per subgroup,
four points in all). Every other quantity is derived homomorphically: a = N·W - S1, b = S1, Q (overall
N·S2 - S1sq, pooled M·S2 - T) and E. One aggregated range proof shows Z, a - Z, b - Z ∈ [0, 2^w_z),
Q ∈ [0, 2^w_q) — without this check a "negative variance" (S2 < S1²/N) would pass — and E ∈ [0, 2^w_e).

**No wrap-around.** Commitments hold values mod r (r ≈ 2²⁵⁴·⁹). w_z = bitlen(N·W), w_e = bitlen(c₁·(NW)²),
w_q = bitlen(⌊c₁·(NW)²/c₂⌋) are public functions of N, W, t (so an honest witness always fits) and the
statement is refused unless 4^(w_z+1) < r/4 and c₂·2^w_q + 2^w_e < r/2. Then: Z < 2^w_z, so Zsq ≡ Z² is
the integer square; a = (a - Z) + Z and b = (b - Z) + Z are integers in [Z, 2^(w_z+1)) (so a + b ≡ N·W
holds as integers, and in the overall form S1 = b, S1sq = b² exactly); and X = c₁Z² - c₂Q is > -c₂·2^w_q,
so if X were negative, E ≡ X + r ≥ r - c₂·2^w_q > 2^w_e, which the range proof refuses. So the verified
relation is the integer inequality. (Subgroup sums are not range-proven one by one: T = Σ (M/nⱼ)·S1ⱼ² holds
modulo r, and as integers once an auditor opens P within sane bounds.)

Example:
    >>> from decimal import Decimal
    >>> st = CpkStatement(n=5, lsl=Decimal("9.0"), usl=Decimal("11.0"), resolution=Decimal("0.1"),
    ...                   threshold=Decimal("1.33"), subgroups=None)
    >>> st.width, st.threshold_fraction, st.widths
    (20, (133, 100), (7, 9, 29))
    >>> st.meets([10, 10, 11, 9, 10])  # y values: mean 10 = centre, tiny spread
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cached_property

from protocol.zk.errors import ProofInvalid
from protocol.zk.group.base import ORDER
from protocol.zk.pedersen import Combination, Opening, VectorOpening
from protocol.zk.statements.relations import QuadraticForm, Relations

STATEMENT = "cpk_at_least"
"""The statement name absorbed by the transcript and written in the attestation.

Example:
    >>> STATEMENT
    'cpk_at_least'
"""

MAX_SUBGROUPS = 10_000
"""The most subgroups a pooled statement may have (one 32-byte answer and one hashed generator each).

Example:
    >>> MAX_SUBGROUPS
    10000
"""


def decimal_text(value: Decimal) -> str:
    """The canonical text of a finite decimal: no exponent, no trailing zeros (``"10"``, ``"1.33"``).

    Example:
        >>> decimal_text(Decimal("1.330")), decimal_text(Decimal("1E+1")), decimal_text(Decimal("-0.0"))
        ('1.33', '10', '0')
    """
    if not value.is_finite():
        raise ValueError("a public input is a finite decimal")
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def parse_decimal(text: object, name: str) -> Decimal:
    """Parse a public decimal input, refusing anything but its canonical text (``check="public input …"``).

    Example:
        >>> parse_decimal("1.33", "threshold")
        Decimal('1.33')
        >>> parse_decimal("1.330", "threshold")
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: public input threshold is not a canonical decimal
    """
    try:
        value = Decimal(text) if isinstance(text, str) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or decimal_text(value) != text:
        raise ProofInvalid(f"public input {name} is not a canonical decimal", check=f"public input {name}")
    return value


def scaled(value: Decimal, resolution: Decimal, what: str) -> int:
    """``value / resolution`` as an integer; ``ValueError`` when it is not a whole number of steps.

    Example:
        >>> scaled(Decimal("10.25"), Decimal("0.05"), "x")
        205
        >>> scaled(Decimal("10.26"), Decimal("0.05"), "x")
        Traceback (most recent call last):
        ...
        ValueError: x = 10.26 is not a multiple of the resolution 0.05
    """
    ratio = Fraction(value) / Fraction(resolution)
    if ratio.denominator != 1:
        raise ValueError(f"{what} = {value} is not a multiple of the resolution {resolution}")
    return ratio.numerator


@dataclass(frozen=True)
class CpkStatement:
    """The public inputs of ``cpk_at_least`` and the algebra derived from them.

    Args:
        n: number of measurements N.
        lsl, usl, resolution: specification limits and measurement resolution (decimals).
        threshold: t (a positive decimal).
        subgroups: sizes of consecutive subgroups (pooled within-subgroup sigma), or ``None`` (overall sigma).

    Example:
        >>> st = CpkStatement(n=4, lsl=Decimal("0"), usl=Decimal("1"), resolution=Decimal("0.01"),
        ...                   threshold=Decimal("1"), subgroups=(2, 2))
        >>> st.commitment_names()
        ['P', 'S1', 'S2', 'T', 'Z', 'Zsq']
    """

    n: int
    lsl: Decimal
    usl: Decimal
    resolution: Decimal
    threshold: Decimal
    subgroups: tuple[int, ...] | None

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ValueError("a capability statement needs at least 2 measurements")
        if not self.resolution > 0:
            raise ValueError("the resolution is positive")
        if not self.usl > self.lsl:
            raise ValueError("USL must be above LSL")
        if not self.threshold > 0:
            raise ValueError("the threshold is positive")
        if self.subgroups is not None:
            if not 1 <= len(self.subgroups) <= MAX_SUBGROUPS or any(k < 1 for k in self.subgroups):
                raise ValueError(f"between 1 and {MAX_SUBGROUPS} subgroups, each of at least one value")
            if sum(self.subgroups) != self.n:
                raise ValueError("the subgroup sizes add up to n")
            if self.dof < 1:
                raise ValueError("pooled sigma needs a subgroup with at least two values")
        scaled(self.usl - self.lsl, self.resolution, "USL - LSL")
        wz, wq, we = self.widths
        _, c2 = self.coefficients
        if max(wz, wq, we) > 128 or 4 ** (wz + 1) >= ORDER // 4 or c2 * 2**wq + 2**we >= ORDER // 2:
            raise ValueError(
                "the statement's numbers are too large for a sound range proof; use a coarser resolution"
            )

    @property
    def form(self) -> str:
        """``"overall"`` (Ppk) or ``"pooled"`` (within-subgroup Cpk).

        Example:
            >>> CpkStatement(n=2, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1), threshold=Decimal(1),
            ...              subgroups=None).form
            'overall'
        """
        return "overall" if self.subgroups is None else "pooled"

    @cached_property
    def width(self) -> int:
        """W = (USL - LSL)/resolution.

        Example:
            >>> CpkStatement(n=2, lsl=Decimal(0), usl=Decimal(3), resolution=Decimal("0.5"),
            ...              threshold=Decimal(1), subgroups=None).width
            6
        """
        return scaled(self.usl - self.lsl, self.resolution, "USL - LSL")

    @cached_property
    def threshold_fraction(self) -> tuple[int, int]:
        """(p, d): the threshold as a reduced fraction.

        Example:
            >>> CpkStatement(n=2, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal("1.50"), subgroups=None).threshold_fraction
            (3, 2)
        """
        f = Fraction(self.threshold)
        return f.numerator, f.denominator

    @cached_property
    def dof(self) -> int:
        """nu: N - 1 for overall sigma, Σ(nⱼ - 1) for pooled.

        Example:
            >>> CpkStatement(n=6, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=(3, 3)).dof
            4
        """
        return self.n - 1 if self.subgroups is None else sum(k - 1 for k in self.subgroups)

    @cached_property
    def lcm(self) -> int:
        """M = lcm of the subgroup sizes (1 for overall sigma).

        Example:
            >>> CpkStatement(n=10, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=(4, 6)).lcm
            12
        """
        return 1 if self.subgroups is None else math.lcm(*self.subgroups)

    @cached_property
    def coefficients(self) -> tuple[int, int]:
        """(c₁, c₂) of the inequality c₁·z² - c₂·Q ≥ 0.

        Example:
            >>> CpkStatement(n=5, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=None).coefficients
            (4, 45)
        """
        p, d = self.threshold_fraction
        if self.subgroups is None:
            return (self.n - 1) * d * d, 9 * self.n * p * p
        return (2 * self.dof - 1) * self.lcm * d * d, 18 * p * p * self.n * self.n

    @cached_property
    def widths(self) -> tuple[int, int, int]:
        """Range widths (w_z, w_q, w_e) in bits: of Z, a - Z and b - Z; of Q; of E (see the module docstring).

        Example:
            >>> CpkStatement(n=5, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=None).widths
            (3, 2, 7)
        """
        nw = self.n * self.width
        c1, c2 = self.coefficients
        return nw.bit_length(), max(1, (c1 * nw * nw // c2).bit_length()), (c1 * nw * nw).bit_length()

    def commitment_names(self) -> list[str]:
        """The names of the commitments an attestation carries, sorted.

        Example:
            >>> CpkStatement(n=5, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=None).commitment_names()
            ['S1', 'S1sq', 'S2', 'Z', 'Zsq']
        """
        if self.subgroups is None:
            return ["S1", "S1sq", "S2", "Z", "Zsq"]
        return ["P", "S1", "S2", "T", "Z", "Zsq"]

    def relations(self) -> Relations:
        """The square and range relations the proof establishes (see the module docstring).

        Example:
            >>> rel = CpkStatement(n=5, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...                    threshold=Decimal(1), subgroups=None).relations()
            >>> len(rel.squares), [w for _, w in rel.ranges]
            (2, [3, 3, 3, 2, 7])
        """
        nw = self.n * self.width
        c1, c2 = self.coefficients
        a_minus_z = Combination(nw, {"S1": -1, "Z": -1})
        b_minus_z = Combination(0, {"S1": 1, "Z": -1})
        squares = [(Combination(0, {"Z": 1}), "Zsq")]
        quadratic = None
        if self.subgroups is None:
            q = Combination(0, {"S2": self.n, "S1sq": -1})
            squares.append((Combination(0, {"S1": 1}), "S1sq"))
        else:
            q = Combination(0, {"S2": self.lcm, "T": -1})
            quadratic = QuadraticForm(vector="P", total="S1", result="T", weights=self.weights)
        e = Combination(0, {"Zsq": c1, **{k: -c2 * v for k, v in q.coefficients.items()}})
        wz, wq, we = self.widths
        return Relations(
            squares=squares,
            ranges=[(Combination(0, {"Z": 1}), wz), (a_minus_z, wz), (b_minus_z, wz), (q, wq), (e, we)],
            quadratic=quadratic,
        )

    @cached_property
    def weights(self) -> tuple[int, ...]:
        """The pooled form's weights M/nⱼ of the squared subgroup sums (empty for overall sigma).

        Example:
            >>> CpkStatement(n=10, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=(4, 6)).weights
            (3, 2)
        """
        return () if self.subgroups is None else tuple(self.lcm // k for k in self.subgroups)

    def subgroup_sums(self, ys: Sequence[int]) -> tuple[int, ...]:
        """S1ⱼ, the sums of the consecutive subgroups (empty for overall sigma).

        Example:
            >>> CpkStatement(n=4, lsl=Decimal(0), usl=Decimal(9), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=(1, 3)).subgroup_sums([1, 2, 3, 4])
            (1, 9)
        """
        if self.subgroups is None:
            return ()
        sums, start = [], 0
        for k in self.subgroups:
            sums.append(sum(ys[start : start + k]))
            start += k
        return tuple(sums)

    def witness(self, ys: Sequence[int]) -> dict[str, int]:
        """The committed values (by name) for scaled measurements ``ys`` (y = (x - LSL)/resolution).

        Example:
            >>> CpkStatement(n=3, lsl=Decimal(0), usl=Decimal(9), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=None).witness([1, 2, 3])
            {'S1': 6, 'S2': 14, 'S1sq': 36, 'Z': 9, 'Zsq': 81}
        """
        if len(ys) != self.n:
            raise ValueError(f"the statement is about {self.n} measurements, got {len(ys)}")
        values: dict[str, int] = {"S1": sum(ys), "S2": sum(y * y for y in ys)}
        if self.subgroups is None:
            values["S1sq"] = values["S1"] ** 2
        else:
            sums = self.subgroup_sums(ys)
            values["T"] = sum(w * x * x for w, x in zip(self.weights, sums, strict=True))
        return self.complete(values)

    def data_names(self) -> list[str]:
        """The commitments that depend on the measurements alone (not on t): what a lab commits to, sorted.

        Example:
            >>> CpkStatement(n=5, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=(2, 3)).data_names()
            ['P', 'S1', 'S2', 'T']
        """
        return ["S1", "S1sq", "S2"] if self.subgroups is None else ["P", "S1", "S2", "T"]

    def complete(self, aggregates: Mapping[str, int]) -> dict[str, int]:
        """The committed values given the data aggregates (S1, S2 and S1sq or T): adds Z and Zsq, which depend
        on t (so a prover can add them to commitments a lab made without knowing t).

        Example:
            >>> CpkStatement(n=3, lsl=Decimal(0), usl=Decimal(9), resolution=Decimal(1),
            ...              threshold=Decimal(1), subgroups=None).complete({"S1": 6, "S2": 14, "S1sq": 36})
            {'S1': 6, 'S2': 14, 'S1sq': 36, 'Z': 9, 'Zsq': 81}
        """
        needed = [name for name in self.data_names() if name != "P"]
        missing = [name for name in needed if name not in aggregates]
        if missing:
            raise ValueError(f"the aggregates {', '.join(missing)} are missing")
        values = {name: value for name, value in aggregates.items() if name in needed}
        # Z: the smallest integer with c1·Z² ≥ c2·Q (Q ≥ 0 for real data, by Cauchy-Schwarz).
        c1, c2 = self.coefficients
        q = self.relations().ranges[3][0].evaluate({**values, "Z": 0, "Zsq": 0})
        z = math.isqrt(max(0, -(-c2 * q // c1)))
        while c1 * z * z < c2 * q:
            z += 1
        values["Z"], values["Zsq"] = z, z * z
        return values

    def meets_values(self, values: Mapping[str, int]) -> bool:
        """True when every range relation holds for the committed ``values`` (see :meth:`complete`).

        Example:
            >>> st = CpkStatement(n=3, lsl=Decimal(0), usl=Decimal(9), resolution=Decimal(1),
            ...                   threshold=Decimal(1), subgroups=None)
            >>> st.meets_values(st.witness([4, 5, 4]))
            True
        """
        return all(0 <= form.evaluate(values) < 1 << w for form, w in self.relations().ranges)

    def meets(self, ys: Sequence[int]) -> bool:
        """True when every range relation holds for ``ys`` (what an honest prover checks first).

        Example:
            >>> st = CpkStatement(n=3, lsl=Decimal(0), usl=Decimal(9), resolution=Decimal(1),
            ...                   threshold=Decimal(1), subgroups=None)
            >>> st.meets([1, 2, 3]), st.meets([4, 5, 4])
            (False, True)
        """
        return self.meets_values(self.witness(ys))

    def openings(self, ys: Sequence[int]) -> dict[str, Opening]:
        """Fresh openings of every commitment for ``ys``.

        Example:
            >>> st = CpkStatement(n=3, lsl=Decimal(0), usl=Decimal(9), resolution=Decimal(1),
            ...                   threshold=Decimal(1), subgroups=None)
            >>> st.openings([4, 5, 4])["S1"].value
            13
        """
        return {name: Opening.fresh(value) for name, value in self.witness(ys).items()}

    def vector_openings(self, ys: Sequence[int]) -> dict[str, VectorOpening]:
        """Fresh openings of the vector commitments for ``ys``: ``{"P": subgroup sums}`` (pooled), else ``{}``.

        Example:
            >>> st = CpkStatement(n=4, lsl=Decimal(0), usl=Decimal(9), resolution=Decimal(1),
            ...                   threshold=Decimal(1), subgroups=(2, 2))
            >>> st.vector_openings([1, 2, 3, 4])["P"].values
            (3, 7)
        """
        if self.subgroups is None:
            return {}
        return {"P": VectorOpening.fresh(self.subgroup_sums(ys))}

    def public(self) -> dict[str, int | str]:
        """The named public inputs (absorbed by the transcript and written in the attestation).

        Example:
            >>> CpkStatement(n=5, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...              threshold=Decimal("1.33"), subgroups=None).public()["threshold_p"]
            133
        """
        p, d = self.threshold_fraction
        wz, wq, we = self.widths
        return {
            "n": self.n,
            "lsl": decimal_text(self.lsl),
            "usl": decimal_text(self.usl),
            "resolution": decimal_text(self.resolution),
            "threshold": decimal_text(self.threshold),
            "threshold_p": p,
            "threshold_d": d,
            "sigma": self.form,
            "subgroups": "" if self.subgroups is None else ",".join(str(k) for k in self.subgroups),
            "bits_z": wz,
            "bits_q": wq,
            "bits_e": we,
        }

    @classmethod
    def from_public(cls, public: Mapping[str, object]) -> CpkStatement:
        """Rebuild the statement from attestation public inputs, checking every derived value.

        Raises ``ProofInvalid`` with ``check="public input <name>"`` for a missing, malformed or inconsistent
        input.

        Example:
            >>> st = CpkStatement(n=5, lsl=Decimal(0), usl=Decimal(1), resolution=Decimal(1),
            ...                   threshold=Decimal("1.33"), subgroups=None)
            >>> CpkStatement.from_public(st.public()) == st
            True
            >>> CpkStatement.from_public({**st.public(), "bits_q": 64})
            Traceback (most recent call last):
            ...
            protocol.zk.errors.ProofInvalid: public input bits_q does not match the statement
        """

        def get(name: str, kind: type) -> object:
            value = public.get(name)
            if isinstance(value, bool) or not isinstance(value, kind):
                raise ProofInvalid(
                    f"public input {name} is missing or mistyped", check=f"public input {name}"
                )
            return value

        n = get("n", int)
        sigma = get("sigma", str)
        text = get("subgroups", str)
        if sigma not in {"overall", "pooled"} or (sigma == "overall") != (text == ""):
            raise ProofInvalid("public input sigma is 'overall' or 'pooled'", check="public input sigma")
        subgroups = None
        if sigma == "pooled":
            parts = str(text).split(",")
            if not all(p.isdigit() and str(int(p)) == p for p in parts):
                raise ProofInvalid(
                    "public input subgroups is a list of sizes", check="public input subgroups"
                )
            subgroups = tuple(int(p) for p in parts)
        try:
            statement = cls(
                n=int(str(n)),
                lsl=parse_decimal(get("lsl", str), "lsl"),
                usl=parse_decimal(get("usl", str), "usl"),
                resolution=parse_decimal(get("resolution", str), "resolution"),
                threshold=parse_decimal(get("threshold", str), "threshold"),
                subgroups=subgroups,
            )
        except ValueError as exc:
            raise ProofInvalid(
                f"the public inputs do not form a statement: {exc}", check="public input"
            ) from exc
        expected = statement.public()
        for name in sorted(set(expected) | set(public)):
            if public.get(name) != expected.get(name):
                raise ProofInvalid(
                    f"public input {name} does not match the statement", check=f"public input {name}"
                )
        return statement


__all__ = ["MAX_SUBGROUPS", "STATEMENT", "CpkStatement", "decimal_text", "parse_decimal", "scaled"]
