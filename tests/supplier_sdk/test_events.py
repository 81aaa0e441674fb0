"""Client.events against a real hub: the organization's events in order, live, and resumed after a drop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from supplier_sdk import StreamEvent
from supplier_sdk.errors import InvalidRequest
from supplier_sdk.reports import build_capability_report
from tests.supplier_sdk.test_client_support import Network, Reporting, past_weeks, running_network

pytestmark = pytest.mark.e2e

GOOD = np.round(np.random.default_rng(3).normal(25.0, 0.003, 50), 4)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_events") as network:
        yield network


class DroppingTransport(httpx.HTTPTransport):
    """The real network, except that the first event stream breaks off after ``drop_after`` events."""

    def __init__(self, drop_after: int) -> None:
        super().__init__()
        self.drop_after = drop_after
        self.resumed_from: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path != "/v1/events":
            return response
        self.resumed_from.append(request.headers.get("last-event-id"))
        if len(self.resumed_from) > 1:
            return response
        upstream = response.stream
        assert isinstance(upstream, httpx.SyncByteStream)

        def cut() -> Iterator[bytes]:
            buffered, sent = b"", 0
            for chunk in upstream:
                buffered += chunk
                while b"\n\n" in buffered:
                    frame, buffered = buffered.split(b"\n\n", 1)
                    yield frame + b"\n\n"
                    sent += frame.startswith(b"id:")
                    if sent == self.drop_after:
                        upstream.close()
                        raise httpx.ReadError("connection reset by peer (test)")

        class Cut(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                return cut()

            def close(self) -> None:
                upstream.close()

        return httpx.Response(response.status_code, headers=response.headers, stream=Cut(), request=request)


def submit(network: Network, reporting: Reporting, period: str) -> str:
    payload = build_capability_report(
        agreement=reporting.agreement, characteristic="DIA-01", period=period, kpi="cpk", values=GOOD
    )
    return str(network.client(reporting.supplier).kpi_reports.submit(payload).id)


def settled(network: Network, reporting: Reporting, count: int) -> list[StreamEvent]:
    """The supplier's events once the sequencer has numbered ``count`` of them."""
    deadline = time.monotonic() + 10
    while True:
        seen = list(network.client(reporting.supplier).events.follow(once=True))
        if len(seen) >= count or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def test_the_iterator_yields_the_organizations_events_in_order(network: Network) -> None:
    reporting = network.reporting()
    report_id = submit(network, reporting, past_weeks(1)[0])

    seen = settled(network, reporting, 4)

    assert [e.type for e in seen] == [
        "agreement.proposed",
        "agreement.accepted",
        "standing.opened",
        "kpi_report.accepted",
    ]
    assert [e.position for e in seen] == sorted(e.position for e in seen)
    assert seen[3].subject_id == report_id and seen[3].payload["supplier_id"] == str(
        reporting.supplier.org_id
    )
    assert seen[1].payload["status"] == "active"
    only = list(network.client(reporting.supplier).events.follow(types=["kpi_report.accepted"], once=True))
    assert [e.id for e in only] == [seen[3].id]
    after = list(network.client(reporting.supplier).events.follow(after=seen[0].position, once=True))
    assert [e.id for e in after] == [e.id for e in seen[1:]]


def test_a_dropped_stream_resumes_after_the_last_event_without_repeats(network: Network) -> None:
    reporting = network.reporting()
    for period in past_weeks(3):
        submit(network, reporting, period)
    expected = settled(network, reporting, 6)
    assert len(expected) == 6
    transport = DroppingTransport(drop_after=2)

    got = list(network.client(reporting.supplier, transport=transport).events.follow(once=True))

    assert [e.id for e in got] == [e.id for e in expected]  # each once, in order
    assert transport.resumed_from == [None, str(expected[1].position)]


def test_a_live_iterator_yields_an_event_published_after_it_opened(network: Network) -> None:
    reporting = network.reporting()
    before = settled(network, reporting, 3)
    live = network.client(reporting.supplier).events.follow(after=before[-1].position)
    arrived: list[StreamEvent] = []
    reader = threading.Thread(target=lambda: arrived.append(next(live)), daemon=True)
    reader.start()
    time.sleep(0.3)  # the stream is open and has sent its backlog (none)

    report_id = submit(network, reporting, past_weeks(1)[0])
    reader.join(timeout=10)

    assert [(e.type, e.subject_id) for e in arrived] == [("kpi_report.accepted", report_id)]
    live.close()


def test_a_bad_cursor_is_raised_not_retried(network: Network) -> None:
    reporting = network.reporting()
    with pytest.raises(InvalidRequest) as raised:
        list(network.client(reporting.supplier).events.follow(after=-1, once=True))
    assert raised.value.http_status == 422
