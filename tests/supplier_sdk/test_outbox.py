"""The offline outbox against a real hub: queue while unreachable, flush once, never store a report twice."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from protocol.models.kpi import KpiReportPayload
from supplier_sdk.client import Client
from supplier_sdk.errors import HubUnreachable
from supplier_sdk.outbox import FlushResult, Outbox, QueuedReport
from supplier_sdk.reports import build_capability_report
from tests.supplier_sdk.test_client_support import Network, Reporting, closed_url, past_weeks, running_network

pytestmark = pytest.mark.e2e

VALUES = np.round(np.random.default_rng(8).normal(25.0, 0.003, 40), 4)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_outbox") as network:
        yield network


@pytest.fixture
def reporting(network: Network) -> Reporting:
    return network.reporting()


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "qualink" / "outbox.db")


def payload_for(reporting: Reporting, period: str) -> KpiReportPayload:
    return build_capability_report(
        agreement=reporting.agreement, characteristic="DIA-01", period=period, kpi="cpk", values=VALUES
    )


def offline(network: Network, reporting: Reporting) -> Client:
    """The supplier's client, pointed at a port where nothing listens."""
    return network.client(reporting.supplier, base_url=closed_url(), max_retries=1)


def stored(network: Network, reporting: Reporting) -> list[str]:
    return [
        str(r.id)
        for r in network.client(reporting.supplier).kpi_reports.list(agreement_id=reporting.agreement.id)
    ]


def test_an_unreachable_hub_queues_the_report_instead_of_raising(
    network: Network, reporting: Reporting, outbox: Outbox
) -> None:
    payload = payload_for(reporting, past_weeks(1)[0])

    result = offline(network, reporting).kpi_reports.submit(payload, idempotency_key="k-1", outbox=outbox)

    assert isinstance(result, QueuedReport)
    assert result.outbox_path == outbox.path and "unreachable" in result.reason
    [entry] = outbox.pending()
    assert (entry.id, entry.idempotency_key, entry.payload, entry.attempts) == (
        result.entry.id,
        "k-1",
        payload,
        0,
    )
    assert abs(entry.queued_at - datetime.now(UTC)).total_seconds() < 60
    assert stored(network, reporting) == []


def test_without_an_outbox_the_unreachable_hub_raises(network: Network, reporting: Reporting) -> None:
    with pytest.raises(HubUnreachable):
        offline(network, reporting).kpi_reports.submit(payload_for(reporting, past_weeks(1)[0]))


def test_a_flush_sends_each_report_once_re_signed_now(
    network: Network, reporting: Reporting, outbox: Outbox
) -> None:
    offline(network, reporting).kpi_reports.submit(payload_for(reporting, past_weeks(1)[0]), outbox=outbox)
    hub = network.client(reporting.supplier)
    started = datetime.now(UTC).replace(microsecond=0)

    first = outbox.flush(hub.kpi_reports)
    second = outbox.flush(hub.kpi_reports)

    assert (first.sent, first.failed, first.remaining, first.replayed, first.stopped) == (1, 0, 0, 0, None)
    assert (second.sent, second.failed, second.remaining) == (0, 0, 0)
    [report] = first.reports
    assert report.signed_at >= started  # signed at flush time, not at queue time
    assert stored(network, reporting) == [str(report.id)]
    assert outbox.pending() == []


def test_a_report_that_landed_but_whose_answer_was_lost_is_replayed_not_stored_twice(
    network: Network, reporting: Reporting, outbox: Outbox
) -> None:
    payload = payload_for(reporting, past_weeks(1)[0])
    hub = network.client(reporting.supplier)
    landed = hub.kpi_reports.submit(payload, idempotency_key="lost-answer")
    # The client never heard the 201 and queued the report under the key it had sent.
    outbox.enqueue(payload, idempotency_key="lost-answer", hub_url=hub.base_url, reason="ReadTimeout")

    result = outbox.flush(hub.kpi_reports)

    assert (result.sent, result.replayed, result.failed, result.remaining) == (1, 1, 0, 0)
    assert result.reports[0].id == landed.id
    assert stored(network, reporting) == [str(landed.id)]


def test_a_report_the_hub_refuses_moves_to_rejected_with_the_reason(
    network: Network, reporting: Reporting, outbox: Outbox
) -> None:
    week = past_weeks(1)[0]
    hub = network.client(reporting.supplier)
    kept = hub.kpi_reports.submit(payload_for(reporting, week))
    second = build_capability_report(
        agreement=reporting.agreement, characteristic="DIA-01", period=week, kpi="cpk", values=VALUES + 0.001
    )
    queued = outbox.enqueue(second, idempotency_key="dup", hub_url=hub.base_url)

    result = outbox.flush(hub.kpi_reports)

    assert (result.sent, result.failed, result.remaining, result.stopped) == (0, 1, 0, None)
    [rejected] = outbox.rejected()
    assert result.rejections == (rejected,)
    assert (rejected.id, rejected.idempotency_key, rejected.payload) == (queued.entry.id, "dup", second)
    assert (rejected.http_status, rejected.error) == (409, "DuplicateReport")
    assert week in rejected.detail and rejected.request_id
    assert outbox.pending() == [] and stored(network, reporting) == [str(kept.id)]


def test_a_flush_while_the_hub_is_still_down_keeps_everything_and_stops(
    network: Network, reporting: Reporting, outbox: Outbox
) -> None:
    for week in past_weeks(2):
        offline(network, reporting).kpi_reports.submit(payload_for(reporting, week), outbox=outbox)

    result = outbox.flush(offline(network, reporting).kpi_reports)

    assert (result.sent, result.failed, result.remaining) == (0, 0, 2)
    assert result.stopped is not None and "unreachable" in result.stopped
    first, second = outbox.pending()
    assert (first.attempts, second.attempts) == (1, 1)  # both went in one batch request
    assert first.last_error is not None and "unreachable" in first.last_error
    assert first.last_attempt_at is not None

    one_by_one = Outbox(outbox.path, batch_size=1).flush(offline(network, reporting).kpi_reports)
    assert one_by_one.stopped is not None
    first, second = outbox.pending()
    assert (first.attempts, second.attempts) == (2, 1)  # sent one by one, it stopped at the first

    later = outbox.flush(network.client(reporting.supplier).kpi_reports)
    assert (later.sent, later.remaining) == (2, 0)
    # the entry that failed before goes last, so one troublesome entry cannot hold back the rest
    assert [r.period for r in later.reports] == [second.payload.period, first.payload.period]


def test_refused_credentials_stop_the_flush_and_keep_the_reports(
    network: Network, reporting: Reporting, outbox: Outbox
) -> None:
    offline(network, reporting).kpi_reports.submit(payload_for(reporting, past_weeks(1)[0]), outbox=outbox)
    wrong = Client(base_url=network.base_url, client_id="qlc_" + "f" * 24, private_key=reporting.supplier.key)

    with wrong:
        result = outbox.flush(wrong.kpi_reports)

    assert (result.sent, result.failed, result.remaining) == (0, 0, 1)
    assert result.stopped is not None and "invalid_client" in result.stopped
    assert outbox.rejected() == [] and outbox.pending()[0].attempts == 1


def test_two_flushes_at_once_send_every_report_exactly_once(
    network: Network, reporting: Reporting, outbox: Outbox
) -> None:
    weeks = past_weeks(8)
    for week in weeks:
        outbox.enqueue(payload_for(reporting, week), idempotency_key=f"k-{week}", hub_url=network.base_url)
    start = threading.Barrier(2)
    results: list[FlushResult] = []

    def flush() -> None:
        client = network.client(reporting.supplier)
        client.organizations.me()  # have a token before the race starts
        box = Outbox(outbox.path)  # its own connections, as another process would have
        start.wait()
        results.append(box.flush(client.kpi_reports))

    threads = [threading.Thread(target=flush) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 2
    assert sum(r.sent for r in results) == 8
    assert sum(r.replayed for r in results) == 0  # no entry went out twice
    assert sum(r.failed for r in results) == 0
    sent_periods = sorted(report.period for r in results for report in r.reports)
    assert sent_periods == sorted(weeks)
    assert len(stored(network, reporting)) == 8 and outbox.pending() == []


def test_an_entry_claimed_by_a_flush_that_died_waits_for_its_lease(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    box = Outbox(tmp_path / "o.db", lease_seconds=30)
    box.enqueue(payload_for(reporting, past_weeks(1)[0]), idempotency_key="k", hub_url=network.base_url)
    hub = network.client(reporting.supplier)
    with sqlite3.connect(box.path) as db:
        db.execute("UPDATE pending SET claimed_by = 'dead-flush', claimed_until = ?", (time.time() + 30,))

    assert outbox_flush_counts(box.flush(hub.kpi_reports)) == (0, 1)

    with sqlite3.connect(box.path) as db:
        db.execute("UPDATE pending SET claimed_until = ?", (time.time() - 1,))
    assert outbox_flush_counts(box.flush(hub.kpi_reports)) == (1, 0)


def outbox_flush_counts(result: FlushResult) -> tuple[int, int]:
    return result.sent, result.remaining


def test_queueing_is_idempotent_per_key_and_refuses_a_key_for_another_report(
    reporting: Reporting, outbox: Outbox
) -> None:
    week1, week2 = past_weeks(2)
    first = outbox.enqueue(payload_for(reporting, week1), idempotency_key="k", hub_url="http://hub")

    again = outbox.enqueue(payload_for(reporting, week1), idempotency_key="k", hub_url="http://hub")
    with pytest.raises(ValueError, match="queued already for another report"):
        outbox.enqueue(payload_for(reporting, week2), idempotency_key="k", hub_url="http://hub")

    assert again.entry == first.entry and len(outbox.pending()) == 1


def test_the_outbox_file_runs_in_wal_mode_and_survives_reopening(
    reporting: Reporting, outbox: Outbox
) -> None:
    payload = payload_for(reporting, past_weeks(1)[0])
    outbox.enqueue(payload, idempotency_key="k", hub_url="http://hub", reason="down")

    reopened = Outbox(outbox.path)

    with sqlite3.connect(outbox.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert [e.payload for e in reopened.pending()] == [payload]


def test_an_outbox_from_a_newer_sdk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    Outbox(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")

    with pytest.raises(RuntimeError, match="newer SDK"):
        Outbox(path)


def test_an_entry_this_sdk_cannot_read_is_rejected_not_left_blocking(
    network: Network, reporting: Reporting, outbox: Outbox
) -> None:
    outbox.enqueue(payload_for(reporting, past_weeks(1)[0]), idempotency_key="k", hub_url=network.base_url)
    with sqlite3.connect(outbox.path) as db:
        db.execute('UPDATE pending SET payload = \'{"protocol": "QX/9"}\'')

    result = outbox.flush(network.client(reporting.supplier).kpi_reports)

    assert (result.sent, result.failed, result.remaining) == (0, 1, 0)
    [rejected] = outbox.rejected()
    assert rejected.error == "InvalidPayload" and rejected.payload is None and rejected.http_status is None


def test_agreements_are_kept_for_offline_use(reporting: Reporting, outbox: Outbox) -> None:
    assert outbox.cached_agreement(reporting.agreement.id) is None

    outbox.remember_agreement(reporting.agreement)
    cached = outbox.cached_agreement(str(reporting.agreement.id))

    assert cached is not None and cached[0] == reporting.agreement
    assert abs(cached[1] - datetime.now(UTC)).total_seconds() < 60
