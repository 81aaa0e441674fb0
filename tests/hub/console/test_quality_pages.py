"""Quality notifications in the console over the chain (capacitor → ECU → OEM): raise an alert or an
investigation with the API's service, a button for each allowed change only, forward to the next tier, and the
service's refusals next to the form with nothing written."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Asset, QualityNotification
from tests.hub.console.conftest import signed_in_client
from tests.hub.notifications.chain import Chain, build_chain

ID = re.compile(r"/console/quality/([0-9a-f-]{36})$")


@pytest.fixture
def chain(db: Session, client: TestClient) -> Chain:
    return build_chain(db, client)


def local_id(db: Session, chain: Chain, name: str) -> str:
    asset = db.get(Asset, chain.assets[name])
    assert asset is not None
    return asset.local_id


def raised(client: TestClient, csrf: str, **form: str) -> str:
    response = client.post("/console/quality", data={"csrf_token": csrf, **form}, follow_redirects=False)
    assert response.status_code == 303, response.text
    found = ID.search(response.headers["location"])
    assert found
    return found.group(1)


def buttons(html: str) -> list[str]:
    return re.findall(r'name="step" value="(\w+)"', html)


def test_raise_an_alert_send_it_and_see_only_the_allowed_steps(
    client: TestClient, db: Session, chain: Chain
) -> None:
    _, csrf = signed_in_client(client, db, chain.capacitor.org, role="sqe")
    nid = raised(
        client,
        csrf,
        type="ALERT",
        title="C1: low withstand voltage",
        severity="CRITICAL",
        lots=local_id(db, chain, "C1"),
        containment="sort",
    )
    page = client.get(f"/console/quality/{nid}")
    assert page.status_code == 200 and "CREATED" in page.text
    assert buttons(page.text) == ["send", "cancel"]  # the sender's changes from CREATED, nothing else
    sent = client.post(f"/console/quality/{nid}/send", data={"csrf_token": csrf}, follow_redirects=False)
    assert sent.status_code == 303
    page = client.get(f"/console/quality/{nid}")
    assert '<td id="notification-status">SENT</td>' in page.text and buttons(page.text) == ["cancel", "close"]
    assert "plants:" in page.text  # the containment progress, counts only
    refused = client.post(f"/console/quality/{nid}/close", data={"csrf_token": csrf, "reason": ""})
    assert refused.status_code == 422 and "a reason is required to close" in refused.text
    assert (
        db.scalar(select(QualityNotification.status).where(QualityNotification.id == uuid.UUID(nid)))
        == "SENT"
    )
    wrong_side = client.post(f"/console/quality/{nid}/acknowledge", data={"csrf_token": csrf})
    assert wrong_side.status_code == 403 and "receiver" in wrong_side.text
    listed = client.get("/console/quality.csv").text
    assert "C1: low withstand voltage" in listed and "SENT" in listed


def test_the_receiver_acknowledges_and_forwards_to_the_next_tier(
    client: TestClient, db: Session, chain: Chain
) -> None:
    _, oem_csrf = signed_in_client(client, db, chain.oem.org, role="sqe")
    nid = raised(client, oem_csrf, type="INVESTIGATION", title="E1: ECUs reset", lots=str(chain.assets["E1"]))
    client.post(f"/console/quality/{nid}/send", data={"csrf_token": oem_csrf})

    ecu = TestClient(client.app, base_url="http://localhost:8000", raise_server_exceptions=False)
    _, csrf = signed_in_client(ecu, db, chain.ecu.org, role="sqe")
    page = ecu.get(f"/console/quality/{nid}")
    assert buttons(page.text) == ["receive", "acknowledge"]
    assert (
        local_id(db, chain, "C1") in page.text and local_id(db, chain, "K1") in page.text
    )  # its suppliers' lots
    assert ecu.post(f"/console/quality/{nid}/acknowledge", data={"csrf_token": csrf}).status_code == 200
    none_chosen = ecu.post(f"/console/quality/{nid}/forward", data={"csrf_token": csrf})
    assert none_chosen.status_code == 422 and "affected_asset_ids" in none_chosen.text
    forwarded = ecu.post(
        f"/console/quality/{nid}/forward",
        data={"csrf_token": csrf, "lots": str(chain.assets["C1"]), "reason": "the capacitors"},
        follow_redirects=False,
    )
    assert forwarded.status_code == 303
    new_id = ID.search(forwarded.headers["location"]).group(1)  # type: ignore[union-attr]
    made = db.get(QualityNotification, uuid.UUID(new_id))
    assert made is not None and made.receiver_id == chain.capacitor.org.id and made.status == "SENT"
    assert "forwarded" in ecu.get(f"/console/quality/{nid}").text


def test_bad_input_is_shown_next_to_the_field_and_writes_nothing(
    client: TestClient, db: Session, chain: Chain
) -> None:
    _, csrf = signed_in_client(client, db, chain.capacitor.org, role="sqe")
    before = db.scalar(select(func.count()).select_from(QualityNotification))
    unknown = client.post(
        "/console/quality", data={"csrf_token": csrf, "type": "ALERT", "title": "x", "lots": "NO-SUCH-LOT"}
    )
    assert unknown.status_code == 404 and 'id="lots-error"' in unknown.text and "NO-SUCH-LOT" in unknown.text
    untitled = client.post(
        "/console/quality",
        data={"csrf_token": csrf, "type": "ALERT", "title": "", "lots": local_id(db, chain, "C1")},
    )
    assert untitled.status_code == 422 and "title:" in untitled.text
    bad_type = client.post(
        "/console/quality", data={"csrf_token": csrf, "type": "RUMOUR", "title": "x", "lots": "L"}
    )
    assert bad_type.status_code == 422 and "type" in bad_type.text
    assert db.scalar(select(func.count()).select_from(QualityNotification)) == before


def test_another_organizations_notification_is_the_404_page_and_a_viewer_cannot_raise(
    client: TestClient, db: Session, chain: Chain
) -> None:
    _, csrf = signed_in_client(client, db, chain.capacitor.org, role="sqe")
    nid = raised(client, csrf, type="ALERT", title="C1", lots=local_id(db, chain, "C1"))
    other = TestClient(client.app, base_url="http://localhost:8000", raise_server_exceptions=False)
    _, other_csrf = signed_in_client(other, db, chain.connector.org, role="sqe")
    assert other.get(f"/console/quality/{nid}").status_code == 404
    assert other.post(f"/console/quality/{nid}/cancel", data={"csrf_token": other_csrf}).status_code == 404
    viewer = TestClient(client.app, base_url="http://localhost:8000", raise_server_exceptions=False)
    _, viewer_csrf = signed_in_client(viewer, db, chain.capacitor.org, role="viewer")
    form = {"csrf_token": viewer_csrf, "type": "ALERT", "title": "x", "lots": local_id(db, chain, "C1")}
    refused = viewer.post("/console/quality", data=form)
    assert refused.status_code == 403 and "alerts:write" in refused.text
    assert "Raise an investigation" not in viewer.get("/console/quality").text
    assert viewer.post(f"/console/quality/{nid}/cancel", data={"csrf_token": viewer_csrf}).status_code == 403
