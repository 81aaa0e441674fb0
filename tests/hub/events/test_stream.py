"""GET /v1/events: the caller's positioned events after the cursor, as Server-Sent Events."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.events import service as events
from hub.events.router import MAX_POSITION
from protocol.models.common import OrgKind
from tests.hub.conftest import Actor, make_actor


@pytest.fixture
def streaming(app: FastAPI, client: TestClient, db: Session) -> TestClient:
    """The stream opens its own short sessions; here they join the test's transaction, so it sees its rows."""
    connection = db.connection()
    app.state.session_factory = lambda: Session(bind=connection, join_transaction_mode="create_savepoint")
    return client


def publish(db: Session, org_ids: list[uuid.UUID], type: str = "test.ping", **payload: Any) -> None:
    events.publish(db, type=type, subject_id=uuid.uuid4(), views={org: dict(payload) for org in org_ids})
    db.commit()


def sequenced(db: Session) -> list[events.Event]:
    numbered = events.sequence(db)
    db.commit()
    return numbered


def parse(text: str) -> list[dict[str, Any]]:
    """SSE frames as dicts of their fields; comments and the retry hint left out."""
    frames = []
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":") or not line:
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "id" in fields:
            fields["data"] = json.loads(fields["data"])
            frames.append(fields)
    return frames


def read(actor: Actor, *, scope: str | None = None, **kw: Any) -> list[dict[str, Any]]:
    params = {"once": "true", **kw.pop("params", {})}
    headers = {**actor.headers(scope), **kw.pop("headers", {})}
    response = actor.http.get("/v1/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse(response.text)


def test_once_sends_exactly_the_callers_events_after_the_cursor_in_order(
    streaming: TestClient, db: Session, oem: Actor, supplier: Actor
) -> None:
    publish(db, [oem.org.id, supplier.org.id], n=1)
    publish(db, [supplier.org.id], n=2)  # the OEM is not entitled to this one
    publish(db, [oem.org.id, supplier.org.id], type="test.pong", n=3)
    numbered = sequenced(db)
    unpositioned_later = [oem.org.id]
    publish(db, unpositioned_later, n=4)  # committed but not numbered yet: not readable

    frames = read(oem)
    mine = [e for e in numbered if e.organization_id == oem.org.id]
    assert [f["id"] for f in frames] == [str(e.position) for e in mine]
    assert [f["event"] for f in frames] == ["test.ping", "test.pong"]
    assert [f["data"]["payload"]["n"] for f in frames] == [1, 3]
    assert frames[0]["data"] == {
        "id": str(mine[0].id),
        "type": "test.ping",
        "occurred_at": mine[0].occurred_at.isoformat().replace("+00:00", "Z"),
        "subject_id": mine[0].subject_id,
        "payload": {"n": 1},
    }
    # After the first event's position only the second is left; a types filter narrows to what is asked for.
    assert [f["data"]["payload"]["n"] for f in read(oem, params={"after": frames[0]["id"]})] == [3]
    assert [f["event"] for f in read(supplier, params={"types": "test.pong,other"})] == ["test.pong"]


def test_last_event_id_resumes_after_what_was_seen_and_wins_over_after(
    streaming: TestClient, db: Session, supplier: Actor
) -> None:
    for n in range(4):
        publish(db, [supplier.org.id], n=n)
    sequenced(db)
    first_two = read(supplier)[:2]

    resumed = read(supplier, params={"after": "0"}, headers={"Last-Event-ID": first_two[-1]["id"]})

    assert [f["data"]["payload"]["n"] for f in resumed] == [2, 3]
    assert {f["data"]["id"] for f in resumed}.isdisjoint(f["data"]["id"] for f in first_two)


def test_another_organizations_events_never_appear(
    streaming: TestClient, db: Session, supplier: Actor, other_supplier: Actor
) -> None:
    publish(db, [other_supplier.org.id], secret="theirs")
    sequenced(db)
    assert read(supplier) == []
    assert [f["data"]["payload"] for f in read(other_supplier)] == [{"secret": "theirs"}]


def test_the_stream_needs_the_events_read_scope(streaming: TestClient, db: Session) -> None:
    actor = make_actor(db, streaming, OrgKind.SUPPLIER, scopes=["kpi:read"])
    response = actor.get("/v1/events", params={"once": "true"})
    assert response.status_code == 403, response.text
    assert "events:read" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "headers", "loc"),
    [
        ({"after": "seven"}, {}, "query.after"),
        ({"after": "-1"}, {}, "query.after"),
        ({"after": "9223372036854775808"}, {}, "query.after"),
        ({}, {"Last-Event-ID": "9223372036854775808"}, "header.last-event-id"),
        ({}, {"Last-Event-ID": "abc"}, "header.last-event-id"),
    ],
)
def test_a_cursor_that_is_not_a_position_is_422_naming_it(
    streaming: TestClient, supplier: Actor, params: dict[str, str], headers: dict[str, str], loc: str
) -> None:
    headers = {**supplier.headers(), **headers}
    response = supplier.http.get("/v1/events", params={"once": "true", **params}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == loc


def test_the_largest_position_is_a_cursor_that_streams_nothing_and_does_not_overflow(
    streaming: TestClient, db: Session, supplier: Actor
) -> None:
    assert MAX_POSITION < 2**63  # what a 64-bit signed database integer holds
    publish(db, [supplier.org.id], n=1)
    sequenced(db)
    assert read(supplier, params={"after": str(MAX_POSITION)}) == []
    assert read(supplier, headers={"Last-Event-ID": str(MAX_POSITION)}) == []


@pytest.mark.parametrize(
    ("params", "headers", "loc"),
    [
        ({"after": "1" + "0" * 18}, {}, "query.after"),
        ({}, {"Last-Event-ID": "10000000000000000000"}, "header.last-event-id"),
    ],
)
def test_a_cursor_past_any_position_is_422_before_the_stream_starts(
    streaming: TestClient, supplier: Actor, params: dict[str, str], headers: dict[str, str], loc: str
) -> None:
    """A 20-digit cursor once broke the stream after its 200 (the database integer overflowed)."""
    headers = {**supplier.headers(), **headers}
    response = supplier.http.get("/v1/events", params={"once": "true", **params}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == loc
