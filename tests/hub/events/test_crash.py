"""Crash test: SIGKILL the hub while it accepts reports and delivers webhooks, restart it, lose nothing.

A supplier keeps submitting signed reports through the SDK (with its offline outbox) while the OEM's webhook
receiver listens. Halfway the hub process is killed without warning, then started again. Afterwards every report
the supplier submitted is stored exactly once, and every accepted report's event has reached the receiver
(at least once; deduplicated by event id, as receivers are told to do)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.db import make_engine, make_session_factory
from hub.local import free_port
from hub.models import KpiReport, Organization
from supplier_sdk import Client, Outbox
from tests.conftest import make_settings
from tests.hub.webhooks.helpers import Receiver, make_webhook, running_receiver
from tests.hub_server import wait_until_ready
from tests.network import build_network

REPORTS = 60
CHARACTERISTICS = [f"C{i:02d}" for i in range(REPORTS)]

pytestmark = pytest.mark.e2e


class HubProcess:
    def __init__(self, database_url: str, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "HUB_DATABASE_URL": database_url,
            "HUB_ISSUER": self.base_url,
            "HUB_LOG_LEVEL": "WARNING",
            "HUB_EVENTS_SEQUENCE_INTERVAL_SECONDS": "0.1",
            "HUB_WEBHOOK_DISPATCH_INTERVAL_SECONDS": "0.1",
        }
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "hub.cli", "serve", "--port", str(self.port), "--no-migrate"]
        self.process = subprocess.Popen(command, env=self.env)
        wait_until_ready(self.base_url)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def test_a_killed_hub_loses_no_report_and_no_event(
    fresh_database: str, receiver: Receiver, tmp_path: Path
) -> None:
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    network = build_network(factory, characteristics=CHARACTERISTICS)
    with factory.begin() as session:
        oem = session.get(Organization, network.oem_id)
        assert oem is not None
        make_webhook(session, oem, url=receiver.url, types=["kpi_report.accepted"])

    hub = HubProcess(fresh_database, free_port())
    hub.start()
    outbox = Outbox(tmp_path / "outbox.db")
    try:
        with Client(
            base_url=hub.base_url,
            client_id=network.client_id,
            private_key=network.key,
            max_retries=1,
            backoff_base=0.05,
        ) as sdk:
            for index, code in enumerate(CHARACTERISTICS):
                if index == REPORTS // 2:
                    hub.kill()  # no shutdown, no flush: the process is gone between two reports' worth of work
                payload = network.payload(code)
                sdk.kpi_reports.submit(payload, outbox=outbox)  # while the hub is down, the outbox keeps it
                if index == REPORTS // 2 + 5:
                    hub.start()
            assert len(outbox.pending()) >= 5  # the reports sent while the hub was dead were queued, not lost
            flushed = outbox.flush(sdk.kpi_reports)
            assert flushed.remaining == 0, flushed
        with factory() as session:
            stored = session.scalar(select(func.count()).select_from(KpiReport))
            report_ids = {str(r) for r in session.scalars(select(KpiReport.id))}
        assert stored == REPORTS  # every report stored, none twice

        deadline = (
            time.monotonic() + 60
        )  # a bound for a loaded machine, not a speed claim (see the benchmark)
        while time.monotonic() < deadline:
            delivered = {json.loads(body)["subject_id"] for _, body in receiver.requests}
            if report_ids <= delivered:
                break
            time.sleep(0.1)
        assert report_ids <= delivered  # every accepted report's event reached the OEM's receiver
    finally:
        hub.stop()
        engine.dispose()
