"""The pure-Python backend's secret-scalar multiplication: a Montgomery ladder on complete formulas.

Points are homogeneous projective triples ``(X : Y : Z)`` for ``(X/Z, Y/Z)`` here (the identity is
``(0 : 1 : 0)``), added and doubled with the complete formulas of Renes, Costello and Batina (eprint 2015/1060,
algorithms 7 and 9 for ``a = 0``, ``b3 = 3·b = 12``): one sequence of field operations for every input, the
identity and equal points included, so the ladder has no branch at all. The pair is swapped by an XOR mask
(``t = (a ^ c) & -bit``), never by an ``if``; the scalar is rewritten to a fixed bit length first
(:func:`~protocol.zk.group.ladder.ladder_scalar`), so every call runs
:data:`~protocol.zk.group.ladder.LADDER_BITS` iterations.

Honest limits: CPython integers (and gmpy2's) are not constant-time at the machine level: multiplication and
reduction take time that depends on the operands' sizes, and an XOR mask of 0 makes a shorter integer than a
mask of all ones. What this removes are the algorithmic leaks of :func:`~protocol.zk.group.jacobian.mul`
(the loop over the scalar's signed digits, its length, the table index of each digit, the skipped zero
digits). The result comes back in Jacobian coordinates ``(X·Z, Y·Z², Z)``, without an inversion.

Example:
    >>> from protocol.zk.group.jacobian import GENERATOR, equal, mul
    >>> equal(mul_secret(GENERATOR, 12345), mul(GENERATOR, 12345))
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.zk.group import jacobian
from protocol.zk.group.jacobian import IDENTITY, ONE, Jacobian, P, to_affine
from protocol.zk.group.ladder import LADDER_BITS, ladder_scalar, offset_msm

Projective = tuple[int, int, int]
B3 = 12  # 3·b for y² = x³ + 4


def add_complete(a: Projective, b: Projective) -> Projective:
    """``a + b`` in homogeneous coordinates, complete (RCB16 algorithm 7, a = 0): no case distinction.

    Example:
        >>> from protocol.zk.group.jacobian import GENERATOR, equal
        >>> g = (GENERATOR[0], GENERATOR[1], ONE)
        >>> equal(to_jacobian(add_complete(g, (0, 1, 0))), GENERATOR)
        True
    """
    x1, y1, z1 = a
    x2, y2, z2 = b
    p = P
    t0 = x1 * x2 % p
    t1 = y1 * y2 % p
    t2 = z1 * z2 % p
    t3 = ((x1 + y1) * (x2 + y2) - t0 - t1) % p
    t4 = ((y1 + z1) * (y2 + z2) - t1 - t2) % p
    y3 = B3 * (((x1 + z1) * (x2 + z2) - t0 - t2) % p)
    t0 = 3 * t0
    t2 = B3 * t2
    z3 = t1 + t2
    t1 = t1 - t2
    return (t3 * t1 - t4 * y3) % p, (y3 * t0 + t1 * z3) % p, (z3 * t4 + t0 * t3) % p


def double_complete(pt: Projective) -> Projective:
    """``2·pt`` in homogeneous coordinates, complete (RCB16 algorithm 9, a = 0).

    Example:
        >>> from protocol.zk.group.jacobian import GENERATOR, double, equal
        >>> g = (GENERATOR[0], GENERATOR[1], ONE)
        >>> equal(to_jacobian(double_complete(g)), double(GENERATOR)), double_complete((0, 1, 0))[2] == 0
        (True, True)
    """
    x, y, z = pt
    p = P
    t0 = y * y % p
    z3 = 8 * t0
    t1 = y * z % p
    t2 = B3 * (z * z) % p
    x3 = t2 * z3 % p
    y3 = t0 + t2
    z3 = t1 * z3 % p
    t0 = t0 - 3 * t2
    return 2 * t0 * (x * y % p) % p, (t0 * y3 + x3) % p, z3


def to_jacobian(pt: Projective) -> Jacobian:
    """The same point in Jacobian coordinates: ``(X·Z, Y·Z², Z)``; the identity keeps ``Z = 0``.

    Example:
        >>> to_jacobian((0, 1, 0))[2] == 0
        True
    """
    x, y, z = pt
    p = P
    return x * z % p, y * z * z % p, z


def from_jacobian(pt: Jacobian) -> Projective:
    """The same point in homogeneous coordinates: ``(X·Z, Y, Z³)``; the identity (``Z = 0``) is ``(0 : Y : 0)``.

    Example:
        >>> from protocol.zk.group.jacobian import GENERATOR, equal
        >>> equal(to_jacobian(from_jacobian(GENERATOR)), GENERATOR)
        True
    """
    x, y, z = pt
    p = P
    return x * z % p, y % p, z * z * z % p


def _mul_public(pt: Projective, k: int) -> Projective:
    return from_jacobian(jacobian.mul(to_jacobian(pt), k))


def msm_secret(points: Sequence[Jacobian], scalars: Sequence[int]) -> Jacobian:
    """``Σ kᵢ·Pᵢ`` for secret scalars: :func:`~protocol.zk.group.ladder.offset_msm` on the complete formulas.

    Example:
        >>> from protocol.zk.group.jacobian import GENERATOR, equal, mul
        >>> equal(msm_secret([GENERATOR, GENERATOR], [2, 0]), mul(GENERATOR, 2))
        True
    """
    total = offset_msm(
        [from_jacobian(pt) for pt in points],
        scalars,
        add=add_complete,
        double=double_complete,
        mul=_mul_public,
        generator=from_jacobian(jacobian.GENERATOR),
        identity=(0, 1, 0),
    )
    return to_jacobian(total)


def mul_secret(pt: Jacobian, k: int) -> Jacobian:
    """``k·pt`` (k reduced modulo r) by the fixed-length ladder on complete formulas, for a point of G1.

    The point is public (a generator, a commitment), so it is normalized with the usual inversion; only the
    scalar is treated as secret.

    Example:
        >>> from protocol.zk.group.base import ORDER
        >>> from protocol.zk.group.jacobian import GENERATOR, equal, neg
        >>> equal(mul_secret(GENERATOR, ORDER - 1), neg(GENERATOR)), mul_secret(IDENTITY, 5)[2] == 0
        (True, True)
    """
    affine = to_affine(pt)
    if affine is None:
        return IDENTITY
    base: Projective = (affine[0], affine[1], ONE)
    scalar = ladder_scalar(k)
    p = P
    x0, y0, z0 = base
    x1, y1, z1 = double_complete(base)
    previous = 0
    for i in range(LADDER_BITS - 1, -1, -1):
        bit = (scalar >> i) & 1
        mask = -(bit ^ previous)
        t = (x0 ^ x1) & mask
        x0, x1 = x0 ^ t, x1 ^ t
        t = (y0 ^ y1) & mask
        y0, y1 = y0 ^ t, y1 ^ t
        t = (z0 ^ z1) & mask
        z0, z1 = z0 ^ t, z1 ^ t
        # (x1, y1, z1) <- (x0, y0, z0) + (x1, y1, z1): add_complete, inlined
        t0 = x0 * x1 % p
        t1 = y0 * y1 % p
        t2 = z0 * z1 % p
        t3 = ((x0 + y0) * (x1 + y1) - t0 - t1) % p
        t4 = ((y0 + z0) * (y1 + z1) - t1 - t2) % p
        u = B3 * (((x0 + z0) * (x1 + z1) - t0 - t2) % p)
        t0 = 3 * t0
        t2 = B3 * t2
        w = t1 + t2
        t1 = t1 - t2
        x1, y1, z1 = (t3 * t1 - t4 * u) % p, (u * t0 + t1 * w) % p, (w * t4 + t0 * t3) % p
        # (x0, y0, z0) <- 2·(x0, y0, z0): double_complete, inlined
        s0 = y0 * y0 % p
        q = 8 * s0
        s2 = B3 * (z0 * z0) % p
        xd = s2 * q % p
        yd = s0 + s2
        zd = y0 * z0 % p * q % p
        s0 = s0 - 3 * s2
        x0, y0, z0 = 2 * s0 * (x0 * y0 % p) % p, (s0 * yd + xd) % p, zd
        previous = bit
    mask = -previous
    t = (x0 ^ x1) & mask
    x0 = x0 ^ t
    t = (y0 ^ y1) & mask
    y0 = y0 ^ t
    t = (z0 ^ z1) & mask
    z0 = z0 ^ t
    return to_jacobian((x0, y0, z0))


__all__ = ["add_complete", "double_complete", "mul_secret", "to_jacobian"]
