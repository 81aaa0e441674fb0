"""The fallback backend: BLS12-381 G1 on plain integers, Jacobian coordinates and Pippenger MSM.

Used where ``py_arkworks_bls12381`` has no wheel (:func:`~protocol.zk.group.default_backend` warns once) or
when asked for by name; always available.

Field elements are ``gmpy2.mpz`` when gmpy2 is importable (the ``fast`` extra; 2-3 times faster)
and Python ``int`` otherwise; the results are the same integers either way. Points are Jacobian triples
``(X, Y, Z)`` representing ``(X/Z², Y/Z³)``; the identity has ``Z = 0``. Points made by :meth:`decode` and
:meth:`hash_to_g1` are affine (``Z = 1``), which lets the multi-scalar multiplication skip normalizing them.

- ``mul``: GLV split and a joint signed window (:func:`protocol.zk.group.jacobian.mul`); public scalars only.
- ``mul_secret``, ``msm_secret``: the fixed-length Montgomery ladder on complete formulas with an XOR-mask swap
  (:mod:`protocol.zk.group.complete`), and the offset sum of :func:`protocol.zk.group.ladder.offset_msm`.
- ``msm``: up to 16 terms, Straus (:func:`protocol.zk.group.jacobian.multi_mul`); beyond, Pippenger with the GLV split and signed digits; bucket sums are accumulated in affine coordinates,
  all buckets of all windows at once, in rounds that share one field inversion (Montgomery's trick), then
  combined with running sums in Jacobian coordinates. See :mod:`protocol.zk.group.pippenger`.
- ``decode``: canonical x, the curve equation, and the subgroup test of Scott (2021)
  (:func:`protocol.zk.group.jacobian.in_subgroup`), two 64-bit multiplications instead of one by r.
- ``hash_to_g1``: :mod:`protocol.zk.group.rfc9380` then cofactor clearing by ``h_eff``.

Example:
    >>> group = FastBackend()
    >>> g = group.generator()
    >>> group.encode(group.msm([g, g], [2, 3])) == group.encode(group.mul(g, 5))
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.zk.errors import InvalidPoint
from protocol.zk.group import complete, pippenger
from protocol.zk.group.base import FIELD_MODULUS, ORDER, POINT_SIZE, parse_compressed
from protocol.zk.group.jacobian import (
    GENERATOR,
    IDENTITY,
    ONE,
    Jacobian,
    P,
    add,
    equal,
    in_subgroup,
    mpz,
    mul,
    mul_plain,
    multi_mul,
    neg,
    normalize,
    to_affine,
)
from protocol.zk.group.rfc9380 import H_EFF, map_to_curve_sum

HALF_P = (FIELD_MODULUS - 1) // 2
SQRT_EXP = (FIELD_MODULUS + 1) // 4
B = 4
STRAUS_LIMIT = 16  # up to this many terms one shared doubling chain beats Pippenger's buckets (measured)


class FastBackend:
    """BLS12-381 G1 on integers (gmpy2 when installed): the fallback backend.

    Example:
        >>> group = FastBackend()
        >>> group.encode(group.generator()).hex()[:8]
        '97f1d3a7'
    """

    name = "fast"

    def generator(self) -> Jacobian:
        """The standard generator G.

        Example:
            >>> FastBackend().encode(FastBackend().generator()).hex()[:8]
            '97f1d3a7'
        """
        return GENERATOR

    def identity(self) -> Jacobian:
        """The point at infinity.

        Example:
            >>> FastBackend().is_identity(FastBackend().identity())
            True
        """
        return IDENTITY

    def add(self, a: Jacobian, b: Jacobian) -> Jacobian:
        """``a + b``.

        Example:
            >>> group = FastBackend()
            >>> group.eq(group.add(group.generator(), group.identity()), group.generator())
            True
        """
        return add(a, b)

    def neg(self, a: Jacobian) -> Jacobian:
        """``-a``.

        Example:
            >>> group = FastBackend()
            >>> group.is_identity(group.add(group.generator(), group.neg(group.generator())))
            True
        """
        return neg(a)

    def mul(self, p: Jacobian, k: int) -> Jacobian:
        """``k·p`` with ``k`` reduced modulo r.

        Example:
            >>> group = FastBackend()
            >>> group.eq(group.mul(group.generator(), -1), group.neg(group.generator()))
            True
        """
        return mul(p, k)

    def msm(self, points: Sequence[Jacobian], scalars: Sequence[int]) -> Jacobian:
        """``Σ kᵢ·Pᵢ`` (scalars reduced modulo r): Straus up to 16 terms, Pippenger's buckets beyond.

        Example:
            >>> group = FastBackend()
            >>> g = group.generator()
            >>> group.eq(group.msm([g, g, g], [1, 2, -3]), group.identity())
            True
        """
        if len(points) != len(scalars):
            raise ValueError(f"msm needs as many scalars as points, got {len(scalars)} and {len(points)}")
        if len(points) <= STRAUS_LIMIT:
            return multi_mul(points, scalars)
        return pippenger.msm(points, [k % ORDER for k in scalars])

    def mul_secret(self, p: Jacobian, k: int) -> Jacobian:
        """``k·p`` for a secret ``k``: the fixed-length ladder on complete formulas (same point as ``mul``).

        Example:
            >>> group = FastBackend()
            >>> group.eq(group.mul_secret(group.generator(), 7), group.mul(group.generator(), 7))
            True
        """
        return complete.mul_secret(p, k)

    def msm_secret(self, points: Sequence[Jacobian], scalars: Sequence[int]) -> Jacobian:
        """``Σ kᵢ·Pᵢ`` for secret scalars: one fixed pass with shared doublings on complete formulas (same point
        as ``msm``).

        Example:
            >>> group = FastBackend()
            >>> g = group.generator()
            >>> group.eq(group.msm_secret([g, g], [2, 0]), group.mul(g, 2))
            True
        """
        return complete.msm_secret(points, scalars)

    def encode(self, p: Jacobian) -> bytes:
        """The 48-byte ZCash compressed encoding.

        Example:
            >>> len(FastBackend().encode(FastBackend().identity()))
            48
        """
        affine = to_affine(p)
        if affine is None:
            return bytes([0xC0]) + bytes(POINT_SIZE - 1)
        x, y = affine
        encoded = bytearray(int(x).to_bytes(POINT_SIZE, "big"))
        encoded[0] |= 0xA0 if y > HALF_P else 0x80
        return bytes(encoded)

    def decode(self, data: bytes, *, allow_identity: bool = False) -> Jacobian:
        """Decode a compressed point: length, flags, canonical x, curve equation, subgroup.

        Example:
            >>> group = FastBackend()
            >>> group.eq(group.decode(group.encode(group.generator())), group.generator())
            True
        """
        parsed = parse_compressed(data)
        if parsed is None:
            if not allow_identity:
                raise InvalidPoint("the identity point is not allowed here")
            return IDENTITY
        x_int, larger = parsed
        p = P
        x = mpz(x_int)
        rhs = (x * x * x + B) % p
        y = pow(rhs, SQRT_EXP, p)
        if y * y % p != rhs:
            raise InvalidPoint("the point is not on the curve")
        if (y > HALF_P) != larger:
            y = (p - y) % p
        point = (x, y, ONE)
        if not in_subgroup(point):
            raise InvalidPoint("the point is not in the prime-order subgroup")
        return point

    def eq(self, a: Jacobian, b: Jacobian) -> bool:
        """Whether ``a`` and ``b`` are the same point.

        Example:
            >>> group = FastBackend()
            >>> group.eq(group.mul(group.generator(), 2), group.generator())
            False
        """
        return equal(a, b)

    def is_identity(self, p: Jacobian) -> bool:
        """Whether ``p`` is the point at infinity.

        Example:
            >>> FastBackend().is_identity(FastBackend().mul(FastBackend().generator(), 0))
            True
        """
        return not p[2]

    def hash_to_g1(self, msg: bytes, dst: bytes) -> Jacobian:
        """RFC 9380 ``BLS12381G1_XMD:SHA-256_SSWU_RO_`` of ``msg`` under ``dst``, returned affine.

        Example:
            >>> group = FastBackend()
            >>> group.encode(group.hash_to_g1(b"abc", b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_")).hex()[:8]
            '83567bc5'
        """
        summed = map_to_curve_sum(msg, dst)
        if summed is None:  # pragma: no cover - probability 2**-380
            return IDENTITY
        cleared = mul_plain((mpz(summed[0]), mpz(summed[1]), ONE), H_EFF)
        return normalize([cleared])[0]

    def from_affine(self, x: int, y: int) -> Jacobian:
        """A point from affine integer coordinates, unchecked (for conversions between trusted backends).

        ``mul`` and ``msm`` use the GLV endomorphism, which is only right on G1: give this only points known
        to be in G1; untrusted bytes go through :meth:`decode`.

        Example:
            >>> group = FastBackend()
            >>> g = group.generator()
            >>> group.eq(group.from_affine(int(g[0]), int(g[1])), g)
            True
        """
        return mpz(x), mpz(y), ONE

    def affine(self, p: Jacobian) -> tuple[int, int] | None:
        """The affine coordinates as Python ints, ``None`` for the identity.

        Example:
            >>> FastBackend().affine(FastBackend().identity()) is None
            True
        """
        affine = to_affine(p)
        return None if affine is None else (int(affine[0]), int(affine[1]))


__all__ = ["FastBackend"]
