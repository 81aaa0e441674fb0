"""Verification equations, checked together in one multi-scalar multiplication with random weights.

Every KPI-ZK check (a sigma proof, the two equations of a Bulletproofs range proof) is written as a list of
``scalar·point`` terms that must sum to the identity. Instead of evaluating each equation on its own, the
verifier multiplies every equation by a fresh random 128-bit weight and evaluates the sum once: if any
equation is false, the weighted sum is the identity with probability at most 2⁻¹²⁸. Terms on the shared
generators (G, H, U, Gᵢ, Hᵢ) are merged by key before the multiplication (and terms on one point object, such
as a commitment used by several equations, by identity), which is what makes verifying a
batch of proofs much cheaper than verifying them one by one (Bulletproofs §6.2).

Example:
    >>> from protocol.zk.generators import generators, vector_generators
    >>> from protocol.zk.group import get_backend
    >>> gens = generators(0, get_backend("reference"))
    >>> eq = Equation("doubling")
    >>> eq.add(gens.backend.add(gens.g, gens.g), 1)
    >>> eq.add_fixed("g", -2)
    >>> all_hold(gens.backend, [eq])
    True
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from protocol.zk.generators import generators, vector_generators
from protocol.zk.group import GroupBackend
from protocol.zk.group.base import ORDER, Point

_WEIGHT_BITS = 128


class Equation:
    """``Σ scalar·point = identity``: terms on named shared generators plus terms on other points.

    Shared generators are keyed: ``"g"``, ``"h"``, ``"u"``, ``("G", i)`` and ``("H", i)`` for the Bulletproofs
    vectors, ``("P", i)`` for the vector commitment of subgroup sums (``vector_generators(b"P", …)``).

    Args:
        name: the check this equation stands for, reported in ``ProofInvalid.check`` when it fails.

    Example:
        >>> eq = Equation("square relation")
        >>> eq.add_fixed(("G", 3), 5)
        >>> eq.fixed[("G", 3)], eq.name
        (5, 'square relation')
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.fixed: dict[object, int] = {}
        self.points: list[Point] = []
        self.scalars: list[int] = []

    def add_fixed(self, key: object, scalar: int) -> None:
        """Add ``scalar`` times the shared generator ``key``.

        Example:
            >>> eq = Equation("x")
            >>> eq.add_fixed("h", 2); eq.add_fixed("h", 3)
            >>> eq.fixed["h"]
            5
        """
        self.fixed[key] = (self.fixed.get(key, 0) + scalar) % ORDER

    def add(self, point: Point, scalar: int) -> None:
        """Add ``scalar·point`` for a point that is not a shared generator.

        Example:
            >>> eq = Equation("x")
            >>> eq.add("P", 4)
            >>> eq.scalars
            [4]
        """
        self.points.append(point)
        self.scalars.append(scalar % ORDER)


def _vector_size(keys: Sequence[object], labels: set[str]) -> int:
    size = 0
    for key in keys:
        if isinstance(key, tuple) and key[0] in labels:
            size = max(size, key[1] + 1)
    return size


def combined_holds(backend: GroupBackend, equations: Sequence[Equation], weights: Sequence[int]) -> bool:
    """True when ``Σ weightₖ·equationₖ`` is the identity, evaluated in one multi-scalar multiplication.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> group = get_backend("reference")
        >>> eq = Equation("g minus g")
        >>> eq.add(group.generator(), 1); eq.add_fixed("g", -1)
        >>> combined_holds(group, [eq], [12345])
        True
    """
    fixed: dict[object, int] = {}
    points: list[Point] = []
    scalars: list[int] = []
    index: dict[int, int] = {}  # a point object used by several equations (a commitment) is one MSM term
    for equation, weight in zip(equations, weights, strict=True):
        for key, k in equation.fixed.items():
            fixed[key] = (fixed.get(key, 0) + weight * k) % ORDER
        for point, k in zip(equation.points, equation.scalars, strict=True):
            at = index.get(id(point))
            if at is None:
                index[id(point)] = len(points)
                points.append(point)
                scalars.append(weight * k % ORDER)
            else:
                scalars[at] = (scalars[at] + weight * k) % ORDER
    gens = generators(_vector_size(list(fixed), {"G", "H"}), backend)
    named = {"g": gens.g, "h": gens.h, "u": gens.u}
    vectors = {"G": gens.g_vec, "H": gens.h_vec}
    extra = _vector_size(list(fixed), {"P"})
    if extra:
        vectors["P"] = vector_generators(b"P", extra, backend)
    for key, k in fixed.items():
        if k == 0:
            continue
        if isinstance(key, tuple):
            points.append(vectors[key[0]][key[1]])
        else:
            points.append(named[str(key)])
        scalars.append(k)
    return backend.is_identity(backend.msm(points, scalars))


def random_weights(count: int) -> list[int]:
    """``count`` independent uniformly random nonzero 128-bit weights (from ``secrets``).

    Example:
        >>> w = random_weights(3)
        >>> len(w), all(0 < x < 2**128 for x in w)
        (3, True)
    """
    return [secrets.randbits(_WEIGHT_BITS) | 1 for _ in range(count)]


def all_hold(backend: GroupBackend, equations: Sequence[Equation]) -> bool:
    """True when every equation holds (one multi-scalar multiplication with random weights).

    Example:
        >>> from protocol.zk.group import get_backend
        >>> all_hold(get_backend("reference"), [])
        True
    """
    if not equations:
        return True
    return combined_holds(backend, equations, random_weights(len(equations)))


def first_failing(backend: GroupBackend, equations: Sequence[Equation]) -> Equation | None:
    """The first equation that does not hold on its own, or ``None`` (used to name a failed check).

    Example:
        >>> from protocol.zk.group import get_backend
        >>> group = get_backend("reference")
        >>> eq = Equation("broken")
        >>> eq.add(group.generator(), 1)
        >>> first_failing(group, [eq]).name
        'broken'
    """
    for equation in equations:
        if not combined_holds(backend, [equation], [1]):
            return equation
    return None


__all__ = ["Equation", "all_hold", "combined_holds", "first_failing", "random_weights"]
