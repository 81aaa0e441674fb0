"""MTBF point form: a zero-failure test shorter than one MTBF is refused by the prover and, forged, by the verifier."""

from __future__ import annotations

from decimal import Decimal

import pytest

from protocol.encoding import b64url_encode
from protocol.zk.attestation import Attestation, prove_mtbf_at_least, verify_attestation
from protocol.zk.bulletproofs.range_proof import prove_range
from protocol.zk.errors import ProofInvalid, WitnessDoesNotMeet
from protocol.zk.generators import generators
from protocol.zk.group import default_backend
from protocol.zk.group.base import ORDER
from protocol.zk.pedersen import Opening
from protocol.zk.statements.context import statement_transcript
from protocol.zk.statements.encoding import range_to_json
from protocol.zk.statements.mtbf import STATEMENT, MtbfStatement
from protocol.zk.statements.relations import Relations
from tests.protocol.zk.proof_cases import MTBF_CONTEXT

POINT = MtbfStatement(
    threshold=Decimal(50000), resolution=Decimal("0.001"), form="point", confidence=None, r_max=None
)


def cheating_mtbf(
    witness: dict[str, int],
    *,
    forged: dict[int, int],
    relations: Relations | None = None,
    public: dict[str, int | str] | None = None,
) -> Attestation:
    """A prover that skips its own checks: it commits to ``witness`` and proves range ``j`` for the low bits of
    ``forged[j]`` instead of the committed value (optionally for other relations and public inputs)."""
    gens = generators(0, default_backend())
    relations = relations or POINT.relations()
    public = public or POINT.public()
    openings = {name: Opening.fresh(value) for name, value in witness.items()}
    encoded = {k: gens.backend.encode(o.commit(gens)) for k, o in openings.items()}
    transcript = statement_transcript(STATEMENT, MTBF_CONTEXT, public, encoded)
    range_openings = []
    for j, (form, width) in enumerate(relations.ranges):
        honest = form.opening(openings)
        value = forged.get(j, honest.value) % ORDER
        range_openings.append(Opening(value % (1 << width), honest.blinding))
    widths = [w for _, w in relations.ranges]
    proof = prove_range(transcript, gens, openings=range_openings, widths=widths)
    return Attestation(
        statement=STATEMENT,
        public={**public, **MTBF_CONTEXT.model_dump()},
        commitments={k: b64url_encode(v) for k, v in sorted(encoded.items())},
        proof={"squares": [], "range": range_to_json(proof)},
    )


def rejected(att: Attestation) -> ProofInvalid:
    with pytest.raises(ProofInvalid) as info:
        verify_attestation(att, expected=MTBF_CONTEXT)
    return info.value


def test_a_short_zero_failure_test_is_refused_by_the_prover() -> None:
    with pytest.raises(WitnessDoesNotMeet):
        prove_mtbf_at_least(
            hours=Decimal(10),
            failures=0,
            threshold=Decimal(50000),
            form="point",
            confidence=None,
            context=MTBF_CONTEXT,
        )


def test_a_forged_short_zero_failure_proof_fails_the_range_proof() -> None:
    witness = {"T": 10_000, "r": 0}  # 10 h without a failure, claimed as MTBF >= 50000 h
    ranges = POINT.relations().ranges
    # T - 1, r and D = T - M·r all hold: only the new E = T - M range stands in the way.
    assert [0 <= form.evaluate(witness) < 1 << w for form, w in ranges] == [True, True, True, False]
    e = ranges[3][0].evaluate(witness)
    assert e < 0
    assert rejected(cheating_mtbf(witness, forged={3: e})).check == "range proof"


def test_a_proof_without_the_t_at_least_m_range_is_refused() -> None:
    """The v1 point-form shape (three ranges, no ``bits_m``) no longer verifies, whatever the witness."""
    witness = {"T": 10_000, "r": 0}
    old = Relations(squares=[], ranges=POINT.relations().ranges[:3])
    old_public = {k: v for k, v in POINT.public().items() if k != "bits_m"}
    att = cheating_mtbf(witness, forged={}, relations=old, public=old_public)
    assert rejected(att).check == "public input bits_m"


def test_the_cheating_prover_passes_when_it_does_not_cheat() -> None:
    """Control: the same construction with a test that meets the point form verifies."""
    verify_attestation(cheating_mtbf({"T": 100_000_000, "r": 2}, forged={}), expected=MTBF_CONTEXT)
    verify_attestation(cheating_mtbf({"T": 50_000_000, "r": 0}, forged={}), expected=MTBF_CONTEXT)
