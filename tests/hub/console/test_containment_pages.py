"""A plant's containment action in the console: its held positions (bin, lot, quantity) as the API reads
them, exported, acknowledged from its own page; another organization's action is the 404 page."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.hub.console.conftest import signed_in_client
from tests.hub.notifications.chain import build_chain
from tests.hub.notifications.conftest import alert, moved


def test_the_plant_sees_its_holds_and_acknowledges_from_the_action_page(
    client: TestClient, db: Session
) -> None:
    chain = build_chain(db, client)
    nid = str(alert(chain, severity="CRITICAL")["id"])
    moved(chain.capacitor, nid, "send", "withstand voltage")
    _, csrf = signed_in_client(client, db, chain.ecu.org, role="plant")
    listed = client.get("/console/containment").text
    action_id = re.search(r'href="/console/containment/([0-9a-f-]{36})"', listed).group(1)  # type: ignore[union-attr]
    api = chain.ecu.get(f"/v1/containment-actions/{action_id}").json()

    page = client.get(f"/console/containment/{action_id}")
    assert page.status_code == 200 and "ECU-1" in page.text
    holds = list(csv.DictReader(io.StringIO(client.get(f"/console/containment/{action_id}/holds.csv").text)))
    assert [(h["location"], h["lot"]) for h in holds] == [
        (h["location"], h["local_id"]) for h in api["holds"]
    ]
    assert {h["location"] for h in holds} == {"R1", "F1"}  # C1 in its bin, and the ECU lot E1 made from it

    done = client.post(
        f"/console/containment/{action_id}/acknowledge",
        data={"csrf_token": csrf, "text": "J. Weber"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert '<td id="action-status">acknowledged</td>' in client.get(f"/console/containment/{action_id}").text

    other = TestClient(client.app, base_url="http://localhost:8000", raise_server_exceptions=False)
    signed_in_client(other, db, chain.connector.org, role="plant")
    assert other.get(f"/console/containment/{action_id}").status_code == 404
    assert other.get(f"/console/containment/{action_id}/holds.csv").status_code == 404
