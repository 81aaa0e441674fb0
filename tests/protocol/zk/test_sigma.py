"""Sigma proofs: opening and square are complete, bound to the transcript, and reject wrong statements."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.zk.equations import all_hold, first_failing
from protocol.zk.errors import InvalidPoint
from protocol.zk.generators import Generators, generators
from protocol.zk.group import default_backend
from protocol.zk.group.base import ORDER
from protocol.zk.pedersen import Opening, VectorOpening
from protocol.zk.sigma import (
    prove_opening,
    prove_quadratic,
    prove_square,
    verify_opening,
    verify_quadratic,
    verify_square,
)
from protocol.zk.transcript import Transcript

GENS = generators(0, default_backend())  # built before hypothesis runs (py-ecc raises the recursion limit)


def gens() -> Generators:
    return GENS


@settings(max_examples=20, deadline=None)
@given(x=st.integers(0, 2**100))
def test_a_true_square_verifies(x: int) -> None:
    g = gens()
    ox, osq = Opening.fresh(x), Opening.fresh(x * x)
    cx, csq = ox.commit(g), osq.commit(g)
    proof = prove_square(Transcript(b"t"), g, x=ox, square=osq, commitment=cx)
    assert all_hold(g.backend, verify_square(Transcript(b"t"), g, proof, commitment=cx, square=csq))


@settings(max_examples=20, deadline=None)
@given(x=st.integers(0, 2**100), wrong=st.integers(1, 2**64))
def test_a_false_square_fails_the_square_relation(x: int, wrong: int) -> None:
    g = gens()
    ox, osq = Opening.fresh(x), Opening.fresh(x * x + wrong)
    cx, csq = ox.commit(g), osq.commit(g)
    proof = prove_square(Transcript(b"t"), g, x=ox, square=osq, commitment=cx)
    equations = verify_square(Transcript(b"t"), g, proof, commitment=cx, square=csq)
    assert not all_hold(g.backend, equations)
    failed = first_failing(g.backend, equations)
    assert failed is not None and failed.name == "square relation"


def test_the_square_proof_is_bound_to_its_transcript_and_commitments() -> None:
    g = gens()
    ox, osq = Opening.fresh(7), Opening.fresh(49)
    cx, csq = ox.commit(g), osq.commit(g)
    proof = prove_square(Transcript(b"t"), g, x=ox, square=osq, commitment=cx)
    other = Transcript(b"t")
    other.append_message(b"period", b"2026-W49")
    assert not all_hold(g.backend, verify_square(other, g, proof, commitment=cx, square=csq))
    another = Opening.fresh(49).commit(g)
    assert not all_hold(g.backend, verify_square(Transcript(b"t"), g, proof, commitment=cx, square=another))
    for field in ("s_x", "s_r", "s_rel"):
        bad = replace(proof, **{field: (getattr(proof, field) + 1) % ORDER})
        assert not all_hold(g.backend, verify_square(Transcript(b"t"), g, bad, commitment=cx, square=csq))


def test_an_opening_proof_verifies_only_for_its_commitment() -> None:
    g = gens()
    o = Opening.fresh(123)
    proof = prove_opening(Transcript(b"t"), g, opening=o)
    assert all_hold(g.backend, verify_opening(Transcript(b"t"), g, proof, commitment=o.commit(g)))
    assert not all_hold(
        g.backend, verify_opening(Transcript(b"t"), g, proof, commitment=Opening.fresh(123).commit(g))
    )
    bad = replace(proof, s_value=(proof.s_value + 1) % ORDER)
    assert not all_hold(g.backend, verify_opening(Transcript(b"t"), g, bad, commitment=o.commit(g)))


def test_a_malformed_nonce_point_is_refused() -> None:
    g = gens()
    o = Opening.fresh(1)
    proof = prove_opening(Transcript(b"t"), g, opening=o)
    with pytest.raises(InvalidPoint):
        verify_opening(
            Transcript(b"t"), g, replace(proof, a=bytes([0xC0]) + bytes(47)), commitment=o.commit(g)
        )


def quadratic_case(
    x: tuple[int, ...], weights: list[int], total_delta: int = 0, form_delta: int = 0
) -> list[bool]:
    g = gens()
    vector = VectorOpening.fresh(x)
    total = Opening.fresh(sum(x) + total_delta)
    form = Opening.fresh(sum(w * v * v for w, v in zip(weights, x, strict=True)) + form_delta)
    proof = prove_quadratic(Transcript(b"q"), g, vector=vector, total=total, form=form, weights=weights)
    equations = verify_quadratic(
        Transcript(b"q"),
        g,
        proof,
        vector=vector.commit(g),
        total=total.commit(g),
        form=form.commit(g),
        weights=weights,
    )
    return [all_hold(g.backend, [eq]) for eq in equations]


@settings(max_examples=15, deadline=None)
@given(x=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=12), data=st.data())
def test_a_true_quadratic_form_verifies(x: list[int], data: st.DataObject) -> None:
    weights = data.draw(st.lists(st.integers(1, 1000), min_size=len(x), max_size=len(x)))
    assert quadratic_case(tuple(x), weights) == [True, True, True]


def test_a_wrong_sum_or_form_fails_its_equation() -> None:
    assert quadratic_case((3, 5, 7), [4, 4, 2], total_delta=1) == [True, False, True]
    assert quadratic_case((3, 5, 7), [4, 4, 2], form_delta=-1) == [True, True, False]


def test_a_quadratic_proof_is_bound_to_the_vector_and_weights() -> None:
    g = gens()
    x = (3, 5, 7)
    vector, total = VectorOpening.fresh(x), Opening.fresh(15)
    form = Opening.fresh(9 + 25 + 49)
    proof = prove_quadratic(Transcript(b"q"), g, vector=vector, total=total, form=form, weights=[1, 1, 1])
    other = VectorOpening.fresh((5, 3, 7)).commit(g)
    kwargs = {"total": total.commit(g), "form": form.commit(g)}
    assert not all_hold(
        g.backend, verify_quadratic(Transcript(b"q"), g, proof, vector=other, weights=[1, 1, 1], **kwargs)
    )
    assert not all_hold(
        g.backend,
        verify_quadratic(Transcript(b"q"), g, proof, vector=vector.commit(g), weights=[1, 2, 1], **kwargs),
    )
    with pytest.raises(ValueError, match="one answer per subgroup"):
        verify_quadratic(Transcript(b"q"), g, proof, vector=vector.commit(g), weights=[1, 1], **kwargs)
