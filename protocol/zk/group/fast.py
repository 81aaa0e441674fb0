"""The default backend: BLS12-381 G1 on plain integers, Jacobian coordinates and Pippenger MSM.

Field elements are ``gmpy2.mpz`` when gmpy2 is importable (the ``fast`` extra; about three times faster)
and Python ``int`` otherwise; the results are the same integers either way. Points are Jacobian triples
``(X, Y, Z)`` representing ``(X/Z², Y/Z³)``; the identity has ``Z = 0``. Points made by :meth:`decode` and
:meth:`hash_to_g1` are affine (``Z = 1``), which lets the multi-scalar multiplication skip normalizing them.

- ``mul``: signed sliding window (width 5) with an affine table and mixed additions.
- ``msm``: Pippenger with signed digits; bucket sums are accumulated in affine coordinates, all buckets of all
  windows at once, in rounds that share one field inversion (Montgomery's trick), then combined with running
  sums in Jacobian coordinates. See :mod:`protocol.zk.group.pippenger`.
- ``decode``: canonical x, the curve equation, and the subgroup test of Scott (2021): a point P of E(Fp) is in
  G1 iff ``sigma(P) = -z²·P``, with ``sigma(x, y) = (β·x, y)`` and z the BLS parameter — two 64-bit multiplications
  instead of one by the 255-bit r.
- ``hash_to_g1``: :mod:`protocol.zk.group.rfc9380` then cofactor clearing by ``h_eff``.

Example:
    >>> group = FastBackend()
    >>> g = group.generator()
    >>> group.encode(group.msm([g, g], [2, 3])) == group.encode(group.mul(g, 5))
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from protocol.zk.errors import InvalidPoint
from protocol.zk.group import pippenger
from protocol.zk.group.base import FIELD_MODULUS, ORDER, POINT_SIZE, parse_compressed
from protocol.zk.group.rfc9380 import H_EFF, map_to_curve_sum

try:  # the ``fast`` extra
    import gmpy2

    _mpz: Callable[[int], int] = gmpy2.mpz
    _invert: Callable[[int, int], int] = gmpy2.invert
except ImportError:  # pragma: no cover - exercised on installs without the extra
    _mpz = int

    def _invert(value: int, modulus: int) -> int:
        return pow(value, -1, modulus)


GMPY2 = _mpz is not int
"""Whether gmpy2 accelerates this backend here (the ``fast`` extra installs it).

Example:
    >>> GMPY2 in (True, False)
    True
"""

Jacobian = tuple[int, int, int]

_P = _mpz(FIELD_MODULUS)
_ZERO, _ONE = _mpz(0), _mpz(1)
_HALF_P = (FIELD_MODULUS - 1) // 2
_SQRT_EXP = (FIELD_MODULUS + 1) // 4
_B = 4
_BETA = _mpz(
    0x5F19672FDF76CE51BA69C6076A0F77EADDB3A93BE6F89688DE17D813620A00022E01FFFFFFFEFFFE
)  # a cube root of unity in Fp with sigma(P) = -z²·P on G1 (checked against the generator in the tests)
_Z_ABS = 0xD201000000010000  # |z|, z = -0xd201000000010000 the BLS12-381 parameter
_IDENTITY: Jacobian = (_ONE, _ONE, _ZERO)
_G = (
    _mpz(0x17F1D3A73197D7942695638C4FA9AC0FC3688C4F9774B905A14E3A3F171BAC586C55E83FF97A1AEFFB3AF00ADB22C6BB),
    _mpz(0x08B3F481E3AAA0F1A09E30ED741D8AE4FCF5E095D5D00AF600DB18CB2C04B3EDD03CC744A2888AE40CAA232946C5E7E1),
    _ONE,
)


def double(pt: Jacobian) -> Jacobian:
    """``2·pt`` in Jacobian coordinates (dbl-2009-l, a = 0).

    Example:
        >>> group = FastBackend()
        >>> group.eq(double(group.generator()), group.mul(group.generator(), 2))
        True
    """
    x, y, z = pt
    if not z:
        return pt
    p = _P
    a = x * x % p
    b = y * y % p
    c = b * b % p
    d = 2 * ((x + b) * (x + b) - a - c) % p
    e = 3 * a
    f = e * e % p
    x3 = (f - 2 * d) % p
    return x3, (e * (d - x3) - 8 * c) % p, 2 * y * z % p


def add_mixed(pt: Jacobian, x2: int, y2: int) -> Jacobian:
    """``pt + (x2, y2)`` for an affine second operand (madd-2007-bl).

    Example:
        >>> group = FastBackend()
        >>> g = group.generator()
        >>> group.eq(add_mixed(g, g[0], g[1]), group.mul(g, 2))
        True
    """
    x1, y1, z1 = pt
    if not z1:
        return x2, y2, _ONE
    p = _P
    z1z1 = z1 * z1 % p
    h = (x2 * z1z1 - x1) % p
    r = 2 * (y2 * z1 * z1z1 - y1) % p
    if not h:
        return double(pt) if not r else _IDENTITY
    hh = h * h % p
    i = 4 * hh
    j = h * i % p
    v = x1 * i % p
    x3 = (r * r - j - 2 * v) % p
    return x3, (r * (v - x3) - 2 * y1 * j) % p, ((z1 + h) * (z1 + h) - z1z1 - hh) % p


def add(a: Jacobian, b: Jacobian) -> Jacobian:
    """``a + b`` in Jacobian coordinates (add-2007-bl).

    Example:
        >>> group = FastBackend()
        >>> g2 = group.mul(group.generator(), 2)
        >>> group.eq(add(g2, g2), group.mul(group.generator(), 4))
        True
    """
    x1, y1, z1 = a
    x2, y2, z2 = b
    if not z1:
        return b
    if not z2:
        return a
    if z2 == 1:
        return add_mixed(a, x2, y2)
    p = _P
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    s1 = y1 * z2 * z2z2 % p
    h = (x2 * z1z1 - u1) % p
    r = 2 * (y2 * z1 * z1z1 - s1) % p
    if not h:
        return double(a) if not r else _IDENTITY
    i = 4 * h * h % p
    j = h * i % p
    v = u1 * i % p
    x3 = (r * r - j - 2 * v) % p
    y3 = (r * (v - x3) - 2 * s1 * j) % p
    return x3, y3, ((z1 + z2) * (z1 + z2) - z1z1 - z2z2) * h % p


def neg(pt: Jacobian) -> Jacobian:
    """``-pt``.

    Example:
        >>> group = FastBackend()
        >>> group.is_identity(add(group.generator(), neg(group.generator())))
        True
    """
    x, y, z = pt
    return x, (-y) % _P, z


def to_affine(pt: Jacobian) -> tuple[int, int] | None:
    """Affine ``(x, y)`` of a point, ``None`` for the identity.

    Example:
        >>> to_affine(FastBackend().generator())[0] == FastBackend().generator()[0]
        True
    """
    x, y, z = pt
    if not z:
        return None
    if z == 1:
        return x, y
    p = _P
    zi = _invert(z, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 * zi % p


def normalize(points: Sequence[Jacobian]) -> list[Jacobian]:
    """The same points with ``Z = 1`` (identity kept as is), sharing one inversion (Montgomery's trick).

    Example:
        >>> group = FastBackend()
        >>> [int(z) for _, _, z in normalize([group.mul(group.generator(), 3)])]
        [1]
    """
    p = _P
    prefix: list[int] = []
    acc = _ONE
    for _, _, z in points:
        prefix.append(acc)
        if z and z != 1:
            acc = acc * z % p
    inverse = _invert(acc, p)
    out: list[Jacobian] = [_IDENTITY] * len(points)
    for index in range(len(points) - 1, -1, -1):
        x, y, z = points[index]
        if not z or z == 1:
            out[index] = points[index]
            continue
        zi = prefix[index] * inverse % p
        inverse = inverse * z % p
        zi2 = zi * zi % p
        out[index] = (x * zi2 % p, y * zi2 * zi % p, _ONE)
    return out


def _mul_plain(pt: Jacobian, k: int) -> Jacobian:
    """Double-and-add for any curve point (no subgroup assumption): cofactor clearing, subgroup tests."""
    result = _IDENTITY
    affine = to_affine(pt)
    if affine is None or k == 0:
        return _IDENTITY
    x, y = affine
    for bit in bin(k)[2:]:
        result = double(result)
        if bit == "1":
            result = add_mixed(result, x, y)
    return result


def _wnaf(k: int, width: int) -> list[int]:
    digits: list[int] = []
    full, half = 1 << width, 1 << (width - 1)
    while k:
        if k & 1:
            digit = k & (full - 1)
            if digit >= half:
                digit -= full
            k -= digit
        else:
            digit = 0
        digits.append(digit)
        k >>= 1
    return digits


def mul(pt: Jacobian, k: int) -> Jacobian:
    """``k·pt`` (k reduced modulo r) with a width-5 signed window and an affine table of odd multiples.

    Example:
        >>> group = FastBackend()
        >>> group.eq(mul(group.generator(), 6), add(group.mul(group.generator(), 2), group.mul(group.generator(), 4)))
        True
    """
    k %= ORDER
    if not k or not pt[2]:
        return _IDENTITY
    base = pt
    twice = double(base)
    table = [base]
    for _ in range(7):
        table.append(add(table[-1], twice))
    affine = normalize(table)  # odd multiples 1, 3, ..., 15
    p = _P
    result = _IDENTITY
    for digit in reversed(_wnaf(k, 5)):
        result = double(result)
        if digit > 0:
            x, y, _ = affine[digit >> 1]
            result = add_mixed(result, x, y)
        elif digit < 0:
            x, y, _ = affine[(-digit) >> 1]
            result = add_mixed(result, x, (-y) % p)
    return result


def in_subgroup(pt: Jacobian) -> bool:
    """Whether a point of E(Fp) lies in G1: ``sigma(P) = -z²·P`` (Scott, 2021).

    Example:
        >>> in_subgroup(FastBackend().generator())
        True
    """
    affine = to_affine(pt)
    if affine is None:
        return True
    x, y = affine
    z_squared_p = _mul_plain(_mul_plain(pt, _Z_ABS), _Z_ABS)  # (-z)²·P = z²·P
    sigma = (_BETA * x % _P, y, _ONE)
    return _equal(sigma, neg(z_squared_p))


def _equal(a: Jacobian, b: Jacobian) -> bool:
    x1, y1, z1 = a
    x2, y2, z2 = b
    if not z1 or not z2:
        return not z1 and not z2
    p = _P
    z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
    return x1 * z2z2 % p == x2 * z1z1 % p and y1 * z2z2 * z2 % p == y2 * z1z1 * z1 % p


class FastBackend:
    """BLS12-381 G1 on integers (gmpy2 when installed): the default backend.

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
        return _G

    def identity(self) -> Jacobian:
        """The point at infinity.

        Example:
            >>> FastBackend().is_identity(FastBackend().identity())
            True
        """
        return _IDENTITY

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
        """``Σ kᵢ·Pᵢ`` by Pippenger's bucket method (scalars reduced modulo r).

        Example:
            >>> group = FastBackend()
            >>> g = group.generator()
            >>> group.eq(group.msm([g, g, g], [1, 2, -3]), group.identity())
            True
        """
        if len(points) != len(scalars):
            raise ValueError(f"msm needs as many scalars as points, got {len(scalars)} and {len(points)}")
        if len(points) <= 2:
            total = _IDENTITY
            for point, scalar in zip(points, scalars, strict=True):
                total = add(total, mul(point, scalar))
            return total
        return pippenger.msm(points, [k % ORDER for k in scalars])

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
        encoded[0] |= 0xA0 if y > _HALF_P else 0x80
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
            return _IDENTITY
        x_int, larger = parsed
        p = _P
        x = _mpz(x_int)
        rhs = (x * x * x + _B) % p
        y = pow(rhs, _SQRT_EXP, p)
        if y * y % p != rhs:
            raise InvalidPoint("the point is not on the curve")
        if (y > _HALF_P) != larger:
            y = (p - y) % p
        point = (x, y, _ONE)
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
        return _equal(a, b)

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
            return _IDENTITY
        cleared = _mul_plain((_mpz(summed[0]), _mpz(summed[1]), _ONE), H_EFF)
        return normalize([cleared])[0]

    def from_affine(self, x: int, y: int) -> Jacobian:
        """A point from affine integer coordinates, unchecked (for conversions between trusted backends).

        Example:
            >>> group = FastBackend()
            >>> g = group.generator()
            >>> group.eq(group.from_affine(int(g[0]), int(g[1])), g)
            True
        """
        return _mpz(x), _mpz(y), _ONE

    def affine(self, p: Jacobian) -> tuple[int, int] | None:
        """The affine coordinates as Python ints, ``None`` for the identity.

        Example:
            >>> FastBackend().affine(FastBackend().identity()) is None
            True
        """
        affine = to_affine(p)
        return None if affine is None else (int(affine[0]), int(affine[1]))


__all__ = [
    "GMPY2",
    "FastBackend",
    "add",
    "add_mixed",
    "double",
    "in_subgroup",
    "mul",
    "neg",
    "normalize",
    "to_affine",
]
