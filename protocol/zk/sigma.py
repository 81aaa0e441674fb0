"""Sigma proofs on Pedersen commitments, made non-interactive with the transcript: opening, square, quadratic form.

- **Opening** of ``C = v·G + r·H``: commit ``A = kᵥ·G + kᵣ·H``, challenge ``c``, answer ``sᵥ = kᵥ + c·v``,
  ``sᵣ = kᵣ + c·r``; the verifier checks ``sᵥ·G + sᵣ·H = A + c·C``.
- **Square**: ``C_sq`` commits to the square of the value in ``C_x``. Writing ``C_sq = x·C_x + r'·H`` with
  ``r' = r_sq - x·r_x``, the prover shows one ``x`` opens ``C_x`` under (G, H) and ``C_sq`` under (C_x, H):
  ``A₁ = kₓ·G + kᵣ·H``, ``A₂ = kₓ·C_x + k'·H``; ``sₓ = kₓ + c·x``, ``sᵣ = kᵣ + c·r_x``, ``s' = k' + c·r'``;
  checks ``sₓ·G + sᵣ·H = A₁ + c·C_x`` and ``sₓ·C_x + s'·H = A₂ + c·C_sq``. (Special soundness: two accepting
  answers for one (A₁, A₂) give x, r_x, r' with C_sq = x²·G + (x·r_x + r')·H.) The relation holds modulo r;
  the statements range-prove x so that x² is also the integer square.

- **Quadratic form** over a vector commitment ``C_P = Σ xⱼ·Pⱼ + r·H`` (the subgroup sums of pooled sigma):
  ``C_S`` holds Σ xⱼ and ``C_T`` holds Σ wⱼ·xⱼ² for public weights w. Nonces kⱼ, k_r, k_s, τ₀, τ₁; the prover
  sends ``A = Σ kⱼ·Pⱼ + k_r·H``, ``A_Σ = (Σ kⱼ)·G + k_s·H``, ``T₀ = <k, w∘k>·G + τ₀·H``,
  ``T₁ = 2·<k, w∘x>·G + τ₁·H``; challenge c; answers ``sⱼ = kⱼ + c·xⱼ``, ``s_r``, ``s_Σ``, ``τ = τ₀ + c·τ₁ +
  c²·r_T``. Checks: ``Σ sⱼ·Pⱼ + s_r·H = A + c·C_P``, ``(Σ sⱼ)·G + s_Σ·H = A_Σ + c·C_S`` and
  ``<s, w∘s>·G + τ·H = T₀ + c·T₁ + c²·C_T`` (the last is the polynomial identity <k + cx, w∘(k + cx)> =
  t₀ + c·t₁ + c²·T; three accepting answers extract x with T = Σ wⱼxⱼ²). One scalar per subgroup, four
  points in all, where per-subgroup square proofs would cost four points and three scalars each.

The prover's nonce commitments multiply by secrets (nonces, and ``t₀``, ``t₁`` made of them and of the
witness), so they use the backend's constant-time ``msm_secret``; the answers are public.

Verification returns :class:`~protocol.zk.equations.Equation` s; the caller checks them together with the
range proofs in one multi-scalar multiplication.

Example:
    >>> from protocol.zk.generators import generators
    >>> from protocol.zk.group import get_backend
    >>> from protocol.zk.pedersen import Opening
    >>> from protocol.zk.transcript import Transcript
    >>> from protocol.zk.equations import all_hold
    >>> gens = generators(0, get_backend("reference"))
    >>> x, sq = Opening.fresh(12), Opening.fresh(144)
    >>> cx, csq = x.commit(gens), sq.commit(gens)
    >>> proof = prove_square(Transcript(b"demo"), gens, x=x, square=sq, commitment=cx)
    >>> all_hold(gens.backend, verify_square(Transcript(b"demo"), gens, proof, commitment=cx, square=csq))
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.zk.equations import Equation
from protocol.zk.generators import Generators, vector_generators
from protocol.zk.group.base import ORDER, Point
from protocol.zk.pedersen import VECTOR_LABEL, Opening, VectorOpening, random_scalar
from protocol.zk.transcript import Transcript


@dataclass(frozen=True)
class OpeningProof:
    """Proof of knowledge of an opening: the nonce commitment ``a`` (encoded) and the answers.

    Example:
        >>> OpeningProof(a=b"\\x00" * 48, s_value=1, s_blinding=2).s_value
        1
    """

    a: bytes
    s_value: int
    s_blinding: int


@dataclass(frozen=True)
class SquareProof:
    """Proof that one commitment holds the square of another's value (encoded points, scalar answers).

    Example:
        >>> SquareProof(a1=b"", a2=b"", s_x=1, s_r=2, s_rel=3).s_rel
        3
    """

    a1: bytes
    a2: bytes
    s_x: int
    s_r: int
    s_rel: int


def prove_opening(transcript: Transcript, gens: Generators, *, opening: Opening) -> OpeningProof:
    """Prove knowledge of ``opening`` for the commitment the transcript already holds.

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> gens = generators(0, get_backend("reference"))
        >>> proof = prove_opening(Transcript(b"t"), gens, opening=Opening(5, 6))
        >>> len(proof.a)
        48
    """
    group = gens.backend
    k_v, k_r = random_scalar(), random_scalar()
    a = group.encode(group.msm_secret([gens.g, gens.h], [k_v, k_r]))
    transcript.append_point(b"opening/A", a)
    c = transcript.challenge_scalar(b"opening/c")
    return OpeningProof(a, (k_v + c * opening.value) % ORDER, (k_r + c * opening.blinding) % ORDER)


def verify_opening(
    transcript: Transcript, gens: Generators, proof: OpeningProof, *, commitment: Point
) -> list[Equation]:
    """The equation an opening proof must satisfy; raises ``InvalidPoint`` for a bad encoding.

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> from protocol.zk.equations import all_hold
        >>> gens = generators(0, get_backend("reference"))
        >>> o = Opening(5, 6)
        >>> proof = prove_opening(Transcript(b"t"), gens, opening=o)
        >>> all_hold(gens.backend, verify_opening(Transcript(b"t"), gens, proof, commitment=o.commit(gens)))
        True
    """
    a = gens.backend.decode(proof.a)
    transcript.append_point(b"opening/A", proof.a)
    c = transcript.challenge_scalar(b"opening/c")
    eq = Equation("opening")
    eq.add_fixed("g", proof.s_value)
    eq.add_fixed("h", proof.s_blinding)
    eq.add(a, -1)
    eq.add(commitment, -c)
    return [eq]


def prove_square(
    transcript: Transcript, gens: Generators, *, x: Opening, square: Opening, commitment: Point
) -> SquareProof:
    """Prove that ``square`` opens to ``x.value²`` (mod r); ``commitment`` is the commitment of ``x``.

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> gens = generators(0, get_backend("reference"))
        >>> x = Opening.fresh(3)
        >>> proof = prove_square(Transcript(b"t"), gens, x=x, square=Opening.fresh(9), commitment=x.commit(gens))
        >>> len(proof.a1), len(proof.a2)
        (48, 48)
    """
    group = gens.backend
    relation = (square.blinding - x.value * x.blinding) % ORDER
    k_x, k_r, k_rel = random_scalar(), random_scalar(), random_scalar()
    a1 = group.encode(group.msm_secret([gens.g, gens.h], [k_x, k_r]))
    a2 = group.encode(group.msm_secret([commitment, gens.h], [k_x, k_rel]))
    transcript.append_point(b"square/A1", a1)
    transcript.append_point(b"square/A2", a2)
    c = transcript.challenge_scalar(b"square/c")
    return SquareProof(
        a1=a1,
        a2=a2,
        s_x=(k_x + c * x.value) % ORDER,
        s_r=(k_r + c * x.blinding) % ORDER,
        s_rel=(k_rel + c * relation) % ORDER,
    )


def verify_square(
    transcript: Transcript, gens: Generators, proof: SquareProof, *, commitment: Point, square: Point
) -> list[Equation]:
    """The two equations of a square proof (named ``"square relation"``); ``InvalidPoint`` for bad encodings.

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> from protocol.zk.equations import all_hold
        >>> gens = generators(0, get_backend("reference"))
        >>> x, sq = Opening.fresh(3), Opening.fresh(10)  # 10 is not 3²
        >>> proof = prove_square(Transcript(b"t"), gens, x=x, square=sq, commitment=x.commit(gens))
        >>> eqs = verify_square(Transcript(b"t"), gens, proof, commitment=x.commit(gens), square=sq.commit(gens))
        >>> all_hold(gens.backend, eqs)
        False
    """
    group = gens.backend
    a1, a2 = group.decode(proof.a1), group.decode(proof.a2)
    transcript.append_point(b"square/A1", proof.a1)
    transcript.append_point(b"square/A2", proof.a2)
    c = transcript.challenge_scalar(b"square/c")
    first = Equation("square relation")
    first.add_fixed("g", proof.s_x)
    first.add_fixed("h", proof.s_r)
    first.add(a1, -1)
    first.add(commitment, -c)
    second = Equation("square relation")
    second.add(commitment, proof.s_x)
    second.add_fixed("h", proof.s_rel)
    second.add(a2, -1)
    second.add(square, -c)
    return [first, second]


@dataclass(frozen=True)
class QuadraticProof:
    """Proof that ``C_S`` holds Σ xⱼ and ``C_T`` holds Σ wⱼ·xⱼ² for the x in a vector commitment.

    Example:
        >>> QuadraticProof(a=b"", a_sum=b"", t0=b"", t1=b"", s=(1, 2), s_r=3, s_sum=4, tau=5).s
        (1, 2)
    """

    a: bytes
    a_sum: bytes
    t0: bytes
    t1: bytes
    s: tuple[int, ...]
    s_r: int
    s_sum: int
    tau: int


def _absorb_quadratic(transcript: Transcript, proof: QuadraticProof, count: int) -> int:
    transcript.append_int(b"quadratic/k", count)
    transcript.append_point(b"quadratic/A", proof.a)
    transcript.append_point(b"quadratic/A_sum", proof.a_sum)
    transcript.append_point(b"quadratic/T0", proof.t0)
    transcript.append_point(b"quadratic/T1", proof.t1)
    return transcript.challenge_scalar(b"quadratic/c")


def prove_quadratic(
    transcript: Transcript,
    gens: Generators,
    *,
    vector: VectorOpening,
    total: Opening,
    form: Opening,
    weights: Sequence[int],
) -> QuadraticProof:
    """Prove ``total = Σ xⱼ`` and ``form = Σ wⱼ·xⱼ²`` (mod r) for the values x of ``vector``.

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> gens = generators(0, get_backend("reference"))
        >>> proof = prove_quadratic(Transcript(b"t"), gens, vector=VectorOpening.fresh((2, 3)),
        ...                         total=Opening.fresh(5), form=Opening.fresh(2 * 4 + 1 * 9), weights=[2, 1])
        >>> len(proof.s)
        2
    """
    group = gens.backend
    x = [v % ORDER for v in vector.values]
    if len(weights) != len(x):
        raise ValueError("one weight per value")
    k = [random_scalar() for _ in x]
    k_r, k_s, tau0, tau1 = random_scalar(), random_scalar(), random_scalar(), random_scalar()
    bases = vector_generators(VECTOR_LABEL, len(x), group)
    t0 = sum(w * kj * kj for w, kj in zip(weights, k, strict=True)) % ORDER
    t1 = 2 * sum(w * kj * xj for w, kj, xj in zip(weights, k, x, strict=True)) % ORDER
    draft = QuadraticProof(
        a=group.encode(group.msm_secret([*bases, gens.h], [*k, k_r])),
        a_sum=group.encode(group.msm_secret([gens.g, gens.h], [sum(k), k_s])),
        t0=group.encode(group.msm_secret([gens.g, gens.h], [t0, tau0])),
        t1=group.encode(group.msm_secret([gens.g, gens.h], [t1, tau1])),
        s=(),
        s_r=0,
        s_sum=0,
        tau=0,
    )
    c = _absorb_quadratic(transcript, draft, len(x))
    return QuadraticProof(
        a=draft.a,
        a_sum=draft.a_sum,
        t0=draft.t0,
        t1=draft.t1,
        s=tuple((kj + c * xj) % ORDER for kj, xj in zip(k, x, strict=True)),
        s_r=(k_r + c * vector.blinding) % ORDER,
        s_sum=(k_s + c * total.blinding) % ORDER,
        tau=(tau0 + c * tau1 + c * c * form.blinding) % ORDER,
    )


def verify_quadratic(
    transcript: Transcript,
    gens: Generators,
    proof: QuadraticProof,
    *,
    vector: Point,
    total: Point,
    form: Point,
    weights: Sequence[int],
) -> list[Equation]:
    """The three equations of a quadratic-form proof (``"subgroup sums"``, ``"quadratic form"``).

    Raises ``ValueError`` when the proof has the wrong number of answers, ``InvalidPoint`` for a bad point.

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> from protocol.zk.equations import all_hold
        >>> gens = generators(0, get_backend("reference"))
        >>> v, s, f = VectorOpening.fresh((2, 3)), Opening.fresh(5), Opening.fresh(18)  # 2·4 + 1·9 = 17
        >>> proof = prove_quadratic(Transcript(b"t"), gens, vector=v, total=s, form=f, weights=[2, 1])
        >>> eqs = verify_quadratic(Transcript(b"t"), gens, proof, vector=v.commit(gens), total=s.commit(gens),
        ...                        form=f.commit(gens), weights=[2, 1])
        >>> [all_hold(gens.backend, [e]) for e in eqs]
        [True, True, False]
    """
    if len(proof.s) != len(weights):
        raise ValueError("the quadratic-form proof has one answer per subgroup")
    group = gens.backend
    a, a_sum = group.decode(proof.a), group.decode(proof.a_sum)
    t0, t1 = group.decode(proof.t0), group.decode(proof.t1)
    c = _absorb_quadratic(transcript, proof, len(weights))
    sums = Equation("subgroup sums")
    for j, s_j in enumerate(proof.s):
        sums.add_fixed(("P", j), s_j)
    sums.add_fixed("h", proof.s_r)
    sums.add(a, -1)
    sums.add(vector, -c)
    total_eq = Equation("subgroup sums")
    total_eq.add_fixed("g", sum(proof.s))
    total_eq.add_fixed("h", proof.s_sum)
    total_eq.add(a_sum, -1)
    total_eq.add(total, -c)
    quadratic = Equation("quadratic form")
    quadratic.add_fixed("g", sum(w * s_j * s_j for w, s_j in zip(weights, proof.s, strict=True)))
    quadratic.add_fixed("h", proof.tau)
    quadratic.add(t0, -1)
    quadratic.add(t1, -c)
    quadratic.add(form, -c * c)
    return [sums, total_eq, quadratic]


__all__ = [
    "OpeningProof",
    "QuadraticProof",
    "SquareProof",
    "prove_opening",
    "prove_quadratic",
    "prove_square",
    "verify_opening",
    "verify_quadratic",
    "verify_square",
]
