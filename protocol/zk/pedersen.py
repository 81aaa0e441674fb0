"""Pedersen commitments ``C = v·G + r·H`` and linear combinations of them.

Values are integers (measurements scaled to their resolution); they are reduced modulo r only when they meet
the group, so a statement can reason about them as integers as long as its range proofs rule out wrap-around.
A :class:`Combination` is an affine form ``c₀ + Σ cₖ·Xₖ`` over named committed values: the verifier turns it into
a commitment homomorphically (``c₀·G + Σ cₖ·Cₖ``), the prover into an opening (``c₀ + Σ cₖ·vₖ``,
``Σ cₖ·rₖ``), so derived quantities (``a = n·W - S1``) need no commitment of their own.

Example:
    >>> from protocol.zk.generators import generators
    >>> from protocol.zk.group import get_backend
    >>> gens = generators(0, get_backend("reference"))
    >>> s1 = Opening(7, 11)
    >>> a = Combination(20, {"S1": -1})  # a = 20 - S1
    >>> opened = a.opening({"S1": s1})
    >>> (opened.value, opened.blinding == ORDER - 11)
    (13, True)
    >>> gens.backend.eq(opened.commit(gens), a.commitment({"S1": s1.commit(gens)}, gens))
    True
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from protocol.zk.generators import Generators, vector_generators
from protocol.zk.group.base import ORDER, Point


def random_scalar() -> int:
    """A uniformly random scalar in ``[1, r)`` from ``secrets``.

    Example:
        >>> 0 < random_scalar() < ORDER
        True
    """
    return secrets.randbelow(ORDER - 1) + 1


@dataclass(frozen=True)
class Opening:
    """The secret behind a commitment: the integer ``value`` and the ``blinding`` scalar.

    Example:
        >>> Opening(3, 5).value
        3
    """

    value: int
    blinding: int

    @classmethod
    def fresh(cls, value: int) -> Opening:
        """An opening of ``value`` with a fresh random blinding.

        Example:
            >>> Opening.fresh(9).value
            9
        """
        return cls(value, random_scalar())

    def commit(self, gens: Generators) -> Point:
        """``value·G + blinding·H``.

        Example:
            >>> from protocol.zk.generators import generators
            >>> from protocol.zk.group import get_backend
            >>> gens = generators(0, get_backend("reference"))
            >>> gens.backend.eq(Opening(1, 0).commit(gens), gens.g)
            True
        """
        return gens.commit(self.value % ORDER, self.blinding % ORDER)


@dataclass(frozen=True)
class Combination:
    """The affine form ``constant + Σ coefficients[name]·X[name]`` over named committed values.

    Example:
        >>> q = Combination(0, {"S2": 125, "S1sq": -1})  # Q = n·S2 - S1²
        >>> q.evaluate({"S2": 10, "S1sq": 1000})
        250
    """

    constant: int = 0
    coefficients: Mapping[str, int] = field(default_factory=dict)

    def evaluate(self, values: Mapping[str, int]) -> int:
        """The integer value of the form at ``values``.

        Example:
            >>> Combination(5, {"x": 2}).evaluate({"x": 3})
            11
        """
        return self.constant + sum(k * values[name] for name, k in self.coefficients.items())

    def opening(self, openings: Mapping[str, Opening]) -> Opening:
        """The opening of the derived commitment (value as an integer, blinding modulo r).

        Example:
            >>> Combination(1, {"x": 2}).opening({"x": Opening(4, 3)})
            Opening(value=9, blinding=6)
        """
        value = self.evaluate({name: openings[name].value for name in self.coefficients})
        blinding = sum(k * openings[name].blinding for name, k in self.coefficients.items()) % ORDER
        return Opening(value, blinding)

    def terms(self, commitments: Mapping[str, Point]) -> list[tuple[int, Point]]:
        """The ``(coefficient, commitment)`` pairs of the derived commitment, without the constant's G term.

        Example:
            >>> Combination(0, {"x": 2}).terms({"x": "Cx"})
            [(2, 'Cx')]
        """
        return [(k, commitments[name]) for name, k in self.coefficients.items()]

    def commitment(self, commitments: Mapping[str, Point], gens: Generators) -> Point:
        """The derived commitment ``constant·G + Σ cₖ·Cₖ`` (one multi-scalar multiplication).

        Example:
            >>> from protocol.zk.generators import generators
            >>> from protocol.zk.group import get_backend
            >>> gens = generators(0, get_backend("reference"))
            >>> c = Combination(2, {}).commitment({}, gens)
            >>> gens.backend.eq(c, gens.backend.mul(gens.g, 2))
            True
        """
        pairs = self.terms(commitments)
        return gens.backend.msm([gens.g] + [p for _, p in pairs], [self.constant] + [k for k, _ in pairs])


VECTOR_LABEL = b"P"
"""The hash-to-curve label of the generators Pⱼ of vector commitments (``P/0``, ``P/1``, …).

Example:
    >>> VECTOR_LABEL
    b'P'
"""


@dataclass(frozen=True)
class VectorOpening:
    """The secret behind a vector commitment ``Σ vⱼ·Pⱼ + r·H`` (one commitment to many integers).

    Example:
        >>> VectorOpening((1, 2, 3), 5).values
        (1, 2, 3)
    """

    values: tuple[int, ...]
    blinding: int

    @classmethod
    def fresh(cls, values: tuple[int, ...]) -> VectorOpening:
        """An opening of ``values`` with a fresh random blinding.

        Example:
            >>> len(VectorOpening.fresh((4, 5)).values)
            2
        """
        return cls(tuple(values), random_scalar())

    def commit(self, gens: Generators) -> Point:
        """``Σ vⱼ·Pⱼ + r·H`` with the generators ``Pⱼ = hash_to_g1(b"P/j", DST)`` (secret scalars: ``msm_secret``).

        Example:
            >>> from protocol.zk.generators import generators
            >>> from protocol.zk.group import get_backend
            >>> gens = generators(0, get_backend("reference"))
            >>> p = vector_generators(VECTOR_LABEL, 1, gens.backend)[0]
            >>> gens.backend.eq(VectorOpening((1,), 0).commit(gens), p)
            True
        """
        bases = vector_generators(VECTOR_LABEL, len(self.values), gens.backend)
        scalars = [v % ORDER for v in self.values] + [self.blinding % ORDER]
        return gens.backend.msm_secret([*bases, gens.h], scalars)


__all__ = ["VECTOR_LABEL", "Combination", "Opening", "VectorOpening", "random_scalar"]
