"""The chain fixture and small helpers that create and move notifications over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.models import QualityNotification
from tests.hub.conftest import Actor
from tests.hub.notifications.chain import Chain, build_chain

BASE = "/v1/quality-notifications"


@pytest.fixture
def chain(db: Session, client: TestClient) -> Chain:
    return build_chain(db, client)


def create(sender: Actor, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Capacitor lot: low withstand voltage")
    response = sender.post(BASE, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def alert(chain: Chain, *lots: str, **body: Any) -> dict[str, Any]:
    """An ALERT from the capacitor maker on its lots (default C1), still CREATED."""
    ids = [chain.asset(lot) for lot in lots or ("C1",)]
    return create(chain.capacitor, type="ALERT", affected_asset_ids=ids, **body)


def investigation(chain: Chain, **body: Any) -> dict[str, Any]:
    """An INVESTIGATION from the OEM about the ECU maker's lot E1, still CREATED."""
    return create(chain.oem, type="INVESTIGATION", affected_asset_ids=[chain.asset("E1")], **body)


def move(actor: Actor, notification_id: str, name: str, reason: str | None = None) -> httpx.Response:
    body = {"reason": reason} if reason is not None else None
    return actor.post(f"{BASE}/{notification_id}/{name}", json=body)


def moved(actor: Actor, notification_id: str, name: str, reason: str | None = None) -> dict[str, Any]:
    response = move(actor, notification_id, name, reason)
    assert response.status_code == 200, response.text
    return dict(response.json())


def read(actor: Actor, notification_id: str) -> dict[str, Any]:
    response = actor.get(f"{BASE}/{notification_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def stored(db: Session, notification_id: str) -> QualityNotification:
    """The notification's row as the database holds it now (the session's cached copy expired first)."""
    db.expire_all()
    row = db.get(QualityNotification, uuid.UUID(notification_id))
    assert row is not None
    return row
