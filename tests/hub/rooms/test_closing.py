"""Closing: owner only, shredding per policy, a summary signed by the hub, read-only afterwards; expiry."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.config import Settings
from hub.models import Room, RoomDataset, RoomDatasetChunk, RoomWrappedKey
from hub.rooms.expiry import expire
from protocol.encoding import b64url_decode
from protocol.errors import SignatureInvalid
from protocol.models.rooms import ROOM_SUMMARY_TYPE
from protocol.signing import SignedEnvelope, verify_envelope
from tests.hub.rooms.conftest import Member, open_room, upload


def _rows(db: Session, model: type, dataset_ids: list[uuid.UUID]) -> int:
    column = model.dataset_id  # type: ignore[attr-defined]
    return int(db.scalar(select(func.count()).select_from(model).where(column.in_(dataset_ids))) or 0)


def _hub_key(member: Member, kid: str) -> bytes:
    keys = member.actor.http.get("/.well-known/jwks.json").json()["keys"]
    return b64url_decode(next(k for k in keys if k["kid"] == kid)["x"])


def test_closing_with_deletion_leaves_no_ciphertext_and_no_wrapped_key(
    owner: Member, compressor: Member, db: Session
) -> None:
    room = open_room(owner, {compressor: "contributor"})
    rid = room["id"]
    ids = [
        uuid.UUID(upload(compressor, rid, [owner, compressor], os.urandom(1_500_000))["id"]) for _ in range(2)
    ]
    assert _rows(db, RoomDatasetChunk, ids) == 4 and _rows(db, RoomWrappedKey, ids) == 4
    assert compressor.post(f"/v1/rooms/{rid}/close").status_code == 403  # the owner closes
    closed = owner.post(f"/v1/rooms/{rid}/close", json={"note": "done"})
    assert closed.status_code == 200
    db.expire_all()
    assert _rows(db, RoomDatasetChunk, ids) == 0 and _rows(db, RoomWrappedKey, ids) == 0
    for dataset_id in ids:
        dataset = db.get(RoomDataset, dataset_id)
        assert dataset is not None and dataset.status == "shredded" and dataset.shredded_at is not None
    listed = compressor.get(f"/v1/rooms/{rid}/datasets").json()["items"]
    assert {d["status"] for d in listed} == {"shredded"} and all(d["wrapped_key"] is None for d in listed)
    # A shredded dataset is gone for good: 410, named (it was a 409, as if waiting could change it).
    gone = compressor.get(f"/v1/rooms/{rid}/datasets/{ids[0]}/content")
    assert gone.status_code == 410 and gone.json()["error"] == "DatasetShredded", gone.text
    # Read-only now: every write is 409, closing again too.
    assert owner.post(f"/v1/rooms/{rid}/close").status_code == 409
    assert compressor.post(f"/v1/rooms/{rid}/annotations", json={"body": "late"}).status_code == 409
    assert owner.put(f"/v1/rooms/{rid}/8d/D1", json={"content": "late"}).status_code == 409
    assert (
        owner.post(f"/v1/rooms/{rid}/members", json={"organization_id": str(uuid.uuid4())}).status_code == 409
    )
    assert owner.get(f"/v1/rooms/{rid}/8d").status_code == 200


def test_closing_with_keep_leaves_the_data_readable(owner: Member, compressor: Member, db: Session) -> None:
    room = open_room(owner, {compressor: "contributor"}, policy="keep")
    ciphertext = os.urandom(4000)
    dataset = upload(compressor, room["id"], [owner, compressor], ciphertext)
    closed = owner.post(f"/v1/rooms/{room['id']}/close").json()
    assert closed["status"] == "closed" and closed["shredded_at"] is None
    assert owner.get(f"/v1/rooms/{room['id']}/datasets/{dataset['id']}/content").content == ciphertext
    summary = owner.get(f"/v1/rooms/{room['id']}/export").json()
    assert summary["payload"]["datasets"][0]["content"] == "kept"


def test_the_export_is_signed_by_the_hub_and_refused_before_closing(
    owner: Member, compressor: Member
) -> None:
    room = open_room(owner, {compressor: "observer"})
    rid = room["id"]
    assert compressor.get(f"/v1/rooms/{rid}/export").status_code == 409
    owner.put(f"/v1/rooms/{rid}/8d/D2", json={"content": "Noise at 41 °C"})
    owner.post(f"/v1/rooms/{rid}/close", json={"note": "closed"})
    envelope = SignedEnvelope.model_validate(compressor.get(f"/v1/rooms/{rid}/export?format=json").json())
    key = _hub_key(owner, envelope.key_id)
    verify_envelope(envelope, key, expected_type=ROOM_SUMMARY_TYPE)
    assert envelope.payload["room"]["id"] == rid and envelope.payload["note"] == "closed"
    envelope.payload["steps"][1]["content"] = "Noise at 20 °C"
    try:
        verify_envelope(envelope, key, expected_type=ROOM_SUMMARY_TYPE)
    except SignatureInvalid:
        pass
    else:
        raise AssertionError("a changed summary must not verify")
    assert compressor.get(f"/v1/rooms/{rid}/export?format=pdf").json()["fields"][0]["loc"] == "query.format"


def test_an_expired_room_closes_by_itself(
    owner: Member, compressor: Member, db: Session, settings: Settings
) -> None:
    room = open_room(owner, {compressor: "contributor"})
    rid = uuid.UUID(room["id"])
    dataset_id = uuid.UUID(upload(compressor, room["id"], [owner, compressor])["id"])
    later = datetime.now(UTC) + timedelta(days=31)
    key = settings.signing_key()
    assert expire(db, now=datetime.now(UTC), signing_key=key, key_id="k") == 0
    assert expire(db, now=later, signing_key=key, key_id="k") == 1
    db.commit()
    closed = db.get(Room, rid)
    assert closed is not None and closed.status == "closed" and closed.closed_by == "hub:rooms"
    assert _rows(db, RoomDatasetChunk, [dataset_id]) == 0
    timeline = compressor.get(f"/v1/rooms/{rid}/timeline").json()["items"]
    assert timeline[-1]["action"] == "closed" and timeline[-1]["organization_id"] is None
    assert timeline[-1]["data"]["expired"] is True
    assert expire(db, now=later, signing_key=key, key_id="k") == 0


def test_the_timeline_pages(owner: Member) -> None:
    room = open_room(owner)
    for n in range(3):
        owner.post(f"/v1/rooms/{room['id']}/annotations", json={"body": f"note {n}"})
    first = owner.get(f"/v1/rooms/{room['id']}/timeline?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = owner.get(f"/v1/rooms/{room['id']}/timeline?limit=10&cursor={first['next_cursor']}").json()
    assert [e["action"] for e in rest["items"]] == ["annotation_added", "annotation_added"]
    assert rest["next_cursor"] is None
