"""The Rules pages: list, editor with the condition checked as typed, templates, dry run as a timeline,
activation under four-eyes and the approvals page; read-only without the rules role, absent for a supplier."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, OrganizationSettings, Rule, RuleApproval
from hub.orgs import settings as org_settings
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org
from tests.hub.console.conftest import hidden, signed_in_client


def _editor(csrf: str, **fields: str) -> dict[str, str]:
    page = {"csrf_token": csrf, "name": "CPK watch", "description": "", "condition": "missing || !met"}
    page["definition"] = json.dumps(
        {"pattern": {"consecutive": 3}, "actions": [{"type": "notify", "role": "purchasing"}]}
    )
    return {**page, **fields}


def _new_rule(client: TestClient, csrf: str) -> Rule | None:
    made = client.post("/console/rules/new", data=_editor(csrf), follow_redirects=False)
    assert made.status_code == 303, made.text
    return None


def test_an_sqe_starts_from_a_template_saves_a_draft_and_sees_it_listed(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, OrgKind.OEM)
    _, csrf = signed_in_client(client, db, org, role="sqe")
    listing = client.get("/console/rules")
    assert listing.status_code == 200 and 'href="/console/rules"' in listing.text
    assert "No rules yet." in listing.text and 'id="template"' in listing.text
    started = client.get("/console/rules/new", params={"template": 0})
    assert started.status_code == 200 and "missing || !met" in started.text
    assert client.get("/console/rules/new", params={"template": 9}).status_code == 404

    made = client.post("/console/rules/new", data=_editor(csrf), follow_redirects=False)
    assert made.status_code == 303, made.text
    rule = db.scalars(select(Rule).where(Rule.oem_id == org.id)).one()
    assert made.headers["location"] == f"/console/rules/{rule.id}" and rule.status == "draft"
    listing = client.get("/console/rules").text
    assert "CPK watch" in listing and "draft" in listing and "v1" in listing


def test_the_condition_is_checked_as_typed_with_line_and_column(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    _, csrf = signed_in_client(client, db, org, role="sqe")
    headers = {"X-CSRF-Token": csrf}
    bad = client.post("/console/rules/check", data={"condition": "missing ||\n  !met &&"}, headers=headers)
    assert bad.status_code == 200
    assert 'data-line="2"' in bad.text and "Line 2, column" in bad.text and 'id="condition-error"' in bad.text
    unknown = client.post("/console/rules/check", data={"condition": "cpk < 1"}, headers=headers)
    assert "unknown variable(s) cpk" in unknown.text
    good = client.post("/console/rules/check", data={"condition": "missing || !met"}, headers=headers)
    assert "The condition is valid CEL." in good.text
    # Saving a bad condition shows the same message next to the field and saves nothing.
    refused = client.post("/console/rules/new", data=_editor(csrf, condition="met &&"))
    assert refused.status_code == 422 and 'id="condition-error"' in refused.text
    refused = client.post("/console/rules/new", data=_editor(csrf, definition="{not json"))
    assert refused.status_code == 422 and 'id="definition-error"' in refused.text
    assert db.scalars(select(Rule).where(Rule.oem_id == org.id)).all() == []


def test_activation_under_four_eyes_waits_and_a_second_person_approves(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    org = make_org(db, OrgKind.OEM)
    org_settings.set_four_eyes(db, actor="test", actor_org_id=None, org_id=org.id, on=True)
    author, csrf = signed_in_client(client, db, org, role="sqe")
    _new_rule(client, csrf)
    rule = db.scalars(select(Rule).where(Rule.oem_id == org.id)).one()
    page = client.get(f"/console/rules/{rule.id}").text
    assert "(needs a second approval)" in page
    asked = client.post(
        f"/console/rules/{rule.id}/status",
        data={"csrf_token": csrf, "status": "active"},
        follow_redirects=False,
    )
    assert asked.status_code == 303 and asked.headers["location"].endswith("?asked=1")
    page = client.get(asked.headers["location"]).text
    assert "Waiting for second approval" in page and 'id="rule-status">draft<' in page
    mine = client.get("/console/rules/approvals").text
    assert "You asked for this: another person must approve it." in mine
    approval = db.scalars(select(RuleApproval)).one()
    refused = client.post(f"/console/rules/approvals/{approval.id}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 403 and "another person" in refused.text

    with TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) as second:
        approver, csrf2 = signed_in_client(second, db, org, role="admin")
        assert "Approve" in second.get("/console/rules/approvals").text
        done = second.post(
            f"/console/rules/approvals/{approval.id}/approve",
            data={"csrf_token": csrf2},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == f"/console/rules/{rule.id}"
        assert 'id="rule-status">active<' in second.get(done.headers["location"]).text
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "rule.approval.approved")).one()
    assert entry.actor == f"person:{approver.id}" and author.id != approver.id


def test_dry_run_shows_a_timeline(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    _, csrf = signed_in_client(client, db, org, role="sqe")
    _new_rule(client, csrf)
    rule = db.scalars(select(Rule).where(Rule.oem_id == org.id)).one()
    page = client.post(f"/console/rules/{rule.id}/dry-run", data={"csrf_token": csrf})
    assert page.status_code == 200 and 'id="dry-run"' in page.text
    assert "0 stored period results replayed under version 1." in page.text
    assert "Nothing would have happened." in page.text


def test_a_viewer_reads_without_buttons_and_a_supplier_finds_no_rules(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, OrgKind.OEM)
    _, csrf = signed_in_client(client, db, org, role="sqe")
    _new_rule(client, csrf)
    rule = db.scalars(select(Rule).where(Rule.oem_id == org.id)).one()
    client.cookies.clear()
    _, viewer_csrf = signed_in_client(client, db, org, role="viewer")
    page = client.get(f"/console/rules/{rule.id}").text
    assert "readonly" in page and "Activate" not in page and ">Save<" not in page
    assert "New rule" not in client.get("/console/rules").text
    forbidden = client.post(
        f"/console/rules/{rule.id}/status", data={"csrf_token": viewer_csrf, "status": "active"}
    )
    assert forbidden.status_code == 403
    assert db.get(Rule, rule.id).status == "draft"  # type: ignore[union-attr]

    client.cookies.clear()
    supplier = make_org(db, OrgKind.SUPPLIER)
    signed_in_client(client, db, supplier, role="sqe")
    assert client.get("/console/rules").status_code == 404
    assert client.get(f"/console/rules/{rule.id}").status_code == 404
    assert 'href="/console/rules"' not in client.get("/console/inbox").text
    client.cookies.clear()
    other = make_org(db, OrgKind.OEM)
    signed_in_client(client, db, other, role="sqe")
    assert client.get(f"/console/rules/{rule.id}").status_code == 404
    assert client.get("/console/rules/not-an-id").status_code == 404


def test_an_admin_turns_four_eyes_on_in_the_people_page(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    _, csrf = signed_in_client(client, db, org, role="admin")
    assert "Turn four-eyes on" in client.get("/console/people").text
    turned = client.post(
        "/console/people/four-eyes", data={"csrf_token": csrf, "four_eyes": "on"}, follow_redirects=False
    )
    assert turned.status_code == 303
    assert db.get(OrganizationSettings, org.id).four_eyes is True  # type: ignore[union-attr]
    assert "Turn four-eyes off" in client.get("/console/people").text
    assert (
        client.post("/console/people/four-eyes", data={"csrf_token": csrf, "four_eyes": "x"}).status_code
        == 422
    )
    assert hidden(client.get("/console/people").text, "csrf_token") == csrf
