"""Scalar multiplication for secret scalars: a Montgomery ladder of fixed length, and a secret MSM with shared doublings.

The prover multiplies by secrets (blindings, witness values, nonces); the verifier only by public scalars. The
variable-time methods (``mul``, ``msm``: signed windows, GLV, Pippenger's buckets, arkworks' double-and-add)
branch on the scalar's bits and run as long as its bit length, which is the classic timing leak (a nonce's bit
length alone feeds lattice attacks). The secret-scalar methods remove those algorithmic leaks:

- **a fixed sequence**: the scalar is first rewritten as ``k' = k + 2r`` or ``k + 3r`` (whichever has bit 256
  set; chosen arithmetically, not by a branch), so ``k'·P = k·P`` and ``k'`` always has exactly
  :data:`LADDER_BITS` + 1 bits. The ladder starts at ``(P, 2P)`` for the top bit and then runs exactly
  :data:`LADDER_BITS` iterations, each one addition and one doubling, whatever the bits;
- **no identity on the way**: every intermediate pair is ``(m·P, (m+1)·P)`` with ``m`` a prefix of ``k'``;
  ``k'`` lies in ``[2²⁵⁶, 4r)``, so no prefix of it (nor a prefix plus one) is a multiple of r and no
  intermediate point is the identity (checked in the tests). Backends whose addition branches on the identity
  (arkworks, py-ecc) therefore take the same branches in every iteration, and the pure-Python backend never
  computes on the tiny integers of the identity's coordinates;
- **a conditional swap, not a branch**: the pure-Python backend swaps coordinates with an XOR mask
  (:mod:`protocol.zk.group.complete`); for opaque points (arkworks, py-ecc) :func:`ladder` picks the pair's
  order by indexing a 2-tuple with the bit.

What this does not give: machine-level constant time. CPython's integers take time that depends on their
values (sizes, zero limbs), a tuple index is a memory load at a secret-dependent slot, and arkworks' field
arithmetic has data-dependent final subtractions. The guarantee is algorithmic: the sequence of group
operations, their number and their branches do not depend on the secret.

Example:
    >>> from protocol.zk.group import get_backend
    >>> group = get_backend("reference")
    >>> g = group.generator()
    >>> group.eq(ladder(g, 5, group.add, lambda q: group.add(q, q)), group.mul(g, 5))
    True
    >>> ladder_scalar(0).bit_length() == LADDER_BITS + 1
    True
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from protocol.zk.group.base import ORDER

LADDER_BITS = 256
"""Iterations of every secret-scalar ladder: the bits of ``k'`` below its fixed top bit (bit 256).

Example:
    >>> LADDER_BITS == ORDER.bit_length() + 1
    True
"""

_TWO_R, _THREE_R = 2 * ORDER, 3 * ORDER


def ladder_scalar(k: int) -> int:
    """``k' ≡ k (mod r)`` with exactly 257 bits: ``k + 2r`` if that reaches 2²⁵⁶, else ``k + 3r``, no branch.

    Example:
        >>> all(ladder_scalar(k) >> LADDER_BITS == 1 for k in (0, 1, ORDER - 1))
        True
        >>> (ladder_scalar(7) - 7) % ORDER
        0
    """
    k %= ORDER
    low = k + _TWO_R  # < 2^257; bit 256 is set unless k is below 2^256 - 2r
    return low + (1 - (low >> LADDER_BITS)) * ORDER


def ladder(p: Any, k: int, add: Callable[[Any, Any], Any], double: Callable[[Any], Any]) -> Any:
    """``k·p`` by the fixed-length Montgomery ladder over opaque points (``add``, ``double`` of a backend).

    ``p`` must be in G1 and not the identity (the caller handles the identity, which is public). Each of the
    :data:`LADDER_BITS` iterations swaps the pair by the bit (a 2-tuple index), adds, doubles and swaps back.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> group = get_backend("reference")
        >>> g = group.generator()
        >>> group.eq(ladder(g, ORDER - 1, group.add, lambda q: group.add(q, q)), group.neg(g))
        True
    """
    scalar = ladder_scalar(k)
    r0, r1 = p, double(p)
    previous = 0
    for i in range(LADDER_BITS - 1, -1, -1):
        bit = (scalar >> i) & 1
        swap = bit ^ previous
        pair = (r0, r1)
        r0, r1 = pair[swap], pair[1 - swap]
        r1 = add(r0, r1)
        r0 = double(r0)
        previous = bit
    pair = (r0, r1)
    return pair[previous]


def offset_msm(
    points: Sequence[Any],
    scalars: Sequence[int],
    *,
    add: Callable[[Any, Any], Any],
    double: Callable[[Any], Any],
    mul: Callable[[Any, int], Any],
    generator: Any,
    identity: Any,
) -> Any:
    """``Σ kᵢ·Pᵢ`` for secret scalars in one fixed pass over the bits, sharing its doublings between the terms.

    A fresh random point ``Q`` (its scalar is random and independent of the secrets, so the variable-time
    ``mul`` may make it) gives every term a pair ``Tᵢ = (Q, Pᵢ + Q)``. From the top of :data:`LADDER_BITS` bits
    down, the sum is doubled once and then gets ``Tᵢ[bit]`` of every term: the same additions and doublings, in
    the same order, whatever the bits (a 2-tuple index picks the entry, as in :func:`ladder`). Every bit adds
    ``Q`` once per term, ``N·(2ᴸ - 1)·Q`` in all, subtracted at the end. The running sum is a random point, so
    no addition meets the identity or its own operand except with negligible probability. Against one ladder per
    term this is one doubling per bit instead of one per bit and term: about half the group operations.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> group = get_backend("reference")
        >>> g = group.generator()
        >>> total = offset_msm([g, g], [2, 0], add=group.add, double=lambda q: group.add(q, q), mul=group.mul,
        ...                    generator=g, identity=group.identity())
        >>> group.eq(total, group.mul(g, 2))
        True
    """
    if len(points) != len(scalars):
        raise ValueError(f"msm needs as many scalars as points, got {len(scalars)} and {len(points)}")
    if not points:
        return identity
    q = mul(generator, 1 + secrets.randbelow(ORDER - 1))
    tables = [(q, add(point, q)) for point in points]
    ks = [k % ORDER for k in scalars]
    top = LADDER_BITS - 1
    total = tables[0][(ks[0] >> top) & 1]
    for table, k in zip(tables[1:], ks[1:], strict=True):
        total = add(total, table[(k >> top) & 1])
    for i in range(top - 1, -1, -1):
        total = double(total)
        for table, k in zip(tables, ks, strict=True):
            total = add(total, table[(k >> i) & 1])
    offsets = len(points) * ((1 << LADDER_BITS) - 1)
    return add(total, mul(q, -offsets % ORDER))


__all__ = ["LADDER_BITS", "ladder", "ladder_scalar", "offset_msm"]
