"""The generators of KPI-ZK v1: G (standard), H and U, and the Bulletproofs vectors Gᵢ, Hᵢ.

Every generator other than G is ``hash_to_g1(message, DST)`` (RFC 9380, suite
``BLS12381G1_XMD:SHA-256_SSWU_RO_``) with the fixed domain tag :data:`DST`, so nobody knows a discrete
logarithm between any two of them — never ``H = k·G``. The messages are ASCII:

- ``b"H"``: the blinding generator of Pedersen commitments ``C = v·G + r·H``;
- ``b"U"``: the extra generator of the Bulletproofs inner-product argument;
- ``b"G/0"``, ``b"G/1"``, …: the vector Gᵢ; ``b"H/0"``, ``b"H/1"``, …: the vector Hᵢ;
- any other label through :func:`named_generator` (e.g. ``b"MTBF-T"``; a label never contains ``/``), for statements that need one.

Results are cached per backend; vectors grow on demand and a request for ``size`` returns their first
``size`` elements, so the generators for 64 are a prefix of those for 128. The known-answer vectors in
``tests/protocol/zk/vectors/`` pin the encodings.

Example:
    >>> from protocol.zk.group import get_backend
    >>> gens = generators(4, get_backend("reference"))
    >>> len(gens.g_vec), len(gens.h_vec)
    (4, 4)
    >>> gens.backend.eq(gens.h, named_generator(b"H", gens.backend))
    True
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from protocol.zk.group import GroupBackend, default_backend
from protocol.zk.group.base import Point

DST = b"QX/1 KPI-ZK v1 generators"
"""The RFC 9380 domain-separation tag of every hashed KPI-ZK v1 generator.

Example:
    >>> DST.decode()
    'QX/1 KPI-ZK v1 generators'
"""

_lock = threading.Lock()
_named: dict[tuple[str, bytes], Point] = {}
_vectors: dict[tuple[str, bytes], list[Point]] = {}


def generator_message(label: bytes, index: int | None = None) -> bytes:
    """The hash-to-curve message of a generator: ``label``, or ``label + b"/" + decimal index`` in a vector.

    Example:
        >>> generator_message(b"G", 12)
        b'G/12'
        >>> generator_message(b"H")
        b'H'
    """
    if b"/" in label:
        raise ValueError("a generator label must not contain '/'")
    if index is None:
        return label
    if index < 0:
        raise ValueError("a generator index is not negative")
    return label + b"/" + str(index).encode("ascii")


def named_generator(label: bytes, backend: GroupBackend | None = None) -> Point:
    """``hash_to_g1(label, DST)`` on ``backend`` (default backend when ``None``), cached.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> group = get_backend("reference")
        >>> group.eq(named_generator(b"U", group), named_generator(b"H", group))
        False
    """
    group = backend or default_backend()
    key = (group.name, generator_message(label))
    with _lock:
        point = _named.get(key)
    if point is None:
        point = group.hash_to_g1(key[1], DST)
        with _lock:
            point = _named.setdefault(key, point)
    return point


def vector_generators(label: bytes, size: int, backend: GroupBackend | None = None) -> tuple[Point, ...]:
    """The first ``size`` generators ``hash_to_g1(label/0, DST)``, ``hash_to_g1(label/1, DST)``, … , cached.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> group = get_backend("reference")
        >>> first = vector_generators(b"G", 2, group)
        >>> group.eq(first[1], group.hash_to_g1(b"G/1", DST))
        True
    """
    if size < 0:
        raise ValueError("a generator vector size is not negative")
    group = backend or default_backend()
    key = (group.name, label)
    with _lock:
        cached = list(_vectors.get(key, ()))
    if len(cached) < size:
        fresh = [group.hash_to_g1(generator_message(label, i), DST) for i in range(len(cached), size)]
        with _lock:
            current = _vectors.setdefault(key, [])
            if len(current) == len(cached):  # nobody extended it meanwhile
                current.extend(fresh)
            cached = list(current)
    return tuple(cached[:size])


@dataclass(frozen=True)
class Generators:
    """The generators a proof of vector length ``size`` needs on one backend.

    Attributes:
        backend: the backend whose points these are.
        g: the standard generator G; h: the Pedersen blinding generator H; u: the inner-product generator U.
        g_vec, h_vec: the Bulletproofs vectors Gᵢ and Hᵢ, ``size`` each.

    Build it with :func:`generators` (cached), not directly.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> gens = generators(2, get_backend("reference"))
        >>> gens.size, gens.backend.eq(gens.g, gens.backend.generator())
        (2, True)
    """

    backend: GroupBackend
    g: Point
    h: Point
    u: Point
    g_vec: tuple[Point, ...]
    h_vec: tuple[Point, ...]

    @property
    def size(self) -> int:
        """Length of each vector.

        Example:
            >>> from protocol.zk.group import get_backend
            >>> generators(3, get_backend("reference")).size
            3
        """
        return len(self.g_vec)

    def commit(self, value: int, blinding: int) -> Point:
        """The Pedersen commitment ``value·G + blinding·H`` (both secret: the constant-time ``msm_secret``).

        Example:
            >>> from protocol.zk.group import get_backend
            >>> gens = generators(0, get_backend("reference"))
            >>> group = gens.backend
            >>> group.eq(gens.commit(2, 0), group.mul(gens.g, 2))
            True
        """
        return self.backend.msm_secret([self.g, self.h], [value, blinding])


def generators(size: int = 0, backend: GroupBackend | None = None) -> Generators:
    """G, H, U and vectors of ``size`` on ``backend`` (the default backend when ``None``), cached.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> group = get_backend("reference")
        >>> gens = generators(8, group)
        >>> group.encode(gens.g_vec[0]) == group.encode(generators(1, group).g_vec[0])
        True
    """
    group = backend or default_backend()
    return Generators(
        backend=group,
        g=group.generator(),
        h=named_generator(b"H", group),
        u=named_generator(b"U", group),
        g_vec=vector_generators(b"G", size, group),
        h_vec=vector_generators(b"H", size, group),
    )


__all__ = ["DST", "Generators", "generator_message", "generators", "named_generator", "vector_generators"]
