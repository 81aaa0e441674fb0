"""An admin invites a person from the console; the mail arrives at a real SMTP server with a link that works
once; used, revoked and expired links change nothing; another organization's invitation is not there."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.mail.sender import send_due
from hub.models import AuditEntry, Invitation, OutboxMail, Person
from hub.models.base import utcnow
from hub.people import invitations
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org
from tests.hub.console.conftest import hidden, person_in, signed_in_client
from tests.hub.mail.smtp import body_of, factory_on, free_port, smtp_at, smtp_server

NEW_PASSWORD = "a password of my own choosing"
_LINK = re.compile(r"https?://[^\s/]+(/console/invitations/[A-Za-z0-9_\-]+)")


def _invite(client: TestClient, csrf: str, email: str, role: str = "plant") -> int:
    response = client.post(
        "/console/people/invitations",
        data={"csrf_token": csrf, "email": email, "role": role},
        follow_redirects=False,
    )
    return response.status_code


def _accept(client: TestClient, path: str, password: str = NEW_PASSWORD, again: str | None = None) -> object:
    page = client.get(path)
    assert page.status_code == 200, page.text
    form = {
        "form_token": hidden(page.text, "form_token"),
        "password": password,
        "password_again": password if again is None else again,
        "display_name": "Invited Person",
    }
    return client.post(path, data=form, follow_redirects=False)


def test_the_invitation_mail_arrives_and_its_link_signs_the_invitee_in_once(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, OrgKind.OEM)
    admin, csrf = signed_in_client(client, db, org, role="admin")
    assert _invite(client, csrf, "invitee@example.com") == 303
    page = client.get("/console/people")
    assert "invitee@example.com" in page.text and "Revoke" in page.text
    invitation = db.scalars(select(Invitation).where(Invitation.email_key == "invitee@example.com")).one()
    assert len(invitation.token_sha256) == 32  # only the digest is kept
    created = db.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "invitation.created", AuditEntry.subject_id == str(invitation.id)
        )
    ).one()
    assert created.actor == f"person:{admin.id}" and created.actor_org_id == org.id

    port = free_port()
    with smtp_server(port) as inbox:
        assert send_due(factory_on(db), smtp_at(port)) == 1
    [mail] = inbox.to("invitee@example.com")
    match = _LINK.search(body_of(mail))
    assert match is not None, body_of(mail)
    assert invitation.token_sha256 not in body_of(mail).encode()

    client.cookies.clear()
    accepted = _accept(client, match.group(1))
    assert accepted.status_code == 303 and accepted.headers["location"] == "/console/"  # type: ignore[attr-defined]
    person = db.scalars(select(Person).where(Person.email_key == "invitee@example.com")).one()
    assert (person.organization_id, person.role, person.display_name) == (org.id, "plant", "Invited Person")
    assert client.get("/console/containment").status_code == 200  # signed in
    db.refresh(invitation)
    assert invitation.accepted_at is not None and invitation.person_id == person.id

    client.cookies.clear()
    again = client.get(match.group(1))
    assert again.status_code == 410 and "used already" in again.text
    assert len(db.scalars(select(Person).where(Person.email_key == "invitee@example.com")).all()) == 1


def test_revoked_and_expired_invitations_are_a_clear_page_and_change_nothing(
    client: TestClient, db: Session
) -> None:
    org = make_org(db, OrgKind.OEM)
    admin, csrf = signed_in_client(client, db, org, role="admin")
    revoked = invitations.invite(
        db, inviter=admin, email="revoked@example.com", role="viewer", link_base="http://x", now=utcnow()
    )
    expired = invitations.invite(
        db,
        inviter=admin,
        email="expired@example.com",
        role="viewer",
        link_base="http://x",
        now=utcnow() - timedelta(days=8),
    )
    db.commit()
    response = client.post(
        f"/console/people/invitations/{revoked.invitation.id}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "revoked@example.com" not in client.get("/console/people").text
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "invitation.revoked")).one()
    assert entry.actor == f"person:{admin.id}"

    client.cookies.clear()
    for invited, words in ((revoked, "revoked"), (expired, "expired")):
        path = f"/console/invitations/{invited.token}"
        assert words in client.get(path).text
        posted = client.post(path, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
        assert posted.status_code == 410 and words in posted.text
    assert client.get("/console/invitations/not-a-real-token").status_code == 410
    emails = {"revoked@example.com", "expired@example.com"}
    assert db.scalars(select(Person).where(Person.email_key.in_(emails))).all() == []


def test_bad_input_is_shown_next_to_the_field_and_nothing_changes(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    admin, csrf = signed_in_client(client, db, org, role="admin")
    person_in(db, org, role="viewer", email="taken@example.com")
    for email, role, message in [
        ("not an address", "viewer", "not an e-mail address"),
        ("ok@example.com", "owner", "unknown role"),
        ("TAKEN@example.com", "viewer", "already belongs"),
    ]:
        response = client.post(
            "/console/people/invitations", data={"csrf_token": csrf, "email": email, "role": role}
        )
        assert response.status_code in (409, 422) and message in response.text
        assert 'id="invite_' in response.text
    assert _invite(client, csrf, "twice@example.com") == 303
    assert _invite(client, csrf, "twice@example.com") == 409  # one pending invitation per address
    assert db.scalars(select(Invitation).where(Invitation.email_key == "ok@example.com")).all() == []

    invited = invitations.invite(
        db, inviter=admin, email="new@example.com", role="viewer", link_base="http://x", now=utcnow()
    )
    db.commit()
    client.cookies.clear()
    path = f"/console/invitations/{invited.token}"
    short = _accept(client, path, password="short")
    assert short.status_code == 422 and "at least 12 characters" in short.text  # type: ignore[attr-defined]
    differ = _accept(client, path, again="something else entirely")
    assert differ.status_code == 422 and "differ" in differ.text  # type: ignore[attr-defined]
    stale = client.post(
        path, data={"form_token": "forged", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert stale.status_code == 400
    assert db.scalars(select(Person).where(Person.email_key == "new@example.com")).all() == []


def test_wrong_organization_and_missing_role(client: TestClient, db: Session) -> None:
    org, other = make_org(db, OrgKind.OEM), make_org(db, OrgKind.OEM)
    theirs_admin = person_in(db, other, role="admin", email="their-admin@example.com")
    theirs = invitations.invite(
        db, inviter=theirs_admin, email="x@example.com", role="viewer", link_base="http://x", now=utcnow()
    )
    db.commit()
    _, csrf = signed_in_client(client, db, org, role="admin")
    response = client.post(
        f"/console/people/invitations/{theirs.invitation.id}/revoke", data={"csrf_token": csrf}
    )
    assert response.status_code == 404
    assert (
        client.post("/console/people/invitations/not-an-id/revoke", data={"csrf_token": csrf}).status_code
        == 404
    )
    db.refresh(theirs.invitation)
    assert theirs.invitation.revoked_at is None

    client.cookies.clear()
    _, viewer_csrf = signed_in_client(client, db, org, role="sqe")
    assert _invite(client, viewer_csrf, "y@example.com") == 403
    assert client.get("/console/people/invitations.csv").status_code == 403
    assert db.scalars(select(OutboxMail).where(OutboxMail.to_address == "y@example.com")).all() == []


def test_pending_invitations_export_as_csv_and_xlsx(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    _, csrf = signed_in_client(client, db, org, role="admin")
    assert _invite(client, csrf, "listed@example.com", role="sqe") == 303
    csv = client.get("/console/people/invitations.csv")
    assert csv.status_code == 200 and "listed@example.com,sqe" in csv.text
    xlsx = client.get("/console/people/invitations.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
