"""Soundness: every tampered proof, public input, point, scalar or context is rejected; completeness holds."""

from __future__ import annotations

import copy
import math
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.encoding import b64url_decode, b64url_encode
from protocol.zk.attestation import (
    Attestation,
    BindingContext,
    prove_cpk_at_least,
    verify_attestation,
    verify_attestations,
)
from protocol.zk.bulletproofs.range_proof import prove_range
from protocol.zk.errors import ProofInvalid, WitnessDoesNotMeet
from protocol.zk.generators import generators
from protocol.zk.group import default_backend
from protocol.zk.group.base import ORDER
from protocol.zk.pedersen import Opening
from protocol.zk.sigma import prove_square
from protocol.zk.statements.context import statement_transcript
from protocol.zk.statements.cpk import STATEMENT, CpkStatement
from protocol.zk.statements.encoding import range_to_json, square_to_json
from protocol.zk.statements.mtbf import MtbfStatement
from protocol.zk.statements.relations import prove_relations
from tests.protocol.zk.group_cases import point_outside_subgroup, x_off_curve
from tests.protocol.zk.proof_cases import (
    CONTEXT,
    LSL,
    RESOLUTION,
    USL,
    capable_values,
    cpk_attestation,
    mtbf_attestation,
)

EQUATION_CHECKS = {"range proof", "square relation", "subgroup sums", "quadratic form"}
"""The checks named when a well-formed proof fails its group equations."""

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rejected(att: Attestation, expected: BindingContext | None = None) -> ProofInvalid:
    with pytest.raises(ProofInvalid) as info:
        verify_attestation(att, expected=expected)
    return info.value


def leaves(att: Attestation) -> list[tuple[str, ...]]:
    """Paths of every base64url string in the commitments and the proof."""
    found: list[tuple[str, ...]] = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, str(index)))
        elif isinstance(node, str):
            found.append(path)

    walk({"commitments": att.commitments, "proof": att.proof}, ())
    return found


def replaced(att: Attestation, path: tuple[str, ...], text: str) -> Attestation:
    data = {"commitments": copy.deepcopy(att.commitments), "proof": copy.deepcopy(att.proof)}
    node: Any = data
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(path[-1])] = text
    else:
        node[path[-1]] = text
    return att.model_copy(update=data)


def get(att: Attestation, path: tuple[str, ...]) -> str:
    node: Any = {"commitments": att.commitments, "proof": att.proof}
    for key in path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    assert isinstance(node, str)
    return node


ATTESTATIONS = {
    "cpk": lambda: cpk_attestation(False),
    "cpk_pooled": lambda: cpk_attestation(True),
    "mtbf_chi2": lambda: mtbf_attestation("chi2_lower"),
}


def test_the_untouched_attestations_verify() -> None:
    for make in ATTESTATIONS.values():
        verify_attestation(make(), expected=make().context())
    verify_attestation(mtbf_attestation("point"))


@QUICK
@given(which=st.sampled_from(sorted(ATTESTATIONS)), data=st.data())
def test_flipping_any_bit_of_a_proof_or_commitment_is_rejected(which: str, data: st.DataObject) -> None:
    att = ATTESTATIONS[which]()
    path = data.draw(st.sampled_from(leaves(att)), label="field")
    raw = bytearray(b64url_decode(get(att, path)))
    position = data.draw(st.integers(0, len(raw) - 1), label="byte")
    raw[position] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    rejected(replaced(att, path, b64url_encode(bytes(raw))))


@QUICK
@given(which=st.sampled_from(sorted(ATTESTATIONS)), data=st.data())
def test_changing_any_scalar_of_a_proof_is_rejected(which: str, data: st.DataObject) -> None:
    """Most bytes of a proof are points (a flip there rarely decodes); this one aims at the scalars."""
    att = ATTESTATIONS[which]()
    scalars = [p for p in leaves(att) if len(b64url_decode(get(att, p))) == 32]
    path = data.draw(st.sampled_from(scalars), label="scalar")
    value = int.from_bytes(b64url_decode(get(att, path)), "big")
    delta = data.draw(st.integers(1, ORDER - 1), label="delta")
    text = b64url_encode(((value + delta) % ORDER).to_bytes(32, "big"))
    assert rejected(replaced(att, path, text)).check in EQUATION_CHECKS


def test_swapping_two_proof_points_is_rejected() -> None:
    att = cpk_attestation(False)
    rng = att.proof["range"]
    swapped = {**att.proof, "range": {**rng, "A": rng["S"], "S": rng["A"]}}
    assert rejected(att.model_copy(update={"proof": swapped})).check == "range proof"


CPK_CHANGES: dict[str, Any] = {
    "threshold": "1.34",
    "lsl": "9.899",
    "usl": "10.101",
    "n": 61,
    "resolution": "0.0005",
    "sigma": "pooled",
    "bits_q": 64,
    "bits_e": 64,
}


@pytest.mark.parametrize(("name", "value"), sorted(CPK_CHANGES.items()))
def test_changing_a_public_input_is_rejected(name: str, value: Any) -> None:
    att = cpk_attestation(False)
    changed = att.model_copy(update={"public": {**att.public, name: value}})
    check = rejected(changed).check
    # Inconsistent derived inputs are caught by the statement check, consistent ones by the transcript.
    assert check.startswith("public input") or check in EQUATION_CHECKS


MTBF_CHANGES: list[tuple[str, Any]] = [
    ("threshold", "50001"),
    ("threshold", "40000"),
    ("resolution", "0.01"),
    ("confidence", "0.8"),
    ("form", "point"),
    ("r_max", 31),
    ("r_min", 1),
    ("beta", "1/1"),
    ("bits_d", 64),
]


@pytest.mark.parametrize(("name", "value"), MTBF_CHANGES)
def test_changing_an_mtbf_public_input_is_rejected(name: str, value: Any) -> None:
    att = mtbf_attestation("chi2_lower")
    changed = att.model_copy(update={"public": {**att.public, name: value}})
    check = rejected(changed).check
    assert check.startswith("public input") or check in {"range proof", "proof encoding"}


def test_a_lower_threshold_with_consistent_inputs_fails_the_mtbf_proof() -> None:
    """Claiming the same proof for M = 40000 h (derived inputs recomputed) fails on the transcript."""
    att = mtbf_attestation("chi2_lower")
    original = MtbfStatement.from_public(att.statement_public())
    lower = MtbfStatement(
        threshold=Decimal(40000),
        resolution=original.resolution,
        form=original.form,
        confidence=original.confidence,
        r_max=original.r_max,
        r_min=original.r_min,
    )
    changed = att.model_copy(update={"public": {**att.public, **lower.public()}})
    assert rejected(changed).check in {"range proof", "proof encoding"}


@pytest.mark.parametrize(
    ("name", "value"),
    [("threshold", "1.34"), ("threshold", "1.2"), ("lsl", "9.899"), ("usl", "10.2"), ("n", 61)],
)
def test_a_consistent_but_different_statement_fails_the_proof(name: str, value: Any) -> None:
    """Rewrite the statement consistently (derived inputs recomputed): only the proof itself can catch it."""
    att = cpk_attestation(False)
    public = att.statement_public()
    fields: dict[str, Any] = {
        "n": public["n"],
        "lsl": Decimal(str(public["lsl"])),
        "usl": Decimal(str(public["usl"])),
        "resolution": Decimal(str(public["resolution"])),
        "threshold": Decimal(str(public["threshold"])),
        "subgroups": None,
    }
    fields[name] = value if name == "n" else Decimal(value)
    statement = CpkStatement(**fields)
    assert statement.public() != public
    changed = att.model_copy(update={"public": {**att.public, **statement.public()}})
    # Same widths: the transcript differs, so the equations fail; other widths: the proof has the wrong shape.
    assert rejected(changed).check in EQUATION_CHECKS | {"proof encoding"}


@pytest.mark.parametrize(
    "field", ["hub", "supplier", "key_id", "agreement", "characteristic", "period", "nonce"]
)
def test_a_proof_replayed_in_another_context_is_rejected(field: str) -> None:
    att = cpk_attestation(False)
    other = {**att.public, field: str(att.public[field]) + "-other"}
    replayed = att.model_copy(update={"public": other})
    # Against the hub's expected context: refused before any group work.
    assert rejected(replayed, expected=CONTEXT).check == "context binding"
    # Even with the expected context rewritten to match, the transcript no longer fits the proof.
    assert rejected(replayed, expected=replayed.context()).check in EQUATION_CHECKS


def test_replay_for_another_period_or_supplier_in_mtbf() -> None:
    att = mtbf_attestation("chi2_lower")
    for field in ("period", "supplier"):
        replayed = att.model_copy(update={"public": {**att.public, field: "x"}})
        assert rejected(replayed).check == "range proof"


@pytest.mark.parametrize("bad", ["off-curve", "outside-subgroup", "identity", "wrong-length"])
@pytest.mark.parametrize(
    "where", [("commitments", "S1"), ("proof", "range", "T1"), ("proof", "squares", "0", "A2")]
)
def test_bad_points_are_rejected_as_point_encoding(bad: str, where: tuple[str, ...]) -> None:
    att = cpk_attestation(False)
    identity = bytes([0xC0]) + bytes(47)
    data = {
        "off-curve": x_off_curve(),
        "outside-subgroup": point_outside_subgroup(),
        "identity": identity,
        "wrong-length": bytes(47),
    }[bad]
    assert rejected(replaced(att, where, b64url_encode(data))).check == "point encoding"


@pytest.mark.parametrize(
    "where", [("proof", "range", "t_hat"), ("proof", "range", "a"), ("proof", "squares", "0", "s_x")]
)
@pytest.mark.parametrize("offset", [0, 1, 2**255 - ORDER])
def test_scalars_at_or_above_the_order_are_rejected(where: tuple[str, ...], offset: int) -> None:
    att = cpk_attestation(False)
    value = ORDER + offset
    if value >= 2**256:
        value = 2**256 - 1
    text = b64url_encode(value.to_bytes(32, "big"))
    assert rejected(replaced(att, where, text)).check == "scalar range"


def test_a_scalar_plus_the_order_is_not_a_malleable_copy() -> None:
    att = cpk_attestation(False)
    path = ("proof", "range", "mu")
    value = int.from_bytes(b64url_decode(get(att, path)), "big") + ORDER
    if value < 2**256:
        assert rejected(replaced(att, path, b64url_encode(value.to_bytes(32, "big")))).check == "scalar range"


def test_missing_and_extra_proof_parts_are_rejected() -> None:
    att = cpk_attestation(False)
    rng = dict(att.proof["range"])
    rng.pop("L")
    assert rejected(att.model_copy(update={"proof": {**att.proof, "range": rng}})).check == "proof encoding"
    short = {**att.proof["range"], "L": att.proof["range"]["L"][:-1]}
    assert rejected(att.model_copy(update={"proof": {**att.proof, "range": short}})).check == "proof encoding"
    fewer = {**att.proof, "squares": []}
    assert rejected(att.model_copy(update={"proof": fewer})).check == "proof encoding"
    extra = {**att.commitments, "S3": att.commitments["S1"]}
    assert rejected(att.model_copy(update={"commitments": extra})).check == "commitments"


@pytest.mark.parametrize(
    "proof",
    [
        {},
        {"squares": "x", "range": {}},
        {"squares": [], "range": {}, "extra": 1},
        {"squares": [1, 2], "range": 1},
        {"squares": [{"A1": 1}, {}], "range": {}},
    ],
)
def test_a_malformed_proof_structure_is_rejected_as_proof_encoding(proof: dict[str, Any]) -> None:
    att = cpk_attestation(False)
    assert rejected(att.model_copy(update={"proof": proof})).check == "proof encoding"


def test_non_text_proof_parts_are_rejected() -> None:
    att = cpk_attestation(False)
    for path, value in [(("range", "t_hat"), 5), (("range", "L"), ["x"]), (("range", "A"), None)]:
        proof = copy.deepcopy(att.proof)
        proof[path[0]][path[1]] = value
        assert rejected(att.model_copy(update={"proof": proof})).check in {"proof encoding", "point encoding"}


def test_the_statement_name_is_bound() -> None:
    att = mtbf_attestation("chi2_lower")
    assert rejected(att.model_copy(update={"statement": "cpk_at_least"})).check.startswith("public input")


def cheating_cpk(
    values: list[int], statement: CpkStatement, witness: dict[str, int], forged: dict[int, int]
) -> Attestation:
    """A prover that skips its own checks: it commits to ``witness`` (any values it likes) and proves range
    ``j`` for ``forged[j]`` (the low bits of the real, out-of-range value) instead of the committed value."""
    gens = generators(0, default_backend())
    group = gens.backend
    relations = statement.relations()
    openings = {name: Opening.fresh(value) for name, value in witness.items()}
    points = {k: o.commit(gens) for k, o in openings.items()}
    encoded = {k: group.encode(p) for k, p in points.items()}
    transcript = statement_transcript(STATEMENT, CONTEXT, statement.public(), encoded)
    squares = [
        square_to_json(
            prove_square(
                transcript,
                gens,
                x=form.opening(openings),
                square=openings[name],
                commitment=form.commitment(points, gens),
            )
        )
        for form, name in relations.squares
    ]
    range_openings = []
    for j, (form, width) in enumerate(relations.ranges):
        honest = form.opening(openings)
        value = forged.get(j, honest.value) % ORDER
        range_openings.append(Opening(value % (1 << width), honest.blinding))
    widths = [w for _, w in relations.ranges]
    proof = prove_range(transcript, gens, openings=range_openings, widths=widths)
    return Attestation(
        statement="cpk_at_least",
        public={**statement.public(), **CONTEXT.model_dump()},
        commitments={k: b64url_encode(v) for k, v in encoded.items()},
        proof={"squares": squares, "range": range_to_json(proof)},
    )


SMALL = CpkStatement(
    n=4, lsl=Decimal(0), usl=Decimal(100), resolution=Decimal(1), threshold=Decimal("1.33"), subgroups=None
)


def test_a_negative_variance_witness_is_rejected() -> None:
    """S2 < S1²/n: Q is negative, so its commitment holds r - |Q|; forging Q's low bits fails the range proof."""
    values = [40, 50, 50, 60]  # the mean is centred; the cheat claims S2 = S1²/n - 1 (impossible data)
    s1 = sum(values)
    witness = {"S1": s1, "S2": s1 * s1 // 4 - 1, "S1sq": s1 * s1, "Z": 0, "Zsq": 0}
    q_form = SMALL.relations().ranges[3][0]
    q = q_form.evaluate(witness)
    assert q < 0
    # With Q < 0 every other relation holds (E = -c2·Q > 0): only the range proof on Q stands in the way.
    ranges = SMALL.relations().ranges
    assert [0 <= form.evaluate(witness) < 1 << w for form, w in ranges] == [True, True, True, False, True]
    att = cheating_cpk(values, SMALL, witness, {3: q})
    assert rejected(att).check == "range proof"


def test_a_cheating_prover_below_the_threshold_is_rejected() -> None:
    values = [10, 90, 20, 80]  # wide spread: Cpk far below 1.33
    honest = SMALL.witness(values)
    a, b = 400 - honest["S1"], honest["S1"]
    z = min(a, b)  # Z small enough for a - Z, b - Z >= 0; then E = c1·Z² - c2·Q < 0
    witness = {**honest, "Z": z, "Zsq": z * z}
    e = SMALL.relations().ranges[4][0].evaluate(witness)
    assert e < 0
    assert rejected(cheating_cpk(values, SMALL, witness, {4: e})).check == "range proof"
    # The honest Z makes a - Z negative instead; forging that fails too.
    a_minus_z = SMALL.relations().ranges[1][0].evaluate(honest)
    assert a_minus_z < 0
    assert rejected(cheating_cpk(values, SMALL, honest, {1: a_minus_z})).check == "range proof"
    with pytest.raises(WitnessDoesNotMeet):
        prove_cpk_at_least(
            [Decimal(v) for v in values],
            lsl=Decimal(0),
            usl=Decimal(100),
            resolution=Decimal(1),
            threshold=Decimal("1.33"),
            subgroups=None,
            context=CONTEXT,
        )


def test_a_pooled_prover_that_understates_the_within_variation_is_rejected() -> None:
    """T larger than Σ (M/nⱼ)·S1ⱼ² makes Q (the pooled variation) smaller; every range still holds, so only the
    quadratic-form proof stands in the way."""
    values = capable_values(60, sd=0.03)  # pooled Cpk ≈ 1.1: does not meet 1.33 honestly
    statement = CpkStatement(
        n=60, lsl=LSL, usl=USL, resolution=RESOLUTION, threshold=Decimal("1.33"), subgroups=(5,) * 12
    )
    ys = [int((v - LSL) / RESOLUTION) for v in values]
    assert not statement.meets(ys)
    honest = statement.witness(ys)
    m = statement.lcm
    fake_t = m * honest["S2"] - 1  # Q = M·S2 - T = 1: almost no within variation
    c1, c2 = statement.coefficients
    z = math.isqrt(-(-c2 // c1)) + 1
    witness = {**honest, "T": fake_t, "Z": z, "Zsq": z * z}
    ranges = statement.relations().ranges
    assert all(0 <= form.evaluate(witness) < 1 << w for form, w in ranges)
    gens = generators(0, default_backend())
    openings = {name: Opening.fresh(value) for name, value in witness.items()}
    vectors = statement.vector_openings(ys)  # the true subgroup sums
    points = {k: o.commit(gens) for k, o in openings.items()} | {
        k: v.commit(gens) for k, v in vectors.items()
    }
    encoded = {k: gens.backend.encode(p) for k, p in points.items()}
    transcript = statement_transcript(STATEMENT, CONTEXT, statement.public(), encoded)
    proof = prove_relations(transcript, gens, statement.relations(), openings, points, vectors)
    att = Attestation(
        statement="cpk_at_least",
        public={**statement.public(), **CONTEXT.model_dump()},
        commitments={k: b64url_encode(v) for k, v in encoded.items()},
        proof=proof,
    )
    assert rejected(att).check == "quadratic form"


def test_the_cheating_prover_passes_when_it_does_not_cheat() -> None:
    """Control: the same construction with an honest witness and no forgery verifies."""
    values = [49, 50, 50, 51]
    att = cheating_cpk(values, SMALL, SMALL.witness(values), {})
    verify_attestation(att, expected=CONTEXT)


def test_batch_verification_names_the_culprits() -> None:
    good = [cpk_attestation(False), mtbf_attestation("chi2_lower"), cpk_attestation(True)]
    path = ("proof", "range", "tau_x")
    tampered = replaced(
        good[0],
        path,
        b64url_encode((int.from_bytes(b64url_decode(get(good[0], path)), "big") ^ 1).to_bytes(32, "big")),
    )
    replayed = good[1].model_copy(update={"public": {**good[1].public, "nonce": "other"}})
    results = verify_attestations([good[0], tampered, good[1], replayed, good[2]])
    assert [r is None for r in results] == [True, False, True, False, True]
    assert results[1] is not None and results[1].check == "range proof"
    assert results[3] is not None and results[3].check == "range proof"
    assert verify_attestations(good) == [None, None, None]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(10, 60),
    sd=st.floats(0.004, 0.02),
    shift=st.floats(-0.03, 0.03),
    pooled=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_datasets_that_meet_the_threshold_always_verify(
    n: int, sd: float, shift: float, pooled: bool, seed: int
) -> None:
    rnd = random.Random(seed)
    values = [Decimal(f"{rnd.gauss(10.0 + shift, sd):.3f}") for _ in range(n)]
    subgroups = [5] * (n // 5) + ([n % 5] if n % 5 else []) if pooled else None
    try:
        att = prove_cpk_at_least(
            values,
            lsl=LSL,
            usl=USL,
            resolution=RESOLUTION,
            threshold=Decimal("1.33"),
            subgroups=subgroups,
            context=CONTEXT,
        )
    except WitnessDoesNotMeet:
        statement = CpkStatement(
            n=n,
            lsl=LSL,
            usl=USL,
            resolution=RESOLUTION,
            threshold=Decimal("1.33"),
            subgroups=None if subgroups is None else tuple(subgroups),
        )
        ys = [int((v - LSL) / RESOLUTION) for v in values]
        assert not statement.meets(ys)
        return
    verify_attestation(att, expected=CONTEXT)
