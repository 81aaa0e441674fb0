"""BLS12-381 G1 arithmetic on integers: the field, Jacobian coordinates, scalar multiplication, subgroup test.

The building blocks of :class:`~protocol.zk.group.fast.FastBackend` and :mod:`~protocol.zk.group.pippenger`.
Field elements are ``gmpy2.mpz`` when gmpy2 is importable (the ``fast`` extra; 2-3 times faster)
and Python ``int`` otherwise; the results are the same integers either way. Points are Jacobian triples
``(X, Y, Z)`` representing ``(X/Z², Y/Z³)``; the identity has ``Z = 0``.

- ``mul``: the GLV split ``k = low + high·z²`` (see :mod:`~protocol.zk.group.pippenger`) and a joint
  width-5 signed window over P and sigma(P), with affine tables and mixed additions.
- ``in_subgroup``: the test of Scott (2021): a point P of E(Fp) is in G1 iff ``sigma(P) = -z²·P``, with
  ``sigma(x, y) = (β·x, y)`` and z the BLS parameter: two 64-bit multiplications instead of one by r.

Example:
    >>> g = GENERATOR
    >>> equal(add(g, g), double(g)) and equal(mul(g, 3), add(double(g), g))
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from protocol.zk.group.base import FIELD_MODULUS, ORDER

try:  # the ``fast`` extra
    import gmpy2

    mpz: Callable[[int], int] = gmpy2.mpz
    invert: Callable[[int, int], int] = gmpy2.invert
except ImportError:  # pragma: no cover - exercised on installs without the extra
    mpz = int

    def invert(value: int, modulus: int) -> int:
        return pow(value, -1, modulus)


GMPY2 = mpz is not int
"""Whether gmpy2 accelerates this backend here (the ``fast`` extra installs it).

Example:
    >>> GMPY2 in (True, False)
    True
"""

Jacobian = tuple[int, int, int]

P = mpz(FIELD_MODULUS)
ZERO, ONE = mpz(0), mpz(1)
BETA = mpz(
    0x5F19672FDF76CE51BA69C6076A0F77EADDB3A93BE6F89688DE17D813620A00022E01FFFFFFFEFFFE
)  # a cube root of unity in Fp with sigma(P) = -z²·P on G1 (checked against the generator in the tests)
Z_ABS = 0xD201000000010000  # |z|, z = -0xd201000000010000 the BLS12-381 parameter
SPLIT = Z_ABS**2  # GLV: on G1, z²·P = -sigma(P), so k·P = (k mod z²)·P + (k div z²)·(-sigma(P))
IDENTITY: Jacobian = (ONE, ONE, ZERO)
GENERATOR: Jacobian = (
    mpz(0x17F1D3A73197D7942695638C4FA9AC0FC3688C4F9774B905A14E3A3F171BAC586C55E83FF97A1AEFFB3AF00ADB22C6BB),
    mpz(0x08B3F481E3AAA0F1A09E30ED741D8AE4FCF5E095D5D00AF600DB18CB2C04B3EDD03CC744A2888AE40CAA232946C5E7E1),
    ONE,
)


def double(pt: Jacobian) -> Jacobian:
    """``2·pt`` in Jacobian coordinates (dbl-2009-l, a = 0).

    Example:
        >>> equal(double(GENERATOR), mul(GENERATOR, 2))
        True
    """
    x, y, z = pt
    if not z:
        return pt
    p = P
    a = x * x % p
    b = y * y % p
    c = b * b  # left unreduced: both uses are reduced right after
    d = 2 * ((x + b) * (x + b) - a - c) % p
    e = 3 * a
    x3 = (e * e - 2 * d) % p
    return x3, (e * (d - x3) - 8 * c) % p, 2 * y * z % p


def add_mixed(pt: Jacobian, x2: int, y2: int) -> Jacobian:
    """``pt + (x2, y2)`` for an affine second operand (madd-2007-bl).

    Example:
        >>> g = GENERATOR
        >>> equal(add_mixed(g, g[0], g[1]), mul(g, 2))
        True
    """
    x1, y1, z1 = pt
    if not z1:
        return x2, y2, ONE
    p = P
    z1z1 = z1 * z1 % p
    h = (x2 * z1z1 - x1) % p
    r = 2 * (y2 * z1 * z1z1 - y1) % p
    if not h:
        return double(pt) if not r else IDENTITY
    hh = h * h % p
    i = 4 * hh
    j = h * i % p
    v = x1 * i % p
    x3 = (r * r - j - 2 * v) % p
    return x3, (r * (v - x3) - 2 * y1 * j) % p, ((z1 + h) * (z1 + h) - z1z1 - hh) % p


def add(a: Jacobian, b: Jacobian) -> Jacobian:
    """``a + b`` in Jacobian coordinates (add-2007-bl).

    Example:
        >>> g2 = mul(GENERATOR, 2)
        >>> equal(add(g2, g2), mul(GENERATOR, 4))
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
    p = P
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    s1 = y1 * z2 * z2z2 % p
    h = (x2 * z1z1 - u1) % p
    r = 2 * (y2 * z1 * z1z1 - s1) % p
    if not h:
        return double(a) if not r else IDENTITY
    i = 4 * h * h % p
    j = h * i % p
    v = u1 * i % p
    x3 = (r * r - j - 2 * v) % p
    y3 = (r * (v - x3) - 2 * s1 * j) % p
    return x3, y3, ((z1 + z2) * (z1 + z2) - z1z1 - z2z2) * h % p


def neg(pt: Jacobian) -> Jacobian:
    """``-pt``.

    Example:
        >>> add(GENERATOR, neg(GENERATOR))[2] == 0
        True
    """
    x, y, z = pt
    return x, (-y) % P, z


def to_affine(pt: Jacobian) -> tuple[int, int] | None:
    """Affine ``(x, y)`` of a point, ``None`` for the identity.

    Example:
        >>> to_affine(GENERATOR)[0] == GENERATOR[0]
        True
    """
    x, y, z = pt
    if not z:
        return None
    if z == 1:
        return x, y
    p = P
    zi = invert(z, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 * zi % p


def normalize(points: Sequence[Jacobian]) -> list[Jacobian]:
    """The same points with ``Z = 1`` (identity kept as is), sharing one inversion (Montgomery's trick).

    Example:
        >>> [int(z) for _, _, z in normalize([mul(GENERATOR, 3)])]
        [1]
    """
    p = P
    prefix: list[int] = []
    acc = ONE
    for _, _, z in points:
        prefix.append(acc)
        if z and z != 1:
            acc = acc * z % p
    inverse = invert(acc, p)
    out: list[Jacobian] = [IDENTITY] * len(points)
    for index in range(len(points) - 1, -1, -1):
        x, y, z = points[index]
        if not z or z == 1:
            out[index] = points[index]
            continue
        zi = prefix[index] * inverse % p
        inverse = inverse * z % p
        zi2 = zi * zi % p
        out[index] = (x * zi2 % p, y * zi2 * zi % p, ONE)
    return out


def mul_plain(pt: Jacobian, k: int) -> Jacobian:
    """``k·pt`` by double-and-add, for any curve point (no subgroup assumption): cofactor clearing, subgroup test.

    Example:
        >>> equal(mul_plain(GENERATOR, 5), mul(GENERATOR, 5))
        True
    """
    result = IDENTITY
    affine = to_affine(pt)
    if affine is None or k == 0:
        return IDENTITY
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
    """``k·pt`` for a point of G1 (k reduced modulo r): :func:`multi_mul` with one term.

    Only valid on G1 (every decoded or hashed point); :func:`mul_plain` works anywhere.

    Example:
        >>> equal(mul(GENERATOR, 6), add(mul(GENERATOR, 2), mul(GENERATOR, 4)))
        True
        >>> equal(mul(GENERATOR, ORDER - 1), neg(GENERATOR))
        True
    """
    return multi_mul([pt], [k])


def multi_mul(points: Sequence[Jacobian], scalars: Sequence[int]) -> Jacobian:
    """``Σ kᵢ·Pᵢ`` for a few points of G1 by Straus's method with the GLV split (scalars reduced modulo r).

    Every ``k = low + high·z²`` gives ``k·P = low·P + high·(-sigma(P))``, so all the 128-bit halves of all
    the scalars share one chain of about 128 doublings; each half adds from a table of the odd multiples
    1·P ... 15·P (width-5 signed digits), all tables normalized with one inversion. For many points
    :mod:`~protocol.zk.group.pippenger` is cheaper.

    Example:
        >>> equal(multi_mul([GENERATOR, double(GENERATOR)], [3, -1]), GENERATOR)
        True
    """
    p = P
    live = []
    for pt, k in zip(points, scalars, strict=True):
        k %= ORDER
        if k and pt[2]:
            live.append((pt, k))
    if not live:
        return IDENTITY
    twices = normalize([double(pt) for pt, _ in live])
    tables: list[Jacobian] = []
    for (pt, _), (tx, ty, _) in zip(live, twices, strict=True):
        entry = pt
        tables.append(entry)
        for _ in range(7):
            entry = add_mixed(entry, tx, ty)
            tables.append(entry)
    flat = normalize(tables)
    columns: list[tuple[list[int], list[tuple[int, int]]]] = []
    for index, (_, k) in enumerate(live):
        own = [(x, y) for x, y, _ in flat[8 * index : 8 * index + 8]]  # 1, 3, ..., 15 times P
        other = [(BETA * x % p, p - y) for x, y in own]  # the same multiples of -sigma(P)
        high, low = divmod(k, SPLIT)
        columns += [(_wnaf(low, 5), own), (_wnaf(high, 5), other)]
    length = max(len(digits) for digits, _ in columns)
    result = IDENTITY
    for position in range(length - 1, -1, -1):
        result = double(result)
        for digits, multiples in columns:
            if position < len(digits):
                digit = digits[position]
                if digit > 0:
                    x, y = multiples[digit >> 1]
                    result = add_mixed(result, x, y)
                elif digit < 0:
                    x, y = multiples[(-digit) >> 1]
                    result = add_mixed(result, x, p - y)
    return result


def in_subgroup(pt: Jacobian) -> bool:
    """Whether a point of E(Fp) lies in G1: ``sigma(P) = -z²·P`` (Scott, 2021).

    Example:
        >>> in_subgroup(GENERATOR)
        True
    """
    affine = to_affine(pt)
    if affine is None:
        return True
    x, y = affine
    z_squared_p = mul_plain(mul_plain(pt, Z_ABS), Z_ABS)  # (-z)²·P = z²·P
    sigma = (BETA * x % P, y, ONE)
    return equal(sigma, neg(z_squared_p))


def equal(a: Jacobian, b: Jacobian) -> bool:
    """Whether two Jacobian triples are the same point (cross-multiplied, no inversion).

    Example:
        >>> equal(double(GENERATOR), add(GENERATOR, GENERATOR)), equal(GENERATOR, IDENTITY)
        (True, False)
    """
    x1, y1, z1 = a
    x2, y2, z2 = b
    if not z1 or not z2:
        return not z1 and not z2
    p = P
    z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
    return x1 * z2z2 % p == x2 * z1z1 % p and y1 * z2z2 * z2 % p == y2 * z1z1 * z1 % p


__all__ = [
    "GMPY2",
    "add",
    "add_mixed",
    "double",
    "equal",
    "in_subgroup",
    "mul",
    "mul_plain",
    "multi_mul",
    "neg",
    "normalize",
    "to_affine",
]
