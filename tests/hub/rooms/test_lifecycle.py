"""A room from opening to export, through the API, as the issue's story tells it."""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Event
from protocol.models.events import EVENT_TYPES
from protocol.models.rooms import ROOM_SUMMARY_TYPE
from protocol.signing import SignedEnvelope, verify_envelope
from tests.hub.asserts import assert_error, field_locs
from tests.hub.rooms.conftest import Member, in_days, open_room, upload


def test_a_room_from_opening_to_signed_export(
    owner: Member, compressor: Member, motor: Member, db: Session
) -> None:
    room = open_room(owner, {compressor: "contributor", motor: "contributor"})
    rid = room["id"]
    assert room["status"] == "open" and room["your_role"] == "owner"
    members = owner.get(f"/v1/rooms/{rid}/members").json()["items"]
    assert [m["role"] for m in members] == ["owner", "contributor", "contributor"]
    assert all(m["accepted_at"] for m in members)
    assert members[1]["encryption_key"]["key_id"] == compressor.enc_key_id
    assert members[1]["signing_keys"][0]["key_id"] == compressor.signing_key_id

    dataset = upload(compressor, rid, [owner, compressor, motor], os.urandom(5000))
    assert dataset["status"] == "available" and dataset["wrapped_key"]["organization_id"] == str(
        compressor.id
    )

    hypothesis = motor.post(
        f"/v1/rooms/{rid}/annotations",
        json={
            "body": "bearing play",
            "tag": "hypothesis",
            "anchor": {"dataset_id": dataset["id"], "row_start": 10, "row_end": 20},
        },
    )
    assert hypothesis.status_code == 201, hypothesis.text
    for step, who in (("D1", owner), ("D4", motor)):
        put = owner.put(f"/v1/rooms/{rid}/8d/{step}", json={"owner_id": str(who.id)})
        assert put.status_code == 200, put.text
        wrote = who.put(
            f"/v1/rooms/{rid}/8d/{step}",
            json={"content": f"{step} done", "evidence": [{"kind": "dataset", "id": dataset["id"]}]},
        )
        assert wrote.status_code == 200, wrote.text
        signed = who.post(f"/v1/rooms/{rid}/8d/{step}/sign-off")
        assert signed.status_code == 200, signed.text

    closed = owner.post(f"/v1/rooms/{rid}/close", json={"note": "fixed at the motor supplier"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["shredded_at"]

    exported = motor.get(f"/v1/rooms/{rid}/export?format=json")
    assert exported.status_code == 200, exported.text
    envelope = SignedEnvelope.model_validate(exported.json())
    jwks = owner.actor.http.get("/.well-known/jwks.json").json()
    key = next(k for k in jwks["keys"] if k["kid"] == envelope.key_id)
    from protocol.encoding import b64url_decode

    verify_envelope(envelope, b64url_decode(key["x"]), expected_type=ROOM_SUMMARY_TYPE)
    steps = {s["step"]: s for s in envelope.payload["steps"]}
    assert steps["D4"]["content"] == "D4 done" and steps["D4"]["signed_off_at"]
    assert envelope.payload["datasets"][0]["content"] == "shredded"

    markdown = owner.get(f"/v1/rooms/{rid}/export?format=markdown")
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
    assert "## D4 Root cause analysis" in markdown.text and envelope.signature in markdown.text

    published = set(db.scalars(select(Event.type).where(Event.subject_id == rid)))
    assert published <= set(EVENT_TYPES) and "room.closed" in published

    timeline = compressor.get(f"/v1/rooms/{rid}/timeline").json()["items"]
    actions = [entry["action"] for entry in timeline]
    assert actions[0] == "opened" and actions[-1] == "closed"
    assert {
        "member_invited",
        "member_joined",
        "dataset_announced",
        "dataset_uploaded",
        "annotation_added",
        "step_signed_off",
    } <= set(actions)


def test_a_timeline_cursor_beyond_64_bits_is_422_naming_it(owner: Member) -> None:
    room = open_room(owner)
    response = owner.get(f"/v1/rooms/{room['id']}/timeline", params={"cursor": str(2**63)})
    body = assert_error(response, 422, "InvalidInput")
    assert field_locs(body) == ["query.cursor"]


def test_a_nul_character_in_a_room_is_422_naming_the_field(owner: Member) -> None:
    body = {"title": "noise", "description": "a\x00b", "expires_at": in_days(30)}
    body_ = assert_error(owner.post("/v1/rooms", json=body), 422, "InvalidInput")
    assert field_locs(body_) == ["body.description"]
