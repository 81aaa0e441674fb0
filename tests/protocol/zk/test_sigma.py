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
from protocol.zk.pedersen import Opening
from protocol.zk.sigma import prove_opening, prove_square, verify_opening, verify_square
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
