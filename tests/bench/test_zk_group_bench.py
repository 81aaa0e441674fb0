"""Benchmark: BLS12-381 G1 backends: MSM cost per term (64..2048 terms), one scalar multiplication, decode, hash.

The baseline is plain py-ecc, one multiplication per term (the reference backend's msm). A CPK proof's
verification is about one 1,000-term MSM, so the per-term figure at 1024 says most about the targets
(≤ 150 ms with the default backend, ≤ 25 ms with arkworks). Run on demand:

    pytest tests/bench/test_zk_group_bench.py -s -p no:cacheprovider --override-ini addopts=

Figures are the best of a few runs, wall clock and this process's CPU time (the machine is shared, so CPU
time is the steadier of the two); nothing is asserted about time.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from functools import partial

import pytest

from protocol.zk.group import available_backends, get_backend
from protocol.zk.group.base import ORDER, GroupBackend
from protocol.zk.group.jacobian import GMPY2

SIZES = (64, 128, 256, 512, 1024, 2048)
BASELINE_TERMS = 16  # py-ecc: one multiplication per term, so a few terms give the per-term cost


def best_of(runs: int, action: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    times = []
    for _ in range(runs):
        start = clock()
        action()
        times.append(clock() - start)
    return min(times)


def inputs(group: GroupBackend, n: int) -> tuple[list[object], list[int]]:
    rng = random.Random(n)
    points = [group.hash_to_g1(b"bench %d" % i, b"QX/1 bench") for i in range(n)]
    return points, [rng.randrange(ORDER) for _ in range(n)]


@pytest.mark.bench
@pytest.mark.parametrize("name", [name for name in available_backends() if name != "reference"])
def test_msm_per_term(name: str) -> None:
    group = get_backend(name)
    points, scalars = inputs(group, max(SIZES))
    label = f"{name}{' (gmpy2)' if name == 'fast' and GMPY2 else ''}"
    print(f"\n{label}: MSM")
    for n in SIZES:
        runs = 3 if n <= 512 else 2
        seconds = best_of(runs, partial(group.msm, points[:n], scalars[:n]))
        cpu = best_of(runs, partial(group.msm, points[:n], scalars[:n]), time.process_time)
        print(
            f"  {n:5d} terms  {seconds * 1e3:8.2f} ms   {seconds / n * 1e6:7.1f} us/term"
            f"   (CPU {cpu / n * 1e6:6.1f} us/term)"
        )
    # correctness while we are here: the MSM equals the reference on a prefix
    reference = get_backend("reference")
    assert group.encode(group.msm(points[:3], scalars[:3])) == reference.encode(
        reference.msm([reference.decode(group.encode(p)) for p in points[:3]], scalars[:3])
    )


@pytest.mark.bench
def test_py_ecc_baseline_one_multiplication_per_term() -> None:
    group = get_backend("reference")
    points, scalars = inputs(group, BASELINE_TERMS)
    seconds = best_of(2, lambda: group.msm(points, scalars))
    per_term = seconds / BASELINE_TERMS
    print(f"\nreference (py-ecc, one multiplication per term): {per_term * 1e6:.0f} us/term")
    print(f"  -> a 1024-term MSM would take about {per_term * 1024:.1f} s")


@pytest.mark.bench
@pytest.mark.parametrize("name", available_backends())
def test_single_operations(name: str) -> None:
    group = get_backend(name)
    rng = random.Random(1)
    points, scalars = inputs(group, 8)
    encoded = [group.encode(p) for p in points]
    runs = 8 if name != "reference" else 3

    def each(action: Callable[[int], object]) -> float:
        return statistics.median(best_of(1, partial(action, i)) for i in range(runs))

    mul = each(lambda i: group.mul(points[i], scalars[i]))
    decode = each(lambda i: group.decode(encoded[i]))
    hashing = each(lambda i: group.hash_to_g1(b"%d" % rng.randrange(10**9), b"QX/1 bench"))
    add = each(lambda i: group.add(points[i], points[(i + 1) % 8]))
    print(
        f"\n{name}: mul {mul * 1e3:.3f} ms   decode (with subgroup check) {decode * 1e3:.3f} ms   "
        f"hash_to_g1 {hashing * 1e3:.3f} ms   add {add * 1e6:.1f} us"
    )


@pytest.mark.bench
@pytest.mark.parametrize("name", available_backends())
def test_secret_against_variable_time_multiplication(name: str) -> None:
    """The prover's constant-time ladder (``mul_secret``, ``msm_secret``) against ``mul`` / ``msm`` per backend."""
    group = get_backend(name)
    terms = 64 if name != "reference" else 4
    points, scalars = inputs(group, terms)
    runs = 5 if name != "reference" else 2

    def each(action: Callable[[int], object]) -> float:
        return statistics.median(best_of(1, partial(action, i)) for i in range(min(runs * 2, terms)))

    mul = each(lambda i: group.mul(points[i], scalars[i]))
    mul_secret = each(lambda i: group.mul_secret(points[i], scalars[i]))
    msm = best_of(runs, partial(group.msm, points, scalars)) / terms
    msm_secret = best_of(runs, partial(group.msm_secret, points, scalars)) / terms
    print(
        f"\n{name}: mul {mul * 1e3:.3f} ms, mul_secret {mul_secret * 1e3:.3f} ms ({mul_secret / mul:.1f}x); "
        f"msm {msm * 1e6:.1f} us/term, msm_secret {msm_secret * 1e6:.1f} us/term ({msm_secret / msm:.1f}x) "
        f"at {terms} terms; load average {os.getloadavg()[0]:.1f}"
    )
    assert group.encode(group.msm_secret(points, scalars)) == group.encode(group.msm(points, scalars))
