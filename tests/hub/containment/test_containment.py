"""An alert on a capacitor lot: holds on every affected position, one action per plant, acknowledged and closed by
the plant's organization, released only when the alert is closed or cancelled."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import ContainmentAction, Event, Hold, InventoryPosition, Plant
from tests.hub.asserts import assert_error, audit_actions, audit_count, field_locs
from tests.hub.conftest import Actor
from tests.hub.notifications.chain import Chain
from tests.hub.notifications.conftest import alert, create, move, moved, read

ACTIONS = "/v1/containment-actions"


def held(db: Session) -> dict[tuple[str, str], Decimal]:
    """Active holds by (plant code, location)."""
    db.expire_all()
    rows = db.execute(
        select(Plant.code, InventoryPosition.location, func.sum(Hold.quantity))
        .join(InventoryPosition, InventoryPosition.id == Hold.inventory_position_id)
        .join(Plant, Plant.id == InventoryPosition.plant_id)
        .where(Hold.released_at.is_(None))
        .group_by(Plant.code, InventoryPosition.location)
    )
    return {(code, location): Decimal(quantity) for code, location, quantity in rows}


def actions_of(actor: Actor, **params: object) -> list[dict[str, object]]:
    response = actor.get(ACTIONS, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def sent_alert(chain: Chain, **body: object) -> str:
    nid = str(alert(chain, severity="CRITICAL", **body)["id"])
    moved(chain.capacitor, nid, "send", "withstand voltage 38 V instead of 50 V")
    return nid


EXPECTED_HOLDS = {
    ("CAP-1", "A"): Decimal(200),
    ("ECU-1", "R1"): Decimal(300),
    ("ECU-1", "F1"): Decimal(50),
    ("OEM-1", "X"): Decimal(40),
    ("OEM-1", "yard"): Decimal(1),
    ("OEM-2", "Y"): Decimal(10),
}


def test_a_created_alert_holds_nothing_and_sending_holds_every_affected_position(
    db: Session, chain: Chain
) -> None:
    nid = str(alert(chain)["id"])
    assert held(db) == {}

    moved(chain.capacitor, nid, "send")

    assert held(db) == EXPECTED_HOLDS  # C2, E2 and V3 (not made from C1) stay free
    rows = db.execute(
        select(
            Plant.code,
            ContainmentAction.organization_id,
            ContainmentAction.quantity,
            ContainmentAction.positions,
        )
        .join(Plant, Plant.id == ContainmentAction.plant_id)
        .order_by(Plant.code)
    ).all()
    assert [(code, org, Decimal(q), n) for code, org, q, n in rows] == [
        ("CAP-1", chain.capacitor.org.id, Decimal(200), 1),
        ("ECU-1", chain.ecu.org.id, Decimal(350), 2),
        ("OEM-1", chain.oem.org.id, Decimal(41), 2),
        ("OEM-2", chain.oem.org.id, Decimal(10), 1),
    ]
    assert "containment.placed" in audit_actions(db, nid)
    # Ids the database made for the set-based inserts are random UUIDs like any other (version 4, RFC variant).
    ids = [*db.scalars(select(ContainmentAction.id)), *db.scalars(select(Hold.id))]
    assert len(set(ids)) == len(ids) == 4 + 6
    assert all(made.version == 4 and made.variant == uuid.RFC_4122 for made in ids)


def test_the_alert_shows_progress_as_counts_without_third_party_plants(db: Session, chain: Chain) -> None:
    nid = sent_alert(chain, containment={"kind": "sort", "due_date": "2026-12-01T12:00:00Z"})

    for actor in (chain.capacitor, chain.ecu):
        view = read(actor, nid)
        assert view["containment"] == {
            "kind": "sort",
            "due_date": "2026-12-01T12:00:00Z",
            "affected_assets": 4,  # C1, E1, V1, V2
            "plants": 4,
            "actions_open": 4,
            "actions_acknowledged": 0,
            "actions_closed": 0,
            "holds_active": 6,
            "holds_released": 0,
            "held": [{"unit": "pcs", "quantity": "601"}],
        }
        text = json.dumps(view)
        for code in ("OEM-1", "OEM-2"):
            assert str(chain.plants[code]) not in text and code not in text
        assert str(chain.oem.org.id) not in text


def test_each_plant_organization_sees_and_hears_of_only_its_own_actions(db: Session, chain: Chain) -> None:
    nid = sent_alert(chain)

    assert {a["plant_code"] for a in actions_of(chain.oem)} == {"OEM-1", "OEM-2"}
    assert [a["plant_code"] for a in actions_of(chain.ecu)] == ["ECU-1"]
    assert [a["plant_code"] for a in actions_of(chain.capacitor)] == ["CAP-1"]
    assert actions_of(chain.connector) == []
    first = actions_of(chain.oem)[0]
    assert (first["notification_id"], first["alert_title"], first["severity"]) == (
        nid,
        "Capacitor lot: low withstand voltage",
        "CRITICAL",
    )

    opened = db.scalars(select(Event).where(Event.type == "containment_action.opened")).all()
    by_org: dict[uuid.UUID, set[str]] = {}
    for event in opened:
        by_org.setdefault(event.organization_id, set()).add(event.payload["plant_code"])
    assert by_org == {
        chain.capacitor.org.id: {"CAP-1"},
        chain.ecu.org.id: {"ECU-1"},
        chain.oem.org.id: {"OEM-1", "OEM-2"},
    }


def test_one_action_lists_the_positions_it_holds(db: Session, chain: Chain) -> None:
    sent_alert(chain)
    (action,) = actions_of(chain.ecu)

    detail = chain.ecu.get(f"{ACTIONS}/{action['id']}").json()

    assert [(h["location"], h["quantity"], h["unit"]) for h in detail["holds"]] == [
        ("F1", "50", "pcs"),
        ("R1", "300", "pcs"),
    ]
    assert (detail["quantity"], detail["positions"], detail["status"]) == ("350", 2, "open")
    assert_error(chain.oem.get(f"{ACTIONS}/{action['id']}"), 404, "NotFound")


def test_the_plant_acknowledges_and_closes_and_the_sender_follows_in_counts(
    db: Session, chain: Chain
) -> None:
    nid = sent_alert(chain)
    action = next(a for a in actions_of(chain.oem) if a["plant_code"] == "OEM-2")

    acknowledged = chain.oem.post(
        f"{ACTIONS}/{action['id']}/acknowledge", json={"owner": "J. Weber, quality plant 2"}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert (acknowledged.json()["status"], acknowledged.json()["owner"]) == (
        "acknowledged",
        "J. Weber, quality plant 2",
    )
    closed = chain.oem.post(f"{ACTIONS}/{action['id']}/close", json={"result": "10 ECUs sorted, 2 rejected"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["result"]) == ("closed", "10 ECUs sorted, 2 rejected")

    progress = read(chain.capacitor, nid)["containment"]
    assert (progress["actions_open"], progress["actions_acknowledged"], progress["actions_closed"]) == (
        3,
        0,
        1,
    )
    assert progress["holds_active"] == 6  # only closing the alert releases holds
    assert audit_actions(db, action["id"]) == ["containment_action.acknowledged", "containment_action.closed"]
    told = db.scalars(
        select(Event).where(Event.organization_id == chain.capacitor.org.id, Event.subject_id == action["id"])
    ).all()
    assert [e.type for e in told] == ["containment_action.acknowledged", "containment_action.closed"]
    assert set(told[-1].payload) == {"notification_id", "progress"}
    assert "OEM-2" not in json.dumps(told[-1].payload)


def test_another_plant_acknowledging_or_closing_an_action_is_404_and_changes_nothing(
    db: Session, chain: Chain
) -> None:
    sent_alert(chain)
    action = next(a for a in actions_of(chain.oem) if a["plant_code"] == "OEM-1")
    before = audit_count(db)

    for stranger in (chain.ecu, chain.capacitor, chain.connector):
        response = stranger.post(f"{ACTIONS}/{action['id']}/acknowledge", json={"owner": "someone"})
        assert_error(response, 404, "NotFound")
        assert_error(stranger.post(f"{ACTIONS}/{action['id']}/close", json={"result": "x"}), 404, "NotFound")
    assert_error(
        chain.oem.post(f"{ACTIONS}/{uuid.uuid4()}/acknowledge", json={"owner": "x"}), 404, "NotFound"
    )

    db.expire_all()
    row = db.get(ContainmentAction, uuid.UUID(str(action["id"])))
    assert row is not None and (row.status, row.owner) == ("open", None)
    assert audit_count(db) == before


def test_action_states_are_enforced(db: Session, chain: Chain) -> None:
    sent_alert(chain)
    (action,) = actions_of(chain.ecu)
    url = f"{ACTIONS}/{action['id']}"

    assert_error(
        chain.ecu.post(f"{url}/close", json={"result": "done"}),
        409,
        "Conflict",
        detail="acknowledge it first",
    )
    assert chain.ecu.post(f"{url}/acknowledge", json={"owner": "A. Kim"}).status_code == 200
    assert_error(chain.ecu.post(f"{url}/acknowledge", json={"owner": "B"}), 409, "Conflict")
    assert chain.ecu.post(f"{url}/close", json={"result": "scrapped"}).status_code == 200
    assert_error(chain.ecu.post(f"{url}/close", json={"result": "again"}), 409, "Conflict")


def test_malformed_scopeless_and_filtered_calls(db: Session, chain: Chain) -> None:
    nid = sent_alert(chain)
    (action,) = actions_of(chain.ecu)
    url = f"{ACTIONS}/{action['id']}"

    assert field_locs(
        assert_error(chain.ecu.post(f"{url}/acknowledge", json={"owner": ""}), 422, "InvalidInput")
    ) == ["body.owner"]
    too_long = chain.ecu.post(f"{url}/close", json={"result": "r" * 1001})
    assert field_locs(assert_error(too_long, 422, "InvalidInput")) == ["body.result"]
    assert_error(chain.ecu.post(f"{ACTIONS}/nope/acknowledge", json={"owner": "x"}), 422, "InvalidInput")
    assert_error(chain.ecu.get(ACTIONS, params={"status": "done"}), 422, "InvalidInput")
    assert_error(
        chain.ecu.post(f"{url}/acknowledge", json={"owner": "x"}, scope="alerts:read"),
        403,
        "InsufficientScope",
    )
    assert_error(chain.ecu.get(ACTIONS, scope="containment:write"), 403, "InsufficientScope")
    assert actions_of(chain.ecu, status="closed") == []
    assert len(actions_of(chain.ecu, notification_id=nid)) == 1
    assert actions_of(chain.ecu, notification_id=str(uuid.uuid4())) == []


def test_actions_are_cursor_paginated(db: Session, chain: Chain) -> None:
    sent_alert(chain)
    first = chain.oem.get(ACTIONS, params={"limit": 1}).json()
    second = chain.oem.get(ACTIONS, params={"limit": 1, "cursor": first["next_cursor"]}).json()

    assert len(first["items"]) == len(second["items"]) == 1
    assert {first["items"][0]["plant_code"], second["items"][0]["plant_code"]} == {"OEM-1", "OEM-2"}
    assert second["next_cursor"] is None


def test_holds_stay_while_the_alert_is_answered_and_go_when_it_is_closed(db: Session, chain: Chain) -> None:
    nid = sent_alert(chain)
    (ecu_action,) = actions_of(chain.ecu)
    chain.ecu.post(f"{ACTIONS}/{ecu_action['id']}/acknowledge", json={"owner": "A. Kim"})
    moved(chain.ecu, nid, "acknowledge")
    moved(chain.ecu, nid, "accept", "confirmed on our line")
    assert held(db) == EXPECTED_HOLDS

    moved(chain.capacitor, nid, "close", "lot scrapped, replacement shipped")

    assert held(db) == {}
    reasons = set(db.scalars(select(Hold.release_reason).where(Hold.notification_id == uuid.UUID(nid))))
    assert reasons == {"alert closed"}
    statuses = {
        a["plant_code"]: (a["status"], a["result"]) for a in actions_of(chain.oem) + actions_of(chain.ecu)
    }
    assert statuses["ECU-1"] == ("closed", "closed with the alert: alert closed")
    assert statuses["OEM-1"][0] == "closed"
    progress = read(chain.capacitor, nid)["containment"]
    assert (progress["holds_active"], progress["holds_released"], progress["held"]) == (0, 6, [])
    assert progress["actions_closed"] == 4


def test_cancelling_a_sent_alert_releases_its_holds(db: Session, chain: Chain) -> None:
    nid = sent_alert(chain)
    assert_error(move(chain.ecu, nid, "cancel"), 403, "Forbidden")
    assert held(db) == EXPECTED_HOLDS

    moved(chain.capacitor, nid, "cancel", "wrong lot number")

    assert held(db) == {}
    assert "containment.released" in audit_actions(db, nid)


def test_two_alerts_hold_the_same_stock_independently(db: Session, chain: Chain) -> None:
    first = sent_alert(chain)
    second = sent_alert(chain)
    moved(chain.capacitor, first, "close", "done")

    assert held(db) == EXPECTED_HOLDS  # the second alert's holds remain
    assert read(chain.capacitor, second)["containment"]["holds_active"] == 6


def test_cancelling_a_draft_alert_touches_no_stock(db: Session, chain: Chain) -> None:
    nid = str(alert(chain)["id"])

    assert moved(chain.capacitor, nid, "cancel")["status"] == "CANCELED"

    assert held(db) == {}
    assert read(chain.capacitor, nid)["containment"] is None
    assert audit_actions(db, nid) == ["quality_notification.created", "quality_notification.canceled"]
    assert_error(move(chain.capacitor, nid, "send"), 409, "Conflict")


def test_an_alert_to_several_customers_contains_once_for_the_whole_case(db: Session, chain: Chain) -> None:
    # The connector maker's K1 went to the ECU maker, K2 straight to the OEM: a case with two children.
    case = create(chain.connector, type="ALERT", affected_asset_ids=[chain.asset("K1"), chain.asset("K2")])
    assert case["receiver_id"] is None and len(case["children"]) == 2
    children = {c["receiver_id"]: c["id"] for c in case["children"]}

    moved(chain.connector, case["id"], "send")

    expected = {("ECU-1", "F1"): Decimal(50), ("OEM-1", "X"): Decimal(40), ("OEM-1", "yard"): Decimal(1)}
    expected[("OEM-2", "Y")] = Decimal(10)
    assert held(db) == expected
    for receiver in (chain.ecu, chain.oem):
        progress = read(receiver, children[str(receiver.org.id)])["containment"]
        assert (progress["plants"], progress["holds_active"]) == (3, 4)
    moved(chain.connector, children[str(chain.ecu.org.id)], "close", "ECU maker sorted its stock")
    assert held(db) == expected  # closing one customer's part is not closing the alert

    moved(chain.connector, case["id"], "close", "connector lots replaced")

    assert held(db) == {}
    assert {read(chain.connector, c)["status"] for c in children.values()} == {"CLOSED"}
