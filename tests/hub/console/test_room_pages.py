"""The console's rooms over rooms made through the API: the list, a room's page (members, datasets' metadata
with the SDK command that opens them, annotations, the 8D board, the signed summary), and what a non-member,
a viewer and malformed input get (the 404 page, the 403 page, a message next to the form)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from protocol.models.common import OrgKind
from tests.hub.console.conftest import signed_in_client
from tests.hub.rooms.conftest import Member, make_member, open_room, upload


@pytest.fixture
def other(app: FastAPI) -> Iterator[TestClient]:
    """A second browser (its own cookies) on the same in-process hub."""
    with TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) as second:
        yield second


@pytest.fixture
def owner(db: Session, client: TestClient) -> Member:
    return make_member(db, client, OrgKind.OEM)


@pytest.fixture
def compressor(db: Session, client: TestClient) -> Member:
    return make_member(db, client, OrgKind.SUPPLIER)


@pytest.fixture
def room(owner: Member, compressor: Member) -> dict[str, Any]:
    made = open_room(owner, {compressor: "contributor"})
    upload(owner, made["id"], [owner, compressor])
    assigned = owner.put(
        f"/v1/rooms/{made['id']}/8d/D4", json={"owner_id": str(compressor.id), "content": "Preload too high"}
    )
    assert assigned.status_code == 200, assigned.text
    return made


def test_the_room_page_shows_members_datasets_with_the_sdk_command_and_the_board(
    client: TestClient, db: Session, owner: Member, compressor: Member, room: dict[str, Any]
) -> None:
    signed_in_client(client, db, compressor.actor.org)
    listing = client.get("/console/rooms")
    assert listing.status_code == 200 and room["title"] in listing.text
    assert room["title"] in client.get("/console/rooms.csv").text

    page = client.get(f"/console/rooms/{room['id']}")
    assert page.status_code == 200, page.text
    text = page.text
    assert owner.actor.org.name in text and compressor.actor.org.name in text
    assert "bench-log.csv" in text and "the hub stores ciphertext it cannot read" in text
    assert re.search(rf"supplier-sdk room download {room['id']} [0-9a-f-]{{36}} bench-log.csv", text)
    # D4 belongs to the compressor supplier and has content: it may sign it off; the others it may not.
    assert text.count(">Sign off ") == 1 and ">Sign off D4<" in text
    assert "style=" not in text


def test_a_member_signs_off_its_step_and_the_board_says_so(
    client: TestClient, db: Session, compressor: Member, room: dict[str, Any]
) -> None:
    _, csrf = signed_in_client(client, db, compressor.actor.org)
    done = client.post(
        f"/console/rooms/{room['id']}/8d/D4/sign-off", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].endswith("#D4")
    steps = {s["step"]: s for s in compressor.get(f"/v1/rooms/{room['id']}/8d").json()}
    assert steps["D4"]["signed_off_by"] == str(compressor.id)
    page = client.get(f"/console/rooms/{room['id']}").text
    assert "<strong>signed off</strong>" in page and ">Reopen D4<" in page and ">Sign off D4<" not in page

    again = client.post(f"/console/rooms/{room['id']}/8d/D4/sign-off", data={"csrf_token": csrf})
    assert again.status_code == 409 and "D4 is signed off already" in again.text  # next to the step


def test_the_room_owner_may_not_sign_off_a_step_it_does_not_own(
    client: TestClient, db: Session, owner: Member, room: dict[str, Any]
) -> None:
    _, csrf = signed_in_client(client, db, owner.actor.org)
    refused = client.post(f"/console/rooms/{room['id']}/8d/D4/sign-off", data={"csrf_token": csrf})
    assert refused.status_code == 403 and "only D4&#39;s owner organization signs it off" in refused.text
    assert owner.get(f"/v1/rooms/{room['id']}/8d").json()[3]["signed_off_at"] is None


def test_a_viewer_cannot_sign_off_and_sees_no_button(
    client: TestClient, db: Session, compressor: Member, room: dict[str, Any]
) -> None:
    _, csrf = signed_in_client(client, db, compressor.actor.org, role="viewer")
    page = client.get(f"/console/rooms/{room['id']}").text
    assert ">Sign off D4<" not in page and "Add annotation" not in page
    refused = client.post(f"/console/rooms/{room['id']}/8d/D4/sign-off", data={"csrf_token": csrf})
    assert refused.status_code == 403 and "rooms:write" in refused.text
    assert compressor.get(f"/v1/rooms/{room['id']}/8d").json()[3]["signed_off_at"] is None


def test_a_non_member_sees_the_404_page(
    client: TestClient, db: Session, room: dict[str, Any], compressor: Member
) -> None:
    outsider = make_member(db, client, OrgKind.SUPPLIER)
    _, csrf = signed_in_client(client, db, outsider.actor.org)
    page = client.get(f"/console/rooms/{room['id']}")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text and room["title"] not in page.text
    assert room["title"] not in client.get("/console/rooms").text
    posted = client.post(f"/console/rooms/{room['id']}/8d/D4/sign-off", data={"csrf_token": csrf})
    assert posted.status_code == 404
    note = client.post(f"/console/rooms/{room['id']}/annotations", data={"csrf_token": csrf, "body": "x"})
    assert note.status_code == 404
    assert client.get("/console/rooms/not-a-room").status_code == 404
    assert client.get(f"/console/rooms/{room['id']}/8d/D9/sign-off").status_code == 404


def test_an_annotation_is_added_and_a_malformed_one_is_a_message_next_to_the_form(
    client: TestClient, db: Session, compressor: Member, room: dict[str, Any]
) -> None:
    _, csrf = signed_in_client(client, db, compressor.actor.org)
    url = f"/console/rooms/{room['id']}/annotations"
    added = client.post(
        url, data={"csrf_token": csrf, "body": "Noise at 41 °C", "tag": "hypothesis"}, follow_redirects=False
    )
    assert added.status_code == 303
    assert [a["body"] for a in compressor.get(f"/v1/rooms/{room['id']}/annotations").json()["items"]] == [
        "Noise at 41 °C"
    ]
    empty = client.post(url, data={"csrf_token": csrf, "body": "  ", "tag": "hypothesis"})
    assert empty.status_code == 422 and 'id="annotation-error"' in empty.text and "body:" in empty.text
    bad_tag = client.post(url, data={"csrf_token": csrf, "body": "x", "tag": "gossip"})
    assert bad_tag.status_code == 422 and "tag:" in bad_tag.text
    too_long = client.post(url, data={"csrf_token": csrf, "body": "x" * 20001})
    assert too_long.status_code == 422
    assert len(compressor.get(f"/v1/rooms/{room['id']}/annotations").json()["items"]) == 1


def test_the_owner_assigns_and_writes_a_step_and_a_wrong_owner_is_a_message(
    client: TestClient, db: Session, owner: Member, compressor: Member, room: dict[str, Any]
) -> None:
    _, csrf = signed_in_client(client, db, owner.actor.org)
    url = f"/console/rooms/{room['id']}/8d/D2"
    saved = client.post(
        url,
        data={"csrf_token": csrf, "owner_id": str(compressor.id), "content": "Noise above 41 °C"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    d2 = owner.get(f"/v1/rooms/{room['id']}/8d").json()[1]
    assert d2["owner_id"] == str(compressor.id) and d2["content"] == "Noise above 41 °C"
    wrong = client.post(url, data={"csrf_token": csrf, "owner_id": "not-an-id"})
    assert wrong.status_code == 422 and "owner_id" in wrong.text


def test_a_closed_room_shows_its_signed_summary(
    client: TestClient, db: Session, owner: Member, compressor: Member, room: dict[str, Any]
) -> None:
    assert compressor.post(f"/v1/rooms/{room['id']}/8d/D4/sign-off").status_code == 200
    closed = owner.post(f"/v1/rooms/{room['id']}/close", json={"note": "Preload fixed"})
    assert closed.status_code == 200, closed.text
    signed_in_client(client, db, compressor.actor.org)
    page = client.get(f"/console/rooms/{room['id']}").text
    assert "Signed closing summary" in page and "Preload fixed" in page and "Preload too high" in page
    assert f"supplier-sdk room export {room['id']}" in page
    assert ">Sign off" not in page and ">Reopen" not in page and "Add annotation" not in page
