"""The arkworks backend, the default: BLS12-381 G1 in Rust through ``py_arkworks_bls12381``.

The package is a dependency of qualink wherever it ships a wheel (see ``pyproject.toml``); elsewhere the
``arkworks`` extra asks for it explicitly (a source build needs Rust).

Points are ``py_arkworks_bls12381.G1Point`` objects; scalars cross as 32 big-endian bytes after reduction
modulo r (its ``Scalar(int)`` constructor reduces silently and refuses negative numbers, so it is not used).
Its ``from_compressed_bytes`` checks the curve equation and the subgroup, but accepts non-canonical identity
encodings (the infinity flag with a sign flag or a nonzero x); :func:`~protocol.zk.group.base.parse_compressed`
refuses those first, so this backend refuses exactly what the others refuse. ``hash_to_curve`` is the RFC 9380
suite (checked against the RFC vectors in the tests); tags over 255 bytes are refused, as elsewhere.

Secret scalars: the wheel (0.5.0) is built on ark-ec 0.4.2 / ark-ff 0.4.2 / ark-bls12-381 0.4.0, whose
``Projective * Fr`` is ``mul_projective``'s double-and-add over the bits without leading zeros with an ``if``
per bit, and whose MSM is Pippenger's (bucket index = a window of the scalar): neither is constant-time.
``mul_secret``/``msm_secret`` therefore run the fixed-length ladder of :mod:`protocol.zk.group.ladder` over
arkworks' point addition from Python. What remains below that is arkworks' own arithmetic: its Montgomery
multiplication ends with a data-dependent conditional subtraction, and its addition tests for the identity
and for equal points (the ladder never feeds it either, so those branches go the same way every iteration).

When the package is not installed, :data:`AVAILABLE` is False and
:func:`~protocol.zk.group.available_backends` leaves this backend out.

Example:
    >>> from protocol.zk.group import get_backend
    >>> group = get_backend("arkworks" if AVAILABLE else "fast")
    >>> group.encode(group.mul(group.generator(), 2)) == group.encode(group.add(group.generator(), group.generator()))
    True
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from protocol.zk.errors import InvalidPoint
from protocol.zk.group.base import ORDER, SCALAR_SIZE, parse_compressed
from protocol.zk.group.ladder import ladder, offset_msm

try:
    _ark: Any = importlib.import_module("py_arkworks_bls12381")
except ImportError:  # pragma: no cover - exercised on installs without the extra
    _ark = None

G1Point: Any = getattr(_ark, "G1Point", None)
Scalar: Any = getattr(_ark, "Scalar", None)

AVAILABLE = G1Point is not None
"""Whether ``py_arkworks_bls12381`` is importable here.

Example:
    >>> AVAILABLE in (True, False)
    True
"""


def _scalar(k: int) -> Any:
    return Scalar.from_be_bytes((k % ORDER).to_bytes(SCALAR_SIZE, "big"))


def _add(a: Any, b: Any) -> Any:
    return a + b


def _double(a: Any) -> Any:
    return a + a


class ArkworksBackend:
    """BLS12-381 G1 on arkworks (Rust); the default (installed wherever a wheel exists).

    Example:
        >>> from protocol.zk.group import get_backend
        >>> group = get_backend("arkworks" if AVAILABLE else "fast")
        >>> group.encode(group.generator()).hex()[:8]
        '97f1d3a7'
    """

    name = "arkworks"

    def __init__(self) -> None:
        if not AVAILABLE:
            raise ImportError(
                "py_arkworks_bls12381 is not installed (pip install 'py_arkworks_bls12381>=0.5')"
            )
        self._generator = G1Point()
        self._identity = G1Point.identity()

    def generator(self) -> Any:
        """The standard generator G.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.is_identity(group.generator())
            False
        """
        return self._generator

    def identity(self) -> Any:
        """The point at infinity.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.encode(group.identity()).hex()[:4]
            'c000'
        """
        return self._identity

    def add(self, a: Any, b: Any) -> Any:
        """``a + b``.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.eq(group.add(group.generator(), group.identity()), group.generator())
            True
        """
        return a + b

    def neg(self, a: Any) -> Any:
        """``-a``.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.is_identity(group.add(group.generator(), group.neg(group.generator())))
            True
        """
        return -a

    def mul(self, p: Any, k: int) -> Any:
        """``k·p`` with ``k`` reduced modulo r.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.eq(group.mul(group.generator(), -1), group.neg(group.generator()))
            True
        """
        return p * _scalar(k)

    def msm(self, points: Sequence[Any], scalars: Sequence[int]) -> Any:
        """``Σ kᵢ·Pᵢ`` with arkworks' multi-scalar multiplication.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> g = group.generator()
            >>> group.eq(group.msm([g, g], [2, 3]), group.mul(g, 5))
            True
        """
        if len(points) != len(scalars):
            raise ValueError(f"msm needs as many scalars as points, got {len(scalars)} and {len(points)}")
        if not points:
            return self._identity
        return G1Point.multiexp_unchecked(list(points), [_scalar(k) for k in scalars])

    def mul_secret(self, p: Any, k: int) -> Any:
        """``k·p`` for a secret ``k``: the fixed-length ladder of :func:`~protocol.zk.group.ladder.ladder` over
        arkworks' addition (arkworks' own ``p * k`` is double-and-add over the bits without leading zeros, with
        a branch on each bit: ark-ec 0.4's default ``mul_projective``, which ark-bls12-381 0.4 does not
        override). Same point as ``mul``.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.eq(group.mul_secret(group.generator(), 7), group.mul(group.generator(), 7))
            True
        """
        if p == self._identity:  # the point is public
            return self._identity
        return ladder(p, k, _add, _double)

    def msm_secret(self, points: Sequence[Any], scalars: Sequence[int]) -> Any:
        """``Σ kᵢ·Pᵢ`` for secret scalars: one fixed pass over the bits with shared doublings and random offsets
        (:func:`~protocol.zk.group.ladder.offset_msm`; arkworks' MSM is Pippenger's, whose bucket index is a window
        of the scalar). Same point as ``msm``.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> g = group.generator()
            >>> group.eq(group.msm_secret([g, g], [2, 0]), group.mul(g, 2))
            True
        """
        return offset_msm(
            points,
            scalars,
            add=_add,
            double=_double,
            mul=self.mul,
            generator=self.generator(),
            identity=self._identity,
        )

    def encode(self, p: Any) -> bytes:
        """The 48-byte ZCash compressed encoding.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> len(group.encode(group.generator()))
            48
        """
        return bytes(p.to_compressed_bytes())

    def decode(self, data: bytes, *, allow_identity: bool = False) -> Any:
        """Decode a compressed point: layout and flags here, curve and subgroup by arkworks.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.eq(group.decode(group.encode(group.generator())), group.generator())
            True
        """
        if parse_compressed(data) is None:
            if not allow_identity:
                raise InvalidPoint("the identity point is not allowed here")
            return self._identity
        try:
            return G1Point.from_compressed_bytes(bytes(data))
        except ValueError:
            pass
        try:  # only to say why: is it on the curve at all?
            G1Point.from_compressed_bytes_unchecked(bytes(data))
        except ValueError:
            raise InvalidPoint("the point is not on the curve") from None
        raise InvalidPoint("the point is not in the prime-order subgroup")

    def eq(self, a: Any, b: Any) -> bool:
        """Whether ``a`` and ``b`` are the same point.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.eq(group.mul(group.generator(), 2), group.generator())
            False
        """
        return bool(a == b)

    def is_identity(self, p: Any) -> bool:
        """Whether ``p`` is the point at infinity.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.is_identity(group.mul(group.generator(), 0))
            True
        """
        return bool(p == self._identity)

    def hash_to_g1(self, msg: bytes, dst: bytes) -> Any:
        """RFC 9380 ``BLS12381G1_XMD:SHA-256_SSWU_RO_`` of ``msg`` under ``dst``.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("arkworks" if AVAILABLE else "fast")
            >>> group.encode(group.hash_to_g1(b"abc", b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_")).hex()[:8]
            '83567bc5'
        """
        if len(dst) > 255:
            raise ValueError("a domain-separation tag is at most 255 bytes")
        return G1Point.hash_to_curve(bytes(msg), bytes(dst))


__all__ = ["AVAILABLE", "ArkworksBackend"]
