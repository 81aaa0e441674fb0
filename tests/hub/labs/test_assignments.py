"""Labs in agreements: naming an accredited lab, the lab's own view and acceptance, and what a lab never sees."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.auth.scopes import default_scopes
from protocol.models.common import OrgKind
from tests.hub.conftest import Actor, make_actor
from tests.hub.kpis.conftest import LAST_WEEK
from tests.hub.labs.conftest import TODAY, LabSetup, accredit, agreement_body


def test_the_lab_sees_its_part_of_the_agreement_and_no_threshold(setup: LabSetup) -> None:
    [assignment] = setup.lab.get("/v1/lab/assignments").json()["items"]
    assert assignment["agreement_id"] == str(setup.agreement_id)
    assert assignment["status"] == "accepted" and assignment["agreement_status"] == "active"
    assert assignment["terms"] == [
        {
            "kind": "characteristic",
            "part_number": "SH-1",
            "characteristic": "DIA-01",
            "unit": "mm",
            "lsl": "24.98",
            "usl": "25.02",
            "resolution": "0.001",
        },
        {
            "kind": "mtbf",
            "part_number": "SH-1",
            "characteristic": None,
            "unit": None,
            "lsl": None,
            "usl": None,
            "resolution": None,
        },
    ]  # LEN-01 names no lab, so the lab does not see it
    assert "threshold" not in str(assignment) and "1.33" not in str(assignment)


def test_a_lab_sees_only_the_agreements_it_is_named_in(
    setup: LabSetup, db: Session, client: TestClient
) -> None:
    stranger = make_actor(db, client, OrgKind.LAB)
    assert stranger.get("/v1/lab/assignments").json()["items"] == []
    assert stranger.get(f"/v1/lab/assignments/{setup.agreement_id}").json()["error"] == "NotFound"
    context = stranger.get(
        f"/v1/lab/assignments/{setup.agreement_id}/measurement-context",
        params={"kpi": "cpk", "part_number": "SH-1", "period": LAST_WEEK, "characteristic": "DIA-01"},
    )
    assert context.status_code == 404
    # Even the named lab reads the agreement only through its own view, never the parties' one.
    assert setup.lab.get(f"/v1/agreements/{setup.agreement_id}").status_code == 404
    assert setup.lab.get("/v1/agreements").json()["items"] == []


def test_a_lab_never_reads_kpi_values_standings_or_genealogy(setup: LabSetup) -> None:
    scopes = set(default_scopes(OrgKind.LAB))
    assert scopes.isdisjoint(
        {
            "kpi:read",
            "kpi:write",
            "standings:read",
            "rules:read",
            "genealogy:read",
            "trace:read",
            "alerts:read",
        }
    )
    for url in ("/v1/kpi-reports", "/v1/standings", "/v1/quality-notifications"):
        response = setup.lab.get(url)
        assert response.status_code == 403, (url, response.text)
    assert setup.lab.post("/v1/trace", json={"roots": []}).status_code == 403
    token = setup.lab.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "kpi:read"},
        auth=(setup.lab.client_id, setup.lab.secret),
    )
    assert token.status_code == 400


def test_only_a_lab_holds_lab_write() -> None:
    assert "lab:write" in default_scopes(OrgKind.LAB)
    assert "lab:write" not in default_scopes(OrgKind.OEM)
    assert "lab:write" not in default_scopes(OrgKind.SUPPLIER)


def test_accepting_needs_lab_write(setup: LabSetup, db: Session, client: TestClient, oem: Actor) -> None:
    lab = make_actor(db, client, OrgKind.LAB, scopes=["agreements:read"])
    accredit(setup.operator, lab, valid_from=TODAY, valid_until=TODAY + timedelta(days=10))
    agreement = oem.post("/v1/agreements", json=agreement_body(setup.supplier.org.id, lab.org.id)).json()
    response = lab.post(f"/v1/lab/assignments/{agreement['id']}/accept")
    assert response.status_code == 403 and response.json()["error"] == "InsufficientScope"
    assert lab.get(f"/v1/lab/assignments/{agreement['id']}").json()["status"] == "proposed"


def test_a_lab_answers_once(setup: LabSetup) -> None:
    again = setup.lab.post(f"/v1/lab/assignments/{setup.agreement_id}/decline")
    assert again.status_code == 409 and again.json()["error"] == "Conflict"


def test_a_lab_may_decline_and_then_issues_nothing(
    db: Session, client: TestClient, operator: Actor, oem: Actor, supplier: Actor
) -> None:
    from tests.hub.labs.conftest import make_lab_setup

    setup = make_lab_setup(db, client, operator, oem, supplier, lab_accepts=False)
    declined = setup.lab.post(f"/v1/lab/assignments/{setup.agreement_id}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    context = setup.lab.get(
        f"/v1/lab/assignments/{setup.agreement_id}/measurement-context",
        params={"kpi": "cpk", "part_number": "SH-1", "period": LAST_WEEK, "characteristic": "DIA-01"},
    )
    assert context.json()["error"] == "LabNotAccepted"


def test_naming_a_lab_needs_an_accredited_lab(
    db: Session, client: TestClient, operator: Actor, oem: Actor, supplier: Actor
) -> None:
    unaccredited = make_actor(db, client, OrgKind.LAB)
    response = oem.post("/v1/agreements", json=agreement_body(supplier.org.id, unaccredited.org.id))
    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == "body.characteristics.0.lab_id"
    expired = make_actor(db, client, OrgKind.LAB)
    accredit(operator, expired, valid_from=TODAY - timedelta(days=30), valid_until=TODAY - timedelta(days=1))
    assert oem.post("/v1/agreements", json=agreement_body(supplier.org.id, expired.org.id)).status_code == 422
    not_a_lab = oem.post("/v1/agreements", json=agreement_body(supplier.org.id, supplier.org.id))
    assert not_a_lab.status_code == 422 and "not name a lab" in not_a_lab.json()["detail"]
    unknown = oem.post("/v1/agreements", json=agreement_body(supplier.org.id, uuid.uuid4()))
    assert unknown.status_code == 422


def test_a_lab_is_named_for_mtbf_on_the_term_only() -> None:
    import pytest
    from pydantic import ValidationError

    from protocol.models.agreements import KpiTerm

    with pytest.raises(ValidationError, match="only for mtbf"):
        KpiTerm(kpi="cpk", threshold="1.33", lab_id=uuid.uuid4())


def test_accreditations_are_recorded_by_the_operator_and_readable_by_all(setup: LabSetup, oem: Actor) -> None:
    body = {
        "scheme": "ISO/IEC 17025",
        "number": "x",
        "scope": "y",
        "valid_from": "2026-01-01",
        "valid_until": "2027-01-01",
    }
    refused = oem.post(f"/v1/labs/{setup.lab.org.id}/accreditations", json=body)
    assert refused.status_code == 403
    [recorded] = oem.get(f"/v1/labs/{setup.lab.org.id}/accreditations").json()["items"]
    assert recorded["scheme"] == "ISO/IEC 17025"
    assert oem.get(f"/v1/labs/{setup.supplier.org.id}/accreditations").status_code == 404
    backwards = {**body, "valid_until": "2025-01-01"}
    bad = setup.operator.post(f"/v1/labs/{setup.lab.org.id}/accreditations", json=backwards)
    assert bad.status_code == 422


def test_measurement_context_is_bound_to_the_suppliers_nonce(setup: LabSetup) -> None:
    lab_side = setup.measurement_context()
    supplier_side = setup.context()
    assert lab_side.nonce == supplier_side.nonce and lab_side.hub == supplier_side.hub
    assert str(lab_side.supplier_id) == supplier_side.supplier
    assert lab_side.supplier_key is not None
    wrong = setup.lab.get(
        f"/v1/lab/assignments/{setup.agreement_id}/measurement-context",
        params={"kpi": "cpk", "part_number": "SH-1", "period": LAST_WEEK, "characteristic": "LEN-01"},
    )
    assert wrong.json()["error"] == "LabNotNamed"
    malformed = setup.lab.get(
        f"/v1/lab/assignments/{setup.agreement_id}/measurement-context",
        params={"kpi": "cpk", "part_number": "SH-1", "period": "last week", "characteristic": "DIA-01"},
    )
    assert malformed.status_code == 422
