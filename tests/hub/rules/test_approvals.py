"""Four-eyes on rules: with it on, activating or changing an active rule waits for a second person of the same
organization, who approves it (the rule's next version is saved then) or rejects it."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, Organization, Person, RuleApproval, RuleVersion
from hub.orgs import settings as org_settings
from protocol.models.common import OrgKind
from protocol.models.rules import STANDARD_RULE_TEMPLATE
from tests.hub.asserts import assert_error, field_locs
from tests.hub.conftest import Actor, make_actor
from tests.hub.console.conftest import hidden, person_in, sign_in

APPROVALS = "/v1/rules/approvals"


@dataclass
class Someone:
    """A signed-in person calling the API with their session cookie (and its CSRF header on a change)."""

    person: Person
    http: TestClient
    csrf: str

    def send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, url, headers={"X-CSRF-Token": self.csrf}, **kw)


@pytest.fixture
def people(app: FastAPI) -> Iterator[list[TestClient]]:
    clients = [
        TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) for _ in range(3)
    ]
    for http in clients:
        http.__enter__()
    yield clients
    for http in clients:
        http.__exit__(None, None, None)


def someone(db: Session, http: TestClient, org: Organization, role: str = "sqe") -> Someone:
    person = person_in(db, org, role=role, email=f"{role}-{uuid.uuid4().hex[:6]}@example.com")
    assert sign_in(http, person.email).status_code == 303
    return Someone(person, http, hidden(http.get("/console/inbox").text, "csrf_token"))


def rule_body(**overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(STANDARD_RULE_TEMPLATE)
    body.update(overrides)
    return body


def four_eyes(db: Session, org: Organization, on: bool = True) -> None:
    org_settings.set_four_eyes(db, actor="test", actor_org_id=None, org_id=org.id, on=on)
    db.commit()


@pytest.fixture
def team(db: Session, oem: Actor, people: list[TestClient]) -> tuple[Someone, Someone]:
    four_eyes(db, oem.org)
    return someone(db, people[0], oem.org), someone(db, people[1], oem.org)


def draft(author: Someone) -> dict[str, Any]:
    made = author.send("POST", "/v1/rules", json=rule_body(status="draft"))
    assert made.status_code == 201, made.text
    return dict(made.json())


def ask_to_activate(author: Someone, rule: dict[str, Any]) -> dict[str, Any]:
    asked = author.send("PUT", f"/v1/rules/{rule['id']}", json=rule_body(status="active"))
    assert asked.status_code == 202, asked.text
    return dict(asked.json())


def test_without_four_eyes_activation_is_immediate_and_no_approval_is_made(
    db: Session, oem: Actor, people: list[TestClient]
) -> None:
    sqe = someone(db, people[0], oem.org)
    rule = draft(sqe)
    saved = sqe.send("PUT", f"/v1/rules/{rule['id']}", json=rule_body(status="active"))
    assert saved.status_code == 200, saved.text
    assert (saved.json()["status"], saved.json()["version"]) == ("active", 2)
    assert db.scalars(select(RuleApproval)).all() == []


def test_a_second_person_approves_and_the_rule_is_active_under_their_name(
    db: Session, team: tuple[Someone, Someone]
) -> None:
    author, approver = team
    rule = draft(author)
    approval = ask_to_activate(author, rule)
    assert (approval["state"], approval["base_version"], approval["rule_id"]) == ("pending", 1, rule["id"])
    assert approval["requested_by"] == f"person:{author.person.id}"
    unchanged = author.send("GET", f"/v1/rules/{rule['id']}").json()
    assert (unchanged["status"], unchanged["version"]) == ("draft", 1)

    approved = approver.send("POST", f"{APPROVALS}/{approval['id']}:approve", json={"reason": "dry run ok"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["state"], body["applied_version"], body["reason"]) == ("approved", 2, "dry run ok")
    assert body["decided_by"] == f"person:{approver.person.id}"
    now = author.send("GET", f"/v1/rules/{rule['id']}").json()
    assert (now["status"], now["version"]) == ("active", 2)
    version = db.scalars(select(RuleVersion).where(RuleVersion.version == 2)).one()
    assert version.created_by == f"person:{approver.person.id}"
    actors = {
        entry.action: entry.actor
        for entry in db.scalars(select(AuditEntry).where(AuditEntry.subject_id == rule["id"]))
    }
    assert actors["rule.approval.requested"] == f"person:{author.person.id}"
    assert actors["rule.approval.approved"] == actors["rule.updated"] == f"person:{approver.person.id}"


def test_creating_an_active_rule_makes_a_draft_waiting_for_approval(
    db: Session, team: tuple[Someone, Someone]
) -> None:
    author, _ = team
    asked = author.send("POST", "/v1/rules", json=rule_body(status="active"))
    assert asked.status_code == 202, asked.text
    rule = author.send("GET", f"/v1/rules/{asked.json()['rule_id']}").json()
    assert (rule["status"], rule["version"]) == ("draft", 1)
    assert asked.json()["definition"]["status"] == "active"


def test_changing_or_disabling_an_active_rule_waits_but_editing_a_draft_does_not(
    db: Session, oem: Actor, team: tuple[Someone, Someone]
) -> None:
    author, approver = team
    rule = draft(author)
    edited = author.send("PUT", f"/v1/rules/{rule['id']}", json=rule_body(status="draft", name="CPK v2"))
    assert edited.status_code == 200 and edited.json()["version"] == 2
    approval = ask_to_activate(author, rule)
    assert approver.send("POST", f"{APPROVALS}/{approval['id']}:approve").status_code == 200
    disabling = author.send("PUT", f"/v1/rules/{rule['id']}", json=rule_body(status="disabled"))
    assert disabling.status_code == 202, disabling.text
    # An API client's change waits too; the same save again answers what is already there.
    by_client = oem.http.put(
        f"/v1/rules/{rule['id']}", json=rule_body(status="active", name="CPK v3"), headers=oem.headers()
    )
    assert by_client.status_code == 202 and by_client.json()["requested_by"] == f"client:{oem.client_id}"
    assert author.send("GET", f"/v1/rules/{rule['id']}").json()["status"] == "active"


def test_the_person_who_asked_cannot_approve_and_an_api_client_cannot_either(
    db: Session, oem: Actor, team: tuple[Someone, Someone]
) -> None:
    author, _ = team
    approval = ask_to_activate(author, draft(author))
    own = author.send("POST", f"{APPROVALS}/{approval['id']}:approve")
    assert_error(own, 403, "SelfApproval", detail="another person")
    machine = oem.post(f"{APPROVALS}/{approval['id']}:approve")
    assert_error(machine, 403, "ApproverNotAPerson")
    assert author.send("GET", f"{APPROVALS}/{approval['id']}").json()["state"] == "pending"
    # The one who asked may withdraw it.
    withdrawn = author.send("POST", f"{APPROVALS}/{approval['id']}:reject", json={"reason": "not yet"})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "rejected"
    again = author.send("POST", f"{APPROVALS}/{approval['id']}:reject", json={"reason": "twice"})
    assert_error(again, 409, "ApprovalDecided")


def test_an_approval_asked_before_the_rule_was_saved_again_is_stale(
    db: Session, team: tuple[Someone, Someone]
) -> None:
    author, approver = team
    rule = draft(author)
    first = ask_to_activate(author, rule)
    second = author.send("PUT", f"/v1/rules/{rule['id']}", json=rule_body(status="active", name="other"))
    assert approver.send("POST", f"{APPROVALS}/{first['id']}:approve").status_code == 200
    stale = approver.send("POST", f"{APPROVALS}/{second.json()['id']}:approve")
    assert_error(stale, 409, "StaleApproval", detail="version 1, now 2")
    assert author.send("GET", f"/v1/rules/{rule['id']}").json()["name"] == STANDARD_RULE_TEMPLATE["name"]
    pending = author.send("GET", APPROVALS, params={"state": "pending"}).json()["items"]
    assert [a["id"] for a in pending] == [second.json()["id"]]


def test_another_organizations_approval_is_not_there(
    db: Session, client: TestClient, team: tuple[Someone, Someone], people: list[TestClient]
) -> None:
    author, _ = team
    approval = ask_to_activate(author, draft(author))
    other = make_actor(db, client, OrgKind.OEM)
    outsider = someone(db, people[2], other.org)
    for response in (
        outsider.send("GET", f"{APPROVALS}/{approval['id']}"),
        outsider.send("POST", f"{APPROVALS}/{approval['id']}:approve"),
        outsider.send("POST", f"{APPROVALS}/{approval['id']}:reject", json={"reason": "mine?"}),
        other.get(f"{APPROVALS}/{approval['id']}"),
    ):
        assert_error(response, 404, "NotFound")
    assert outsider.send("GET", APPROVALS).json()["items"] == []


def test_approving_needs_the_rules_scope(
    db: Session, oem: Actor, team: tuple[Someone, Someone], people: list[TestClient]
) -> None:
    author, _ = team
    approval = ask_to_activate(author, draft(author))
    viewer = someone(db, people[2], oem.org, role="viewer")
    assert viewer.send("GET", f"{APPROVALS}/{approval['id']}").status_code == 200
    assert_error(viewer.send("POST", f"{APPROVALS}/{approval['id']}:approve"), 403, "InsufficientScope")
    reader = oem.post(f"{APPROVALS}/{approval['id']}:reject", scope="rules:read", json={"reason": "x"})
    assert_error(reader, 403, "InsufficientScope")
    assert_error(oem.get(APPROVALS, scope="kpi:read"), 403, "InsufficientScope")


def test_malformed_input_is_a_422_naming_it(db: Session, oem: Actor, team: tuple[Someone, Someone]) -> None:
    author, approver = team
    approval = ask_to_activate(author, draft(author))
    assert_error(oem.get(f"{APPROVALS}/not-a-uuid"), 422, "InvalidInput")
    assert_error(oem.get(APPROVALS, params={"state": "maybe"}), 422, "InvalidInput")
    no_reason = approver.send("POST", f"{APPROVALS}/{approval['id']}:reject", json={"reason": " "})
    assert field_locs(assert_error(no_reason, 422, "InvalidInput")) == ["body.reason"]
    long = approver.send("POST", f"{APPROVALS}/{approval['id']}:approve", json={"reason": "x" * 2001})
    assert_error(long, 422, "InvalidInput")
    bad_cel = author.send("POST", "/v1/rules", json=rule_body(status="active", condition="met &&"))
    assert field_locs(assert_error(bad_cel, 422, "InvalidInput")) == ["body.condition"]
    assert approver.send("GET", f"{APPROVALS}/{approval['id']}").json()["state"] == "pending"
    assert len(db.scalars(select(RuleApproval)).all()) == 1


def test_the_list_pages_and_filters_by_state(db: Session, oem: Actor, team: tuple[Someone, Someone]) -> None:
    author, approver = team
    made = [ask_to_activate(author, draft(author))["id"] for _ in range(3)]
    approver.send("POST", f"{APPROVALS}/{made[1]}:reject", json={"reason": "no"})
    first = oem.get(APPROVALS, params={"limit": 2}).json()
    rest = oem.get(APPROVALS, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [a["id"] for a in first["items"] + rest["items"]] == made and rest["next_cursor"] is None
    rejected = oem.get(APPROVALS, params={"state": "rejected"}).json()["items"]
    assert [a["id"] for a in rejected] == [made[1]]


def test_a_repeated_create_under_four_eyes_answers_the_same_approval(
    db: Session, oem: Actor, team: tuple[Someone, Someone]
) -> None:
    headers = {**oem.headers(), "Idempotency-Key": "rule-once"}
    first = oem.http.post("/v1/rules", json=rule_body(status="active"), headers=headers)
    again = oem.http.post("/v1/rules", json=rule_body(status="active"), headers=headers)
    assert (first.status_code, again.status_code) == (202, 202), again.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(db.scalars(select(RuleApproval)).all()) == 1


def test_the_openapi_document_declares_the_202() -> None:
    from hub.app import create_app
    from tests.conftest import make_settings

    paths = create_app(make_settings("sqlite://")).openapi()["paths"]
    for method, path in (("post", "/v1/rules"), ("put", "/v1/rules/{rule_id}")):
        schema = paths[path][method]["responses"]["202"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/RuleApproval"}
    assert "post" in paths["/v1/rules/approvals/{approval_id}:approve"]
