"""The console's inbox: the API's filters (kind, free text, state), mark done and reopen with the session's CSRF
token, back to the filtered view; another organization's notification is the 404 page."""

from __future__ import annotations

import csv
import io
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.models import InboxNotification
from protocol.models.common import OrgKind
from tests.hub.conftest import make_actor
from tests.hub.console.conftest import signed_in_client
from tests.hub.rules.test_inbox import note


def test_filter_search_mark_done_and_reopen(client: TestClient, db: Session) -> None:
    oem = make_actor(db, client, OrgKind.OEM)
    gearbox = note(db, oem, title="Gearbox Ltd: A→B")
    note(db, oem, kind="early_warning", title="Drift at Castor")
    _, csrf = signed_in_client(client, db, oem.org, role="purchasing")

    page = client.get("/console/inbox", params={"kind": "early_warning"})
    assert "Drift at Castor" in page.text and "Gearbox Ltd" not in page.text
    assert (
        'hx-get="/console/inbox/rows?kind=early_warning&amp;state=open"' in page.text
    )  # live keeps the filter
    assert "sse:notification.updated" in page.text
    searched = client.get(
        "/console/inbox/rows", params={"role": "", "kind": "", "q": "gearbox"}
    )  # as the form sends
    assert "Gearbox Ltd" in searched.text and "Drift" not in searched.text

    done = client.post(
        f"/console/inbox/{gearbox}/done",
        data={"csrf_token": csrf, "back": "?q=gearbox&state=open"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/inbox?q=gearbox&state=open"
    assert "Gearbox Ltd" not in client.get("/console/inbox").text  # the console opens on what is open
    finished = client.get("/console/inbox", params={"state": "done"})
    assert "Gearbox Ltd" in finished.text and "Reopen" in finished.text
    rows = list(csv.DictReader(io.StringIO(client.get("/console/inbox.csv", params={"state": "all"}).text)))
    assert {r["title"]: bool(r["done_at"]) for r in rows} == {
        "Gearbox Ltd: A→B": True,
        "Drift at Castor": False,
    }

    away = client.post(
        f"/console/inbox/{gearbox}/reopen",
        data={"csrf_token": csrf, "back": "//evil.example/"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/console/inbox"  # never another site
    assert "Gearbox Ltd" in client.get("/console/inbox").text


def test_bad_filters_and_foreign_or_unsigned_changes(client: TestClient, db: Session) -> None:
    oem, other = make_actor(db, client, OrgKind.OEM), make_actor(db, client, OrgKind.OEM)
    theirs = note(db, other)
    _, csrf = signed_in_client(client, db, oem.org, role="purchasing")
    bad = client.get("/console/inbox", params={"state": "finished"})
    assert bad.status_code == 422 and "state" in bad.text
    foreign = client.post(f"/console/inbox/{theirs}/done", data={"csrf_token": csrf})
    assert foreign.status_code == 404 and "<h1>Not found</h1>" in foreign.text
    stale = client.post(f"/console/inbox/{theirs}/done", data={"csrf_token": "stale"}, follow_redirects=False)
    assert stale.status_code == 303 and "reason=stale" in stale.headers["location"]
    step = client.post(f"/console/inbox/{theirs}/archive", data={"csrf_token": csrf})
    assert step.status_code == 422
    db.expire_all()
    assert db.get(InboxNotification, uuid.UUID(theirs)).done_at is None  # type: ignore[union-attr]
