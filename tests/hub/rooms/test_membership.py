"""Who sees and does what: outsiders see 404 everywhere, scopes are enforced, roles are, removal takes access."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Event, RoomWrappedKey
from tests.hub.rooms.conftest import Member, dataset_body, in_days, open_room, upload

ANY = str(uuid.uuid4())
ROUTES = [
    ("GET", "/v1/rooms/{room}", None),
    ("GET", "/v1/rooms/{room}/members", None),
    ("GET", "/v1/rooms/{room}/keys/{key}", None),
    ("POST", "/v1/rooms/{room}/members", {"organization_id": ANY}),
    ("POST", "/v1/rooms/{room}/accept", {}),
    ("PUT", "/v1/rooms/{room}/members/{org}/people", {"people": []}),
    ("DELETE", "/v1/rooms/{room}/members/{org}", None),
    ("GET", "/v1/rooms/{room}/datasets", None),
    ("GET", "/v1/rooms/{room}/datasets/{dataset}", None),
    ("GET", "/v1/rooms/{room}/datasets/{dataset}/content", None),
    ("POST", "/v1/rooms/{room}/datasets/{dataset}/wrapped-keys", {"wrapped_keys": []}),
    ("GET", "/v1/rooms/{room}/annotations", None),
    ("POST", "/v1/rooms/{room}/annotations", {"body": "x"}),
    ("GET", "/v1/rooms/{room}/8d", None),
    ("PUT", "/v1/rooms/{room}/8d/D1", {"content": "x"}),
    ("POST", "/v1/rooms/{room}/8d/D1/sign-off", None),
    ("GET", "/v1/rooms/{room}/timeline", None),
    ("POST", "/v1/rooms/{room}/close", None),
    ("GET", "/v1/rooms/{room}/export", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_an_outsider_sees_nothing_of_a_room(
    owner: Member, compressor: Member, outsider: Member, method: str, path: str, body: object
) -> None:
    room = open_room(owner, {compressor: "contributor"})
    dataset = upload(compressor, room["id"], [owner, compressor])
    url = path.format(
        room=room["id"], org=compressor.id, dataset=dataset["id"], key=compressor.signing_key_id
    )
    response = outsider.call(method, url, json=body) if body is not None else outsider.call(method, url)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "NotFound"
    assert outsider.get("/v1/rooms").json()["items"] == []


def test_the_upload_route_is_404_for_an_outsider(owner: Member, compressor: Member, outsider: Member) -> None:
    room = open_room(owner, {compressor: "contributor"})
    url = f"/v1/rooms/{room['id']}/datasets/{uuid.uuid4()}/content"
    assert outsider.put(url, content=b"abc").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"), [*ROUTES, ("PUT", "/v1/rooms/{room}/datasets/{dataset}/content", None)]
)
def test_a_missing_scope_is_403_naming_it(
    owner: Member, compressor: Member, method: str, path: str, body: object
) -> None:
    room = open_room(owner, {compressor: "contributor"})
    dataset = upload(compressor, room["id"], [owner, compressor])
    url = path.format(
        room=room["id"], org=compressor.id, dataset=dataset["id"], key=compressor.signing_key_id
    )
    needed = "rooms:read" if method == "GET" else "rooms:write"
    held = "org:read" if method == "GET" else "rooms:read"
    response = (
        owner.call(method, url, scope=held, json=body)
        if body is not None
        else owner.call(method, url, scope=held)
    )
    assert response.status_code == 403, response.text
    assert needed in response.json()["detail"]


def test_listing_and_opening_rooms_need_their_scopes(owner: Member) -> None:
    assert owner.get("/v1/rooms", scope="org:read").status_code == 403
    assert owner.post("/v1/rooms", scope="rooms:read", json={}).status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("GET", "/v1/rooms/not-a-uuid", None, "path.room_id"),
        ("POST", "/v1/rooms/{room}/members", {"organization_id": "x"}, "body.organization_id"),
        ("POST", "/v1/rooms/{room}/accept", {"people": [{"email": "a@b"}]}, "body.people.0.name"),
        ("PUT", "/v1/rooms/{room}/members/{org}/people", {}, "body.people"),
        ("POST", "/v1/rooms/{room}/datasets", {}, "body.id"),
        (
            "POST",
            "/v1/rooms/{room}/datasets/{dataset}/wrapped-keys",
            {"wrapped_keys": [{}]},
            "body.wrapped_keys.0.organization_id",
        ),
        ("PATCH", "/v1/rooms/{room}/annotations/{dataset}", {}, "body"),
        ("POST", "/v1/rooms/{room}/close", {"note": 5}, "body.note"),
        ("GET", "/v1/rooms/{room}/timeline?limit=0", None, "query.limit"),
        ("GET", "/v1/rooms/{room}/annotations?tag=maybe", None, "query.tag"),
    ],
)
def test_malformed_requests_are_422_naming_the_field(
    owner: Member, compressor: Member, method: str, path: str, body: object, loc: str | None
) -> None:
    room = open_room(owner, {compressor: "contributor"})
    dataset = upload(compressor, room["id"], [owner, compressor])
    url = path.format(room=room["id"], org=owner.id, dataset=dataset["id"])
    response = owner.call(method, url, json=body) if body is not None else owner.call(method, url)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == loc


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"expires_at": in_days(3)}, "body.title"),
        ({"title": "t", "expires_at": "2020-01-01T00:00:00Z"}, "body.expires_at"),
        ({"title": "t", "expires_at": "2030-01-01T00:00:00"}, "body.expires_at"),
        ({"title": "t", "expires_at": in_days(3), "deletion_policy": "never"}, "body.deletion_policy"),
        (
            {"title": "t", "expires_at": in_days(3), "members": [{"organization_id": ANY}]},
            "body.members.0.organization_id",
        ),
        (
            {"title": "t", "expires_at": in_days(3), "people": [{"name": "x", "email": "no"}]},
            "body.people.0.email",
        ),
    ],
)
def test_a_malformed_room_is_422_naming_the_field(owner: Member, body: dict[str, object], loc: str) -> None:
    response = owner.post("/v1/rooms", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == loc


def test_invitations_and_acceptance_are_recorded(owner: Member, compressor: Member, db: Session) -> None:
    room = open_room(owner, {compressor: "observer"}, accept=False)
    rid = room["id"]
    invited = compressor.get(f"/v1/rooms/{rid}").json()
    assert invited["your_role"] == "observer"
    me = next(m for m in invited["members"] if m["organization_id"] == str(compressor.id))
    assert me["invited_by"] == str(owner.id) and me["accepted_at"] is None
    # An invitee sees the room and its members, not its content, until it accepts.
    assert compressor.get(f"/v1/rooms/{rid}/datasets").status_code == 403
    assert owner.put(f"/v1/rooms/{rid}/members/{owner.id}/people", json={"people": []}).status_code == 200
    person = {"name": "Li Wei", "email": "li@compressor.example", "role": "test engineer"}
    accepted = compressor.post(f"/v1/rooms/{rid}/accept", json={"people": [person]})
    assert accepted.status_code == 200 and accepted.json()["accepted_at"] is not None
    assert accepted.json()["people"] == [person]
    assert compressor.post(f"/v1/rooms/{rid}/accept", json={}).status_code == 409
    assert compressor.get(f"/v1/rooms/{rid}/datasets").status_code == 200
    # Both organizations heard of the invitation and the acceptance; the invitee of nothing in between.
    heard = {}
    for org in (owner.id, compressor.id):
        query = select(Event.type).where(Event.organization_id == org, Event.subject_id == rid)
        heard[org] = set(db.scalars(query))
        assert {"room.member_invited", "room.member_joined"} <= heard[org]
    assert "room.people_changed" in heard[owner.id] and "room.people_changed" not in heard[compressor.id]


def test_only_the_owner_invites_and_an_invitation_is_not_doubled(
    owner: Member, compressor: Member, motor: Member
) -> None:
    room = open_room(owner, {compressor: "contributor"})
    url = f"/v1/rooms/{room['id']}/members"
    assert compressor.post(url, json={"organization_id": str(motor.id)}).status_code == 403
    assert owner.post(url, json={"organization_id": str(compressor.id)}).status_code == 409
    assert owner.post(url, json={"organization_id": ANY}).json()["fields"][0]["loc"] == "body.organization_id"
    invited = owner.post(url, json={"organization_id": str(motor.id), "role": "observer"})
    assert invited.status_code == 201 and invited.json()["role"] == "observer"
    assert owner.post(url, json={"organization_id": str(motor.id), "role": "owner"}).status_code == 422


def test_an_observer_reads_but_does_not_write(owner: Member, compressor: Member, motor: Member) -> None:
    room = open_room(owner, {compressor: "contributor", motor: "observer"})
    rid = room["id"]
    dataset = upload(compressor, rid, [owner, compressor, motor])
    assert motor.get(f"/v1/rooms/{rid}/datasets/{dataset['id']}").json()["wrapped_key"][
        "organization_id"
    ] == str(motor.id)
    assert motor.get(f"/v1/rooms/{rid}/datasets/{dataset['id']}/content").status_code == 200
    body = dataset_body(motor, rid, [owner, compressor, motor], b"x" * 100)
    for response in (
        motor.post(f"/v1/rooms/{rid}/datasets", json=body),
        motor.post(f"/v1/rooms/{rid}/annotations", json={"body": "I think"}),
        motor.put(f"/v1/rooms/{rid}/8d/D2", json={"content": "x"}),
        motor.post(f"/v1/rooms/{rid}/datasets/{dataset['id']}/wrapped-keys", json={"wrapped_keys": []}),
    ):
        assert response.status_code == 403, response.text
        assert "observer" in response.json()["detail"]


def test_named_people_are_set_by_their_own_organization(owner: Member, compressor: Member) -> None:
    room = open_room(owner, {compressor: "contributor"})
    people = {"people": [{"name": "Ola", "email": "ola@c.example", "role": "lab"}]}
    own = compressor.put(f"/v1/rooms/{room['id']}/members/{compressor.id}/people", json=people)
    assert own.status_code == 200 and own.json()["people"][0]["name"] == "Ola"
    other = compressor.put(f"/v1/rooms/{room['id']}/members/{owner.id}/people", json=people)
    assert other.status_code == 403


def test_a_removed_member_loses_the_room_and_its_keys(
    owner: Member, compressor: Member, motor: Member, db: Session
) -> None:
    room = open_room(owner, {compressor: "contributor", motor: "contributor"})
    rid = room["id"]
    before = upload(compressor, rid, [owner, compressor, motor])
    assert owner.call("DELETE", f"/v1/rooms/{rid}/members/{motor.id}").status_code == 204
    for url in (
        f"/v1/rooms/{rid}",
        f"/v1/rooms/{rid}/datasets/{before['id']}",
        f"/v1/rooms/{rid}/datasets/{before['id']}/content",
    ):
        assert motor.get(url).status_code == 404
    former = owner.get(f"/v1/rooms/{rid}/members?include_removed=true").json()["items"]
    assert [m["removed_at"] is not None for m in former] == [False, False, True]
    assert str(motor.id) not in str(owner.get(f"/v1/rooms/{rid}/members").json()["items"])
    held = db.scalar(
        select(func.count()).select_from(RoomWrappedKey).where(RoomWrappedKey.organization_id == motor.id)
    )
    assert held == 0
    # New datasets need no key for the removed member, and may not carry one.
    upload(compressor, rid, [owner, compressor])
    refused = compressor.post(
        f"/v1/rooms/{rid}/datasets", json=dataset_body(compressor, rid, [owner, compressor, motor], b"y" * 64)
    )
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["loc"] == "body.wrapped_keys.2.organization_id"
    # It heard of its removal.
    types = set(
        db.scalars(select(Event.type).where(Event.organization_id == motor.id, Event.subject_id == rid))
    )
    assert "room.member_removed" in types


def test_a_member_leaves_but_the_owner_cannot(owner: Member, compressor: Member) -> None:
    room = open_room(owner, {compressor: "contributor"}, accept=False)
    assert owner.call("DELETE", f"/v1/rooms/{room['id']}/members/{owner.id}").status_code == 409
    assert compressor.call("DELETE", f"/v1/rooms/{room['id']}/members/{compressor.id}").status_code == 204
    assert compressor.get(f"/v1/rooms/{room['id']}").status_code == 404
    assert compressor.call("DELETE", f"/v1/rooms/{room['id']}/members/{owner.id}").status_code == 404


def test_listing_rooms_filters_by_status(owner: Member, compressor: Member) -> None:
    first = open_room(owner, {compressor: "contributor"})
    second = open_room(owner)
    assert owner.post(f"/v1/rooms/{second['id']}/close").status_code == 200
    ids = [room["id"] for room in owner.get("/v1/rooms?status=open").json()["items"]]
    assert first["id"] in ids and second["id"] not in ids
    assert [room["id"] for room in compressor.get("/v1/rooms").json()["items"]] == [first["id"]]
    assert owner.get("/v1/rooms?status=maybe").json()["fields"][0]["loc"] == "query.status"


def test_a_former_members_signing_key_stays_readable_in_the_room(
    owner: Member, compressor: Member, motor: Member, outsider: Member
) -> None:
    room = open_room(owner, {compressor: "contributor", motor: "contributor"})
    rid = room["id"]
    dataset = upload(compressor, rid, [owner, compressor, motor])
    owner.call("DELETE", f"/v1/rooms/{rid}/members/{compressor.id}")
    key_id = dataset["manifest_signature"]["key_id"]
    assert key_id not in str(motor.get(f"/v1/rooms/{rid}/members").json()["items"])
    found = motor.get(f"/v1/rooms/{rid}/keys/{key_id}")
    assert found.status_code == 200, found.text
    assert found.json()["organization_id"] == str(compressor.id) and found.json()["use"] == "sig"
    assert motor.get(f"/v1/rooms/{rid}/keys/{outsider.signing_key_id}").status_code == 404
    assert outsider.get(f"/v1/rooms/{rid}/keys/{key_id}").status_code == 404
