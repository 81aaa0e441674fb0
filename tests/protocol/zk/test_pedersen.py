"""Pedersen commitments: homomorphism, derived commitments match derived openings, hiding by blinding."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.zk.generators import generators
from protocol.zk.group import default_backend
from protocol.zk.group.base import ORDER
from protocol.zk.pedersen import Combination, Opening, random_scalar

values = st.integers(-(2**80), 2**80)
scalars = st.integers(0, ORDER - 1)
GENS = generators(0, default_backend())  # built before hypothesis runs (py-ecc raises the recursion limit)


@settings(max_examples=40, deadline=None)
@given(v1=values, v2=values, r1=scalars, r2=scalars)
def test_commitments_add_like_their_openings(v1: int, v2: int, r1: int, r2: int) -> None:
    gens = GENS
    group = gens.backend
    total = group.add(Opening(v1, r1).commit(gens), Opening(v2, r2).commit(gens))
    assert group.eq(total, Opening(v1 + v2, r1 + r2).commit(gens))


@settings(max_examples=40, deadline=None)
@given(
    constant=values,
    k1=st.integers(-(2**64), 2**64),
    k2=st.integers(-(2**64), 2**64),
    v1=values,
    v2=values,
    r1=scalars,
    r2=scalars,
)
def test_a_derived_commitment_opens_to_the_derived_opening(
    constant: int, k1: int, k2: int, v1: int, v2: int, r1: int, r2: int
) -> None:
    gens = GENS
    form = Combination(constant, {"x": k1, "y": k2})
    openings = {"x": Opening(v1, r1), "y": Opening(v2, r2)}
    points = {name: o.commit(gens) for name, o in openings.items()}
    derived = form.opening(openings)
    assert derived.value == constant + k1 * v1 + k2 * v2
    assert gens.backend.eq(form.commitment(points, gens), derived.commit(gens))


def test_the_same_value_commits_differently_under_fresh_blindings() -> None:
    gens = GENS
    group = gens.backend
    a, b = Opening.fresh(42), Opening.fresh(42)
    assert a.blinding != b.blinding
    assert group.encode(a.commit(gens)) != group.encode(b.commit(gens))
    # Blinding is what hides: with r = 0 the commitment is just v·G.
    assert group.eq(Opening(42, 0).commit(gens), group.mul(gens.g, 42))


def test_values_are_reduced_modulo_the_order() -> None:
    gens = GENS
    assert gens.backend.eq(Opening(-1, 5).commit(gens), Opening(ORDER - 1, 5).commit(gens))


def test_random_scalars_are_nonzero_and_distinct() -> None:
    drawn = {random_scalar() for _ in range(50)}
    assert len(drawn) == 50 and all(0 < k < ORDER for k in drawn)
