"""The reference backend: py-ecc's ``optimized_bls12_381``, slow and plain, against which the others are tested.

Points are py-ecc's homogeneous projective triples of ``FQ``. Multiplication is py-ecc's double-and-add, a
multi-scalar multiplication is one multiplication per term, and decoding checks subgroup membership by
``r·P = O`` (py-ecc's own ``pubkey_to_G1`` does not check the subgroup). Use it for tests and known answers;
the default backend is :mod:`protocol.zk.group.arkworks`, the fallback :mod:`protocol.zk.group.fast`.

Example:
    >>> group = ReferenceBackend()
    >>> g = group.generator()
    >>> group.encode(group.mul(g, 3)) == group.encode(group.add(g, group.add(g, g)))
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.bls.point_compression import compress_G1, decompress_G1
from py_ecc.optimized_bls12_381 import (
    G1,
    Z1,
    add,
    b,
    double,
    eq,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    normalize,
)

from protocol.zk.errors import InvalidPoint
from protocol.zk.group.base import ORDER, POINT_SIZE, Point
from protocol.zk.group.ladder import ladder, offset_msm


class ReferenceBackend:
    """BLS12-381 G1 on py-ecc (``optimized_bls12_381``): the reference every other backend must match.

    Example:
        >>> group = ReferenceBackend()
        >>> p = group.hash_to_g1(b"abc", b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_")
        >>> group.encode(p).hex()[:16]
        '83567bc5ef9c690c'
    """

    name = "reference"

    def generator(self) -> Point:
        """The standard generator G.

        Example:
            >>> ReferenceBackend().encode(ReferenceBackend().generator()).hex()[:8]
            '97f1d3a7'
        """
        return G1

    def identity(self) -> Point:
        """The point at infinity.

        Example:
            >>> ReferenceBackend().encode(ReferenceBackend().identity()).hex()[:4]
            'c000'
        """
        return Z1

    def add(self, a: Point, b: Point) -> Point:
        """``a + b``.

        Example:
            >>> group = ReferenceBackend()
            >>> group.eq(group.add(group.generator(), group.identity()), group.generator())
            True
        """
        return add(a, b)

    def neg(self, a: Point) -> Point:
        """``-a``.

        Example:
            >>> group = ReferenceBackend()
            >>> group.is_identity(group.add(group.generator(), group.neg(group.generator())))
            True
        """
        return neg(a)

    def mul(self, p: Point, k: int) -> Point:
        """``k·p`` with ``k`` reduced modulo r.

        Example:
            >>> group = ReferenceBackend()
            >>> group.eq(group.mul(group.generator(), -1), group.neg(group.generator()))
            True
        """
        return multiply(p, k % ORDER)

    def msm(self, points: Sequence[Point], scalars: Sequence[int]) -> Point:
        """``Σ kᵢ·Pᵢ``, one multiplication per term (the baseline the fast backends are measured against).

        Example:
            >>> group = ReferenceBackend()
            >>> g = group.generator()
            >>> group.eq(group.msm([g, g], [2, 3]), group.mul(g, 5))
            True
        """
        if len(points) != len(scalars):
            raise ValueError(f"msm needs as many scalars as points, got {len(scalars)} and {len(points)}")
        total: Any = Z1
        for point, scalar in zip(points, scalars, strict=True):
            total = add(total, multiply(point, scalar % ORDER))
        return total

    def mul_secret(self, p: Point, k: int) -> Point:
        """``k·p`` for a secret ``k``: the fixed-length ladder over py-ecc's ``add`` and ``double``
        (py-ecc's ``multiply`` is recursive double-and-add on the bits). Same point as ``mul``.

        Example:
            >>> group = ReferenceBackend()
            >>> group.eq(group.mul_secret(group.generator(), 7), group.mul(group.generator(), 7))
            True
        """
        if is_inf(p):  # the point is public
            return Z1
        return ladder(p, k, add, double)

    def msm_secret(self, points: Sequence[Point], scalars: Sequence[int]) -> Point:
        """``Σ kᵢ·Pᵢ`` for secret scalars: one fixed pass with shared doublings and random offsets
        (:func:`~protocol.zk.group.ladder.offset_msm`). Same point as ``msm``.

        Example:
            >>> group = ReferenceBackend()
            >>> g = group.generator()
            >>> group.eq(group.msm_secret([g, g], [2, 0]), group.mul(g, 2))
            True
        """
        return offset_msm(
            points, scalars, add=add, double=double, mul=self.mul, generator=self.generator(), identity=Z1
        )

    def encode(self, p: Point) -> bytes:
        """The 48-byte ZCash compressed encoding.

        Example:
            >>> len(ReferenceBackend().encode(ReferenceBackend().generator()))
            48
        """
        return int(compress_G1(p)).to_bytes(POINT_SIZE, "big")

    def decode(self, data: bytes, *, allow_identity: bool = False) -> Point:
        """Decode a compressed point, checking length, flags, x < p, the curve equation and the subgroup.

        Example:
            >>> group = ReferenceBackend()
            >>> group.eq(group.decode(group.encode(group.generator())), group.generator())
            True
        """
        if len(data) != POINT_SIZE:
            raise InvalidPoint(f"a G1 point is {POINT_SIZE} bytes, got {len(data)}")
        try:
            point = decompress_G1(int.from_bytes(data, "big"))  # type: ignore[arg-type]
        except ValueError as exc:
            raise InvalidPoint(f"not a compressed G1 point: {exc}") from exc
        if is_inf(point):
            if not allow_identity:
                raise InvalidPoint("the identity point is not allowed here")
            return Z1
        if not is_on_curve(point, b):  # decompress_G1 already solved the curve equation; belt and braces
            raise InvalidPoint("the point is not on the curve")
        if not is_inf(multiply(point, ORDER)):
            raise InvalidPoint("the point is not in the prime-order subgroup")
        return point

    def eq(self, a: Point, b: Point) -> bool:
        """Whether ``a`` and ``b`` are the same point.

        Example:
            >>> group = ReferenceBackend()
            >>> group.eq(group.mul(group.generator(), 2), group.generator())
            False
        """
        return bool(eq(a, b))

    def is_identity(self, p: Point) -> bool:
        """Whether ``p`` is the point at infinity.

        Example:
            >>> ReferenceBackend().is_identity(ReferenceBackend().identity())
            True
        """
        return bool(is_inf(p))

    def hash_to_g1(self, msg: bytes, dst: bytes) -> Point:
        """RFC 9380 ``BLS12381G1_XMD:SHA-256_SSWU_RO_`` of ``msg`` under the domain tag ``dst``.

        Example:
            >>> group = ReferenceBackend()
            >>> group.is_identity(group.hash_to_g1(b"", b"QX/1 test"))
            False
        """
        return hash_to_G1(msg, dst, hashlib.sha256)  # type: ignore[arg-type]

    def affine(self, p: Point) -> tuple[int, int] | None:
        """The affine coordinates ``(x, y)`` as integers, ``None`` for the identity (for tests and conversion).

        Example:
            >>> x, y = ReferenceBackend().affine(ReferenceBackend().generator())
            >>> hex(x)[:10]
            '0x17f1d3a7'
        """
        if is_inf(p):
            return None
        x, y = normalize(p)
        return int(x.n), int(y.n)


__all__ = ["ReferenceBackend"]
