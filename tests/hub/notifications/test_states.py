"""The Catena-X state machine over HTTP: who may move a notification from where, messages, errors, isolation."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Event, QualityNotification
from hub.notifications.states import TRANSITIONS
from tests.hub.asserts import assert_error, audit_actions, audit_count, field_locs
from tests.hub.conftest import Actor
from tests.hub.notifications.chain import Chain
from tests.hub.notifications.conftest import BASE, investigation, move, moved, read, stored

PATHS = {
    "CREATED": [],
    "SENT": ["send"],
    "RECEIVED": ["send", "receive"],
    "ACKNOWLEDGED": ["send", "receive", "acknowledge"],
    "ACCEPTED": ["send", "acknowledge", "accept"],
    "DECLINED": ["send", "acknowledge", "decline"],
    "CLOSED": ["send", "close"],
    "CANCELED": ["cancel"],
}


def _actor(chain: Chain, name: str) -> Actor:
    return chain.oem if TRANSITIONS[name].party == "sender" else chain.ecu


def _reach(chain: Chain, notification_id: str, state: str) -> None:
    for name in PATHS[state]:
        moved(_actor(chain, name), notification_id, name, reason=f"reason for {name}")


def test_an_investigation_goes_the_whole_way_with_a_message_per_change(db: Session, chain: Chain) -> None:
    created = investigation(chain, severity="MAJOR", description="Field returns: ECU resets")
    assert (created["status"], created["role"], created["receiver_id"]) == (
        "CREATED",
        "sender",
        str(chain.ecu.org.id),
    )
    assert created["affected_asset_ids"] == [chain.asset("E1")]

    nid = created["id"]
    assert moved(chain.oem, nid, "send")["status"] == "SENT"
    assert moved(chain.ecu, nid, "receive")["status"] == "RECEIVED"
    assert moved(chain.ecu, nid, "acknowledge", "looking into it")["status"] == "ACKNOWLEDGED"
    accepted = moved(chain.ecu, nid, "accept", "Confirmed: solder voids on C12")
    assert (accepted["status"], accepted["role"]) == ("ACCEPTED", "receiver")
    closed = moved(chain.oem, nid, "close", "8D finished")

    assert closed["status"] == "CLOSED"
    events = [(m["event"], m["status"], m["reason"]) for m in closed["messages"]]
    assert events == [
        ("created", "CREATED", None),
        ("sent", "SENT", None),
        ("received", "RECEIVED", None),
        ("acknowledged", "ACKNOWLEDGED", "looking into it"),
        ("accepted", "ACCEPTED", "Confirmed: solder voids on C12"),
        ("closed", "CLOSED", "8D finished"),
    ]
    authors = [m["author_org_id"] for m in closed["messages"]]
    assert authors == [str(chain.oem.org.id)] * 2 + [str(chain.ecu.org.id)] * 3 + [str(chain.oem.org.id)]
    assert audit_actions(db, nid) == [
        "quality_notification.created",
        "quality_notification.sent",
        "quality_notification.received",
        "quality_notification.acknowledged",
        "quality_notification.accepted",
        "quality_notification.closed",
    ]


@pytest.mark.parametrize("state", list(PATHS))
def test_every_transition_not_allowed_from_a_state_is_refused_and_changes_nothing(
    db: Session, chain: Chain, state: str
) -> None:
    nid = investigation(chain)["id"]
    _reach(chain, nid, state)
    before = audit_count(db)

    for name, step in TRANSITIONS.items():
        if state in {s.value for s in step.sources}:
            continue
        response = move(_actor(chain, name), nid, name, reason="try")
        if state in ("CREATED", "CANCELED") and step.party == "receiver":
            # The receiver sees nothing of a draft, nor of one cancelled before it was sent.
            assert_error(response, 404, "NotFound")
        else:
            assert_error(response, 409, "Conflict", detail=f"a {state} notification cannot be")

    assert stored(db, nid).status == state
    assert audit_count(db) == before


@pytest.mark.parametrize(
    ("state", "name"),
    [(state, name) for name, step in TRANSITIONS.items() for state in sorted(s.value for s in step.sources)],
)
def test_every_allowed_transition_moves_to_its_target(
    db: Session, chain: Chain, state: str, name: str
) -> None:
    nid = investigation(chain)["id"]
    _reach(chain, nid, state)

    body = moved(_actor(chain, name), nid, name, reason="because")

    assert body["status"] == TRANSITIONS[name].target.value
    assert body["messages"][-1]["event"] == TRANSITIONS[name].event


def test_only_the_sender_closes_sends_and_cancels_and_only_the_receiver_answers(
    db: Session, chain: Chain
) -> None:
    nid = investigation(chain)["id"]
    moved(chain.oem, nid, "send")
    moved(chain.ecu, nid, "acknowledge")

    assert_error(
        move(chain.ecu, nid, "close", "done"), 403, "Forbidden", detail="only the notification's sender"
    )
    assert_error(move(chain.ecu, nid, "cancel"), 403, "Forbidden")
    assert_error(
        move(chain.oem, nid, "accept", "yes"), 403, "Forbidden", detail="only the notification's receiver"
    )
    assert_error(move(chain.oem, nid, "decline", "no"), 403, "Forbidden")
    assert stored(db, nid).status == "ACKNOWLEDGED"


def test_accept_decline_and_close_need_a_reason_of_at_most_1000_characters(db: Session, chain: Chain) -> None:
    nid = investigation(chain)["id"]
    _reach(chain, nid, "ACKNOWLEDGED")

    assert_error(chain.ecu.post(f"{BASE}/{nid}/accept"), 422, "InvalidInput")
    body = assert_error(move(chain.ecu, nid, "decline", ""), 422, "InvalidInput")
    assert field_locs(body) == ["body.reason"]
    body = assert_error(move(chain.ecu, nid, "accept", "x" * 1001), 422, "InvalidInput")
    assert field_locs(body) == ["body.reason"]
    body = assert_error(move(chain.ecu, nid, "acknowledge", "x" * 1001), 422, "InvalidInput")
    assert field_locs(body) == ["body.reason"]
    assert stored(db, nid).status == "ACKNOWLEDGED"
    assert moved(chain.ecu, nid, "accept", "x" * 1000)["messages"][-1]["reason"] == "x" * 1000


def test_the_sender_may_withdraw_until_the_receiver_acknowledges(db: Session, chain: Chain) -> None:
    early = investigation(chain)["id"]
    moved(chain.oem, early, "send")
    moved(chain.ecu, early, "receive")
    assert moved(chain.oem, early, "cancel", "sent to the wrong supplier")["status"] == "CANCELED"

    late = investigation(chain)["id"]
    _reach(chain, late, "ACKNOWLEDGED")
    assert_error(move(chain.oem, late, "cancel"), 409, "Conflict")
    assert moved(chain.oem, late, "close", "resolved by phone")["status"] == "CLOSED"


def test_a_client_chosen_id_is_kept_and_a_second_use_is_409(db: Session, chain: Chain) -> None:
    chosen = str(uuid.uuid4())
    assert investigation(chain, id=chosen)["id"] == chosen

    response = chain.oem.post(
        BASE,
        json={
            "id": chosen,
            "type": "INVESTIGATION",
            "title": "again",
            "affected_asset_ids": [chain.asset("E1")],
        },
    )
    assert_error(response, 409, "Conflict", detail=chosen)
    assert (
        len(list(db.scalars(select(QualityNotification).where(QualityNotification.id == uuid.UUID(chosen)))))
        == 1
    )


def test_affected_items_the_receiver_cannot_know_are_422_naming_the_item(db: Session, chain: Chain) -> None:
    before = audit_count(db)
    cases = [
        # an asset that does not exist
        (chain.oem, "INVESTIGATION", [chain.asset("E1"), str(uuid.uuid4())], "body.affected_asset_ids.1"),
        # a supplier lot the OEM never received nor built in (the capacitor lot sits inside the ECU)
        (chain.oem, "INVESTIGATION", [chain.asset("C1")], "body.affected_asset_ids.0"),
        # an investigation about one's own lot
        (chain.oem, "INVESTIGATION", [chain.asset("V1")], "body.affected_asset_ids.0"),
        # an alert about someone else's lot
        (chain.capacitor, "ALERT", [chain.asset("E1")], "body.affected_asset_ids.0"),
    ]
    for actor, kind, assets, loc in cases:
        response = actor.post(BASE, json={"type": kind, "title": "t", "affected_asset_ids": assets})
        assert field_locs(assert_error(response, 422, "InvalidInput")) == [loc], (kind, assets)
    assert audit_count(db) == before


def test_receivers_must_know_the_assets(db: Session, chain: Chain) -> None:
    cases = [
        ([str(chain.connector.org.id)], "body.receiver_ids.0"),  # the connector maker knows nothing of C1
        ([str(chain.capacitor.org.id)], "body.receiver_ids.0"),  # oneself
        ([str(uuid.uuid4())], "body.receiver_ids.0"),  # nobody
        ([str(chain.ecu.org.id), str(chain.ecu.org.id)], "body.receiver_ids.1"),
    ]
    for receivers, loc in cases:
        response = chain.capacitor.post(
            BASE,
            json={
                "type": "ALERT",
                "title": "t",
                "affected_asset_ids": [chain.asset("C1")],
                "receiver_ids": receivers,
            },
        )
        assert field_locs(assert_error(response, 422, "InvalidInput")) == [loc], receivers


def test_malformed_bodies_are_422_naming_the_field(db: Session, chain: Chain) -> None:
    good = {"type": "ALERT", "title": "t", "affected_asset_ids": [chain.asset("C1")]}
    cases = [
        ({**good, "type": "RECALL"}, "body.type"),
        ({**good, "severity": "SEVERE"}, "body.severity"),
        ({**good, "affected_asset_ids": []}, "body.affected_asset_ids"),
        ({**good, "description": "d" * 1001}, "body.description"),
        ({**good, "title": ""}, "body.title"),
        ({**good, "target_date": "2026-12-01T00:00:00"}, "body.target_date"),  # no time zone
        ({**good, "containment": {"kind": "pray"}}, "body.containment.kind"),
        ({**good, "surprise": 1}, "body.surprise"),
    ]
    for body, loc in cases:
        response = chain.capacitor.post(BASE, json=body)
        assert loc in field_locs(assert_error(response, 422, "InvalidInput")), (body, response.json())
    twice = chain.capacitor.post(BASE, json={**good, "affected_asset_ids": [chain.asset("C1")] * 2})
    assert "named twice" in assert_error(twice, 422, "InvalidInput")["detail"]
    containment = {**good, "type": "INVESTIGATION", "containment": {"kind": "sort"}}
    assert (
        "containment" in assert_error(chain.oem.post(BASE, json=containment), 422, "InvalidInput")["detail"]
    )
    assert_error(chain.oem.get(f"{BASE}/not-a-uuid"), 422, "InvalidInput")
    assert_error(chain.oem.get(f"{BASE}?cursor=%%%"), 422, "InvalidInput")


def test_another_organization_sees_nothing_and_moves_nothing(db: Session, chain: Chain) -> None:
    nid = investigation(chain)["id"]
    moved(chain.oem, nid, "send")

    stranger = chain.connector
    assert_error(stranger.get(f"{BASE}/{nid}"), 404, "NotFound")
    for name in TRANSITIONS:
        assert_error(move(stranger, nid, name, "x"), 404, "NotFound")
    assert stranger.get(BASE).json()["items"] == []
    assert stored(db, nid).status == "SENT"


def test_the_receiver_sees_nothing_of_a_draft(db: Session, chain: Chain) -> None:
    nid = investigation(chain)["id"]

    assert_error(chain.ecu.get(f"{BASE}/{nid}"), 404, "NotFound")
    assert chain.ecu.get(BASE).json()["items"] == []
    moved(chain.oem, nid, "send")
    assert [item["id"] for item in chain.ecu.get(BASE).json()["items"]] == [nid]


def test_scopes(db: Session, chain: Chain) -> None:
    nid = investigation(chain)["id"]
    body = {"type": "INVESTIGATION", "title": "t", "affected_asset_ids": [chain.asset("E1")]}

    assert_error(chain.oem.post(BASE, json=body, scope="alerts:read"), 403, "InsufficientScope")
    assert_error(chain.oem.post(f"{BASE}/{nid}/send", scope="alerts:read"), 403, "InsufficientScope")
    assert_error(chain.oem.get(BASE, scope="alerts:write"), 403, "InsufficientScope")
    assert_error(chain.oem.get(f"{BASE}/{nid}", scope="kpi:read"), 403, "InsufficientScope")
    assert chain.oem.get(f"{BASE}/{nid}", scope="alerts:read").status_code == 200
    assert stored(db, nid).status == "CREATED"


def test_lists_are_cursor_paginated_and_filtered(db: Session, chain: Chain) -> None:
    ids = [investigation(chain, title=f"n{i}")["id"] for i in range(3)]
    moved(chain.oem, ids[1], "send")

    first = chain.oem.get(BASE, params={"limit": 2}).json()
    second = chain.oem.get(BASE, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [item["id"] for item in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    assert first["items"][0]["messages"] == []  # a list carries summaries
    sent = chain.oem.get(BASE, params={"status": "SENT"}).json()["items"]
    assert [item["id"] for item in sent] == [ids[1]]
    assert chain.oem.get(BASE, params={"role": "receiver"}).json()["items"] == []
    assert [i["id"] for i in chain.ecu.get(BASE, params={"role": "receiver"}).json()["items"]] == [ids[1]]
    assert chain.oem.get(BASE, params={"type": "ALERT"}).json()["items"] == []


def test_every_change_reaches_both_parties_as_events_in_their_own_view(db: Session, chain: Chain) -> None:
    nid = investigation(chain)["id"]
    moved(chain.oem, nid, "send", "please check")
    moved(chain.ecu, nid, "acknowledge")

    def seen(org_id: uuid.UUID) -> list[tuple[str, str]]:
        rows = db.scalars(
            select(Event).where(Event.organization_id == org_id, Event.subject_id == nid).order_by(Event.seq)
        )
        return [(row.type, row.payload["role"]) for row in rows]

    assert seen(chain.oem.org.id) == [
        ("quality_notification.created", "sender"),
        ("quality_notification.sent", "sender"),
        ("quality_notification.acknowledged", "sender"),
    ]
    # The receiver hears nothing of the draft, then everything.
    assert seen(chain.ecu.org.id) == [
        ("quality_notification.sent", "receiver"),
        ("quality_notification.acknowledged", "receiver"),
    ]
    sent = db.scalars(
        select(Event).where(Event.organization_id == chain.ecu.org.id, Event.subject_id == nid)
    ).first()
    assert sent is not None and sent.payload["message"]["reason"] == "please check"
    assert read(chain.ecu, nid)["parent_id"] is None


def test_a_draft_cancelled_unsent_never_reaches_the_receiver(db: Session, chain: Chain) -> None:
    draft = investigation(chain)["id"]
    moved(chain.oem, draft, "cancel", "typo in the lot number")

    assert_error(chain.ecu.get(f"{BASE}/{draft}"), 404, "NotFound")
    assert chain.ecu.get(BASE).json()["items"] == []
    told = db.scalars(
        select(Event).where(Event.organization_id == chain.ecu.org.id, Event.subject_id == draft)
    )
    assert list(told) == []

    withdrawn = investigation(chain)["id"]
    sent_at = moved(chain.oem, withdrawn, "send")["sent_at"]
    moved(chain.oem, withdrawn, "cancel", "wrong supplier")
    seen = read(chain.ecu, withdrawn)
    assert (seen["status"], seen["sent_at"]) == ("CANCELED", sent_at)
