"""``/v1/inbox`` filtered by kind, free text and state, and ``POST .../done|reopen``: the organization's own rows
only (another's is a 404), the scope checked, malformed input a 422 that names the field."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, Event, InboxNotification
from protocol.models.common import OrgKind
from tests.hub.conftest import Actor, make_actor


def note(
    db: Session, actor: Actor, *, kind: str = "rule.fired", title: str = "B: CPK", **body: object
) -> str:
    row = InboxNotification(
        organization_id=actor.org.id, role="purchasing", kind=kind, title=title, body=dict(body) or {"x": 1}
    )
    db.add(row)
    db.commit()
    return str(row.id)


def titles(actor: Actor, **params: str) -> list[str]:
    response = actor.get("/v1/inbox", params=params)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_filters_by_kind_free_text_and_state(db: Session, client: TestClient) -> None:
    oem = make_actor(db, client, OrgKind.OEM)
    note(db, oem, title="Gearbox Ltd: A→B", part_number="SH-4410")
    note(db, oem, kind="early_warning", title="Drift at Castor", part_number="BR-77")
    assert titles(oem, kind="early_warning") == ["Drift at Castor"]
    assert titles(oem, q="gearbox") == ["Gearbox Ltd: A→B"]  # case-insensitive, in the title
    assert titles(oem, q="BR-77") == ["Drift at Castor"]  # in the body
    assert titles(oem, q="100%") == []  # a wildcard is a character, not a pattern
    assert titles(oem, state="open") == ["Drift at Castor", "Gearbox Ltd: A→B"]
    assert titles(oem, state="done") == []


def test_done_and_reopen_move_it_between_states_audited_and_published(
    db: Session, client: TestClient
) -> None:
    oem = make_actor(db, client, OrgKind.OEM)
    nid = note(db, oem)
    done = oem.post(f"/v1/inbox/{nid}/done")
    assert done.status_code == 200, done.text
    assert done.json()["done_at"] is not None and done.json()["done_by"] == f"client:{oem.client_id}"
    again = oem.post(f"/v1/inbox/{nid}/done")
    assert again.json()["done_at"] == done.json()["done_at"]  # the first mark stays
    assert titles(oem, state="done") == ["B: CPK"] and titles(oem, state="open") == []

    reopened = oem.post(f"/v1/inbox/{nid}/reopen")
    assert reopened.status_code == 200 and reopened.json()["done_at"] is None
    assert titles(oem, state="open") == ["B: CPK"]
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == nid)).all()
    assert sorted(actions) == ["inbox_notification.done", "inbox_notification.reopened"]
    published = db.scalars(select(Event.type).where(Event.subject_id == nid)).all()
    assert published == ["notification.updated", "notification.updated"]


def test_another_organizations_notification_is_not_found(db: Session, client: TestClient) -> None:
    oem, other = make_actor(db, client, OrgKind.OEM), make_actor(db, client, OrgKind.OEM)
    nid = note(db, oem)
    for step in ("done", "reopen"):
        response = other.post(f"/v1/inbox/{nid}/{step}")
        assert response.status_code == 404 and response.json()["error"] == "NotFound"
    assert other.post(f"/v1/inbox/{uuid.uuid4()}/done").status_code == 404
    assert titles(other) == [] and db.get(InboxNotification, uuid.UUID(nid)).done_at is None  # type: ignore[union-attr]


def test_without_the_scope_it_is_forbidden(db: Session, client: TestClient) -> None:
    oem = make_actor(db, client, OrgKind.OEM)
    nid = note(db, oem)
    response = oem.post(f"/v1/inbox/{nid}/done", scope="org:read")
    assert response.status_code == 403 and "standings:read" in response.json()["detail"]
    assert oem.get("/v1/inbox", scope="org:read").status_code == 403


def test_malformed_input_names_the_field(db: Session, client: TestClient) -> None:
    oem = make_actor(db, client, OrgKind.OEM)
    bad_state = oem.get("/v1/inbox", params={"state": "finished"})
    assert bad_state.status_code == 422 and "state" in bad_state.text
    long_query = oem.get("/v1/inbox", params={"q": "x" * 201})
    assert long_query.status_code == 422 and "q" in long_query.text
    assert oem.post("/v1/inbox/not-an-id/done").status_code == 422
