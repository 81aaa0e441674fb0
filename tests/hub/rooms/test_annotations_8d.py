"""Annotations (anchors, tags, threads, history) and the 8D record's ownership and sign-off rules."""

from __future__ import annotations

import uuid

import pytest

from tests.hub.rooms.conftest import Member, open_room, upload


def test_annotations_thread_and_keep_their_history(owner: Member, compressor: Member, motor: Member) -> None:
    room = open_room(owner, {compressor: "contributor", motor: "contributor"})
    rid = room["id"]
    dataset = upload(compressor, rid, [owner, compressor, motor])
    anchor = {
        "dataset_id": dataset["id"],
        "time_from": "2026-11-20T08:00:00Z",
        "time_to": "2026-11-20T09:00:00Z",
    }
    first = motor.post(
        f"/v1/rooms/{rid}/annotations", json={"body": "bearing play", "tag": "hypothesis", "anchor": anchor}
    )
    assert first.status_code == 201, first.text
    note = first.json()
    reply = owner.post(f"/v1/rooms/{rid}/annotations", json={"body": "seen it too", "parent_id": note["id"]})
    assert reply.status_code == 201 and reply.json()["parent_id"] == note["id"]

    url = f"/v1/rooms/{rid}/annotations/{note['id']}"
    assert owner.call("PATCH", url, json={"tag": "verified"}).status_code == 403  # not its annotation
    edited = motor.call("PATCH", url, json={"body": "bearing play confirmed", "tag": "root_cause"})
    assert edited.status_code == 200, edited.text
    history = edited.json()["revisions"]
    assert [(r["revision"], r["tag"], r["body"]) for r in history] == [
        (1, "hypothesis", "bearing play"),
        (2, "root_cause", "bearing play confirmed"),
    ]
    assert edited.json()["anchor"]["dataset_id"] == dataset["id"]
    assert [
        a["id"] for a in compressor.get(f"/v1/rooms/{rid}/annotations?tag=root_cause").json()["items"]
    ] == [note["id"]]
    assert len(compressor.get(f"/v1/rooms/{rid}/annotations?dataset_id={dataset['id']}").json()["items"]) == 1
    assert compressor.get(url).json()["revision"] == 2


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"body": ""}, "body.body"),
        ({"body": "x", "tag": "guess"}, "body.tag"),
        ({"body": "x", "anchor": {"row_start": 1, "row_end": 5}}, "body.anchor"),
        (
            {"body": "x", "anchor": {"dataset_id": str(uuid.UUID(int=1)), "row_start": 5, "row_end": 5}},
            "body.anchor",
        ),
        ({"body": "x", "anchor": {"dataset_id": str(uuid.UUID(int=1))}}, "body.anchor.dataset_id"),
        ({"body": "x", "parent_id": str(uuid.UUID(int=2))}, "body.parent_id"),
    ],
)
def test_a_malformed_annotation_is_422_naming_the_field(
    owner: Member, body: dict[str, object], loc: str
) -> None:
    room = open_room(owner)
    response = owner.post(f"/v1/rooms/{room['id']}/annotations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == loc


def test_an_annotation_of_another_room_is_not_a_parent(owner: Member) -> None:
    first, second = open_room(owner), open_room(owner)
    note = owner.post(f"/v1/rooms/{first['id']}/annotations", json={"body": "x"}).json()
    response = owner.post(
        f"/v1/rooms/{second['id']}/annotations", json={"body": "y", "parent_id": note["id"]}
    )
    assert response.status_code == 422
    assert owner.get(f"/v1/rooms/{second['id']}/annotations/{note['id']}").status_code == 404


def test_eight_d_ownership_sign_off_and_reopening(owner: Member, compressor: Member, motor: Member) -> None:
    room = open_room(owner, {compressor: "contributor", motor: "observer"})
    rid = room["id"]
    steps = owner.get(f"/v1/rooms/{rid}/8d").json()
    assert [s["step"] for s in steps] == [f"D{n}" for n in range(1, 9)] and steps[3][
        "title"
    ] == "Root cause analysis"
    url = f"/v1/rooms/{rid}/8d/D4"
    assert compressor.put(url, json={"owner_id": str(compressor.id)}).status_code == 403  # owner assigns
    observer = owner.put(url, json={"owner_id": str(motor.id)})
    assert observer.status_code == 422 and observer.json()["fields"][0]["loc"] == "body.owner_id"
    assert owner.put(url, json={"owner_id": str(compressor.id)}).json()["owner_id"] == str(compressor.id)
    assert compressor.post(f"{url}/sign-off").status_code == 409  # nothing written yet
    wrote = compressor.put(
        url, json={"content": "winding fault", "evidence": [{"kind": "annotation", "id": str(uuid.uuid4())}]}
    )
    assert wrote.status_code == 422 and wrote.json()["fields"][0]["loc"] == "body.evidence.0.id"
    assert compressor.put(url, json={"content": "winding fault"}).json()["revision"] == 2
    assert owner.post(f"{url}/sign-off").status_code == 403  # only the step's owner organization
    signed = compressor.post(f"{url}/sign-off")
    assert signed.status_code == 200 and signed.json()["signed_off_by"] == str(compressor.id)
    assert compressor.post(f"{url}/sign-off").status_code == 409
    assert owner.put(url, json={"content": "changed"}).status_code == 409  # signed off: reopen first
    reopened = owner.post(f"{url}/reopen")
    assert reopened.status_code == 200 and reopened.json()["signed_off_at"] is None
    assert owner.put(url, json={"content": "changed"}).json()["content"] == "changed"
    assert owner.post(f"{url}/reopen").status_code == 409
    d2 = f"/v1/rooms/{rid}/8d/D2"
    assert compressor.put(d2, json={"content": "x"}).status_code == 403  # not D2's owner, not the room owner
    assert owner.put(d2, json={}).json()["fields"][0]["loc"] == "body"
    assert (
        owner.put(f"/v1/rooms/{rid}/8d/D9", json={"content": "x"}).json()["fields"][0]["loc"] == "path.step"
    )


def test_a_removed_members_open_steps_lose_their_owner(owner: Member, compressor: Member) -> None:
    room = open_room(owner, {compressor: "contributor"})
    rid = room["id"]
    for step in ("D3", "D4"):
        owner.put(f"/v1/rooms/{rid}/8d/{step}", json={"owner_id": str(compressor.id)})
        compressor.put(f"/v1/rooms/{rid}/8d/{step}", json={"content": "done"})
    compressor.post(f"/v1/rooms/{rid}/8d/D3/sign-off")
    owner.call("DELETE", f"/v1/rooms/{rid}/members/{compressor.id}")
    steps = {s["step"]: s for s in owner.get(f"/v1/rooms/{rid}/8d").json()}
    assert steps["D3"]["owner_id"] == str(compressor.id) and steps["D3"]["signed_off_at"]
    assert steps["D4"]["owner_id"] is None
