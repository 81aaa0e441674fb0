"""Every POST that creates something honours ``Idempotency-Key`` the same way.

A repeat with the same key and body answers what the first made (same id, same status, ``Idempotent-Replayed``)
and makes nothing more; the same key with another body is 422 IdempotencyKeyReused; keys are per organization.
The table holds one case per route; a test over the OpenAPI document fails for a new creating POST without the
header.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import idempotency
from hub.models import (
    ApiClient,
    Certificate,
    IdempotencyRecord,
    LabAccreditation,
    LabMeasurement,
    Organization,
    QualityNotification,
    Room,
    RoomAnnotation,
    RoomDataset,
    RoomMember,
    Rule,
    SupplyAgreement,
    Webhook,
)
from hub.models.base import utcnow
from protocol.models.common import OrgKind
from protocol.models.rules import STANDARD_RULE_TEMPLATE
from tests.hub.agreements.test_agreements import terms
from tests.hub.asserts import assert_error
from tests.hub.certificates.conftest import make_certifier
from tests.hub.conftest import Actor, make_actor
from tests.hub.labs.conftest import make_lab_setup
from tests.hub.notifications.chain import build_chain
from tests.hub.notifications.conftest import investigation, moved
from tests.hub.rooms.conftest import dataset_body, in_days, make_member, open_room

# Creating POSTs that take no key, and why.
NO_KEY = {
    "/v1/keys": "a key is named by its public key's hash: a retry cannot make a second one, it is a 409 naming it",
    "/v1/kpi-reports:batch": "each item carries its own idempotency_key",
}


@dataclass
class Case:
    actor: Actor
    path: str
    first: dict[str, Any]
    other: dict[str, Any]
    state: Callable[[Session], Any]  # what a replay must leave as it is
    id_of: Callable[[dict[str, Any]], Any]
    status: int = 201


def count(model: type[Any]) -> Callable[[Session], int]:
    return lambda db: int(db.scalar(select(func.count()).select_from(model)) or 0)


def _id(body: dict[str, Any]) -> Any:
    return body["id"]


def _rule(name: str) -> dict[str, Any]:
    body = copy.deepcopy(STANDARD_RULE_TEMPLATE)
    body["name"] = name
    return body


def organizations(db: Session, http: TestClient) -> Case:
    operator = make_actor(db, http, OrgKind.OPERATOR)
    tag = uuid.uuid4().hex[:6]
    return Case(
        operator,
        "/v1/organizations",
        {"name": f"Acme {tag}", "kind": "supplier"},
        {"name": f"Apex {tag}", "kind": "supplier"},
        count(Organization),
        _id,
    )


def clients(db: Session, http: TestClient) -> Case:
    oem = make_actor(db, http, OrgKind.OEM)
    return Case(
        oem,
        "/v1/clients",
        {"name": "line a"},
        {"name": "line b"},
        count(ApiClient),
        lambda b: b["client"]["client_id"],
    )


def onboarding(db: Session, http: TestClient) -> Case:
    operator = make_actor(db, http, OrgKind.OPERATOR)
    newcomer = make_actor(db, http, OrgKind.SUPPLIER)
    return Case(
        operator,
        f"/v1/organizations/{newcomer.org.id}/clients",
        {"name": "first"},
        {"name": "second"},
        count(ApiClient),
        lambda b: b["client"]["client_id"],
    )


def agreements(db: Session, http: TestClient) -> Case:
    oem, supplier = make_actor(db, http, OrgKind.OEM), make_actor(db, http, OrgKind.SUPPLIER)
    return Case(
        oem,
        "/v1/agreements",
        terms(supplier, title="Shaft A"),
        terms(supplier, title="Shaft B"),
        count(SupplyAgreement),
        _id,
    )


def rules(db: Session, http: TestClient) -> Case:
    oem = make_actor(db, http, OrgKind.OEM)
    return Case(oem, "/v1/rules", _rule("CPK A"), _rule("CPK B"), count(Rule), _id)


def webhooks(db: Session, http: TestClient) -> Case:
    oem = make_actor(db, http, OrgKind.OEM)
    return Case(
        oem,
        "/v1/webhooks",
        {"url": "https://plant-a.example/hook"},
        {"url": "https://plant-b.example/hook"},
        count(Webhook),
        lambda b: (b["webhook"]["id"], b["secret"]),
    )


def rotations(db: Session, http: TestClient) -> Case:
    oem = make_actor(db, http, OrgKind.OEM)
    hook = oem.post("/v1/webhooks", json={"url": "https://plant.example/hook"}).json()["webhook"]

    def secrets(db: Session) -> tuple[str, str | None]:
        db.expire_all()
        row = db.get_one(Webhook, uuid.UUID(hook["id"]))
        return row.secret, row.previous_secret

    return Case(
        oem,
        f"/v1/webhooks/{hook['id']}/rotate-secret",
        {"overlap_seconds": 3600},
        {"overlap_seconds": 60},
        secrets,
        lambda b: (b["webhook"]["id"], b["secret"]),
        status=200,
    )


def rooms(db: Session, http: TestClient) -> Case:
    owner = make_member(db, http, OrgKind.OEM)
    first = {"title": "Noise at 41 °C", "expires_at": in_days(30)}
    return Case(owner.actor, "/v1/rooms", first, {**first, "title": "Rattle"}, count(Room), _id)


def members(db: Session, http: TestClient) -> Case:
    owner = make_member(db, http, OrgKind.OEM)
    guest, other = make_member(db, http, OrgKind.SUPPLIER), make_member(db, http, OrgKind.SUPPLIER)
    room = open_room(owner)
    return Case(
        owner.actor,
        f"/v1/rooms/{room['id']}/members",
        {"organization_id": str(guest.id)},
        {"organization_id": str(other.id)},
        count(RoomMember),
        lambda b: b["organization_id"],
    )


def datasets(db: Session, http: TestClient) -> Case:
    owner, guest = make_member(db, http, OrgKind.OEM), make_member(db, http, OrgKind.SUPPLIER)
    room = open_room(owner, {guest: "contributor"})
    return Case(
        guest.actor,
        f"/v1/rooms/{room['id']}/datasets",
        dataset_body(guest, room["id"], [owner, guest], b"a" * 64),
        dataset_body(guest, room["id"], [owner, guest], b"b" * 64),
        count(RoomDataset),
        _id,
    )


def annotations(db: Session, http: TestClient) -> Case:
    owner = make_member(db, http, OrgKind.OEM)
    room = open_room(owner)
    return Case(
        owner.actor,
        f"/v1/rooms/{room['id']}/annotations",
        {"body": "bearing play", "tag": "hypothesis"},
        {"body": "solder joint", "tag": "hypothesis"},
        count(RoomAnnotation),
        _id,
    )


def notifications(db: Session, http: TestClient) -> Case:
    chain = build_chain(db, http)
    first = {"type": "INVESTIGATION", "title": "Low voltage", "affected_asset_ids": [chain.asset("E1")]}
    return Case(
        chain.oem,
        "/v1/quality-notifications",
        first,
        {**first, "title": "Cracked housing"},
        count(QualityNotification),
        _id,
    )


def forwards(db: Session, http: TestClient) -> Case:
    chain = build_chain(db, http)
    original = investigation(chain)["id"]
    moved(chain.oem, original, "send")
    moved(chain.ecu, original, "receive")
    first = {"affected_asset_ids": [chain.asset("C1")], "reason": "suspect the capacitors"}
    return Case(
        chain.ecu,
        f"/v1/quality-notifications/{original}/forward",
        first,
        {**first, "reason": "suspect the solder"},
        count(QualityNotification),
        _id,
    )


def accreditations(db: Session, http: TestClient) -> Case:
    operator, lab = make_actor(db, http, OrgKind.OPERATOR), make_actor(db, http, OrgKind.LAB)
    first = {
        "scheme": "ISO/IEC 17025",
        "number": "D-PL-1",
        "scope": "dimensional metrology",
        "valid_from": "2025-01-01",
        "valid_until": "2027-01-01",
    }
    return Case(
        operator,
        f"/v1/labs/{lab.org.id}/accreditations",
        first,
        {**first, "number": "D-PL-2"},
        count(LabAccreditation),
        _id,
    )


def lab_measurements(db: Session, http: TestClient) -> Case:
    setup = make_lab_setup(
        db,
        http,
        make_actor(db, http, OrgKind.OPERATOR),
        make_actor(db, http, OrgKind.OEM),
        make_actor(db, http, OrgKind.SUPPLIER),
    )
    return Case(
        setup.lab,
        "/v1/lab/measurements",
        setup.issue_body(),
        setup.issue_body(),
        count(LabMeasurement),
        lambda b: (b["id"], b["digest"]),
    )


def certificates(db: Session, http: TestClient) -> Case:
    certifier, supplier = make_certifier(db, http), make_actor(db, http, OrgKind.SUPPLIER)
    return Case(
        certifier.actor,
        "/v1/certificates",
        {"credential": certifier.credential(supplier)},
        {"credential": certifier.credential(supplier)},
        count(Certificate),
        lambda b: b["certificate_id"],
    )


CASES: dict[str, Callable[[Session, TestClient], Case]] = {
    "/v1/organizations": organizations,
    "/v1/clients": clients,
    "/v1/organizations/{org_id}/clients": onboarding,
    "/v1/agreements": agreements,
    "/v1/rules": rules,
    "/v1/webhooks": webhooks,
    "/v1/webhooks/{webhook_id}/rotate-secret": rotations,
    "/v1/rooms": rooms,
    "/v1/rooms/{room_id}/members": members,
    "/v1/rooms/{room_id}/datasets": datasets,
    "/v1/rooms/{room_id}/annotations": annotations,
    "/v1/quality-notifications": notifications,
    "/v1/quality-notifications/{notification_id}/forward": forwards,
    "/v1/labs/{lab_id}/accreditations": accreditations,
    "/v1/lab/measurements": lab_measurements,
    "/v1/certificates": certificates,
}

KEYED_ELSEWHERE = {"/v1/kpi-reports"}  # its fingerprint is the signed payload; tests/hub/kpis has its tests


def _post(case: Case, body: dict[str, Any], key: str) -> httpx.Response:
    return case.actor.http.post(
        case.path, json=body, headers={**case.actor.headers(), "Idempotency-Key": key}
    )


def test_every_creating_post_takes_an_idempotency_key(app: FastAPI) -> None:
    keyed, creating = set(), set()
    for path, operations in app.openapi()["paths"].items():
        post = operations.get("post")
        if post is None:
            continue
        if "201" in post["responses"]:
            creating.add(path)
        if "Idempotency-Key" in {p["name"] for p in post.get("parameters", [])}:
            keyed.add(path)
    assert creating - keyed == set(NO_KEY) & creating, "a POST creates something without an Idempotency-Key"
    assert keyed == set(CASES) | KEYED_ELSEWHERE, "a keyed POST has no case in this table"


@pytest.mark.parametrize("path", sorted(CASES))
def test_a_repeated_key_answers_the_first_and_makes_nothing(
    db: Session, client: TestClient, path: str
) -> None:
    case = CASES[path](db, client)
    key = str(uuid.uuid4())
    first = _post(case, case.first, key)
    assert first.status_code == case.status, first.text
    assert "Idempotent-Replayed" not in first.headers
    before = case.state(db)

    again = _post(case, case.first, key)

    assert again.status_code == case.status, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert case.id_of(again.json()) == case.id_of(first.json())
    assert case.state(db) == before


@pytest.mark.parametrize("path", sorted(CASES))
def test_the_same_key_with_another_body_is_refused(db: Session, client: TestClient, path: str) -> None:
    case = CASES[path](db, client)
    key = str(uuid.uuid4())
    assert _post(case, case.first, key).status_code == case.status
    before = case.state(db)

    assert_error(_post(case, case.other, key), 422, "IdempotencyKeyReused")
    assert case.state(db) == before


@pytest.mark.parametrize("path", sorted(CASES))
def test_keys_are_per_organization(db: Session, client: TestClient, path: str) -> None:
    mine, theirs = CASES[path](db, client), CASES[path](db, client)
    assert mine.actor.org.id != theirs.actor.org.id
    key = "the-same-key"
    one = _post(mine, mine.first, key)
    other = _post(theirs, theirs.first, key)
    assert one.status_code == other.status_code == mine.status, other.text
    assert "Idempotent-Replayed" not in other.headers
    assert mine.id_of(one.json()) != theirs.id_of(other.json())


def test_without_a_key_each_post_makes_its_own(db: Session, client: TestClient) -> None:
    case = rules(db, client)
    made = [case.actor.post(case.path, json=case.first).json()["id"] for _ in range(2)]
    assert made[0] != made[1]


def test_a_replayed_client_has_no_secret_the_hub_never_kept(db: Session, client: TestClient) -> None:
    case = clients(db, client)
    first = _post(case, case.first, "k1").json()
    again = _post(case, case.first, "k1").json()
    assert first["client_secret"] and again["client_secret"] is None
    assert again["client"] == first["client"]


def test_a_retried_rotation_keeps_the_receivers_secret_in_the_overlap(
    db: Session, client: TestClient
) -> None:
    case = rotations(db, client)
    original = case.state(db)[0]
    first = _post(case, case.first, "rotate-1").json()
    again = _post(case, case.first, "rotate-1").json()
    assert again["secret"] == first["secret"] != original
    assert case.state(db) == (first["secret"], original)


def test_an_expired_key_is_a_new_key(db: Session, client: TestClient) -> None:
    case = rules(db, client)
    first = _post(case, case.first, "old").json()["id"]
    record = db.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == "old")).one()
    record.created_at = utcnow() - idempotency.RETENTION
    db.commit()
    again = _post(case, case.first, "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.json()["id"] != first


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\there"])
def test_a_malformed_key_is_422_naming_the_header(db: Session, client: TestClient, key: str) -> None:
    case = rules(db, client)
    body = assert_error(_post(case, case.first, key), 422, "InvalidInput")
    assert "Idempotency-Key" in str(body)
