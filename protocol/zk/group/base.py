"""The interface every BLS12-381 G1 backend implements, the group constants and scalar checks.

A backend is an object with the methods of :class:`GroupBackend`. Its points are opaque (a tuple of field
elements, a Jacobian triple of integers, a Rust object): only the backend that made a point may use it, and the
only portable form of a point is its 48-byte ZCash compressed encoding (:meth:`GroupBackend.encode`). Every
backend produces byte-identical encodings for the same operations; the tests hold them to it.

Scalars are Python ``int`` s. Arithmetic methods (``mul``, ``msm``, ``mul_secret``, ``msm_secret``) reduce
them modulo :data:`ORDER`, so a negative scalar means its negation; anything read from the wire must pass
:func:`check_scalar` (or :func:`scalar_from_bytes`) first, which refuses values outside ``[0, r)``.

Two kinds of multiplication: ``mul`` and ``msm`` are variable-time and fast, for public scalars (the verifier,
challenges, the folded generators); ``mul_secret`` and ``msm_secret`` run a fixed sequence of group operations
whatever the scalar (:mod:`protocol.zk.group.ladder`), for the prover's secrets: blindings, witness values,
nonces. They give the same points.

Example:
    >>> from protocol.zk.group import get_backend
    >>> group = get_backend("reference")
    >>> g = group.generator()
    >>> group.eq(group.add(g, g), group.mul(g, 2))
    True
    >>> group.encode(group.mul(g, ORDER)) == group.encode(group.identity())
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

from protocol.zk.errors import InvalidPoint, InvalidScalar

ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
"""r, the prime order of the BLS12-381 G1 subgroup and the modulus of every scalar.

Example:
    >>> ORDER.bit_length()
    255
"""

FIELD_MODULUS = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16
)
"""p, the characteristic of the base field over which G1's coordinates live.

Example:
    >>> FIELD_MODULUS.bit_length(), FIELD_MODULUS % 4
    (381, 3)
"""

POINT_SIZE = 48
"""Bytes in a compressed G1 point (ZCash format: 381-bit x and three flag bits).

Example:
    >>> POINT_SIZE * 8 - FIELD_MODULUS.bit_length()
    3
"""

SCALAR_SIZE = 32
"""Bytes in an encoded scalar (big-endian, below :data:`ORDER`).

Example:
    >>> len(scalar_to_bytes(1)) == SCALAR_SIZE
    True
"""

Point: TypeAlias = Any
"""An opaque G1 point of one backend; pass it back only to the backend that made it.

(Importable for annotations, but not in ``__all__``: at run time it is ``typing.Any``.)

Example:
    >>> from protocol.zk.group import get_backend
    >>> group = get_backend("reference")
    >>> p: Point = group.generator()
    >>> group.encode(p).hex()[:8]
    '97f1d3a7'
"""


@runtime_checkable
class GroupBackend(Protocol):
    """Operations on BLS12-381 G1 that KPI-ZK needs; implemented by each backend.

    Methods:
        generator(): the standard generator G (the one of the ZCash / IETF BLS specifications).
        identity(): the point at infinity.
        add(a, b), neg(a): the group law.
        mul(p, k): ``k·p``, ``k`` reduced modulo :data:`ORDER` (negative ``k`` allowed); variable time, for
            public scalars only.
        msm(points, scalars): ``Σ kᵢ·Pᵢ`` (multi-scalar multiplication), scalars reduced modulo r; variable
            time, for public scalars only.
        mul_secret(p, k), msm_secret(points, scalars): the same results for secret scalars: a Montgomery
            ladder of fixed length, no branch or table index on the scalar's bits
            (:mod:`protocol.zk.group.ladder`).
        encode(p): 48-byte ZCash compressed form (the identity is ``0xc0`` followed by zeros).
        decode(data, allow_identity=False): the inverse; raises :class:`~protocol.zk.errors.InvalidPoint` for
            a wrong length, bad flags, x ≥ p, a point off the curve or outside the subgroup, and the identity
            unless ``allow_identity``.
        eq(a, b), is_identity(p): comparisons.
        hash_to_g1(msg, dst): RFC 9380 ``BLS12381G1_XMD:SHA-256_SSWU_RO_`` with the given domain tag.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> isinstance(get_backend("reference"), GroupBackend)
        True
    """

    name: str

    def generator(self) -> Point: ...

    def identity(self) -> Point: ...

    def add(self, a: Point, b: Point) -> Point: ...

    def neg(self, a: Point) -> Point: ...

    def mul(self, p: Point, k: int) -> Point: ...

    def msm(self, points: Sequence[Point], scalars: Sequence[int]) -> Point: ...

    def mul_secret(self, p: Point, k: int) -> Point: ...

    def msm_secret(self, points: Sequence[Point], scalars: Sequence[int]) -> Point: ...

    def encode(self, p: Point) -> bytes: ...

    def decode(self, data: bytes, *, allow_identity: bool = False) -> Point: ...

    def eq(self, a: Point, b: Point) -> bool: ...

    def is_identity(self, p: Point) -> bool: ...

    def hash_to_g1(self, msg: bytes, dst: bytes) -> Point: ...


def parse_compressed(data: bytes) -> tuple[int, bool] | None:
    """Check the byte layout of a ZCash compressed G1 point; return ``(x, y_is_larger)``, ``None`` for identity.

    Checks what needs no curve arithmetic: 48 bytes, the compression flag set, the infinity encoding exactly
    ``0xc0`` followed by zeros, and ``x < p``. The caller still solves for y (on-curve check) and tests the
    subgroup. Raises :class:`~protocol.zk.errors.InvalidPoint`.

    Example:
        >>> parse_compressed(bytes([0xC0]) + bytes(47)) is None
        True
        >>> x, larger = parse_compressed(bytes.fromhex("97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905"
        ...                                            "a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"))
        >>> hex(x)[:8], larger
        ('0x17f1d3', False)
        >>> parse_compressed(bytes([0xE0]) + bytes(47))
        Traceback (most recent call last):
        ...
        protocol.zk.errors.InvalidPoint: not a compressed G1 point: the identity is 0xc0 followed by zeros
    """
    if len(data) != POINT_SIZE:
        raise InvalidPoint(f"a G1 point is {POINT_SIZE} bytes, got {len(data)}")
    flags = data[0] >> 5
    if not flags & 0b100:
        raise InvalidPoint("not a compressed G1 point: the compression flag is not set")
    x = int.from_bytes(bytes([data[0] & 0x1F]) + data[1:], "big")
    if flags & 0b010:
        if flags & 0b001 or x:
            raise InvalidPoint("not a compressed G1 point: the identity is 0xc0 followed by zeros")
        return None
    if x >= FIELD_MODULUS:
        raise InvalidPoint("not a compressed G1 point: x is not below the field modulus")
    return x, bool(flags & 0b001)


def check_scalar(k: int) -> int:
    """Return ``k`` if it is a canonical scalar (``0 ≤ k < r``), else raise ``InvalidScalar``.

    Use it on every scalar that arrives from outside (a proof, a file); arithmetic methods reduce silently.

    Example:
        >>> check_scalar(5)
        5
        >>> check_scalar(-1)
        Traceback (most recent call last):
        ...
        protocol.zk.errors.InvalidScalar: a scalar must lie in [0, r)
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < ORDER:
        raise InvalidScalar("a scalar must lie in [0, r)")
    return k


def scalar_to_bytes(k: int) -> bytes:
    """Encode a scalar as 32 big-endian bytes, after reducing it modulo r.

    Example:
        >>> scalar_to_bytes(258).hex()[-4:]
        '0102'
        >>> scalar_to_bytes(-1) == scalar_to_bytes(ORDER - 1)
        True
    """
    return (k % ORDER).to_bytes(SCALAR_SIZE, "big")


def scalar_from_bytes(data: bytes) -> int:
    """Decode 32 big-endian bytes into a scalar, refusing a wrong length or a value ≥ r.

    Example:
        >>> scalar_from_bytes(scalar_to_bytes(7))
        7
        >>> scalar_from_bytes(ORDER.to_bytes(32, "big"))
        Traceback (most recent call last):
        ...
        protocol.zk.errors.InvalidScalar: a scalar must lie in [0, r)
    """
    if len(data) != SCALAR_SIZE:
        raise InvalidScalar(f"a scalar is {SCALAR_SIZE} bytes, got {len(data)}")
    return check_scalar(int.from_bytes(data, "big"))


__all__ = [
    "FIELD_MODULUS",
    "ORDER",
    "POINT_SIZE",
    "SCALAR_SIZE",
    "GroupBackend",
    "check_scalar",
    "parse_compressed",
    "scalar_from_bytes",
    "scalar_to_bytes",
]
