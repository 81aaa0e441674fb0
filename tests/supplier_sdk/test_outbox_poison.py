"""One report the hub refuses never jams the outbox: the SDK against a real hub over a socket, five good reports
queued with one the hub refuses. The good ones are sent in the same flush, the refused one is parked with the
hub's reason (``supplier-sdk outbox list``), can be queued again (``outbox retry``) or removed (``outbox drop``);
a hub that fails a whole batch with a 500 gets the reports one by one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from protocol.models.common import PeriodKind
from protocol.periods import period_containing
from supplier_sdk.cli import app
from supplier_sdk.outbox import Outbox
from supplier_sdk.reports import build_capability_report
from tests.supplier_sdk.test_client_support import Network, Reporting, past_weeks, running_network

pytestmark = pytest.mark.e2e

VALUES = np.round(np.random.default_rng(12).normal(25.0, 0.003, 40), 4)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_poison") as network:
        yield network


def _queue_five_and_a_poison(reporting: Reporting, outbox: Outbox, hub_url: str) -> str:
    """Five reports for past weeks, and between them one for a week that has not started (the hub refuses it)."""
    weeks = past_weeks(5)
    future = str(period_containing(datetime.now(UTC) + timedelta(weeks=3), PeriodKind.WEEK))
    for index, week in enumerate(weeks):
        payload = build_capability_report(
            agreement=reporting.agreement, characteristic="DIA-01", period=week, kpi="cpk", values=VALUES
        )
        outbox.enqueue(payload, idempotency_key=f"good-{week}", hub_url=hub_url)
        if index == 1:
            poison = payload.model_copy(update={"period": future})
            outbox.enqueue(poison, idempotency_key="poison", hub_url=hub_url)
    return future


def _cli(outbox: Outbox, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["outbox", *args, "--outbox", str(outbox.path)])
    return result.exit_code, result.output


def test_a_refused_report_is_parked_and_the_rest_sent_in_the_same_flush(
    network: Network, tmp_path: Path
) -> None:
    reporting = network.reporting()
    hub = network.client(reporting.supplier)
    outbox = Outbox(tmp_path / "outbox.db")
    future = _queue_five_and_a_poison(reporting, outbox, hub.base_url)

    result = outbox.flush(hub.kpi_reports)

    assert (result.sent, result.failed, result.remaining, result.stopped) == (5, 1, 0, None)
    stored = hub.kpi_reports.list(agreement_id=reporting.agreement.id)
    assert sorted(r.period for r in stored) == sorted(past_weeks(5))
    code, listed = _cli(outbox, "list", "--json")
    body = json.loads(listed)
    assert code == 0 and body["pending"] == []
    [parked] = body["rejected"]
    assert (parked["idempotency_key"], parked["http_status"], parked["period"]) == ("poison", 422, future)
    assert "not started" in parked["detail"]

    # Queued again under its key: the next flush tries it (and the hub, still right, refuses it again).
    code, said = _cli(outbox, "retry", str(parked["id"]))
    assert code == 0 and "queued again" in said
    [again] = outbox.pending()
    assert (again.id, again.idempotency_key, again.attempts) == (parked["id"], "poison", 0)
    assert outbox.rejected() == []
    assert outbox.flush(hub.kpi_reports).failed == 1 and [r.id for r in outbox.rejected()] == [parked["id"]]

    code, said = _cli(outbox, "drop", str(parked["id"]))
    assert code == 0 and "dropped" in said
    assert outbox.rejected() == [] and outbox.pending() == []
    assert _cli(outbox, "drop", str(parked["id"]))[0] == 2  # nothing left by that number
    assert _cli(outbox, "retry", "999")[0] == 2


class BatchFails(httpx.HTTPTransport):
    """The real hub, except that a batch is answered with a 500 (a hub that fails on one report of it)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/kpi-reports:batch":
            body = {"error": "InternalError", "detail": "internal error", "request_id": "test"}
            return httpx.Response(500, json=body, request=request)
        return super().handle_request(request)


def test_a_batch_answered_with_a_500_is_sent_one_by_one(network: Network, tmp_path: Path) -> None:
    reporting = network.reporting()
    hub = network.client(reporting.supplier, transport=BatchFails(), max_retries=0)
    outbox = Outbox(tmp_path / "outbox.db")
    _queue_five_and_a_poison(reporting, outbox, hub.base_url)

    result = outbox.flush(hub.kpi_reports)

    assert (result.sent, result.failed, result.remaining, result.stopped) == (5, 1, 0, None)
    assert [r.idempotency_key for r in outbox.rejected()] == ["poison"]
