"""The live stream over a real uvicorn: events published after it opened arrive, and silence is kept alive."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from hub.events import router
from tests.supplier_sdk.test_client_support import Network, running_network

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "events_live") as network:
        yield network


def test_an_event_published_after_the_stream_opened_arrives_within_a_second(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(router, "KEEPALIVE_SECONDS", 0.5)  # the hub runs in this process: make silence short
    reporting = network.reporting()
    supplier = network.client(reporting.supplier)
    token = supplier.requester.access_token()
    lines: list[str] = []
    opened = threading.Event()

    def listen() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.stream("GET", f"{network.base_url}/v1/events", headers=headers, timeout=10) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                lines.append(line)
                opened.set()
                if line.startswith("data:") and '"agreement.terminated"' in line:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(5)
    time.sleep(1.0)  # long enough for a keepalive, and the backlog is sent
    published = time.monotonic()
    supplier.request("POST", f"/v1/agreements/{reporting.agreement.id}/terminate", json={"reason": "test"})
    listener.join(timeout=5)
    took = time.monotonic() - published

    assert not listener.is_alive() and took < 1.0
    assert ": keepalive" in lines
    frames = [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data:")]
    assert [f["type"] for f in frames] == [
        "agreement.proposed",
        "agreement.accepted",
        "standing.opened",
        "agreement.terminated",
    ]
    assert frames[-1]["payload"]["status"] == "terminated"
