"""POST /v1/kpi-reports: what is accepted, and every way a report is refused with nothing stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, KpiReport
from hub.orgs import service as orgs
from protocol.models.kpi import KpiClaim
from protocol.periods import Period
from tests.hub.conftest import Actor
from tests.hub.kpis.conftest import Reporting, caller_of, make_reporting, register_signing_key


def _stored(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(KpiReport)) or 0)


def _refused(response: Any, status: int, error: str, db: Session, *, loc: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["detail"] and body["request_id"]
    if loc is not None:
        assert any(f["loc"].endswith(loc) for f in body["fields"]), body
    assert _stored(db) == 0


def test_a_signed_report_is_stored_once_and_audited(reporting: Reporting, db: Session) -> None:
    response = reporting.supplier.post("/v1/kpi-reports", json=reporting.body(), scope="kpi:write")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["meets"] is True and body["value"] == "1.5" and body["key_id"] == reporting.key_id
    assert _stored(db) == 1
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == body["id"])).all()
    assert actions == ["kpi_report.accepted"]


def test_a_repeated_idempotency_key_returns_the_first_answer(reporting: Reporting, db: Session) -> None:
    headers = {**reporting.supplier.headers(), "Idempotency-Key": "k-1"}
    payload = reporting.payload()
    first = reporting.supplier.http.post(
        "/v1/kpi-reports", json=reporting.body(reporting.envelope(payload)), headers=headers
    )
    # The outbox re-signs a queued report: same payload, new timestamp and nonce, same key.
    again = reporting.supplier.http.post(
        "/v1/kpi-reports", json=reporting.body(reporting.envelope(payload)), headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _stored(db) == 1


def test_an_idempotency_key_reused_for_another_report_is_refused(reporting: Reporting, db: Session) -> None:
    headers = {**reporting.supplier.headers(), "Idempotency-Key": "k-2"}
    assert (
        reporting.supplier.http.post("/v1/kpi-reports", json=reporting.body(), headers=headers).status_code
        == 201
    )
    other = reporting.envelope(
        reporting.payload(
            kpi="mtbf", characteristic=None, claim=KpiClaim(meets=True, value="6000", threshold="5000")
        )
    )
    response = reporting.supplier.http.post("/v1/kpi-reports", json=reporting.body(other), headers=headers)
    assert response.status_code == 422 and response.json()["error"] == "IdempotencyKeyReused"
    assert _stored(db) == 1


def test_a_second_report_for_the_same_period_is_a_conflict(reporting: Reporting, db: Session) -> None:
    assert reporting.supplier.post("/v1/kpi-reports", json=reporting.body()).status_code == 201
    response = reporting.supplier.post("/v1/kpi-reports", json=reporting.body())
    assert response.status_code == 409 and response.json()["error"] == "DuplicateReport"
    assert _stored(db) == 1


def test_bad_signature(reporting: Reporting, db: Session) -> None:
    body = reporting.body()
    body["envelope"]["payload"]["claim"]["value"] = "1.9000"
    _refused(reporting.supplier.post("/v1/kpi-reports", json=body), 422, "InvalidSignature", db)


def test_a_key_of_another_organization(reporting: Reporting, db: Session, other_supplier: Actor) -> None:
    foreign = Ed25519PrivateKey.generate()
    foreign_id = register_signing_key(db, other_supplier, foreign)
    envelope = reporting.envelope(key=foreign, key_id=foreign_id)
    _refused(reporting.supplier.post("/v1/kpi-reports", json=reporting.body(envelope)), 422, "UnknownKey", db)


def test_a_revoked_key(reporting: Reporting, db: Session) -> None:
    orgs.revoke_key(db, caller=caller_of(reporting.supplier), key_id=reporting.key_id)
    db.commit()
    _refused(reporting.supplier.post("/v1/kpi-reports", json=reporting.body()), 422, "RevokedKey", db)


def test_a_stale_timestamp(reporting: Reporting, db: Session) -> None:
    envelope = reporting.envelope(signed_at=datetime.now(UTC) - timedelta(minutes=10))
    _refused(
        reporting.supplier.post("/v1/kpi-reports", json=reporting.body(envelope)), 422, "StaleSignature", db
    )


def test_a_replayed_nonce(reporting: Reporting, db: Session) -> None:
    first = reporting.envelope(nonce="A" * 22)
    assert reporting.supplier.post("/v1/kpi-reports", json=reporting.body(first)).status_code == 201
    mtbf = reporting.payload(
        kpi="mtbf", characteristic=None, claim=KpiClaim(meets=True, value="6000", threshold="5000")
    )
    response = reporting.supplier.post(
        "/v1/kpi-reports", json=reporting.body(reporting.envelope(mtbf, nonce="A" * 22))
    )
    assert response.status_code == 409 and response.json()["error"] == "ReplayedNonce"
    assert _stored(db) == 1


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"characteristic": "LEN-99"}, "characteristic"),
        ({"part_number": "XX-1"}, "part_number"),
        ({"kpi": "ppk"}, "kpi"),
        ({"period": str(Period.week(*datetime.now(UTC).isocalendar()[:2]).next())}, "period"),
        ({"period": "2026-11"}, "period"),
        ({"period": "2024-W10"}, "period"),
        ({"claim": KpiClaim(meets=True, value="1.2000", threshold="1.33")}, "meets"),
        ({"claim": KpiClaim(meets=True, value="1.5000", threshold="1.00")}, "threshold"),
    ],
    ids=[
        "characteristic",
        "part",
        "kpi",
        "future",
        "month-under-weekly",
        "before-validity",
        "meets-lies",
        "threshold",
    ],
)
def test_a_report_outside_the_agreement(
    reporting: Reporting, db: Session, overrides: dict[str, Any], loc: str
) -> None:
    response = reporting.supplier.post(
        "/v1/kpi-reports", json=reporting.body(reporting.envelope(reporting.payload(**overrides)))
    )
    _refused(response, 422, "InvalidInput", db, loc=loc)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", 1.5])
def test_non_finite_or_float_values(reporting: Reporting, db: Session, value: Any) -> None:
    body = reporting.body()
    body["envelope"]["payload"]["claim"]["value"] = value
    response = reporting.supplier.post("/v1/kpi-reports", json=body)
    assert response.status_code == 422, response.text
    assert _stored(db) == 0


def test_malformed_bodies(reporting: Reporting, db: Session) -> None:
    headers = {**reporting.supplier.headers(), "Content-Type": "application/json"}
    http = reporting.supplier.http
    assert http.post("/v1/kpi-reports", content=b"{not json", headers=headers).status_code == 422
    body = reporting.body()
    body["envelope"]["extra"] = 1
    _refused(http.post("/v1/kpi-reports", json=body, headers=headers), 422, "InvalidInput", db)
    body = reporting.body()
    body["envelope"]["type"] = "dataset"
    _refused(http.post("/v1/kpi-reports", json=body, headers=headers), 422, "InvalidInput", db)
    body = reporting.body()
    del body["envelope"]["payload"]["period"]
    _refused(http.post("/v1/kpi-reports", json=body, headers=headers), 422, "InvalidInput", db, loc="period")


def test_wrong_organization_and_missing_scope(
    reporting: Reporting, db: Session, other_supplier: Actor
) -> None:
    # Another supplier cannot report under this agreement, even signing with its own registered key.
    key = Ed25519PrivateKey.generate()
    key_id = register_signing_key(db, other_supplier, key)
    payload = reporting.payload(supplier_id=other_supplier.org.id)
    envelope = reporting.envelope(payload, key=key, key_id=key_id)
    _refused(other_supplier.post("/v1/kpi-reports", json=reporting.body(envelope)), 404, "NotFound", db)
    # Reporting in someone else's name is refused outright.
    _refused(other_supplier.post("/v1/kpi-reports", json=reporting.body()), 403, "Forbidden", db)
    _refused(
        reporting.supplier.post("/v1/kpi-reports", json=reporting.body(), scope="kpi:read"),
        403,
        "InsufficientScope",
        db,
    )
    _refused(reporting.oem.post("/v1/kpi-reports", json=reporting.body()), 403, "InsufficientScope", db)
    _refused(
        reporting.supplier.http.post("/v1/kpi-reports", json=reporting.body()), 401, "Unauthenticated", db
    )


def test_an_agreement_not_yet_accepted(db: Session, oem: Actor, supplier: Actor) -> None:
    from hub.agreements import service as agreements
    from protocol.models.agreements import AgreementCreate
    from tests.hub.kpis.conftest import agreement_body

    reporting = make_reporting(db, oem, supplier)
    pending = agreements.propose(
        db, caller=caller_of(oem), data=AgreementCreate.model_validate(agreement_body(supplier.org.id))
    )
    db.commit()
    payload = reporting.payload(agreement_id=pending.id)
    _refused(
        supplier.post("/v1/kpi-reports", json=reporting.body(reporting.envelope(payload))),
        409,
        "Conflict",
        db,
    )


def test_threshold_disclosure_refuses_values_and_unproven_meets(
    db: Session, oem: Actor, supplier: Actor
) -> None:
    reporting = make_reporting(db, oem, supplier, disclosure="threshold")
    response = supplier.post("/v1/kpi-reports", json=reporting.body())
    _refused(response, 422, "InvalidInput", db, loc="value")
    unproven = reporting.payload(claim=KpiClaim(meets=True, threshold="1.33"))
    _refused(
        supplier.post("/v1/kpi-reports", json=reporting.body(reporting.envelope(unproven))),
        422,
        "ProofRequired",
        db,
    )
    # Saying "does not meet" needs no proof: it is against the supplier's own interest.
    against = reporting.payload(claim=KpiClaim(meets=False, threshold="1.33"))
    response = supplier.post("/v1/kpi-reports", json=reporting.body(reporting.envelope(against)))
    assert response.status_code == 201 and response.json()["meets"] is False
    assert _stored(db) == 1


def test_unknown_agreement_is_not_found(reporting: Reporting, db: Session) -> None:
    payload = reporting.payload(agreement_id=uuid.uuid4())
    _refused(
        reporting.supplier.post("/v1/kpi-reports", json=reporting.body(reporting.envelope(payload))),
        404,
        "NotFound",
        db,
    )
