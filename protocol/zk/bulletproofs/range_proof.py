"""Aggregated Bulletproofs range proof: m committed values, value j in ``[0, 2^wⱼ)``, one proof (§4.1-4.3).

Each value gets its own width, so a statement can prove ``a < 2²¹`` and ``Q < 2⁶¹`` in one proof: the bit
vector ``a_L`` is the concatenation of every value's bits (least significant first), padded with zero bits to
a power of two N (padding positions carry no value constraint, but are still forced to be bits). With the
challenges y, z the per-position weight vector is ``wᵢ = z^(2+j)·2^(i-startⱼ)`` inside value j's block and 0
in the padding, and the usual polynomial identity becomes

    t̂ = Σⱼ z^(2+j)·vⱼ + δ(y, z),   δ(y, z) = (z - z²)·Σᵢ yⁱ - Σⱼ z^(3+j)·(2^wⱼ - 1).

Protocol (transcript labels in brackets): absorb N, m and the widths; send ``A = alpha·H + <a_L, G> + <a_R, H>``
and ``S = rho·H + <s_L, G> + <s_R, H>`` [rp/A, rp/S]; challenges y, z; send ``T₁ = t₁·G + τ₁·H``,
``T₂ = t₂·G + τ₂·H``; challenge x; send t̂, τₓ = τ₂x² + τ₁x + Σ z^(2+j)·γⱼ, μ = alpha + rho·x; challenge w; the
inner-product argument on ``l(x)``, ``r(x)`` with ``U' = w·U`` and ``H'ᵢ = y⁻ⁱ·Hᵢ``.

Secret scalars (the bits, alpha, rho, s_L, s_R, t₁, t₂, τ₁, τ₂) go through the backend's constant-time
``msm_secret``; ``A`` is computed as ``alpha·H + Σ a_Lᵢ·(Gᵢ + Hᵢ) - Σ Hᵢ`` (the same point, one ladder per
bit instead of two). The inner-product argument runs on ``l(x)`` and ``r(x)``, which the linear-size protocol
(§4.1) sends in the clear: blinded by s_L and s_R they reveal nothing, so the argument's scalars, like the
challenges, use the fast variable-time ``msm``.

The verifier returns two equations (the polynomial check ``t̂·G + τₓ·H = Σ z^(2+j)·Vⱼ + δ·G + x·T₁ + x²·T₂``
and the inner-product check with ``P = A + x·S - z·<1, G> + <z + y⁻ⁱ·wᵢ, H> - μ·H``), each a list of
scalar-point terms; :mod:`protocol.zk.equations` checks them, with every other equation of the statement and
of a batch of statements, in one multi-scalar multiplication. Committed values ``Vⱼ`` may be derived
(:class:`~protocol.zk.pedersen.Combination` terms), so derived commitments are never materialised.

Example:
    >>> from protocol.zk.generators import generators
    >>> from protocol.zk.group import get_backend
    >>> from protocol.zk.pedersen import Opening
    >>> from protocol.zk.transcript import Transcript
    >>> from protocol.zk.equations import all_hold
    >>> gens = generators(8, get_backend("reference"))
    >>> values = [Opening.fresh(5), Opening.fresh(200)]
    >>> proof = prove_range(Transcript(b"t"), gens, openings=values, widths=[3, 8])
    >>> claims = [[(1, v.commit(gens))] for v in values]
    >>> all_hold(gens.backend, verify_range(Transcript(b"t"), gens, proof, commitments=claims, widths=[3, 8]))
    True
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.zk.bulletproofs.inner_product import (
    InnerProductProof,
    ipa_challenges,
    prove_inner_product,
    verification_scalars,
)
from protocol.zk.equations import Equation
from protocol.zk.generators import Generators, generators
from protocol.zk.group.base import ORDER, Point
from protocol.zk.pedersen import Opening, random_scalar
from protocol.zk.transcript import Transcript

MAX_WIDTH = 128
"""Widest range a single value may be proven in (bits); keeps every range far below r ≈ 2²⁵⁵.

Example:
    >>> MAX_WIDTH
    128
"""

DerivedCommitment = Sequence[tuple[int, Point]]
"""A commitment as ``Σ coefficient·point`` terms (a constant's G term is passed as ``(c, G)``).

Example:
    >>> derived: DerivedCommitment = [(1, "C_S2"), (-1, "C_S1sq")]
    >>> len(derived)
    2
"""


@dataclass(frozen=True)
class RangeProof:
    """An aggregated range proof: four points, three scalars and the inner-product argument.

    Example:
        >>> from protocol.zk.bulletproofs.inner_product import InnerProductProof
        >>> p = RangeProof(b"", b"", b"", b"", 1, 2, 3, InnerProductProof((), (), 4, 5))
        >>> p.t_hat
        1
    """

    a: bytes
    s: bytes
    t1: bytes
    t2: bytes
    t_hat: int
    tau_x: int
    mu: int
    ipa: InnerProductProof


def padded_length(widths: Sequence[int]) -> int:
    """The bit-vector length N: the sum of the widths, rounded up to a power of two.

    Example:
        >>> padded_length([8, 8]), padded_length([3]), padded_length([64, 64, 1])
        (16, 4, 256)
    """
    if not widths or any(not 1 <= w <= MAX_WIDTH for w in widths):
        raise ValueError(f"every range width lies in [1, {MAX_WIDTH}]")
    total = sum(widths)
    return 1 << (total - 1).bit_length()


def _weights(widths: Sequence[int], z: int, n: int) -> list[int]:
    w = [0] * n
    start = 0
    zj = z * z % ORDER
    for width in widths:
        power = zj
        for i in range(width):
            w[start + i] = power
            power = power * 2 % ORDER
        start += width
        zj = zj * z % ORDER
    return w


def _powers(base: int, n: int) -> list[int]:
    out, acc = [], 1
    for _ in range(n):
        out.append(acc)
        acc = acc * base % ORDER
    return out


def _absorb_shape(transcript: Transcript, widths: Sequence[int], n: int) -> None:
    transcript.append_int(b"rp/N", n)
    transcript.append_int(b"rp/m", len(widths))
    for width in widths:
        transcript.append_int(b"rp/width", width)


def prove_range(
    transcript: Transcript, gens: Generators, *, openings: Sequence[Opening], widths: Sequence[int]
) -> RangeProof:
    """Prove ``0 ≤ openings[j].value < 2^widths[j]`` for every j, in one proof.

    Raises ``ValueError`` when a value lies outside its range (an honest prover checks before calling).

    Example:
        >>> from protocol.zk.group import get_backend
        >>> gens = generators(4, get_backend("reference"))
        >>> prove_range(Transcript(b"t"), gens, openings=[Opening.fresh(16)], widths=[4])
        Traceback (most recent call last):
        ...
        ValueError: value 0 is outside [0, 2^4)
    """
    group = gens.backend
    n = padded_length(widths)
    if len(openings) != len(widths):
        raise ValueError("one width per value")
    gens = generators(n, group)
    bits: list[int] = []
    for j, (opening, width) in enumerate(zip(openings, widths, strict=True)):
        if not 0 <= opening.value < 1 << width:
            raise ValueError(f"value {j} is outside [0, 2^{width})")
        bits += [(opening.value >> i) & 1 for i in range(width)]
    a_l = bits + [0] * (n - len(bits))
    a_r = [(x - 1) % ORDER for x in a_l]
    _absorb_shape(transcript, widths, n)

    alpha, rho = random_scalar(), random_scalar()
    s_l = [secrets.randbelow(ORDER) for _ in range(n)]
    s_r = [secrets.randbelow(ORDER) for _ in range(n)]
    # A = alpha·H + <a_L, G> + <a_L - 1, H> = alpha·H + Σ a_Lᵢ·(Gᵢ + Hᵢ) - Σ Hᵢ: the bits are secret, the
    # sums of generators public.
    pair_sums = [group.add(g_i, h_i) for g_i, h_i in zip(gens.g_vec, gens.h_vec, strict=True)]
    h_sum = group.msm(list(gens.h_vec), [1] * n)
    a_point = group.add(group.msm_secret([gens.h, *pair_sums], [alpha, *a_l]), group.neg(h_sum))
    s_point = group.msm_secret([gens.h, *gens.g_vec, *gens.h_vec], [rho, *s_l, *s_r])
    a_enc, s_enc = group.encode(a_point), group.encode(s_point)
    transcript.append_point(b"rp/A", a_enc)
    transcript.append_point(b"rp/S", s_enc)
    y = transcript.challenge_scalar(b"rp/y")
    z = transcript.challenge_scalar(b"rp/z")

    y_pow = _powers(y, n)
    w = _weights(widths, z, n)
    l0 = [(x - z) % ORDER for x in a_l]
    r0 = [(yi * (x + z) + wi) % ORDER for yi, x, wi in zip(y_pow, a_r, w, strict=True)]
    r1 = [yi * x % ORDER for yi, x in zip(y_pow, s_r, strict=True)]
    t1 = (
        sum(a * b for a, b in zip(l0, r1, strict=True)) + sum(a * b for a, b in zip(s_l, r0, strict=True))
    ) % ORDER
    t2 = sum(a * b for a, b in zip(s_l, r1, strict=True)) % ORDER
    tau1, tau2 = random_scalar(), random_scalar()
    t1_enc = group.encode(group.msm_secret([gens.g, gens.h], [t1, tau1]))
    t2_enc = group.encode(group.msm_secret([gens.g, gens.h], [t2, tau2]))
    transcript.append_point(b"rp/T1", t1_enc)
    transcript.append_point(b"rp/T2", t2_enc)
    x = transcript.challenge_scalar(b"rp/x")

    l_vec = [(a + b * x) % ORDER for a, b in zip(l0, s_l, strict=True)]
    r_vec = [(a + b * x) % ORDER for a, b in zip(r0, r1, strict=True)]
    t_hat = sum(a * b for a, b in zip(l_vec, r_vec, strict=True)) % ORDER
    z_pow = z * z % ORDER
    tau_x = (tau2 * x * x + tau1 * x) % ORDER
    for opening in openings:
        tau_x = (tau_x + z_pow * opening.blinding) % ORDER
        z_pow = z_pow * z % ORDER
    mu = (alpha + rho * x) % ORDER
    transcript.append_scalar(b"rp/t_hat", t_hat)
    transcript.append_scalar(b"rp/tau_x", tau_x)
    transcript.append_scalar(b"rp/mu", mu)
    w_ipa = transcript.challenge_scalar(b"rp/w")
    ipa_gens = Generators(group, gens.g, gens.h, group.mul(gens.u, w_ipa), gens.g_vec, gens.h_vec)
    y_inv = pow(y, -1, ORDER)
    ipa = prove_inner_product(transcript, ipa_gens, a=l_vec, b=r_vec, h_factors=_powers(y_inv, n))
    return RangeProof(a_enc, s_enc, t1_enc, t2_enc, t_hat, tau_x, mu, ipa)


def verify_range(
    transcript: Transcript,
    gens: Generators,
    proof: RangeProof,
    *,
    commitments: Sequence[DerivedCommitment],
    widths: Sequence[int],
) -> list[Equation]:
    """The two equations (``"range proof"``) of ``proof`` for the given commitments and widths.

    Raises ``InvalidPoint`` for a bad point encoding and ``ValueError`` for a malformed proof shape; scalars
    must already be checked to lie in ``[0, r)`` by whoever decoded the proof.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> from protocol.zk.equations import all_hold
        >>> gens = generators(4, get_backend("reference"))
        >>> v = Opening.fresh(9)
        >>> proof = prove_range(Transcript(b"t"), gens, openings=[v], widths=[4])
        >>> eqs = verify_range(Transcript(b"t"), gens, proof, commitments=[[(1, v.commit(gens))]], widths=[3])
        >>> all_hold(gens.backend, eqs)
        False
    """
    group = gens.backend
    n = padded_length(widths)
    if len(commitments) != len(widths):
        raise ValueError("one width per commitment")
    rounds = len(proof.ipa.l_points)
    if rounds != len(proof.ipa.r_points) or 1 << rounds != n:
        raise ValueError("the inner-product proof has the wrong number of rounds")  # before decoding anything
    a_point, s_point = group.decode(proof.a), group.decode(proof.s)
    t1_point, t2_point = group.decode(proof.t1), group.decode(proof.t2)
    l_points = [group.decode(p) for p in proof.ipa.l_points]
    r_points = [group.decode(p) for p in proof.ipa.r_points]
    _absorb_shape(transcript, widths, n)
    transcript.append_point(b"rp/A", proof.a)
    transcript.append_point(b"rp/S", proof.s)
    y = transcript.challenge_scalar(b"rp/y")
    z = transcript.challenge_scalar(b"rp/z")
    transcript.append_point(b"rp/T1", proof.t1)
    transcript.append_point(b"rp/T2", proof.t2)
    x = transcript.challenge_scalar(b"rp/x")
    transcript.append_scalar(b"rp/t_hat", proof.t_hat)
    transcript.append_scalar(b"rp/tau_x", proof.tau_x)
    transcript.append_scalar(b"rp/mu", proof.mu)
    w_ipa = transcript.challenge_scalar(b"rp/w")
    challenges = ipa_challenges(transcript, proof.ipa, n)

    # Polynomial check: t̂·G + τₓ·H - Σ z^(2+j)·Vⱼ - δ·G - x·T₁ - x²·T₂ = 0.
    y_pow = _powers(y, n)
    z2 = z * z % ORDER
    delta = (z - z2) * sum(y_pow) % ORDER
    z_pow = z2 * z % ORDER
    for width in widths:
        delta = (delta - z_pow * ((1 << width) - 1)) % ORDER
        z_pow = z_pow * z % ORDER
    poly = Equation("range proof")
    poly.add_fixed("g", proof.t_hat - delta)
    poly.add_fixed("h", proof.tau_x)
    poly.add(t1_point, -x)
    poly.add(t2_point, -x * x)
    z_pow = z2
    for terms in commitments:
        for coefficient, point in terms:
            poly.add(point, -z_pow * coefficient)
        z_pow = z_pow * z % ORDER

    # Inner-product check, P + t̂·U' + Σ(u²L + u⁻²R) - a·<s, G> - b·<s⁻¹∘y⁻ⁱ, H> - a·b·U' = 0.
    s = verification_scalars(challenges, n)
    w = _weights(widths, z, n)
    y_inv = pow(y, -1, ORDER)
    a, b = proof.ipa.a, proof.ipa.b
    ipa = Equation("range proof")
    ipa.add(a_point, 1)
    ipa.add(s_point, x)
    ipa.add_fixed("h", -proof.mu)
    ipa.add_fixed("u", w_ipa * (proof.t_hat - a * b))
    y_inv_i = 1
    for i in range(n):
        ipa.add_fixed(("G", i), -z - a * s[i])
        ipa.add_fixed(("H", i), z + y_inv_i * (w[i] - b * s[n - 1 - i]))
        y_inv_i = y_inv_i * y_inv % ORDER
    for u, left, right in zip(challenges, l_points, r_points, strict=True):
        u2 = u * u % ORDER
        ipa.add(left, u2)
        ipa.add(right, pow(u2, -1, ORDER))
    return [poly, ipa]


__all__ = ["MAX_WIDTH", "DerivedCommitment", "RangeProof", "padded_length", "prove_range", "verify_range"]
