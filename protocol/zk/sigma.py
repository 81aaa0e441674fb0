"""Sigma proofs on Pedersen commitments, made non-interactive with the transcript: opening and square.

- **Opening** of ``C = v·G + r·H``: commit ``A = kᵥ·G + kᵣ·H``, challenge ``c``, answer ``sᵥ = kᵥ + c·v``,
  ``sᵣ = kᵣ + c·r``; the verifier checks ``sᵥ·G + sᵣ·H = A + c·C``.
- **Square**: ``C_sq`` commits to the square of the value in ``C_x``. Writing ``C_sq = x·C_x + r'·H`` with
  ``r' = r_sq - x·r_x``, the prover shows one ``x`` opens ``C_x`` under (G, H) and ``C_sq`` under (C_x, H):
  ``A₁ = kₓ·G + kᵣ·H``, ``A₂ = kₓ·C_x + k'·H``; ``sₓ = kₓ + c·x``, ``sᵣ = kᵣ + c·r_x``, ``s' = k' + c·r'``;
  checks ``sₓ·G + sᵣ·H = A₁ + c·C_x`` and ``sₓ·C_x + s'·H = A₂ + c·C_sq``. (Special soundness: two accepting
  answers for one (A₁, A₂) give x, r_x, r' with C_sq = x²·G + (x·r_x + r')·H.) The relation holds modulo r;
  the statements range-prove x so that x² is also the integer square.

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

from dataclasses import dataclass

from protocol.zk.equations import Equation
from protocol.zk.generators import Generators
from protocol.zk.group.base import ORDER, Point
from protocol.zk.pedersen import Opening, random_scalar
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
    a = group.encode(group.msm([gens.g, gens.h], [k_v, k_r]))
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
    a1 = group.encode(group.msm([gens.g, gens.h], [k_x, k_r]))
    a2 = group.encode(group.msm([commitment, gens.h], [k_x, k_rel]))
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


__all__ = ["OpeningProof", "SquareProof", "prove_opening", "prove_square", "verify_opening", "verify_square"]
