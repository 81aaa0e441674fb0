"""Beyond Catena-X: one case over several suppliers, and forwarding to the next tier with the answer flowing back."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Event, QualityNotification
from hub.models.base import utcnow
from protocol.encoding import format_utc
from tests.hub.asserts import assert_error, field_locs
from tests.hub.notifications.chain import Chain
from tests.hub.notifications.conftest import BASE, create, investigation, move, moved, read


def case(chain: Chain) -> dict[str, object]:
    """The OEM investigates the ECU maker's E1 and the connector maker's K2 at once."""
    return create(
        chain.oem,
        type="INVESTIGATION",
        title="Intermittent CAN errors",
        severity="MAJOR",
        affected_asset_ids=[chain.asset("E1"), chain.asset("K2")],
    )


def children(db: Session, parent_id: object) -> dict[uuid.UUID, QualityNotification]:
    db.expire_all()
    rows = db.scalars(
        select(QualityNotification).where(QualityNotification.parent_id == uuid.UUID(str(parent_id)))
    )
    return {row.receiver_id: row for row in rows if row.receiver_id is not None}


def test_several_suppliers_make_a_case_with_one_child_each(db: Session, chain: Chain) -> None:
    parent = case(chain)

    assert parent["receiver_id"] is None
    kids = children(db, parent["id"])
    assert set(kids) == {chain.ecu.org.id, chain.connector.org.id}
    ecu_child = read(chain.oem, str(kids[chain.ecu.org.id].id))
    assert ecu_child["affected_asset_ids"] == [chain.asset("E1")]  # each supplier hears of its own lots only
    assert ecu_child["parent_id"] == parent["id"]
    assert read(chain.oem, str(kids[chain.connector.org.id].id))["affected_asset_ids"] == [chain.asset("K2")]
    assert sorted(parent["affected_asset_ids"]) == sorted([chain.asset("E1"), chain.asset("K2")])
    assert [(c["receiver_id"], c["status"]) for c in parent["children"]] == [
        (str(row.receiver_id), "CREATED") for row in sorted(kids.values(), key=lambda row: row.id)
    ]


def test_the_case_is_sent_and_closed_as_one_and_answered_per_supplier(db: Session, chain: Chain) -> None:
    parent = case(chain)
    pid = str(parent["id"])
    kids = children(db, pid)
    ecu_child, con_child = str(kids[chain.ecu.org.id].id), str(kids[chain.connector.org.id].id)

    sent = moved(chain.oem, pid, "send", "please check your lots")
    assert sent["status"] == "SENT"
    assert {c["status"] for c in sent["children"]} == {"SENT"}

    # A receiver sees its child, not the case, nor the other supplier.
    mine = read(chain.ecu, ecu_child)
    assert mine["parent_id"] is None and str(chain.connector.org.id) not in json.dumps(mine)
    assert_error(chain.ecu.get(f"{BASE}/{pid}"), 404, "NotFound")
    assert_error(chain.ecu.get(f"{BASE}/{con_child}"), 404, "NotFound")
    assert [i["id"] for i in chain.ecu.get(BASE).json()["items"]] == [ecu_child]

    moved(chain.ecu, ecu_child, "acknowledge")
    moved(chain.ecu, ecu_child, "accept", "reflow profile drifted on line 3")
    moved(chain.connector, con_child, "acknowledge")
    moved(chain.connector, con_child, "decline", "crimp heights within spec")

    progress = {c["receiver_id"]: c["status"] for c in read(chain.oem, pid)["children"]}
    assert progress == {str(chain.ecu.org.id): "ACCEPTED", str(chain.connector.org.id): "DECLINED"}
    assert_error(move(chain.oem, pid, "accept", "x"), 403, "Forbidden")

    closed = moved(chain.oem, pid, "close", "root cause at the ECU maker")
    assert closed["status"] == "CLOSED"
    assert {c["status"] for c in closed["children"]} == {"CLOSED"}
    assert read(chain.ecu, ecu_child)["messages"][-1]["reason"] == "root cause at the ECU maker"


def test_a_case_is_not_cancelled_once_a_supplier_works_on_it(db: Session, chain: Chain) -> None:
    parent = case(chain)
    pid = str(parent["id"])
    kids = children(db, pid)
    moved(chain.oem, pid, "send")
    moved(chain.ecu, str(kids[chain.ecu.org.id].id), "acknowledge")

    assert_error(move(chain.oem, pid, "cancel"), 409, "Conflict", detail="close the case instead")
    assert {row.status for row in children(db, pid).values()} == {"ACKNOWLEDGED", "SENT"}

    other = case(chain)
    moved(chain.oem, str(other["id"]), "send")
    assert moved(chain.oem, str(other["id"]), "cancel")["status"] == "CANCELED"
    assert {row.status for row in children(db, other["id"]).values()} == {"CANCELED"}


def test_receivers_may_be_named_and_must_cover_every_suspected_lot(db: Session, chain: Chain) -> None:
    body = {
        "type": "INVESTIGATION",
        "title": "t",
        "affected_asset_ids": [chain.asset("E1"), chain.asset("K2")],
        "receiver_ids": [str(chain.ecu.org.id)],
    }
    response = chain.oem.post(BASE, json=body)
    assert field_locs(assert_error(response, 422, "InvalidInput")) == ["body.receiver_ids"]

    body["receiver_ids"] = [str(chain.connector.org.id), str(chain.ecu.org.id)]
    created = chain.oem.post(BASE, json=body)
    assert created.status_code == 201, created.text
    assert set(children(db, created.json()["id"])) == {chain.ecu.org.id, chain.connector.org.id}


# --- forwarding ---------------------------------------------------------------------------------------------


# A target date a few days ahead of the clock, to the second (never a fixed day, which would pass).
TARGET = format_utc((utcnow() + timedelta(days=3)).replace(microsecond=0))


def forwarded_chain(chain: Chain) -> tuple[str, str]:
    """The OEM investigates E1; the ECU maker forwards it to the capacitor maker about C1."""
    original = investigation(chain, severity="MAJOR", target_date=TARGET)["id"]
    moved(chain.oem, original, "send")
    moved(chain.ecu, original, "receive")
    response = chain.ecu.post(
        f"{BASE}/{original}/forward",
        json={"affected_asset_ids": [chain.asset("C1")], "reason": "suspect the capacitors in E1"},
    )
    assert response.status_code == 201, response.text
    return str(original), str(response.json()["id"])


def test_the_receiver_forwards_to_its_own_supplier_who_sees_a_new_investigation(
    db: Session, chain: Chain
) -> None:
    original, forwarded = forwarded_chain(chain)

    as_forwarder = read(chain.ecu, forwarded)
    assert (as_forwarder["status"], as_forwarder["role"], as_forwarder["forwarded_from_id"]) == (
        "SENT",
        "sender",
        original,
    )
    assert (as_forwarder["title"], as_forwarder["severity"], as_forwarder["target_date"]) == (
        "Capacitor lot: low withstand voltage",
        "MAJOR",
        TARGET,
    )
    as_supplier = read(chain.capacitor, forwarded)
    assert (as_supplier["receiver_id"], as_supplier["forwarded_from_id"]) == (
        str(chain.capacitor.org.id),
        None,
    )
    assert_error(chain.capacitor.get(f"{BASE}/{original}"), 404, "NotFound")
    # The original's sender learns that it was forwarded, not to whom.
    as_oem = read(chain.oem, original)
    assert as_oem["messages"][-1]["event"] == "forwarded"
    assert as_oem["messages"][-1]["reason"] == "suspect the capacitors in E1"
    assert_error(chain.oem.get(f"{BASE}/{forwarded}"), 404, "NotFound")


def test_the_next_tiers_answer_flows_back_into_the_original(db: Session, chain: Chain) -> None:
    original, forwarded = forwarded_chain(chain)
    moved(chain.capacitor, forwarded, "acknowledge")
    moved(chain.capacitor, forwarded, "accept", "dielectric film 20 % too thin in lot C1")

    answer = read(chain.oem, original)["messages"][-1]
    assert answer["event"] == "answered"
    assert answer["status"] == "RECEIVED"  # the original's own state is the ECU maker's to move
    assert "accepted" in answer["reason"] and "dielectric film 20 % too thin" in answer["reason"]
    assert answer["author_org_id"] == str(chain.ecu.org.id)
    assert str(chain.capacitor.org.id) not in json.dumps(read(chain.oem, original))
    told = db.scalars(
        select(Event).where(Event.type == "quality_notification.answered", Event.subject_id == original)
    ).all()
    assert {event.organization_id for event in told} == {chain.oem.org.id, chain.ecu.org.id}

    # The ECU maker now answers the OEM itself.
    moved(chain.ecu, original, "acknowledge")
    assert moved(chain.ecu, original, "accept", "capacitor supplier confirmed")["status"] == "ACCEPTED"


def test_a_decline_flows_back_too(db: Session, chain: Chain) -> None:
    original, forwarded = forwarded_chain(chain)
    moved(chain.capacitor, forwarded, "acknowledge")
    moved(chain.capacitor, forwarded, "decline", "lot C1 passed 100 % hipot test")

    reason = read(chain.oem, original)["messages"][-1]["reason"]
    assert reason.startswith("The next tier declined") and "hipot" in reason


def test_what_may_not_be_forwarded(db: Session, chain: Chain) -> None:
    original = investigation(chain)["id"]
    body = {"affected_asset_ids": [chain.asset("C1")]}
    assert_error(chain.ecu.post(f"{BASE}/{original}/forward", json=body), 404, "NotFound")  # still a draft
    moved(chain.oem, original, "send")

    assert_error(chain.oem.post(f"{BASE}/{original}/forward", json=body), 403, "Forbidden")
    own = chain.ecu.post(f"{BASE}/{original}/forward", json={"affected_asset_ids": [chain.asset("E2")]})
    assert field_locs(assert_error(own, 422, "InvalidInput")) == ["body.affected_asset_ids.0"]
    assert_error(chain.ecu.post(f"{BASE}/{original}/forward", json={}), 422, "InvalidInput")
    assert_error(
        chain.ecu.post(f"{BASE}/{original}/forward", json=body, scope="alerts:read"), 403, "InsufficientScope"
    )

    an_alert = create(chain.capacitor, type="ALERT", affected_asset_ids=[chain.asset("C1")])["id"]
    moved(chain.capacitor, an_alert, "send")
    response = chain.ecu.post(f"{BASE}/{an_alert}/forward", json={"affected_asset_ids": [chain.asset("K1")]})
    assert_error(response, 409, "Conflict", detail="only an investigation")

    moved(chain.ecu, original, "acknowledge")
    moved(chain.ecu, original, "decline", "not us")
    assert_error(chain.ecu.post(f"{BASE}/{original}/forward", json=body), 409, "Conflict")
    db.expire_all()
    forwarded = db.scalars(
        select(QualityNotification).where(QualityNotification.forwarded_from_id.is_not(None))
    )
    assert list(forwarded) == []


def test_a_nul_character_in_a_notification_is_422_naming_the_field(chain: Chain) -> None:
    body = {"type": "INVESTIGATION", "title": "bad\x00ECU", "affected_asset_ids": [chain.asset("E1")]}
    response = chain.oem.post("/v1/quality-notifications", json=body)
    assert response.status_code == 422, response.text
    assert [f["loc"] for f in response.json()["fields"]] == ["body.title"]
