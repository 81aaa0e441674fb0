"""Bulletproofs: the inner-product fold, aggregated range proofs with mixed widths, batching, backends."""

from __future__ import annotations

import random

import pytest

from protocol.encoding import b64url_decode
from protocol.zk.attestation import verify_attestation
from protocol.zk.bulletproofs.inner_product import verification_scalars
from protocol.zk.bulletproofs.range_proof import MAX_WIDTH, padded_length, prove_range, verify_range
from protocol.zk.equations import Equation, all_hold, combined_holds, first_failing, random_weights
from protocol.zk.generators import generators
from protocol.zk.group import default_backend, get_backend
from protocol.zk.group.base import ORDER
from protocol.zk.pedersen import Opening
from protocol.zk.transcript import Transcript
from tests.protocol.zk.proof_cases import mtbf_attestation

GENS = generators(16, default_backend())


def prove_and_check(values: list[int], widths: list[int], check_widths: list[int] | None = None) -> bool:
    openings = [Opening.fresh(v) for v in values]
    proof = prove_range(Transcript(b"rp"), GENS, openings=openings, widths=widths)
    claims = [[(1, o.commit(GENS))] for o in openings]
    equations = verify_range(
        Transcript(b"rp"), GENS, proof, commitments=claims, widths=check_widths or widths
    )
    return all_hold(GENS.backend, equations)


@pytest.mark.parametrize(
    ("values", "widths"),
    [
        ([0], [1]),
        ([1], [1]),
        ([255], [8]),
        ([0, 2**64 - 1], [64, 64]),
        ([5, 2**61 - 1, 3], [3, 61, 2]),  # 66 bits, padded to 128
        ([2**127 + 12345], [128]),
    ],
)
def test_values_inside_their_ranges_verify(values: list[int], widths: list[int]) -> None:
    assert prove_and_check(values, widths)


def test_padding_is_to_the_next_power_of_two() -> None:
    assert [padded_length(w) for w in ([1], [3, 5], [64, 1], [21, 21, 61, 62, 62])] == [1, 8, 128, 256]
    with pytest.raises(ValueError):
        padded_length([MAX_WIDTH + 1])
    with pytest.raises(ValueError):
        padded_length([])


def test_the_prover_refuses_a_value_outside_its_range() -> None:
    for value, width in [(256, 8), (-1, 8), (ORDER - 1, 64)]:
        with pytest.raises(ValueError, match="outside"):
            prove_range(Transcript(b"rp"), GENS, openings=[Opening.fresh(value)], widths=[width])


def test_a_proof_for_other_widths_or_commitments_fails() -> None:
    assert not prove_and_check([200], [8], [7])
    openings = [Opening.fresh(9), Opening.fresh(10)]
    proof = prove_range(Transcript(b"rp"), GENS, openings=openings, widths=[4, 4])
    swapped = [[(1, openings[1].commit(GENS))], [(1, openings[0].commit(GENS))]]
    assert not all_hold(
        GENS.backend, verify_range(Transcript(b"rp"), GENS, proof, commitments=swapped, widths=[4, 4])
    )


def test_a_value_outside_its_range_cannot_be_proven_by_its_low_bits() -> None:
    """The committed value is 2^8 + 3; a proof of its low bits (3) does not verify against the commitment."""
    committed = Opening.fresh(2**8 + 3)
    forged = Opening(3, committed.blinding)
    proof = prove_range(Transcript(b"rp"), GENS, openings=[forged], widths=[8])
    equations = verify_range(
        Transcript(b"rp"), GENS, proof, commitments=[[(1, committed.commit(GENS))]], widths=[8]
    )
    assert not all_hold(GENS.backend, equations)
    failed = first_failing(GENS.backend, equations)
    assert failed is not None and failed.name == "range proof"


def test_the_verifier_scalars_fold_the_generators_like_the_prover() -> None:
    group = GENS.backend
    n = 8
    rnd = random.Random(7)
    challenges = [rnd.randrange(1, ORDER) for _ in range(3)]
    points = list(GENS.g_vec[:n])
    for u in challenges:
        half = len(points) // 2
        u_inv = pow(u, -1, ORDER)
        points = [
            group.msm([lo, hi], [u_inv, u]) for lo, hi in zip(points[:half], points[half:], strict=True)
        ]
    s = verification_scalars(challenges, n)
    assert group.eq(points[0], group.msm(list(GENS.g_vec[:n]), s))
    # s⁻¹ is s reversed (complementary bits).
    assert all(s[i] * s[n - 1 - i] % ORDER == 1 for i in range(n))


def test_batches_of_range_proofs_verify_in_one_multiplication_and_a_bad_one_spoils_the_batch() -> None:
    equations: list[Equation] = []
    for value in (1, 2, 3, 200):
        o = Opening.fresh(value)
        proof = prove_range(Transcript(b"rp"), GENS, openings=[o], widths=[8])
        equations += verify_range(
            Transcript(b"rp"), GENS, proof, commitments=[[(1, o.commit(GENS))]], widths=[8]
        )
    assert combined_holds(GENS.backend, equations, random_weights(len(equations)))
    o = Opening.fresh(5)
    proof = prove_range(Transcript(b"rp"), GENS, openings=[o], widths=[8])
    bad = verify_range(Transcript(b"other"), GENS, proof, commitments=[[(1, o.commit(GENS))]], widths=[8])
    assert not combined_holds(GENS.backend, equations + bad, random_weights(len(equations) + 2))


def test_the_reference_backend_verifies_a_default_backend_proof_identically() -> None:
    """The proof bytes are backend-neutral: py-ecc, one multiplication per term, accepts the same attestation."""
    att = mtbf_attestation("point")
    verify_attestation(att, backend=default_backend())
    verify_attestation(att, backend=get_backend("reference"))
    reference, default = get_backend("reference"), default_backend()
    for text in att.commitments.values():
        raw = b64url_decode(text)
        assert reference.encode(reference.decode(raw)) == default.encode(default.decode(raw)) == raw
