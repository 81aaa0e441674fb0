"""The Bulletproofs inner-product argument (§3 of eprint 2017/1066), with the verifier's single-MSM form.

Given generators **G**, **H** (length N, a power of two), U and ``P = <a, G> + <b, H'> + <a, b>·U`` with
``H'ᵢ = fᵢ·Hᵢ`` (the range proof passes ``fᵢ = y⁻ⁱ``), the prover halves the vectors log₂N times: each round
sends ``L = <a_lo, G_hi> + <b_hi, H'_lo> + <a_lo, b_hi>·U`` and ``R = <a_hi, G_lo> + <b_lo, H'_hi> +
<a_hi, b_lo>·U``, receives ``u`` and folds ``a ← u·a_lo + u⁻¹·a_hi``, ``b ← u⁻¹·b_lo + u·b_hi``,
``G ← u⁻¹·G_lo + u·G_hi``, ``H' ← u·H'_lo + u⁻¹·H'_hi``; at the end it sends the scalars a, b.

The vectors are the range proof's ``l(x)``, ``r(x)``, which are safe to reveal (blinded by s_L, s_R, they are
what the linear-size protocol sends in the clear), so the prover's MSMs here are the variable-time ``msm``.

The verifier never folds points: with ``sᵢ = Πₖ uₖ^(±1)`` (+1 where bit k of i, counted from the top, is set)
the final generators are ``Σ sᵢ·Gᵢ`` and ``Σ sᵢ⁻¹·fᵢ·Hᵢ``, so the whole check
``P + Σ (uₖ²·Lₖ + uₖ⁻²·Rₖ) = a·<s, G> + b·<s⁻¹∘f, H> + a·b·U`` is a list of scalar-point terms that joins the
range proof's other equation in one multi-scalar multiplication (§6.2).

Example:
    >>> verification_scalars([2, 3], 4)[:2] == [pow(6, -1, ORDER), pow(2, -1, ORDER) * 3 % ORDER]
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.zk.generators import Generators
from protocol.zk.group.base import ORDER, Point
from protocol.zk.transcript import Transcript


@dataclass(frozen=True)
class InnerProductProof:
    """The rounds' ``L`` and ``R`` points (encoded) and the two final scalars.

    Example:
        >>> InnerProductProof(l_points=(), r_points=(), a=1, b=2).a
        1
    """

    l_points: tuple[bytes, ...]
    r_points: tuple[bytes, ...]
    a: int
    b: int


def _inner(x: Sequence[int], y: Sequence[int]) -> int:
    return sum(i * j for i, j in zip(x, y, strict=True)) % ORDER


def prove_inner_product(
    transcript: Transcript,
    gens: Generators,
    *,
    a: Sequence[int],
    b: Sequence[int],
    h_factors: Sequence[int],
) -> InnerProductProof:
    """Prove knowledge of ``a``, ``b`` behind ``<a, G> + <b, H'> + <a, b>·U`` (``H'ᵢ = h_factors[i]·Hᵢ``).

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> gens = generators(2, get_backend("reference"))
        >>> proof = prove_inner_product(Transcript(b"t"), gens, a=[1, 2], b=[3, 4], h_factors=[1, 1])
        >>> len(proof.l_points)
        1
    """
    group = gens.backend
    n = len(a)
    if n & (n - 1) or n == 0 or len(b) != n or len(h_factors) != n:
        raise ValueError("the inner-product vectors have one power-of-two length")
    a_vec, b_vec = [x % ORDER for x in a], [x % ORDER for x in b]
    g_vec: list[Point] = list(gens.g_vec[:n])
    h_vec: list[Point] = list(gens.h_vec[:n])
    factors = [f % ORDER for f in h_factors]  # folded into the points after the first round
    l_points: list[bytes] = []
    r_points: list[bytes] = []
    while n > 1:
        n //= 2
        a_lo, a_hi, b_lo, b_hi = a_vec[:n], a_vec[n:], b_vec[:n], b_vec[n:]
        f_lo, f_hi = factors[:n], factors[n:]
        c_l, c_r = _inner(a_lo, b_hi), _inner(a_hi, b_lo)
        left = group.msm(
            g_vec[n:] + h_vec[:n] + [gens.u],
            a_lo + [x * f % ORDER for x, f in zip(b_hi, f_lo, strict=True)] + [c_l],
        )
        right = group.msm(
            g_vec[:n] + h_vec[n:] + [gens.u],
            a_hi + [x * f % ORDER for x, f in zip(b_lo, f_hi, strict=True)] + [c_r],
        )
        l_points.append(group.encode(left))
        r_points.append(group.encode(right))
        transcript.append_point(b"ipa/L", l_points[-1])
        transcript.append_point(b"ipa/R", r_points[-1])
        u = transcript.challenge_scalar(b"ipa/u")
        u_inv = pow(u, -1, ORDER)
        a_vec = [(lo * u + hi * u_inv) % ORDER for lo, hi in zip(a_lo, a_hi, strict=True)]
        b_vec = [(lo * u_inv + hi * u) % ORDER for lo, hi in zip(b_lo, b_hi, strict=True)]
        g_vec = [group.msm([lo, hi], [u_inv, u]) for lo, hi in zip(g_vec[:n], g_vec[n:], strict=True)]
        h_vec = [
            group.msm([lo, hi], [u * f_l, u_inv * f_h])
            for lo, hi, f_l, f_h in zip(h_vec[:n], h_vec[n:], f_lo, f_hi, strict=True)
        ]
        factors = [1] * n
    return InnerProductProof(tuple(l_points), tuple(r_points), a_vec[0], b_vec[0])


def verification_scalars(challenges: Sequence[int], n: int) -> list[int]:
    """The ``sᵢ`` of the folded generator ``Σ sᵢ·Gᵢ`` for round challenges ``challenges`` (first round first).

    Example:
        >>> s = verification_scalars([5], 2)
        >>> s == [pow(5, -1, ORDER), 5]
        True
    """
    rounds = len(challenges)
    if n != 1 << rounds:
        raise ValueError("n must be 2 ** number of rounds")
    inverses = [pow(u, -1, ORDER) for u in challenges]
    s = [1] * n
    first = 1
    for inv in inverses:
        first = first * inv % ORDER
    s[0] = first
    squares = [u * u % ORDER for u in challenges]
    for i in range(1, n):
        top = i.bit_length() - 1  # the highest set bit of i belongs to round (rounds - 1 - top)
        s[i] = s[i - (1 << top)] * squares[rounds - 1 - top] % ORDER
    return s


def ipa_challenges(transcript: Transcript, proof: InnerProductProof, n: int) -> list[int]:
    """Replay the rounds of ``proof`` into ``transcript`` and return their challenges.

    Raises ``ValueError`` when the number of rounds does not match ``n``.

    Example:
        >>> ipa_challenges(Transcript(b"t"), InnerProductProof((), (), 1, 1), 1)
        []
    """
    if len(proof.l_points) != len(proof.r_points) or 1 << len(proof.l_points) != n:
        raise ValueError("the inner-product proof has the wrong number of rounds")
    challenges = []
    for left, right in zip(proof.l_points, proof.r_points, strict=True):
        transcript.append_point(b"ipa/L", left)
        transcript.append_point(b"ipa/R", right)
        challenges.append(transcript.challenge_scalar(b"ipa/u"))
    return challenges


__all__ = ["InnerProductProof", "ipa_challenges", "prove_inner_product", "verification_scalars"]
