"""Pippenger's bucket method for multi-scalar multiplication on BLS12-381 G1, on integers.

Each scalar is first split by the GLV endomorphism: ``k = low + high·z²`` with both halves below ``z²``
(about 2^128), and ``k·P = low·P + high·(-sigma(P))`` where ``sigma(x, y) = (β·x, y)`` costs one field
multiplication; this halves the number of windows (and so the bucket folding) for twice the terms. It relies on
P being in G1, which every decoded or hashed point is. Scalars are cut into signed ``c``-bit digits (``-2^(c-1) ≤ d < 2^(c-1)``), so each window needs only
``2^(c-1)`` buckets and a negative digit adds the negated point. Every bucket of every window is summed in
affine coordinates, in rounds: each round adds neighbouring pairs inside every bucket, and all the slopes of
a round share one field inversion (Montgomery's trick), which makes an addition cost about six field
multiplications instead of eleven for a mixed Jacobian addition. Buckets are then folded into
``Σ (b+1)·B_b`` with running sums in Jacobian coordinates, and windows are combined by ``c`` doublings each.

Used by :class:`protocol.zk.group.fast.FastBackend`; scalars must already be reduced modulo r.

Example:
    >>> from protocol.zk.group.fast import FastBackend, mul
    >>> group = FastBackend()
    >>> g = group.generator()
    >>> points = [mul(g, i + 1) for i in range(8)]
    >>> group.eq(msm(points, list(range(8))), mul(g, sum(i * (i + 1) for i in range(8))))
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from protocol.zk.group import jacobian

Affine = tuple[int, int]
_SPLIT = jacobian.SPLIT


def window_bits(n: int) -> int:
    """The window width c for ``n`` terms after the GLV split (measured: tests/bench/test_zk_group_bench.py).

    Example:
        >>> [window_bits(n) for n in (8, 128, 2048)]
        [3, 5, 8]
    """
    for limit, bits in ((48, 3), (96, 4), (192, 5), (1024, 6), (1536, 7), (8192, 8)):
        if n < limit:
            return bits
    return 9


@cache
def _layout(c: int) -> tuple[int, int]:
    """Number of windows and the offset H that turns unsigned digits into signed ones, for width ``c``.

    With ``H = half·(1 + 2^c + ... + 2^((W-2)c))``, the digits ``u`` of ``k + H`` give
    ``k = Σ_{j<W-1} (u_j - half)·2^(jc) + u_top·2^((W-1)c)``: signed digits in ``[-half, half)`` without a
    carry loop, and a top digit in ``[0, half]`` for every ``k < z²`` (the bound after the GLV split).
    """
    half = 1 << (c - 1)
    windows = -(-_SPLIT.bit_length() // c)
    while True:
        offset = sum(half << (j * c) for j in range(windows - 1))
        if (_SPLIT - 1 + offset) >> ((windows - 1) * c) <= half:
            return windows, offset
        windows += 1


def _batch_inverse(values: list[int], p: int) -> list[int]:
    prefix: list[int] = []
    acc = 1
    for value in values:
        prefix.append(acc)
        acc = acc * value % p
    inverse = jacobian.invert(acc, p)
    out = [0] * len(values)
    for index in range(len(values) - 1, -1, -1):
        out[index] = prefix[index] * inverse % p
        inverse = inverse * values[index] % p
    return out


def sum_buckets(buckets: list[list[Affine]]) -> None:
    """Replace each bucket (a list of affine points) in place by a list of at most one point: their sum.

    An empty list stands for the identity (also when the points cancel). Between rounds a sum's y coordinate
    is left unreduced (x must stay reduced: it is compared); everything is reduced before returning.

    Example:
        >>> from protocol.zk.group.jacobian import GENERATOR, mul, to_affine
        >>> g = GENERATOR
        >>> buckets = [[to_affine(mul(g, 1)), to_affine(mul(g, 2)), to_affine(mul(g, 4))], [to_affine(g)]]
        >>> sum_buckets(buckets)
        >>> buckets[0] == [to_affine(mul(g, 7))], buckets[1] == [to_affine(g)]
        (True, True)
    """
    p = jacobian.P
    active = [index for index, bucket in enumerate(buckets) if len(bucket) > 1]
    while active:
        pairs: list[tuple[int, int, int, int, int]] = []  # (bucket, x1, y1, x2, y2)
        denominators: list[int] = []
        for index in active:
            bucket = buckets[index]
            for t in range(0, len(bucket) - 1, 2):
                x1, y1 = bucket[t]
                x2, y2 = bucket[t + 1]
                pairs.append((index, x1, y1, x2, y2))
                if x1 != x2:
                    denominators.append(x2 - x1)
                elif (y1 - y2) % p == 0:
                    denominators.append(2 * y1)
                else:
                    denominators.append(1)  # P + (-P): no slope needed
            buckets[index] = [bucket[-1]] if len(bucket) & 1 else []
        inverses = _batch_inverse(denominators, p)
        for (index, x1, y1, x2, y2), inverse in zip(pairs, inverses, strict=True):
            if x1 != x2:
                slope = (y2 - y1) * inverse % p
            elif (y1 - y2) % p == 0:
                slope = 3 * x1 * x1 * inverse % p
            else:
                continue
            x3 = (slope * slope - x1 - x2) % p
            buckets[index].append((x3, slope * (x1 - x3) - y1))  # y stays unreduced until the end
        active = [index for index in active if len(buckets[index]) > 1]
    for bucket in buckets:
        if bucket:
            x, y = bucket[0]
            bucket[0] = (x, y % p)


def msm(points: Sequence[jacobian.Jacobian], scalars: Sequence[int]) -> jacobian.Jacobian:
    """``Σ kᵢ·Pᵢ`` for Jacobian points (normalized here with one shared inversion) and scalars in ``[0, r)``.

    Example:
        >>> from protocol.zk.group.fast import FastBackend
        >>> g = FastBackend().generator()
        >>> FastBackend().eq(msm([g, g, g], [1, 1, 1]), FastBackend().mul(g, 3))
        True
    """
    p, beta = jacobian.P, jacobian.BETA
    terms = []
    for (x, y, z), k in zip(jacobian.normalize(points), scalars, strict=True):
        if z and k:
            high, low = divmod(k, _SPLIT)  # k·P = low·P + high·z²·P = low·P + high·(-sigma(P))
            if low:
                terms.append((x, y, low))
            if high:
                terms.append((beta * x % p, p - y, high))
    if not terms:
        return jacobian.IDENTITY
    c = window_bits(len(terms))
    half, mask = 1 << (c - 1), (1 << c) - 1
    windows, offset = _layout(c)
    prepared = [((x, y), (x, p - y), k + offset) for x, y, k in terms]
    buckets: list[list[Affine]] = [[] for _ in range(windows * half)]
    for window in range(windows - 1):
        shift = window * c
        positive = window * half - half - 1  # digit u - half > 0 goes to bucket u - half - 1
        negative = window * half + half - 1  # digit u - half < 0 goes to bucket half - u - 1
        for point, negated, k in prepared:
            u = (k >> shift) & mask
            if u > half:
                buckets[positive + u].append(point)
            elif u < half:
                buckets[negative - u].append(negated)
    shift, base = (windows - 1) * c, (windows - 1) * half - 1
    for point, _, k in prepared:  # the top digit is unsigned and at most half (see _layout)
        u = k >> shift
        if u:
            buckets[base + u].append(point)
    sum_buckets(buckets)
    total = jacobian.IDENTITY
    add, add_mixed, double = jacobian.add, jacobian.add_mixed, jacobian.double
    for window in range(windows - 1, -1, -1):
        if total[2]:
            for _ in range(c):
                total = double(total)
        running = acc = jacobian.IDENTITY
        for bucket in reversed(buckets[window * half : (window + 1) * half]):
            if bucket:
                running = add_mixed(running, *bucket[0])
            if running[2]:
                acc = add(acc, running)
        total = add(total, acc)
    return total


__all__ = ["msm", "sum_buckets", "window_bits"]
