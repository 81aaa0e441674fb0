"""Which failures the outbox absorbs: a hub that answers 5xx or 429 after the retries, but never a refusal.

A healthy real hub does not answer 503 on demand, so these answers are scripted with ``httpx.MockTransport``;
what is tested is the client's and the outbox's classification, not the hub. The real-hub behaviour of the
outbox (unreachable, replay, refusal, concurrency) is in test_outbox.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.models.kpi import KpiClaim, KpiReportPayload
from supplier_sdk.client import Client
from supplier_sdk.errors import ConflictError, InvalidRequest
from supplier_sdk.outbox import Outbox, QueuedReport

PAYLOAD = KpiReportPayload(
    supplier_id=uuid.UUID(int=1),
    oem_id=uuid.UUID(int=2),
    agreement_id=uuid.UUID(int=3),
    part_number="SH-1",
    period="2026-W40",
    kpi="mtbf",
    claim=KpiClaim(meets=True, value="6000", threshold="5000"),
    sdk_version="test",
)


def hub_answering(status: int, name: str, headers: dict[str, str] | None = None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            body = {"access_token": "t", "token_type": "Bearer", "expires_in": 600, "scope": "kpi:write"}
            return httpx.Response(200, json=body)
        return httpx.Response(
            status, json={"error": name, "detail": name, "request_id": "r"}, headers=headers
        )

    return httpx.MockTransport(answer)


def client(transport: httpx.MockTransport) -> Client:
    return Client(
        base_url="https://hub.test",
        client_id="qlc_test",
        private_key=Ed25519PrivateKey.generate(),
        transport=transport,
        max_retries=2,
        sleep=lambda _: None,
    )


@pytest.mark.parametrize(
    ("status", "name"), [(500, "InternalError"), (503, "ServiceUnavailable"), (429, "Slow")]
)
def test_a_hub_that_stays_unavailable_gets_the_report_queued(tmp_path: Path, status: int, name: str) -> None:
    outbox = Outbox(tmp_path / "o.db")

    with client(hub_answering(status, name)) as hub:
        result = hub.kpi_reports.submit(PAYLOAD, idempotency_key="k", outbox=outbox)

    assert isinstance(result, QueuedReport)
    assert f"HTTP {status}" in result.reason
    assert [(e.idempotency_key, e.payload) for e in outbox.pending()] == [("k", PAYLOAD)]


@pytest.mark.parametrize(
    ("status", "name", "raised"),
    [
        (409, "Conflict", ConflictError),
        (409, "DuplicateReport", ConflictError),
        (422, "StaleSignature", InvalidRequest),
    ],
)
def test_a_refusal_is_raised_and_not_queued(
    tmp_path: Path, status: int, name: str, raised: type[Exception]
) -> None:
    outbox = Outbox(tmp_path / "o.db")

    with client(hub_answering(status, name)) as hub, pytest.raises(raised):
        hub.kpi_reports.submit(PAYLOAD, outbox=outbox)

    assert outbox.pending() == []


def test_a_flush_meeting_an_unavailable_hub_keeps_the_entry(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    outbox.enqueue(PAYLOAD, idempotency_key="k", hub_url="https://hub.test")

    with client(hub_answering(503, "ServiceUnavailable", {"Retry-After": "0"})) as hub:
        result = outbox.flush(hub.kpi_reports)

    assert (result.sent, result.failed, result.remaining) == (0, 0, 1)
    assert result.stopped is not None and "ServiceUnavailable" in result.stopped


def test_a_flush_meeting_a_lasting_conflict_rejects_the_entry(tmp_path: Path) -> None:
    """A 409 that outlasts the retries comes from a hub that is up: the entry must not block the queue."""
    outbox = Outbox(tmp_path / "o.db")
    outbox.enqueue(PAYLOAD, idempotency_key="k", hub_url="https://hub.test")

    with client(hub_answering(409, "Conflict")) as hub:
        result = outbox.flush(hub.kpi_reports)

    assert (result.sent, result.failed, result.remaining) == (0, 1, 0)
    assert [(r.error, r.http_status) for r in outbox.rejected()] == [("Conflict", 409)]
