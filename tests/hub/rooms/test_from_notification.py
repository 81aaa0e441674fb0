"""A room opened from a quality notification: only a party to that notification may name it."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.hub.asserts import assert_error
from tests.hub.conftest import Actor
from tests.hub.notifications.chain import build_chain
from tests.hub.notifications.conftest import alert, moved
from tests.hub.rooms.conftest import in_days


def _open(actor: Actor, notification_id: str) -> Any:
    body = {"title": "Low withstand voltage", "expires_at": in_days(14), "notification_id": notification_id}
    return actor.post("/v1/rooms", json=body)


def test_the_receiver_of_a_sent_alert_opens_a_room_from_it(db: Session, client: TestClient) -> None:
    chain = build_chain(db, client)
    notification = alert(chain)
    moved(chain.capacitor, notification["id"], "send")

    response = _open(chain.ecu, notification["id"])

    assert response.status_code == 201, response.text
    assert response.json()["notification_id"] == notification["id"]


def test_a_notification_the_opener_is_no_party_to_is_an_unknown_reference(
    db: Session, client: TestClient
) -> None:
    chain = build_chain(db, client)
    notification = alert(chain)
    # Still a draft: the receiver has not been sent it, so to the receiver it does not exist yet.
    assert_error(_open(chain.ecu, notification["id"]), 422, "InvalidInput", detail="notification")
    moved(chain.capacitor, notification["id"], "send")
    # The OEM is neither sender nor receiver of the capacitor maker's alert to the ECU maker.
    body = assert_error(_open(chain.oem, notification["id"]), 422, "InvalidInput")
    unknown = assert_error(_open(chain.oem, str(uuid.uuid4())), 422, "InvalidInput")
    assert body["fields"][0]["loc"] == unknown["fields"][0]["loc"] == "body.notification_id"
    assert body["detail"] == unknown["detail"]
