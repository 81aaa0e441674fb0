"""Supply agreements: the OEM proposes, the named supplier accepts or declines, either party terminates."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, SupplyAgreement
from tests.hub.asserts import assert_error, audit_actions, audit_count, field_locs
from tests.hub.conftest import Actor


def terms(supplier: Actor, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "supplier_id": str(supplier.org.id),
        "title": "Drive shaft quality agreement",
        "parts": [{"part_number": "SH-4410", "name": "Drive shaft"}],
        "characteristics": [
            {"code": "DIA-01", "part_number": "SH-4410", "unit": "mm", "lsl": "24.980", "usl": "25.020"}
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"},
            {"kpi": "ppm", "threshold": "100"},
        ],
        "period": "week",
        "valid_from": "2026-01-01",
    }
    body.update(overrides)
    return body


def agreement_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(SupplyAgreement)) or 0)


def propose(oem: Actor, supplier: Actor, **overrides: Any) -> dict[str, Any]:
    response = oem.post("/v1/agreements", json=terms(supplier, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def stored_status(db: Session, agreement_id: str) -> str:
    db.expire_all()
    row = db.get(SupplyAgreement, uuid.UUID(agreement_id))
    assert row is not None
    return row.status


# --- the happy path -------------------------------------------------------------------------------------------


def test_oem_proposes(db: Session, oem: Actor, supplier: Actor) -> None:
    response = oem.post("/v1/agreements", json=terms(supplier))

    assert response.status_code == 201, response.text
    agreement = response.json()
    assert agreement["status"] == "proposed"
    assert agreement["oem_id"] == str(oem.org.id)
    assert agreement["supplier_id"] == str(supplier.org.id)
    assert agreement["accepted_at"] is None
    assert agreement["characteristics"][0]["lsl"] == "24.980"
    # The KPI direction is filled in: PPM is good when at most its threshold.
    assert [(k["kpi"], k["comparator"]) for k in agreement["kpis"]] == [("cpk", ">="), ("ppm", "<=")]
    entries = db.scalars(select(AuditEntry).where(AuditEntry.subject_id == agreement["id"])).all()
    assert [(e.action, e.actor_org_id) for e in entries] == [("agreement.proposed", oem.org.id)]


def test_supplier_sees_and_accepts(db: Session, oem: Actor, supplier: Actor) -> None:
    agreement = propose(oem, supplier)

    seen = supplier.get(f"/v1/agreements/{agreement['id']}")
    assert seen.status_code == 200 and seen.json()["status"] == "proposed"
    assert [a["id"] for a in supplier.get("/v1/agreements").json()["items"]] == [agreement["id"]]

    accepted = supplier.post(f"/v1/agreements/{agreement['id']}/accept", json={"reason": "agreed"})

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active"
    assert accepted.json()["accepted_at"] is not None
    assert oem.get(f"/v1/agreements/{agreement['id']}").json()["status"] == "active"
    assert stored_status(db, agreement["id"]) == "active"
    assert audit_actions(db, agreement["id"]) == ["agreement.proposed", "agreement.accepted"]


def test_accept_without_a_body(oem: Actor, supplier: Actor) -> None:
    agreement = propose(oem, supplier)
    response = supplier.post(f"/v1/agreements/{agreement['id']}/accept")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"


def test_supplier_declines_with_a_reason(db: Session, oem: Actor, supplier: Actor) -> None:
    agreement = propose(oem, supplier)

    declined = supplier.post(f"/v1/agreements/{agreement['id']}/decline", json={"reason": "capacity full"})

    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert declined.json()["accepted_at"] is None
    db.expire_all()
    row = db.get(SupplyAgreement, uuid.UUID(agreement["id"]))
    assert row is not None and row.decision_reason == "capacity full"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "agreement.declined")).one()
    assert entry.subject_id == agreement["id"] and entry.data == {"reason": "capacity full"}
    assert_error(
        supplier.post(f"/v1/agreements/{agreement['id']}/accept"), 409, "Conflict", detail="declined"
    )


@pytest.mark.parametrize("who", ["oem", "supplier"])
def test_either_party_terminates_an_active_agreement(
    db: Session, oem: Actor, supplier: Actor, who: str
) -> None:
    agreement = propose(oem, supplier)
    accepted = supplier.post(f"/v1/agreements/{agreement['id']}/accept").json()
    party = oem if who == "oem" else supplier

    response = party.post(f"/v1/agreements/{agreement['id']}/terminate", json={"reason": "part discontinued"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "terminated"
    # Termination does not rewrite when the supplier accepted.
    assert response.json()["accepted_at"] == accepted["accepted_at"]
    assert stored_status(db, agreement["id"]) == "terminated"
    entries = db.scalars(select(AuditEntry).where(AuditEntry.subject_id == agreement["id"])).all()
    assert [e.action for e in entries] == ["agreement.proposed", "agreement.accepted", "agreement.terminated"]
    assert entries[-1].actor_org_id == party.org.id
    again = party.post(f"/v1/agreements/{agreement['id']}/terminate")
    assert_error(again, 409, "Conflict", detail="terminated")
    assert len(audit_actions(db, agreement["id"])) == 3


def test_oem_withdraws_a_proposal_that_was_never_accepted(oem: Actor, supplier: Actor) -> None:
    agreement = propose(oem, supplier)
    response = oem.post(f"/v1/agreements/{agreement['id']}/terminate")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "terminated"
    assert response.json()["accepted_at"] is None


def test_list_filters_by_status(oem: Actor, supplier: Actor, other_supplier: Actor) -> None:
    first = propose(oem, supplier)
    second = propose(oem, supplier, title="Second part")
    third = propose(oem, other_supplier)
    supplier.post(f"/v1/agreements/{first['id']}/accept")

    def ids(actor: Actor, **params: str) -> list[str]:
        response = actor.get("/v1/agreements", params=params)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["items"]]

    assert ids(oem) == [first["id"], second["id"], third["id"]]
    assert ids(oem, status="active") == [first["id"]]
    assert ids(oem, status="proposed") == [second["id"], third["id"]]
    assert ids(oem, status="declined") == []
    assert ids(oem, counterparty=str(other_supplier.org.id)) == [third["id"]]
    assert ids(supplier, status="proposed") == [second["id"]]
    body = assert_error(oem.get("/v1/agreements", params={"status": "bogus"}), 422, "InvalidInput")
    assert field_locs(body) == ["query.status"]


# --- who may do what ------------------------------------------------------------------------------------------


def test_oem_cannot_accept(db: Session, oem: Actor, supplier: Actor) -> None:
    agreement = propose(oem, supplier)
    audited = audit_count(db)

    response = oem.post(f"/v1/agreements/{agreement['id']}/accept")

    assert_error(response, 403, "Forbidden", detail="supplier")
    assert stored_status(db, agreement["id"]) == "proposed"
    assert audit_count(db) == audited


def test_another_supplier_sees_nothing(
    db: Session, oem: Actor, supplier: Actor, other_supplier: Actor
) -> None:
    agreement = propose(oem, supplier)
    audited = audit_count(db)

    assert_error(other_supplier.get(f"/v1/agreements/{agreement['id']}"), 404, "NotFound")
    for action in ("accept", "decline", "terminate"):
        assert_error(other_supplier.post(f"/v1/agreements/{agreement['id']}/{action}"), 404, "NotFound")
    assert other_supplier.get("/v1/agreements").json()["items"] == []
    assert stored_status(db, agreement["id"]) == "proposed"
    assert audit_count(db) == audited


def test_unknown_agreement_is_404(supplier: Actor) -> None:
    missing = "00000000-0000-7000-8000-000000000000"
    assert_error(supplier.get(f"/v1/agreements/{missing}"), 404, "NotFound")
    assert_error(supplier.post(f"/v1/agreements/{missing}/accept"), 404, "NotFound")


def test_accepting_twice_is_a_conflict(db: Session, oem: Actor, supplier: Actor) -> None:
    agreement = propose(oem, supplier)
    assert supplier.post(f"/v1/agreements/{agreement['id']}/accept").status_code == 200

    again = supplier.post(f"/v1/agreements/{agreement['id']}/accept")

    assert_error(again, 409, "Conflict", detail="active")
    assert audit_actions(db, agreement["id"]) == ["agreement.proposed", "agreement.accepted"]


def test_supplier_cannot_propose(db: Session, supplier: Actor, other_supplier: Actor) -> None:
    before, audited = agreement_count(db), audit_count(db)
    response = supplier.post("/v1/agreements", json=terms(other_supplier))
    assert_error(response, 403, "Forbidden", detail="OEM")
    assert (agreement_count(db), audit_count(db)) == (before, audited)


def test_proposing_needs_agreements_write(db: Session, oem: Actor, supplier: Actor) -> None:
    before, audited = agreement_count(db), audit_count(db)
    response = oem.post("/v1/agreements", json=terms(supplier), scope="agreements:read")
    assert_error(response, 403, "InsufficientScope", detail="agreements:write")
    assert (agreement_count(db), audit_count(db)) == (before, audited)
    # The narrower token still reads.
    assert oem.get("/v1/agreements", scope="agreements:read").status_code == 200


def test_accepting_needs_agreements_write(db: Session, oem: Actor, supplier: Actor) -> None:
    agreement = propose(oem, supplier)
    response = supplier.post(f"/v1/agreements/{agreement['id']}/accept", scope="agreements:read")
    assert_error(response, 403, "InsufficientScope", detail="agreements:write")
    assert stored_status(db, agreement["id"]) == "proposed"
    assert audit_actions(db, agreement["id"]) == ["agreement.proposed"]


# --- invalid terms --------------------------------------------------------------------------------------------


def _with(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("change", "loc", "detail"),
    [
        ((("characteristics", 0, "part_number"), "XX-9"), "body", "not in parts"),
        ((("characteristics", 0, "lsl"), "25.020"), "body.characteristics.0", "lsl must be below usl"),
        ((("characteristics", 0, "lsl"), "25.500"), "body.characteristics.0", "lsl must be below usl"),
        ((("kpis", 1), {"kpi": "cpk", "threshold": "1.67"}), "body", "each KPI may appear once"),
        ((("kpis", 0, "comparator"), "<="), "body.kpis.0", "cpk is good when >="),
        ((("period",), "fortnight"), "body.period", "period"),
        ((("valid_until",), "2025-12-31"), "body", "valid_until"),
        ((("report_due_days",), 400), "body.report_due_days", "report_due_days"),
        ((("incoterms",), "FOB"), "body.incoterms", "incoterms"),
        ((("kpis", 0, "threshold"), 1.33), "body.kpis.0.threshold", "binary float"),
        ((("characteristics", 0, "usl"), 25.02), "body.characteristics.0.usl", "binary float"),
        ((("kpis", 0, "threshold"), "NaN"), "body.kpis.0.threshold", "threshold"),
    ],
    ids=[
        "characteristic-of-unknown-part",
        "lsl-equals-usl",
        "lsl-above-usl",
        "duplicate-kpi",
        "wrong-direction",
        "unknown-period",
        "ends-before-it-starts",
        "due-days-out-of-range",
        "unknown-field",
        "float-threshold",
        "float-limit",
        "nan-threshold",
    ],
)
def test_invalid_terms_are_422_and_write_nothing(
    db: Session, oem: Actor, supplier: Actor, change: tuple[tuple[Any, ...], Any], loc: str, detail: str
) -> None:
    before, audited = agreement_count(db), audit_count(db)
    path, value = change

    response = oem.post("/v1/agreements", json=_with(terms(supplier), path, value))

    body = assert_error(response, 422, "InvalidInput", detail=detail)
    assert loc in field_locs(body), body
    assert (agreement_count(db), audit_count(db)) == (before, audited)


@pytest.mark.parametrize("whom", ["oem", "operator", "unknown"])
def test_supplier_id_must_name_a_supplier(db: Session, oem: Actor, operator: Actor, whom: str) -> None:
    target = {"oem": str(oem.org.id), "operator": str(operator.org.id), "unknown": str(uuid.uuid4())}[whom]
    before, audited = agreement_count(db), audit_count(db)

    response = oem.post("/v1/agreements", json={**terms(oem), "supplier_id": target})

    body = assert_error(response, 422, "InvalidInput", detail="supplier_id")
    assert field_locs(body) == ["body.supplier_id"]
    assert (agreement_count(db), audit_count(db)) == (before, audited)


def test_acceptance_opens_the_suppliers_standing_once_and_tells_both_parties(
    db: Session, oem: Actor, supplier: Actor, other_supplier: Actor
) -> None:
    from hub.models import Event

    declined = propose(oem, other_supplier)
    assert other_supplier.post(f"/v1/agreements/{declined['id']}/decline").status_code == 200
    assert oem.get("/v1/standings").json()["items"] == []  # a declined proposal gives no standing
    assert oem.get(f"/v1/standings/{other_supplier.org.id}").status_code == 404

    first = propose(oem, supplier)
    assert supplier.post(f"/v1/agreements/{first['id']}/accept").status_code == 200
    [standing] = oem.get("/v1/standings").json()["items"]
    assert (standing["supplier_id"], standing["tier"], standing["status"]) == (
        str(supplier.org.id),
        "A",
        "approved",
    )
    assert standing["history"] == []
    assert supplier.get(f"/v1/standings/{supplier.org.id}").json()["tier"] == "A"
    second = propose(oem, supplier)
    assert supplier.post(f"/v1/agreements/{second['id']}/accept").status_code == 200
    assert (
        len(oem.get("/v1/standings").json()["items"]) == 1
    )  # a second agreement keeps the standing there is
    opened = db.scalars(select(Event).where(Event.type == "standing.opened")).all()
    assert sorted(str(e.organization_id) for e in opened) == sorted([str(oem.org.id), str(supplier.org.id)])
    assert {(e.payload["tier"], e.payload["status"]) for e in opened} == {("A", "approved")}
