"""Generators come from hash-to-curve with the fixed tag, are distinct, cached, and match the known answers."""

from __future__ import annotations

import pytest

from protocol.zk.generators import (
    DST,
    generator_message,
    generators,
    named_generator,
    vector_generators,
)
from protocol.zk.group import available_backends, get_backend
from protocol.zk.group.base import GroupBackend
from tests.protocol.zk.group_cases import load_vectors

KAT = load_vectors("kpi_zk_v1_group.json")


@pytest.fixture(params=available_backends())
def group(request: pytest.FixtureRequest) -> GroupBackend:
    return get_backend(request.param)


def test_known_answers(group: GroupBackend) -> None:
    gens = generators(4, group)
    assert KAT["dst"] == DST.decode()
    assert group.encode(gens.g).hex() == KAT["generator"]
    assert group.encode(gens.h).hex() == KAT["generators"]["H"]
    assert group.encode(gens.u).hex() == KAT["generators"]["U"]
    assert [group.encode(p).hex() for p in gens.g_vec] == KAT["generators"]["G/0..3"]
    assert [group.encode(p).hex() for p in gens.h_vec] == KAT["generators"]["H/0..3"]


def test_generators_are_hashes_under_the_fixed_tag(group: GroupBackend) -> None:
    gens = generators(2, group)
    assert group.eq(gens.h, group.hash_to_g1(b"H", DST))
    assert group.eq(gens.g_vec[1], group.hash_to_g1(b"G/1", DST))
    assert group.eq(gens.h_vec[0], group.hash_to_g1(b"H/0", DST))
    assert not group.eq(gens.h, group.hash_to_g1(b"H", b"another tag"))


def test_all_distinct_and_none_is_the_identity(group: GroupBackend) -> None:
    gens = generators(16, group)
    encodings = [group.encode(p) for p in (gens.g, gens.h, gens.u, *gens.g_vec, *gens.h_vec)]
    assert len(set(encodings)) == len(encodings) == 35
    assert not any(group.is_identity(p) for p in (gens.h, gens.u, *gens.g_vec, *gens.h_vec))


def test_prefix_property_and_cache(group: GroupBackend) -> None:
    small, large = generators(3, group), generators(8, group)
    assert small.g_vec == large.g_vec[:3]
    assert vector_generators(b"G", 8, group) is not None
    assert generators(8, group).g_vec[5] is large.g_vec[5]  # same object: served from the cache
    assert named_generator(b"H", group) is named_generator(b"H", group)
    assert generators(0, group).size == 0


def test_pedersen_commitment_is_homomorphic(group: GroupBackend) -> None:
    gens = generators(0, group)
    total = group.add(gens.commit(5, 11), gens.commit(7, 13))
    assert group.eq(total, gens.commit(12, 24))
    assert not group.eq(gens.commit(5, 11), gens.commit(5, 12))


def test_messages() -> None:
    assert generator_message(b"G", 0) == b"G/0"
    assert generator_message(b"MTBF") == b"MTBF"
    with pytest.raises(ValueError):
        generator_message(b"a/b")
    with pytest.raises(ValueError):
        generator_message(b"G", -1)
    with pytest.raises(ValueError):
        vector_generators(b"G", -1)
