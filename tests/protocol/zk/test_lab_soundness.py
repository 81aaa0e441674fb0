"""T2 soundness: a proof holds only over exactly the commitments the lab signed, for the measurement it names.

Every bound field of the lab's measurement changed (re-signed, or not), bit flips in the envelope and in the
proof, a supplier proving over its own commitments while claiming the lab's, and proofs mixed between
measurements are each rejected; honest T2 proofs verify, and their equations are the T1 ones.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.encoding import b64url_decode, b64url_encode
from protocol.models.labs import LabMeasurement
from protocol.signing import SignedEnvelope, generate_signing_key
from protocol.zk.attestation import (
    LAB_FIELD,
    Attestation,
    prove_cpk_at_least,
    prove_from_openings,
    verify_attestation,
    verify_attestations,
)
from protocol.zk.errors import ProofInvalid, WitnessDoesNotMeet
from protocol.zk.lab import (
    LabBindingMismatch,
    LabCommitmentMismatch,
    check_lab_binding,
    measurement_digest,
    read_measurement,
    sign_measurement,
    verify_lab_proof,
)
from protocol.zk.lab_prove import prove_cpk_from_lab
from protocol.zk.pedersen import Opening
from protocol.zk.statements.cpk import CpkStatement
from tests.protocol.zk.lab_cases import (
    CONTEXT,
    LAB_KEY,
    cpk_lab_proof,
    cpk_measurement,
    mtbf_lab_proof,
    mtbf_measurement,
)
from tests.protocol.zk.proof_cases import LSL, RESOLUTION, USL, capable_values
from tests.protocol.zk.test_soundness import EQUATION_CHECKS, get, leaves, replaced

QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CASES = {
    "cpk": lambda: (cpk_lab_proof(False), cpk_measurement(False)[0]),
    "cpk_pooled": lambda: (cpk_lab_proof(True), cpk_measurement(True)[0]),
    "mtbf_point": lambda: (mtbf_lab_proof("point"), mtbf_measurement()[0]),
    "mtbf_chi2": lambda: (mtbf_lab_proof("chi2_lower"), mtbf_measurement()[0]),
}


def refused(att: Attestation, envelope: SignedEnvelope) -> ProofInvalid:
    with pytest.raises(ProofInvalid) as info:
        verify_lab_proof(att, envelope)
    return info.value


def resigned(envelope: SignedEnvelope, **changes: Any) -> SignedEnvelope:
    """The lab's measurement with fields changed and signed again by the lab (a valid signature)."""
    payload = read_measurement(envelope).model_dump(mode="json")
    payload.update(changes)
    return sign_measurement(LabMeasurement.model_validate(payload), lab_key=LAB_KEY)


@pytest.mark.parametrize("case", sorted(CASES))
def test_honest_t2_proofs_verify_and_name_their_measurement(case: str) -> None:
    att, envelope = CASES[case]()
    assert verify_lab_proof(att, envelope).lab_id == read_measurement(envelope).lab_id
    assert att.public[LAB_FIELD] == measurement_digest(envelope)
    measured = read_measurement(envelope).commitments
    assert {name: att.commitments[name] for name in measured} == measured


def test_a_t2_proof_carries_no_measurement_nor_aggregate() -> None:
    att = cpk_lab_proof(False)
    _, openings = cpk_measurement(False)
    text = att.model_dump_json()
    for pair in openings.openings.values():
        assert pair[0] not in text.split('"')  # no committed aggregate appears as a value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hub", "hub.other"),
        ("supplier_id", "0190f000-0000-7000-8000-00000000b999"),
        ("agreement_id", "0190f000-0000-7000-8000-00000000c999"),
        ("characteristic", "other-bore"),
        ("period", "2026-W49"),
        ("kpi", "ppk"),
        ("nonce", "another-nonce"),
    ],
)
def test_a_measurement_resigned_for_another_binding_is_refused(field: str, value: str) -> None:
    att, envelope = CASES["cpk"]()
    other = resigned(envelope, **{field: value})
    # The proof names the original measurement: against any other it is refused on the digest first.
    assert isinstance(refused(att, other), LabBindingMismatch)
    # A proof whose digest is rewritten to name the other measurement fails its own equations (transcript).
    moved = att.model_copy(update={"public": {**att.public, LAB_FIELD: measurement_digest(other)}})
    check = refused(moved, other).check
    assert check in EQUATION_CHECKS or check.startswith("lab binding")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lots", ["L-0000"]),
        ("measured_on", "2025-01-01"),
        ("method", "eyeballing"),
        ("instrument", "ruler"),
        ("part_number", "SH-2"),
        ("lab_id", "0190f000-0000-7000-8000-00000000a999"),
    ],
)
def test_changing_a_descriptive_field_of_the_measurement_moves_the_digest(field: str, value: Any) -> None:
    att, envelope = CASES["cpk"]()
    other = resigned(envelope, **{field: value})
    err = refused(att, other)
    assert isinstance(err, LabBindingMismatch) and err.field == "lab_attestation"


@pytest.mark.parametrize(
    ("name", "value"),
    [("n", 61), ("lsl", "9.899"), ("usl", "10.101"), ("resolution", "0.0005"), ("sigma", "pooled")],
)
def test_a_proof_over_other_data_inputs_than_the_lab_signed_is_refused(name: str, value: Any) -> None:
    att, envelope = CASES["cpk"]()
    inputs = {**read_measurement(envelope).inputs, name: value}
    other = resigned(envelope, inputs=inputs)
    moved = att.model_copy(update={"public": {**att.public, LAB_FIELD: measurement_digest(other)}})
    err = refused(moved, other)
    assert isinstance(err, LabBindingMismatch) and err.field == f"inputs.{name}"


@pytest.mark.parametrize("field", ["key_id", "signed_at", "nonce", "payload", "signature"])
def test_an_envelope_changed_without_the_lab_key_is_refused(field: str) -> None:
    att, envelope = CASES["cpk"]()
    data = envelope.model_dump(mode="json")
    if field == "payload":
        data["payload"] = {**data["payload"], "period": "2026-W49"}
    elif field == "signed_at":
        data["signed_at"] = "2020-01-01T00:00:00Z"
    elif field == "key_id":
        data["key_id"] = "another-key"
    else:
        raw = bytearray(b64url_decode(data[field]))
        raw[0] ^= 1
        data[field] = b64url_encode(bytes(raw))
    assert refused(att, SignedEnvelope.model_validate(data)).check == "lab signature"


def test_a_measurement_signed_by_another_key_than_it_carries_is_refused() -> None:
    att, envelope = CASES["cpk"]()
    payload = read_measurement(envelope)
    forged = sign_measurement(payload, lab_key=generate_signing_key())
    assert refused(att, forged).check == "lab signature"


@QUICK
@given(which=st.sampled_from(sorted(CASES)), data=st.data())
def test_flipping_any_bit_of_a_t2_proof_or_commitment_is_rejected(which: str, data: st.DataObject) -> None:
    att, envelope = CASES[which]()
    path = data.draw(st.sampled_from(leaves(att)), label="field")
    raw = bytearray(b64url_decode(get(att, path)))
    position = data.draw(st.integers(0, len(raw) - 1), label="byte")
    raw[position] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    refused(replaced(att, path, b64url_encode(bytes(raw))), envelope)


@QUICK
@given(which=st.sampled_from(sorted(CASES)), data=st.data())
def test_flipping_any_bit_of_a_lab_commitment_is_rejected(which: str, data: st.DataObject) -> None:
    """The lab's commitment changed in its (re-signed) envelope: the proof's is no longer the lab's."""
    att, envelope = CASES[which]()
    commitments = dict(read_measurement(envelope).commitments)
    name = data.draw(st.sampled_from(sorted(commitments)), label="commitment")
    raw = bytearray(b64url_decode(commitments[name]))
    raw[data.draw(st.integers(0, len(raw) - 1), label="byte")] ^= 1 << data.draw(st.integers(0, 7))
    commitments[name] = b64url_encode(bytes(raw))
    other = resigned(envelope, commitments=commitments)
    moved = att.model_copy(update={"public": {**att.public, LAB_FIELD: measurement_digest(other)}})
    with pytest.raises(ProofInvalid):
        check_lab_binding(moved, other)


def test_a_supplier_proving_over_its_own_commitments_while_claiming_the_labs_is_refused() -> None:
    """The supplier picks its own (better) data, commits with fresh blindings and names the lab's measurement."""
    envelope, _ = cpk_measurement(False)
    own = capable_values(seed=9, sd=0.01)  # a far more capable process than the lab measured
    ys = [int((x - LSL) / RESOLUTION) for x in own]
    statement = CpkStatement(
        n=60, lsl=LSL, usl=USL, resolution=RESOLUTION, threshold=Decimal("1.33"), subgroups=None
    )
    openings = {name: Opening.fresh(v) for name, v in statement.witness(ys).items()}
    claimed = prove_from_openings(statement, openings, context=CONTEXT, lab=measurement_digest(envelope))
    verify_attestation(claimed)  # a well-formed proof in itself ...
    err = refused(claimed, envelope)  # ... but not over the lab's commitments
    assert isinstance(err, LabCommitmentMismatch)


def test_a_t1_proof_passed_off_as_t2_is_refused() -> None:
    envelope, _ = cpk_measurement(False)
    t1 = prove_cpk_at_least(
        capable_values(),
        lsl=LSL,
        usl=USL,
        resolution=RESOLUTION,
        threshold=Decimal("1.33"),
        subgroups=None,
        context=CONTEXT,
    )
    assert refused(t1, envelope).field == "lab_attestation"  # type: ignore[attr-defined]
    # Naming the lab's digest afterwards breaks the transcript; copying the lab's commitments too breaks it.
    named = t1.model_copy(update={"public": {**t1.public, LAB_FIELD: measurement_digest(envelope)}})
    assert isinstance(refused(named, envelope), LabCommitmentMismatch)
    lab_points = read_measurement(envelope).commitments
    grafted = named.model_copy(update={"commitments": {**named.commitments, **lab_points}})
    assert refused(grafted, envelope).check in EQUATION_CHECKS


def test_a_t2_proof_stripped_of_its_lab_digest_does_not_verify_as_t1() -> None:
    att = cpk_lab_proof(False)
    stripped = att.model_copy(update={"public": {k: v for k, v in att.public.items() if k != LAB_FIELD}})
    with pytest.raises(ProofInvalid) as info:
        verify_attestation(stripped)
    assert info.value.check in EQUATION_CHECKS


def test_mixed_attestations_are_refused() -> None:
    """Two measurements for the same binding: a proof over one is refused against the other, either way."""
    first, envelope_a = cpk_lab_proof(False, 1), cpk_measurement(False, 1)[0]
    second, envelope_b = cpk_lab_proof(False, 2), cpk_measurement(False, 2)[0]
    assert isinstance(refused(first, envelope_b), LabBindingMismatch)
    assert isinstance(refused(second, envelope_a), LabBindingMismatch)
    # The digest of B on A's proof: the commitments are A's, not B's.
    relabelled = first.model_copy(
        update={"public": {**first.public, LAB_FIELD: measurement_digest(envelope_b)}}
    )
    assert isinstance(refused(relabelled, envelope_b), LabCommitmentMismatch)
    # ... and with B's commitments grafted in, the equations fail.
    grafted = relabelled.model_copy(
        update={"commitments": {**first.commitments, **read_measurement(envelope_b).commitments}}
    )
    assert refused(grafted, envelope_b).check in EQUATION_CHECKS


def test_the_supplier_cannot_prove_what_the_labs_data_do_not_meet() -> None:
    envelope, openings = cpk_measurement(False)
    with pytest.raises(WitnessDoesNotMeet):
        prove_cpk_from_lab(envelope, openings, threshold=Decimal("3"), context=CONTEXT)


def test_openings_that_do_not_open_the_labs_commitments_are_refused_by_the_prover() -> None:
    envelope, openings = cpk_measurement(False)
    pair = openings.openings["S1"]
    bad = openings.model_copy(
        update={"openings": {**openings.openings, "S1": [str(int(pair[0]) + 1), pair[1]]}}
    )
    with pytest.raises(ValueError, match="does not open"):
        prove_cpk_from_lab(envelope, bad, threshold=Decimal("1.33"), context=CONTEXT)
    other = cpk_measurement(False, 2)[1]
    with pytest.raises(ValueError, match="another lab attestation"):
        prove_cpk_from_lab(envelope, other, threshold=Decimal("1.33"), context=CONTEXT)


def test_t2_proofs_batch_verify_with_t1_proofs() -> None:
    t2 = [cpk_lab_proof(False), cpk_lab_proof(True), mtbf_lab_proof("point")]
    assert verify_attestations(t2) == [None, None, None]
    broken = t2[0].model_copy(update={"public": {**t2[0].public, LAB_FIELD: "x" * 43}})
    results = verify_attestations([*t2, broken])
    assert results[:3] == [None, None, None] and results[3] is not None
