"""Pippenger's bucket method for multi-scalar multiplication on BLS12-381 G1, on integers.

Scalars are cut into signed ``c``-bit digits (``-2^(c-1) ≤ d < 2^(c-1)``), so each window needs only
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

from protocol.zk.group import fast

Affine = tuple[int, int]


def window_bits(n: int) -> int:
    """The window width c for ``n`` terms (measured on this code; see tests/bench/test_zk_group_bench.py).

    Example:
        >>> [window_bits(n) for n in (4, 64, 1024)]
        [2, 5, 8]
    """
    if n < 8:
        return 2
    if n < 32:
        return 3
    if n < 64:
        return 4
    if n < 128:
        return 5
    if n < 512:
        return 6
    if n < 1536:
        return 8
    if n < 6000:
        return 9
    return 10


def _batch_inverse(values: list[int], p: int) -> list[int]:
    prefix: list[int] = []
    acc = 1
    for value in values:
        prefix.append(acc)
        acc = acc * value % p
    inverse = fast._invert(acc, p)
    out = [0] * len(values)
    for index in range(len(values) - 1, -1, -1):
        out[index] = prefix[index] * inverse % p
        inverse = inverse * values[index] % p
    return out


def sum_buckets(buckets: list[list[Affine]]) -> None:
    """Replace each bucket (a list of affine points) in place by a list of at most one point: their sum.

    An empty list stands for the identity (also when the points cancel).

    Example:
        >>> from protocol.zk.group.fast import FastBackend, mul, to_affine
        >>> g = FastBackend().generator()
        >>> buckets = [[to_affine(mul(g, 1)), to_affine(mul(g, 2)), to_affine(mul(g, 4))], [to_affine(g)]]
        >>> sum_buckets(buckets)
        >>> buckets[0] == [to_affine(mul(g, 7))], buckets[1] == [to_affine(g)]
        (True, True)
    """
    p = fast._P
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
                elif y1 == y2:
                    denominators.append(2 * y1)
                else:
                    denominators.append(1)  # P + (-P): no slope needed
            buckets[index] = [bucket[-1]] if len(bucket) & 1 else []
        inverses = _batch_inverse(denominators, p)
        for (index, x1, y1, x2, y2), inverse in zip(pairs, inverses, strict=True):
            if x1 != x2:
                slope = (y2 - y1) * inverse % p
            elif y1 == y2:
                slope = 3 * x1 * x1 * inverse % p
            else:
                continue
            x3 = (slope * slope - x1 - x2) % p
            buckets[index].append((x3, (slope * (x1 - x3) - y1) % p))
        active = [index for index in active if len(buckets[index]) > 1]


def msm(points: Sequence[fast.Jacobian], scalars: Sequence[int]) -> fast.Jacobian:
    """``Σ kᵢ·Pᵢ`` for Jacobian points (normalized here with one shared inversion) and scalars in ``[0, r)``.

    Example:
        >>> from protocol.zk.group.fast import FastBackend
        >>> g = FastBackend().generator()
        >>> FastBackend().eq(msm([g, g, g], [1, 1, 1]), FastBackend().mul(g, 3))
        True
    """
    affine = fast.normalize(points)
    terms = [(x, y, k) for (x, y, z), k in zip(affine, scalars, strict=True) if z and k]
    if not terms:
        return fast._IDENTITY
    p = fast._P
    c = window_bits(len(terms))
    half, full, mask = 1 << (c - 1), 1 << c, (1 << c) - 1
    windows = 255 // c + 2
    buckets: list[list[Affine]] = [[] for _ in range(windows * half)]
    for x, y, k in terms:
        negated = p - y
        carry = 0
        base = -1
        while k or carry:
            digit = (k & mask) + carry
            k >>= c
            if digit >= half:
                digit -= full
                carry = 1
            else:
                carry = 0
            if digit > 0:
                buckets[base + digit].append((x, y))
            elif digit < 0:
                buckets[base - digit].append((x, negated))
            base += half
    sum_buckets(buckets)
    total = fast._IDENTITY
    add, add_mixed, double = fast.add, fast.add_mixed, fast.double
    for window in range(windows - 1, -1, -1):
        if total[2]:
            for _ in range(c):
                total = double(total)
        running = acc = fast._IDENTITY
        for bucket in reversed(buckets[window * half : (window + 1) * half]):
            if bucket:
                running = add_mixed(running, *bucket[0])
            if running[2]:
                acc = add(acc, running)
        total = add(total, acc)
    return total


__all__ = ["msm", "sum_buckets", "window_bits"]
