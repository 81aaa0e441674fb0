"""An organization's admin manages its people in the console: add, change role, disable; never another's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, Person
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org
from tests.hub.console.conftest import person_in, signed_in_client


def test_an_admin_adds_a_person_who_can_then_sign_in(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    admin, csrf = signed_in_client(client, db, org, role="admin")
    assert 'href="/console/people"' in client.get("/console/inbox").text

    added = client.post(
        "/console/people",
        data={
            "csrf_token": csrf,
            "email": "new@example.com",
            "role": "plant",
            "password": "a long initial password",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    person = db.scalars(select(Person).where(Person.email_key == "new@example.com")).one()
    assert (person.organization_id, person.role) == (org.id, "plant")
    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "person.created", AuditEntry.subject_id == str(person.id)
        )
    ).one()
    assert entry.actor == f"person:{admin.id}" and entry.actor_org_id == org.id
    assert "new@example.com" in client.get("/console/people").text


def test_bad_input_is_the_apis_message_next_to_the_field(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    _, csrf = signed_in_client(client, db, org, role="admin")
    person_in(db, org, role="viewer", email="taken@example.com")
    cases = [
        (
            {"email": "not an address", "password": "a long initial password"},
            "email",
            "email: not an e-mail address",
        ),
        ({"email": "ok@example.com", "password": "short"}, "password", "at least 12 characters"),
        (
            {"email": "ok@example.com", "password": "a long initial password", "role": "owner"},
            "role",
            "unknown role",
        ),
        ({"email": "TAKEN@example.com", "password": "a long initial password"}, "email", "already belongs"),
    ]
    for form, field, message in cases:
        page = client.post("/console/people", data={"csrf_token": csrf, "role": "viewer", **form})
        assert page.status_code in (409, 422), page.text
        assert f'id="{field}-error">' in page.text and message in page.text
    assert db.scalars(select(Person).where(Person.email_key == "ok@example.com")).all() == []


def test_role_change_and_disable_apply_and_an_admin_cannot_lock_themselves_out(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, OrgKind.OEM)
    admin, csrf = signed_in_client(client, db, org, role="admin")
    other = person_in(db, org, role="viewer", email="other@example.com")

    assert (
        client.post(
            f"/console/people/{other.id}/role",
            data={"csrf_token": csrf, "role": "sqe"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/console/people/{other.id}/disable", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    db.expire_all()
    changed = db.get(Person, other.id)
    assert changed is not None and changed.role == "sqe" and changed.disabled_at is not None

    own_role = client.post(f"/console/people/{admin.id}/role", data={"csrf_token": csrf, "role": "viewer"})
    own_disable = client.post(f"/console/people/{admin.id}/disable", data={"csrf_token": csrf})
    assert own_role.status_code == 409 and own_disable.status_code == 409
    db.expire_all()
    me = db.get(Person, admin.id)
    assert me is not None and me.role == "admin" and me.disabled_at is None


def test_another_organizations_person_is_the_404_page_and_a_non_admin_is_refused(
    client: TestClient, db: Session
) -> None:
    foreign = person_in(db, make_org(db, OrgKind.SUPPLIER), role="viewer", email="foreign@example.com")
    _, csrf = signed_in_client(client, db, make_org(db, OrgKind.OEM), role="admin")
    for path in (f"/console/people/{foreign.id}/disable", f"/console/people/{foreign.id}/role"):
        page = client.post(path, data={"csrf_token": csrf, "role": "admin"})
        assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    assert "foreign@example.com" not in client.get("/console/people").text
    db.expire_all()
    still = db.get(Person, foreign.id)
    assert still is not None and still.disabled_at is None and still.role == "viewer"


def test_a_person_without_org_admin_gets_403(client: TestClient, db: Session) -> None:
    _, csrf = signed_in_client(client, db, make_org(db, OrgKind.OEM), role="sqe")
    assert client.get("/console/people").status_code == 403
    assert (
        client.post("/console/people", data={"csrf_token": csrf, "email": "x@example.com"}).status_code == 403
    )
    assert 'href="/console/people"' not in client.get("/console/inbox").text


def test_what_people_type_is_escaped_on_every_page(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    _, csrf = signed_in_client(client, db, org, role="admin")
    form = {"csrf_token": csrf, "email": "x@example.com", "display_name": "<script>alert(1)</script>"}
    added = client.post(
        "/console/people", data={**form, "role": "viewer", "password": "a long initial password"}
    )
    assert added.status_code == 200  # followed the redirect to the list
    assert (
        "<script>alert(1)</script>" not in added.text
        and "&lt;script&gt;alert(1)&lt;/script&gt;" in added.text
    )
