"""All backends give byte-identical results on random inputs, and agree on what they refuse."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.zk.errors import InvalidPoint
from protocol.zk.group import available_backends, get_backend
from protocol.zk.group.base import FIELD_MODULUS, ORDER, GroupBackend
from protocol.zk.group.jacobian import in_subgroup
from tests.protocol.zk.group_cases import (
    GENERATOR_HEX,
    point_outside_subgroup,
    r_times_is_identity,
    sqrt_mod_p,
    x_off_curve,
)

BACKENDS = [get_backend(name) for name in available_backends()]
REFERENCE = get_backend("reference")
FAST = get_backend("fast")
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.integers(min_value=0, max_value=ORDER - 1),
    st.sampled_from([0, 1, 2, 3, ORDER - 1, ORDER - 2, (ORDER - 1) // 2, 2**128, 2**254]),
    st.integers(min_value=-(2**300), max_value=2**300),  # reduced modulo r by mul/msm
)


def on_every_backend(compute: Callable[[GroupBackend], bytes]) -> set[bytes]:
    return {compute(group) for group in BACKENDS}


@SLOW
@given(k=scalars, j=scalars)
def test_mul_add_neg_agree(k: int, j: int) -> None:
    def compute(group: GroupBackend) -> bytes:
        g = group.generator()
        a, b = group.mul(g, k), group.mul(g, j)
        total = group.add(group.add(a, group.neg(b)), a)
        return bytes(group.encode(a) + group.encode(total))

    assert len(on_every_backend(compute)) == 1


@SLOW
@given(
    ks=st.lists(scalars, min_size=0, max_size=6),
    seeds=st.lists(st.binary(max_size=8), min_size=6, max_size=6),
)
def test_msm_agrees(ks: list[int], seeds: list[bytes]) -> None:
    def compute(group: GroupBackend) -> bytes:
        points = [group.hash_to_g1(seed, b"cross") for seed in seeds[: len(ks)]]
        return bytes(group.encode(group.msm(points, ks)))

    assert len(on_every_backend(compute)) == 1


@SLOW
@given(msg=st.binary(max_size=80), dst=st.binary(min_size=1, max_size=40))
def test_hash_to_g1_agrees(msg: bytes, dst: bytes) -> None:
    assert len(on_every_backend(lambda group: group.encode(group.hash_to_g1(msg, dst)))) == 1


@SLOW
@given(k=scalars)
def test_each_decodes_what_the_others_encode(k: int) -> None:
    for maker in BACKENDS:
        encoded = maker.encode(maker.mul(maker.generator(), k))
        for reader in BACKENDS:
            point = reader.decode(encoded, allow_identity=k % ORDER == 0)
            assert reader.encode(point) == encoded


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=48, max_size=48))
def test_random_bytes_are_refused_or_accepted_by_all(data: bytes) -> None:
    outcomes = set()
    for group in BACKENDS:
        try:
            outcomes.add(group.encode(group.decode(data, allow_identity=True)))
        except InvalidPoint:
            outcomes.add(b"refused")
    assert len(outcomes) == 1


@pytest.mark.parametrize("flags", range(8))
def test_every_flag_combination_on_three_kinds_of_x(flags: int) -> None:
    # The generator's x, an x off the curve, an x of a point outside G1: all backends agree for each flag
    # combination, and the generator decodes exactly under 0b100 / 0b101 (the sign picks G or -G).
    generator = bytes.fromhex(GENERATOR_HEX)
    for base in (generator, x_off_curve(), point_outside_subgroup()):
        data = bytes([(flags << 5) | (base[0] & 0x1F)]) + base[1:]
        results = set()
        for group in BACKENDS:
            try:
                results.add(group.encode(group.decode(data, allow_identity=True)))
            except InvalidPoint:
                results.add(b"refused")
        assert len(results) == 1, (flags, base.hex()[:8])
        if base is generator:
            assert (b"refused" not in results) == (flags in (0b100, 0b101))
        else:
            assert results == {b"refused"}


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10**6))
def test_fast_subgroup_test_matches_multiplication_by_r(seed: int) -> None:
    # Random points of E(Fp) (almost never in G1) and random points of G1: Scott's test agrees with r·P = O.
    rng = random.Random(seed)
    while True:
        x = rng.randrange(FIELD_MODULUS)
        y = sqrt_mod_p((x**3 + 4) % FIELD_MODULUS)
        if y is not None:
            break
    point = FAST.from_affine(x, y)  # type: ignore[attr-defined]
    assert in_subgroup(point) == r_times_is_identity(x, y)
    k = rng.randrange(1, ORDER)
    member = FAST.affine(FAST.mul(FAST.generator(), k))  # type: ignore[attr-defined]
    assert in_subgroup(FAST.from_affine(*member))  # type: ignore[attr-defined]


def test_a_point_outside_the_subgroup_is_refused_everywhere() -> None:
    for seed in range(3):
        data = point_outside_subgroup(seed)
        for group in BACKENDS:
            try:
                group.decode(data)
            except InvalidPoint as exc:
                assert "subgroup" in str(exc) or group.name == "reference"
            else:
                raise AssertionError(f"{group.name} accepted a point outside G1")


def test_large_msm_with_repeats_and_cancellations_matches_the_sum_of_scalars() -> None:
    # Equal points in a bucket (doubling), P and -P (cancellation), zero scalars, the identity as a point.
    rng = random.Random(7)
    for group in BACKENDS:
        if group.name == "reference":
            continue  # 300 reference multiplications take seconds; the known answer is the sum of scalars
        g = group.generator()
        menu = [(g, 1), (group.mul(g, 5), 5), (group.neg(g), -1), (group.identity(), 0)]
        points, ks, expected_scalar = [], [], 0
        for _ in range(300):
            point, multiple = rng.choice(menu)
            k = rng.randrange(ORDER) if rng.randrange(3) else rng.choice([0, 1, ORDER - 1, 2**200])
            points.append(point)
            ks.append(k)
            expected_scalar += k * multiple
        h = menu[1][0]
        assert group.encode(group.msm(points, ks)) == group.encode(group.mul(g, expected_scalar))
        # the same scalar twice on the same point: both halves land in the same buckets
        assert group.encode(group.msm([h] * 64, [3] * 64)) == group.encode(group.mul(g, 5 * 3 * 64))
        assert group.is_identity(group.msm([g, group.neg(g)] * 40, [rng.randrange(ORDER)] * 80))


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(min_value=3, max_value=400),
    seed=st.integers(min_value=0, max_value=2**32),
    small=st.booleans(),
)
def test_msm_of_known_multiples_equals_one_multiplication(n: int, seed: int, small: bool) -> None:
    # Points kᵢ·G with known kᵢ: Σ sᵢ·(kᵢ·G) = (Σ sᵢ·kᵢ)·G, on every backend but the slow reference.
    rng = random.Random(seed)
    multiples = [
        rng.randrange(1, 8) if small else rng.randrange(ORDER) for _ in range(n)
    ]  # small: many repeats
    coefficients = [rng.choice([0, 1, ORDER - 1, rng.randrange(ORDER)]) for _ in range(n)]
    expected_scalar = sum(s * k for s, k in zip(coefficients, multiples, strict=True))
    for group in BACKENDS:
        if group.name == "reference":
            continue
        g = group.generator()
        points = [group.mul(g, k) for k in multiples]
        assert group.encode(group.msm(points, coefficients)) == group.encode(group.mul(g, expected_scalar))
