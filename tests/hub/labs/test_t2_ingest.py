"""KPI reports proven from a lab's measurements (tier T2): accepted, read as "proven by <lab>", each refusal.

The hub's checks, in order, each with its own error: LabAttestationRequired, LabNotNamed, LabNotAccepted,
InvalidLabSignature / LabKeyRevoked, LabAccreditationExpired, LabAttestationMismatch (naming the field),
ProofCommitmentMismatch, InvalidProof.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, KpiReport, LabMeasurement
from protocol.models.common import OrgKind
from protocol.models.labs import LabMeasurement as WireMeasurement
from protocol.zk.attestation import LAB_FIELD, prove_cpk_at_least, prove_from_openings
from protocol.zk.lab import measurement_digest, read_measurement, sign_measurement
from protocol.zk.pedersen import Opening
from protocol.zk.statements.cpk import CpkStatement
from tests.hub.conftest import Actor, make_actor
from tests.hub.kpis.conftest import LAST_WEEK
from tests.hub.labs.conftest import TODAY, LabSetup, accredit, capable, make_lab_setup


def error_of(response: Any) -> tuple[str, str | None]:
    body = response.json()
    fields = body.get("fields") or [{}]
    return body["error"], fields[0].get("loc")


def test_a_t2_report_is_accepted_and_the_oem_sees_proven_by_the_lab_and_no_value(
    setup: LabSetup, db: Session
) -> None:
    envelope, openings = setup.measure()
    proof = setup.prove(envelope, openings)
    response = setup.submit(setup.payload(proof, envelope))
    assert response.status_code == 201, response.text
    report_id = response.json()["id"]
    seen = setup.oem.get(f"/v1/kpi-reports/{report_id}").json()
    assert seen["meets"] is True and seen["proven"] is True and seen["value"] is None
    assert seen["proven_by"] == {
        "lab_id": str(setup.lab.org.id),
        "lab_name": setup.lab.org.name,
        "measured_on": (TODAY - timedelta(days=2)).isoformat(),
    }
    row = db.get(KpiReport, __import__("uuid").UUID(report_id))
    assert row is not None and row.lab_measurement_id is not None
    kept = db.get(LabMeasurement, row.lab_measurement_id)
    assert kept is not None and kept.digest == measurement_digest(envelope)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "kpi_report.accepted")).all()[-1]
    assert entry.data["lab_attestation"] == measurement_digest(envelope)
    assert entry.data["lab_id"] == str(setup.lab.org.id)


def test_a_t2_mtbf_report_from_a_reliability_lab_is_accepted(setup: LabSetup) -> None:
    envelope, openings = setup.measure_mtbf()
    proof = setup.prove(envelope, openings, kpi="mtbf")
    response = setup.submit(setup.payload(proof, envelope, kpi="mtbf"))
    assert response.status_code == 201, response.text
    assert response.json()["proven_by"]["lab_name"] == setup.lab.org.name


def test_a_t1_proof_for_a_term_that_names_a_lab_is_refused(setup: LabSetup) -> None:
    context = setup.context()
    t1 = prove_cpk_at_least(
        capable(),
        lsl=Decimal("24.98"),
        usl=Decimal("25.02"),
        resolution=Decimal("0.001"),
        threshold=Decimal("1.33"),
        subgroups=None,
        context=context,
    )
    response = setup.submit(setup.payload(t1, None))
    assert error_of(response) == ("LabAttestationRequired", "body.envelope.payload.lab_attestation")


def test_a_measurement_by_a_lab_not_named_in_the_agreement_is_refused(
    setup: LabSetup, db: Session, client: TestClient
) -> None:
    other = make_actor(db, client, OrgKind.LAB)
    accredit(
        setup.operator, other, valid_from=TODAY - timedelta(days=30), valid_until=TODAY + timedelta(days=30)
    )
    envelope, openings = setup.measure()
    # The other lab signs the very same measurement under its own id and key.
    forged = read_measurement(envelope).model_copy(update={"lab_id": other.org.id})
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from protocol.encoding import b64url_encode
    from protocol.signing import public_key_raw
    from tests.hub.labs.conftest import register_key

    key = Ed25519PrivateKey.generate()
    register_key(other, "sig", public_key_raw(key))
    forged = forged.model_copy(update={"lab_public_key": b64url_encode(public_key_raw(key))})
    signed = sign_measurement(WireMeasurement.model_validate(forged.model_dump()), lab_key=key)
    proof = setup.prove(signed, openings.model_copy(update={"digest": measurement_digest(signed)}))
    response = setup.submit(setup.payload(proof, signed))
    assert error_of(response) == ("LabNotNamed", "body.envelope.payload.lab_attestation.payload.lab_id")


def test_a_lab_that_has_not_accepted_its_part_is_refused(
    db: Session, client: TestClient, operator: Actor, oem: Actor, supplier: Actor
) -> None:
    setup = make_lab_setup(db, client, operator, oem, supplier, lab_accepts=False)
    response = setup.lab.get(
        f"/v1/lab/assignments/{setup.agreement_id}/measurement-context",
        params={"kpi": "cpk", "part_number": "SH-1", "period": LAST_WEEK, "characteristic": "DIA-01"},
    )
    assert response.json()["error"] == "LabNotAccepted"
    # Signed offline all the same (the lab has the nonce from elsewhere): the report is refused.
    accepted = setup.lab.post(f"/v1/lab/assignments/{setup.agreement_id}/accept")
    assert accepted.status_code == 200
    envelope, openings = setup.measure()
    db.execute(__import__("sqlalchemy").text("UPDATE agreement_labs SET status = 'proposed'"))
    proof = setup.prove(envelope, openings)
    assert error_of(setup.submit(setup.payload(proof, envelope)))[0] == "LabNotAccepted"


def test_a_measurement_with_a_bad_lab_signature_is_refused(setup: LabSetup) -> None:
    envelope, openings = setup.measure()
    proof = setup.prove(envelope, openings)
    tampered = envelope.model_copy(update={"payload": {**envelope.payload, "instrument": "ruler"}})
    response = setup.submit(setup.payload(proof, tampered))
    assert error_of(response) == ("InvalidLabSignature", "body.envelope.payload.lab_attestation.signature")
    # A key that is not the lab's (the supplier's own, say) is refused before the signature is checked.
    own = sign_measurement(read_measurement(envelope), lab_key=setup.supplier_key)
    response = setup.submit(setup.payload(proof, own))
    assert error_of(response) == ("InvalidLabSignature", "body.envelope.payload.lab_attestation.key_id")


def test_a_measurement_signed_with_a_revoked_lab_key_is_refused(setup: LabSetup) -> None:
    envelope, openings = setup.measure()
    proof = setup.prove(envelope, openings)
    revoked = setup.lab.post(f"/v1/keys/{envelope.key_id}/revoke")
    assert revoked.status_code == 200, revoked.text
    response = setup.submit(setup.payload(proof, envelope))
    assert error_of(response) == ("LabKeyRevoked", "body.envelope.payload.lab_attestation.key_id")


def test_a_measurement_outside_the_labs_accreditation_is_refused(setup: LabSetup) -> None:
    envelope, openings = setup.measure(measured_on=TODAY - timedelta(days=400))
    proof = setup.prove(envelope, openings)
    response = setup.submit(setup.payload(proof, envelope))
    assert error_of(response) == (
        "LabAccreditationExpired",
        "body.envelope.payload.lab_attestation.payload.measured_on",
    )


def test_a_measurement_replayed_into_another_period_is_refused(setup: LabSetup) -> None:
    """The lab measured for the week before last; the supplier proves for last week over it."""
    from protocol.periods import parse_period

    earlier = str(parse_period(LAST_WEEK).previous())
    envelope, openings = setup.measure(period=earlier)
    context = setup.context()
    proof = setup.prove(envelope, openings, period=earlier)  # a proof bound to the earlier week ...
    moved = setup.payload(proof, envelope).model_copy(update={"period": LAST_WEEK})
    error, _ = error_of(setup.submit(moved))
    assert error == "ProofContextMismatch"  # ... is refused for last week by the T1 context check
    # and a proof for last week over the earlier week's measurement fails on the lab's binding
    from protocol.zk.lab_prove import prove_cpk_from_lab

    honest = prove_cpk_from_lab(
        envelope, openings, threshold=Decimal("1.33"), context=context, check_context=False
    )
    response = setup.submit(setup.payload(honest, envelope))
    assert error_of(response) == (
        "LabAttestationMismatch",
        "body.envelope.payload.lab_attestation.payload.period",
    )


def test_a_measurement_for_another_agreement_is_refused(
    setup: LabSetup, db: Session, client: TestClient
) -> None:
    second = setup.oem.post(
        "/v1/agreements",
        json=__import__("tests.hub.labs.conftest", fromlist=["x"]).agreement_body(
            setup.supplier.org.id, setup.lab.org.id
        ),
    ).json()["id"]
    setup.supplier.post(f"/v1/agreements/{second}/accept")
    setup.lab.post(f"/v1/lab/assignments/{second}/accept")
    other = LabSetup(**{**setup.__dict__, "agreement_id": __import__("uuid").UUID(second)})
    envelope, openings = other.measure()
    from protocol.zk.lab_prove import prove_cpk_from_lab

    proof = prove_cpk_from_lab(
        envelope, openings, threshold=Decimal("1.33"), context=setup.context(), check_context=False
    )
    response = setup.submit(setup.payload(proof, envelope))
    assert error_of(response) == (
        "LabAttestationMismatch",
        "body.envelope.payload.lab_attestation.payload.agreement_id",
    )


def test_a_proof_over_the_suppliers_own_commitments_claiming_the_labs_is_refused(setup: LabSetup) -> None:
    envelope, _ = setup.measure()
    context = setup.context()
    ys = [int((x - Decimal("24.98")) / Decimal("0.001")) for x in capable(seed=99)]
    statement = CpkStatement(
        n=125,
        lsl=Decimal("24.98"),
        usl=Decimal("25.02"),
        resolution=Decimal("0.001"),
        threshold=Decimal("1.33"),
        subgroups=None,
    )
    openings = {name: Opening.fresh(v) for name, v in statement.witness(ys).items()}
    own = prove_from_openings(statement, openings, context=context, lab=measurement_digest(envelope))
    response = setup.submit(setup.payload(own, envelope))
    error, loc = error_of(response)
    assert (
        error == "ProofCommitmentMismatch"
        and loc is not None
        and loc.startswith("body.envelope.payload.proof.commitments.")
    )


def test_a_proof_naming_another_measurement_is_refused(setup: LabSetup) -> None:
    first, openings = setup.measure()
    second, _ = setup.measure(values=capable(seed=8))
    proof = setup.prove(first, openings)
    response = setup.submit(setup.payload(proof, second))
    assert error_of(response) == ("LabAttestationMismatch", f"body.envelope.payload.proof.public.{LAB_FIELD}")


def test_a_t2_proof_with_a_broken_equation_is_invalid(setup: LabSetup) -> None:
    envelope, openings = setup.measure()
    proof = setup.prove(envelope, openings)
    square = dict(proof.proof["squares"][0]) if "squares" in proof.proof else None
    body = proof.model_dump(mode="json")
    # Swap two range-proof points: the commitments stay the lab's, only the equations break.
    rng = body["proof"]["range"]
    rng["A"], rng["S"] = rng["S"], rng["A"]
    broken = proof.model_validate(body)
    response = setup.submit(setup.payload(broken, envelope))
    assert response.json()["error"] == "InvalidProof" and response.json()["check"] == "range proof"
    assert square is None or square  # the shape is the T1 one


def test_the_lab_attestation_is_recorded_when_it_is_issued(setup: LabSetup, db: Session) -> None:
    from supplier_sdk.lab import seal_openings

    context = setup.measurement_context()
    envelope, openings = setup.measure(context=context)
    assert context.supplier_key is not None
    sealed = seal_openings(openings, recipient=context.supplier_key, agreement_id=setup.agreement_id)
    body = {"envelope": envelope.model_dump(mode="json"), "sealed_openings": sealed.model_dump(mode="json")}
    response = setup.lab.post("/v1/lab/measurements", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["digest"] == measurement_digest(envelope)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "lab_measurement.issued")).one()
    assert entry.data["digest"] == measurement_digest(envelope)
    assert "openings" not in str(entry.data) and openings.openings["S1"][1] not in str(response.json())
    again = setup.lab.post("/v1/lab/measurements", json=body)
    assert again.status_code == 409 and again.json()["error"] == "DuplicateLabMeasurement"
    # The supplier reads it (with the sealed openings); the OEM does not.
    listed = setup.supplier.get("/v1/lab-measurements", params={"agreement_id": str(setup.agreement_id)})
    assert [m["digest"] for m in listed.json()["items"]] == [measurement_digest(envelope)]
    assert setup.oem.get("/v1/lab-measurements").json()["items"] == []
    assert setup.oem.get(f"/v1/lab-measurements/{response.json()['id']}").status_code == 404


def test_issuing_checks_the_measurement_as_ingest_does(setup: LabSetup) -> None:
    from supplier_sdk.lab import seal_openings

    context = setup.measurement_context()
    envelope, openings = setup.measure(context=context, measured_on=TODAY - timedelta(days=400))
    assert context.supplier_key is not None
    sealed = seal_openings(openings, recipient=context.supplier_key, agreement_id=setup.agreement_id)
    body = {"envelope": envelope.model_dump(mode="json"), "sealed_openings": sealed.model_dump(mode="json")}
    assert setup.lab.post("/v1/lab/measurements", json=body).json()["error"] == "LabAccreditationExpired"
    wrong_key = {**body, "sealed_openings": {**body["sealed_openings"], "recipient_key_id": "not-the-key"}}
    envelope, openings = setup.measure(context=context)
    wrong_key["envelope"] = envelope.model_dump(mode="json")
    assert setup.lab.post("/v1/lab/measurements", json=wrong_key).json()["error"] == "NoEncryptionKey"
    # Another lab cannot issue under this lab's id (403), nor for an agreement it is not named in (404).
    assert setup.supplier.post("/v1/lab/measurements", json=body).status_code == 403


def test_a_t2_report_in_a_batch_is_judged_as_a_single_post(setup: LabSetup) -> None:
    from protocol.models.kpi import KPI_REPORT_TYPE
    from protocol.signing import sign_envelope

    envelope, openings = setup.measure()
    good = setup.payload(setup.prove(envelope, openings), envelope)
    t1 = prove_cpk_at_least(
        capable(), lsl=Decimal("24.98"), usl=Decimal("25.02"), resolution=Decimal("0.001"),
        threshold=Decimal("1.33"), subgroups=None, context=setup.context(),
    )  # fmt: skip
    items = [
        {"envelope": sign_envelope(p, type=KPI_REPORT_TYPE, private_key=setup.supplier_key,
                                   key_id=setup.supplier_key_id).model_dump(mode="json")}
        for p in (good, setup.payload(t1, None))
    ]  # fmt: skip
    response = setup.supplier.post("/v1/kpi-reports:batch", json={"items": items})
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["status"] == 201 and first["report"]["proven_by"]["lab_name"] == setup.lab.org.name
    assert second["status"] == 422 and second["error"] == "LabAttestationRequired"
