"""POST /v1/kpi-reports:batch: each item judged as a single POST would be, proofs verified as one batch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import KpiAttestation, KpiReport
from protocol.models.kpi import KPI_REPORT_TYPE, KpiClaim
from protocol.signing import sign_envelope
from supplier_sdk.attest import attach, attest_mtbf
from tests.hub.conftest import Actor
from tests.hub.kpis.conftest import LAST_WEEK, Reporting
from tests.hub.kpis.test_proofs import (
    GOOD,
    TWO_WEEKS_AGO,
    context_of,
    cpk_proof,
    proven_payload,
    tampered,
)
from tests.hub.kpis.test_proofs import (
    proving as proving,
)

URL = "/v1/kpi-reports:batch"


def _count(db: Session, model: type[Any]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _item(r: Reporting, payload: Any, key: str | None = None) -> dict[str, Any]:
    return {"envelope": r.envelope(payload).model_dump(mode="json"), "idempotency_key": key}


def test_a_batch_stores_what_passes_and_names_what_does_not(proving: Reporting, db: Session) -> None:
    good_cpk = proven_payload(proving, cpk_proof(context_of(proving)))
    mtbf_proof = attest_mtbf(
        hours="60000", failures=2, threshold=Decimal("5000"), context=context_of(proving, kpi="mtbf")
    )
    good_mtbf = attach(
        proving.payload(kpi="mtbf", characteristic=None, claim=KpiClaim(meets=True, threshold="5000")),
        mtbf_proof,
    )
    # Proven for last week, sent for the week before: the context check catches it before any crypto.
    replayed = proven_payload(proving, cpk_proof(context_of(proving)), period=TWO_WEEKS_AGO)
    # A proof whose bytes were tampered with: only the batch verification (then the fallback) can tell.
    bad = proven_payload(proving, cpk_proof(context_of(proving)), period=LAST_WEEK)
    bad = bad.model_copy(update={"proof": tampered(bad.proof or {})})
    unproven = proving.payload(period=TWO_WEEKS_AGO, claim=KpiClaim(meets=False, threshold="1.33"))

    body = {
        "items": [
            _item(proving, good_cpk, "b-1"),
            _item(proving, replayed, "b-2"),
            _item(proving, good_mtbf, "b-3"),
            _item(proving, bad, "b-4"),
            _item(proving, good_cpk, "b-5"),  # the same period again: a duplicate
            _item(proving, unproven, "b-6"),
        ]
    }
    response = proving.supplier.post(URL, json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [201, 422, 201, 422, 409, 201]
    assert results[1]["error"] == "ProofContextMismatch"
    assert results[3]["error"] == "InvalidProof" and results[3]["check"]
    assert results[4]["error"] == "DuplicateReport"
    assert results[0]["report"]["proven"] is True and results[0]["report"]["value"] is None
    assert results[5]["report"]["proven"] is False and results[5]["report"]["meets"] is False
    assert _count(db, KpiReport) == 3 and _count(db, KpiAttestation) == 2

    # Sent again (an outbox flush whose answer was lost): the same keys replay the stored reports.
    again = proving.supplier.post(URL, json={"items": [_item(proving, good_cpk, "b-1")]}).json()["results"]
    assert again[0]["status"] == 201 and again[0]["replayed"] is True
    assert again[0]["report"]["id"] == results[0]["report"]["id"]
    assert _count(db, KpiReport) == 3


def test_a_batch_needs_the_write_scope_and_a_supplier(proving: Reporting, oem: Actor, db: Session) -> None:
    body = {"items": [_item(proving, proving.payload(claim=KpiClaim(meets=False, threshold="1.33")))]}
    response = proving.supplier.post(URL, json=body, scope="kpi:read")
    assert response.status_code == 403 and response.json()["error"] == "InsufficientScope"
    assert oem.post(URL, json=body).status_code == 403
    assert _count(db, KpiReport) == 0


def test_another_organizations_agreement_is_not_found_per_item(
    proving: Reporting, other_supplier: Actor, db: Session
) -> None:
    payload = proving.payload(claim=KpiClaim(meets=False, threshold="1.33"))
    results = other_supplier.post(URL, json={"items": [_item(proving, payload)]}).json()["results"]
    # The payload names the other supplier: refused as a single POST would be.
    assert results[0]["status"] == 403 and results[0]["report"] is None
    assert _count(db, KpiReport) == 0


def test_malformed_batches_name_the_field(proving: Reporting, db: Session) -> None:
    item = _item(proving, proving.payload(claim=KpiClaim(meets=False, threshold="1.33")))
    cases = [
        ({"items": []}, "items"),
        ({"items": [item] * 101}, "items"),
        ({"items": [{**item, "idempotency_key": ""}]}, "idempotency_key"),
        ({"items": [{"envelope": {**item["envelope"], "type": "ping"}}]}, "envelope"),
        ({}, "items"),
    ]
    for body, loc in cases:
        response = proving.supplier.post(URL, json=body)
        assert response.status_code == 422, (body, response.text)
        assert any(loc in f["loc"] for f in response.json()["fields"]), response.json()
    assert _count(db, KpiReport) == 0


def test_the_batch_and_single_posts_share_idempotency_keys(proving: Reporting, db: Session) -> None:
    payload = proven_payload(proving, cpk_proof(context_of(proving)))
    headers = {**proving.supplier.headers(), "Idempotency-Key": "shared"}
    single = proving.supplier.http.post(
        "/v1/kpi-reports", json=proving.body(proving.envelope(payload)), headers=headers
    )
    assert single.status_code == 201
    results = proving.supplier.post(URL, json={"items": [_item(proving, payload, "shared")]}).json()[
        "results"
    ]
    assert results[0]["replayed"] is True and results[0]["report"]["id"] == single.json()["id"]
    assert _count(db, KpiReport) == 1
    assert results[0]["report"]["period"] == LAST_WEEK and len(GOOD) > 0


def _oversized(r: Reporting, period: str, value: str) -> dict[str, Any]:
    """A signed payload whose value the wire model would refuse: built as a dict, as a foreign client could."""
    payload = r.payload(period=period).model_dump(mode="json")
    payload["claim"]["value"] = value
    return {
        "envelope": sign_envelope(
            payload, type=KPI_REPORT_TYPE, private_key=r.key, key_id=r.key_id
        ).model_dump(mode="json")
    }


def test_a_value_the_column_cannot_hold_is_a_422_naming_it_alone_and_in_a_batch(
    reporting: Reporting, db: Session
) -> None:
    for value in ("1" * 17, "1" * 5000, "1.00001"):
        single = reporting.supplier.post("/v1/kpi-reports", json=_oversized(reporting, LAST_WEEK, value))
        assert single.status_code == 422, single.text
        assert "claim.value" in single.text and single.json()["error"] == "InvalidInput"
    largest = reporting.payload(
        period=TWO_WEEKS_AGO, claim=KpiClaim(meets=True, value="9" * 16 + ".9999", threshold="1.33")
    )
    body = {
        "items": [
            _oversized(reporting, LAST_WEEK, "1" * 17),
            _item(reporting, largest, "fits"),
        ]
    }
    response = reporting.supplier.post(URL, json=body)
    assert response.status_code == 200, response.text
    poison, stored = response.json()["results"]
    assert (poison["status"], poison["error"]) == (422, "InvalidInput") and "claim.value" in poison["detail"]
    assert stored["status"] == 201 and Decimal(stored["report"]["value"]) == Decimal("9" * 16 + ".9999")
    assert _count(db, KpiReport) == 1
