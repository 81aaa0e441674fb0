"""Encrypted datasets on the hub: what it checks at announcement, at upload and at re-wrap, and that content
streams both ways in rows."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import RoomDataset, RoomDatasetChunk
from hub.rooms.storage import ROW_BYTES
from protocol.models.common import OrgKind
from tests.hub.conftest import make_actor
from tests.hub.rooms.conftest import Member, dataset_body, open_room, upload, wrapped_for


def _chunk_rows(db: Session, dataset_id: str) -> int:
    count = db.scalar(
        select(func.count())
        .select_from(RoomDatasetChunk)
        .where(RoomDatasetChunk.dataset_id == uuid.UUID(dataset_id))
    )
    return int(count or 0)


def test_content_is_stored_in_rows_and_streams_back(owner: Member, compressor: Member, db: Session) -> None:
    room = open_room(owner, {compressor: "contributor"})
    ciphertext = os.urandom(2 * ROW_BYTES + 12345)  # over the generic 1 MiB body limit, which must not apply
    body = dataset_body(compressor, room["id"], [owner, compressor], ciphertext)
    assert compressor.post(f"/v1/rooms/{room['id']}/datasets", json=body).status_code == 201

    def pieces() -> Iterator[bytes]:  # no Content-Length: a chunked upload
        for start in range(0, len(ciphertext), 100_000):
            yield ciphertext[start : start + 100_000]

    url = f"/v1/rooms/{room['id']}/datasets/{body['id']}/content"
    stored = compressor.put(url, content=pieces())
    assert stored.status_code == 200, stored.text
    assert stored.json()["status"] == "available"
    assert _chunk_rows(db, body["id"]) == 3
    downloaded = owner.get(url)
    assert downloaded.status_code == 200
    assert downloaded.content == ciphertext
    assert downloaded.headers["x-ciphertext-sha256"] == hashlib.sha256(ciphertext).hexdigest()
    assert int(downloaded.headers["content-length"]) == len(ciphertext)


@pytest.mark.parametrize(
    ("sent", "loc"),
    [
        (lambda c: c[:-1], "body"),  # short
        (lambda c: c + b"!", "body"),  # long
        (lambda c: bytes([c[0] ^ 1]) + c[1:], "body"),  # same size, other bytes
    ],
)
def test_content_that_is_not_what_was_announced_is_422_and_nothing_is_kept(
    owner: Member, compressor: Member, db: Session, sent: object, loc: str
) -> None:
    room = open_room(owner, {compressor: "contributor"})
    ciphertext = os.urandom(ROW_BYTES + 10)
    body = dataset_body(compressor, room["id"], [owner, compressor], ciphertext)
    assert compressor.post(f"/v1/rooms/{room['id']}/datasets", json=body).status_code == 201
    url = f"/v1/rooms/{room['id']}/datasets/{body['id']}/content"
    content = sent(ciphertext)  # type: ignore[operator]

    def stream() -> Iterator[bytes]:
        yield content

    response = compressor.put(url, content=stream())
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ContentMismatch"
    assert response.json()["fields"][0]["loc"] == loc
    assert _chunk_rows(db, body["id"]) == 0
    assert db.get(RoomDataset, uuid.UUID(body["id"])).status == "awaiting_content"  # type: ignore[union-attr]
    # The right content is still accepted afterwards.
    assert compressor.put(url, content=ciphertext).status_code == 200


def test_a_declared_length_that_differs_is_refused_before_reading(owner: Member, compressor: Member) -> None:
    room = open_room(owner, {compressor: "contributor"})
    body = dataset_body(compressor, room["id"], [owner, compressor], b"z" * 2000)
    compressor.post(f"/v1/rooms/{room['id']}/datasets", json=body)
    response = compressor.put(f"/v1/rooms/{room['id']}/datasets/{body['id']}/content", content=b"z" * 1999)
    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == "header.content-length"


def test_only_the_uploader_uploads_and_only_once(owner: Member, compressor: Member) -> None:
    room = open_room(owner, {compressor: "contributor"})
    ciphertext = os.urandom(100)
    body = dataset_body(compressor, room["id"], [owner, compressor], ciphertext)
    compressor.post(f"/v1/rooms/{room['id']}/datasets", json=body)
    url = f"/v1/rooms/{room['id']}/datasets/{body['id']}/content"
    assert owner.get(url).status_code == 409  # nothing uploaded yet
    assert owner.put(url, content=ciphertext).status_code == 403
    assert compressor.put(url, content=ciphertext).status_code == 200
    assert compressor.put(url, content=ciphertext).status_code == 409


def test_a_dataset_id_is_taken_once(owner: Member, compressor: Member) -> None:
    room = open_room(owner, {compressor: "contributor"})
    body = dataset_body(compressor, room["id"], [owner, compressor], b"a" * 64)
    assert compressor.post(f"/v1/rooms/{room['id']}/datasets", json=body).status_code == 201
    again = compressor.post(f"/v1/rooms/{room['id']}/datasets", json=body)
    assert again.status_code == 409 and body["id"] in again.json()["detail"]


def test_a_dataset_over_the_hub_limit_is_413(owner: Member, compressor: Member) -> None:
    room = open_room(owner, {compressor: "contributor"})
    body = dataset_body(compressor, room["id"], [owner, compressor], b"a" * 64)
    body["ciphertext_size"] = 2**45
    assert compressor.post(f"/v1/rooms/{room['id']}/datasets", json=body).status_code == 413


def test_manifest_checks(owner: Member, compressor: Member, motor: Member) -> None:
    room = open_room(owner, {compressor: "contributor", motor: "contributor"})
    rid = room["id"]
    members = [owner, compressor, motor]
    url = f"/v1/rooms/{rid}/datasets"

    def refused(body: dict[str, object]) -> tuple[str, str]:
        response = compressor.post(url, json=body)
        assert response.status_code == 422, response.text
        return response.json()["error"], response.json()["fields"][0]["loc"]

    forged = dataset_body(compressor, rid, members, b"c" * 80, signing_key=Ed25519PrivateKey.generate())
    assert refused(forged) == ("InvalidManifest", "body.manifest_signature.signature")
    renamed = dataset_body(compressor, rid, members, b"c" * 80, manifest_changes={"name": "other.csv"})
    assert refused(renamed) == ("InvalidManifest", "body.manifest_signature.payload.name")
    other_room = dataset_body(compressor, str(uuid.uuid4()), members, b"c" * 80)
    assert refused(other_room) == ("InvalidManifest", "body.manifest_signature.payload.room_id")
    borrowed = dataset_body(motor, rid, members, b"c" * 80)  # motor's key, compressor's request
    assert refused(borrowed) == ("InvalidManifest", "body.manifest_signature.key_id")
    tampered = dataset_body(compressor, rid, members, b"c" * 80)
    tampered["manifest_signature"]["payload"]["plaintext_size"] += 1  # type: ignore[index]
    tampered["plaintext_size"] += 1  # type: ignore[operator]
    assert refused(tampered) == ("InvalidManifest", "body.manifest_signature.signature")
    wrong_type = dataset_body(compressor, rid, members, b"c" * 80)
    wrong_type["manifest_signature"]["type"] = "kpi-report"  # type: ignore[index]
    assert refused(wrong_type) == ("InvalidManifest", "body.manifest_signature.type")


def test_every_accepted_member_needs_a_key_to_its_active_x25519_key(
    owner: Member, compressor: Member, motor: Member
) -> None:
    room = open_room(owner, {compressor: "contributor", motor: "contributor"})
    rid = room["id"]
    missing = compressor.post(
        f"/v1/rooms/{rid}/datasets", json=dataset_body(compressor, rid, [owner, compressor], b"d" * 50)
    )
    assert missing.status_code == 422 and missing.json()["error"] == "MissingWrappedKey"
    assert str(motor.id) in missing.json()["detail"] and motor.actor.org.name in missing.json()["detail"]
    keys = [wrapped_for(m) for m in (owner, compressor, motor)]
    keys[2]["recipient_key_id"] = compressor.enc_key_id
    body = dataset_body(compressor, rid, [], b"d" * 50, wrapped_keys=keys)
    unknown = compressor.post(f"/v1/rooms/{rid}/datasets", json=body)
    assert unknown.status_code == 422 and unknown.json()["error"] == "UnknownRecipientKey"
    assert unknown.json()["fields"][0]["loc"] == "body.wrapped_keys.2.recipient_key_id"
    assert motor.actor.org.name in unknown.json()["detail"]
    body = dataset_body(compressor, rid, [owner, compressor, motor], b"d" * 50)
    body["wrapped_keys"][0]["ephemeral_public_key"] = "AAAA"  # type: ignore[index]
    malformed = compressor.post(f"/v1/rooms/{rid}/datasets", json=body)
    assert malformed.status_code == 422
    assert malformed.json()["fields"][0]["loc"] == "body.wrapped_keys.0.ephemeral_public_key"


def test_a_late_joiner_gets_a_key_rewrapped_by_a_member(
    owner: Member, compressor: Member, motor: Member
) -> None:
    room = open_room(owner, {compressor: "contributor"})
    rid = room["id"]
    dataset = upload(compressor, rid, [owner, compressor])
    owner.post(f"/v1/rooms/{rid}/members", json={"organization_id": str(motor.id)})
    motor.post(f"/v1/rooms/{rid}/accept")
    seen = motor.get(f"/v1/rooms/{rid}/datasets/{dataset['id']}").json()
    assert seen["wrapped_key"] is None and seen["missing_keys"] == [str(motor.id)]
    url = f"/v1/rooms/{rid}/datasets/{dataset['id']}/wrapped-keys"
    # Motor holds no key, so it cannot wrap one (for itself or anyone).
    assert motor.post(url, json={"wrapped_keys": [wrapped_for(motor)]}).status_code == 403
    added = compressor.post(url, json={"wrapped_keys": [wrapped_for(motor)]})
    assert added.status_code == 200, added.text
    assert added.json()["missing_keys"] == []
    mine = motor.get(f"/v1/rooms/{rid}/datasets").json()["items"][0]["wrapped_key"]
    assert mine["organization_id"] == str(motor.id) and mine["recipient_key_id"] == motor.enc_key_id
    assert compressor.post(url, json={"wrapped_keys": [wrapped_for(motor)]}).status_code == 409


def test_only_the_content_route_escapes_the_generic_body_limit(owner: Member, compressor: Member) -> None:
    room = open_room(owner, {compressor: "contributor"})
    big = os.urandom(2 * ROW_BYTES)  # twice HUB_MAX_BODY_BYTES
    body = dataset_body(compressor, room["id"], [owner, compressor], big)
    compressor.post(f"/v1/rooms/{room['id']}/datasets", json=body)
    stored = compressor.put(f"/v1/rooms/{room['id']}/datasets/{body['id']}/content", content=big)
    assert stored.status_code == 200, stored.text
    too_large = compressor.put(f"/v1/rooms/{room['id']}/members/{compressor.id}/people", content=big)
    assert too_large.status_code == 413


def test_a_member_without_an_x25519_key_does_not_block_an_upload(
    owner: Member, compressor: Member, db: Session, client: TestClient
) -> None:
    keyless = make_actor(db, client, OrgKind.SUPPLIER)
    room = open_room(owner, {compressor: "contributor"})
    owner.post(f"/v1/rooms/{room['id']}/members", json={"organization_id": str(keyless.org.id)})
    keyless.post(f"/v1/rooms/{room['id']}/accept")
    members = {m["organization_id"]: m for m in owner.get(f"/v1/rooms/{room['id']}/members").json()["items"]}
    assert members[str(keyless.org.id)]["encryption_key"] is None
    dataset = upload(compressor, room["id"], [owner, compressor])
    assert dataset["missing_keys"] == [str(keyless.org.id)]
