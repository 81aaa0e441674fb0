"""KPI-ZK MTBF on ingest: the proof's form and confidence against the agreement's term (or the hub's policy).

The prover picks the chi-square confidence C; a tiny C makes the lower bound trivially high. So the hub takes
the form and C from the agreement when it fixes them, and otherwise accepts the point form or C ≥ 0.6.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from hub.agreements import service as agreements
from protocol.models.agreements import AgreementCreate
from protocol.models.kpi import KpiClaim
from supplier_sdk.attest import attach, attest_mtbf
from tests.hub.conftest import Actor
from tests.hub.kpis.conftest import LAST_WEEK, Reporting, caller_of, register_signing_key
from tests.hub.kpis.test_proofs import TWO_WEEKS_AGO, _refused, context_of, submit

HOURS, FAILURES = "60000", 2  # meets 5000 h in every form below


def make_mtbf_proving(db: Session, oem: Actor, supplier: Actor, **term: str) -> Reporting:
    body = {
        "supplier_id": str(supplier.org.id),
        "title": "Pump reliability, proven",
        "parts": [{"part_number": "SH-1", "name": "Pump"}],
        "characteristics": [{"code": "DIA-01", "part_number": "SH-1", "unit": "mm", "lsl": "1", "usl": "2"}],
        "kpis": [{"kpi": "mtbf", "threshold": "5000", "disclosure": "threshold", **term}],
        "period": "week",
        "valid_from": "2025-01-01",
    }
    agreement = agreements.propose(db, caller=caller_of(oem), data=AgreementCreate.model_validate(body))
    agreements.decide(db, caller=caller_of(supplier), agreement_id=agreement.id, accept=True)
    db.commit()
    key = Ed25519PrivateKey.generate()
    key_id = register_signing_key(db, supplier, key)
    return Reporting(oem=oem, supplier=supplier, agreement_id=agreement.id, key=key, key_id=key_id)


def send(r: Reporting, *, form: str, confidence: str | None, period: str = LAST_WEEK) -> Any:
    proof = attest_mtbf(
        hours=HOURS,
        failures=FAILURES,
        threshold=Decimal("5000"),
        form=form,  # type: ignore[arg-type]
        confidence=None if confidence is None else Decimal(confidence),
        context=context_of(r, kpi="mtbf", period=period),
    )
    claim = KpiClaim(meets=True, threshold="5000")
    return submit(r, attach(r.payload(kpi="mtbf", characteristic=None, period=period, claim=claim), proof))


def test_unset_terms_accept_the_point_form_and_the_chi2_form_from_60_percent(
    db: Session, oem: Actor, supplier: Actor
) -> None:
    r = make_mtbf_proving(db, oem, supplier)
    assert send(r, form="point", confidence=None).status_code == 201
    response = send(r, form="chi2_lower", confidence="0.6", period=TWO_WEEKS_AGO)
    assert response.status_code == 201, response.text


def test_unset_terms_refuse_a_low_confidence(db: Session, oem: Actor, supplier: Actor) -> None:
    r = make_mtbf_proving(db, oem, supplier)
    body = _refused(
        send(r, form="chi2_lower", confidence="0.5"), "ProofPublicInputMismatch", db, loc="public.confidence"
    )
    assert "0.6" in body["detail"]


def test_a_fixed_form_and_confidence_must_be_the_proofs(db: Session, oem: Actor, supplier: Actor) -> None:
    r = make_mtbf_proving(db, oem, supplier, mtbf_proof_form="chi2_lower", confidence="0.9")
    _refused(send(r, form="point", confidence=None), "ProofPublicInputMismatch", db, loc="public.form")
    # 0.8 clears the hub's default floor, but the agreement asks for 0.9; a higher C is not the term either.
    for other in ("0.8", "0.95"):
        _refused(
            send(r, form="chi2_lower", confidence=other),
            "ProofPublicInputMismatch",
            db,
            loc="public.confidence",
        )
    assert send(r, form="chi2_lower", confidence="0.90").status_code == 201


def test_a_fixed_point_form_refuses_the_chi2_form(db: Session, oem: Actor, supplier: Actor) -> None:
    r = make_mtbf_proving(db, oem, supplier, mtbf_proof_form="point")
    _refused(send(r, form="chi2_lower", confidence="0.9"), "ProofPublicInputMismatch", db, loc="public.form")
    assert send(r, form="point", confidence=None).status_code == 201


def test_a_fixed_chi2_form_without_confidence_applies_the_default_floor(
    db: Session, oem: Actor, supplier: Actor
) -> None:
    r = make_mtbf_proving(db, oem, supplier, mtbf_proof_form="chi2_lower")
    _refused(send(r, form="point", confidence=None), "ProofPublicInputMismatch", db, loc="public.form")
    _refused(
        send(r, form="chi2_lower", confidence="0.55"), "ProofPublicInputMismatch", db, loc="public.confidence"
    )
    assert send(r, form="chi2_lower", confidence="0.75").status_code == 201


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ({"kpi": "mtbf", "confidence": "0.9"}, "only with mtbf_proof_form 'chi2_lower'"),
        ({"kpi": "mtbf", "mtbf_proof_form": "point", "confidence": "0.9"}, "only with mtbf_proof_form"),
        ({"kpi": "mtbf", "mtbf_proof_form": "chi2_lower", "confidence": "0.3"}, "[0.5, 1)"),
        ({"kpi": "mtbf", "mtbf_proof_form": "chi2_lower", "confidence": "1"}, "[0.5, 1)"),
        ({"kpi": "mtbf", "mtbf_proof_form": "weibull"}, "mtbf_proof_form"),
        ({"kpi": "cpk", "mtbf_proof_form": "point"}, "mtbf KPI only"),
    ],
)
def test_malformed_mtbf_proof_terms_are_refused(
    oem: Actor, supplier: Actor, term: dict[str, str], message: str
) -> None:
    body = {
        "supplier_id": str(supplier.org.id),
        "title": "Pump reliability",
        "parts": [{"part_number": "SH-1", "name": "Pump"}],
        "characteristics": [{"code": "DIA-01", "part_number": "SH-1", "unit": "mm", "lsl": "1", "usl": "2"}],
        "kpis": [{"threshold": "5000", **term}],
        "period": "week",
        "valid_from": "2025-01-01",
    }
    response = oem.post("/v1/agreements", json=body)
    assert response.status_code == 422, response.text
    found = response.json()
    assert any(f["loc"].startswith("body.kpis.0") for f in found["fields"]), found
    assert message in response.text
