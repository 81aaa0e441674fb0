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
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.db import make_engine, make_session_factory
from hub.demo.server import free_port
from hub.models import KpiReport, Organization
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.models.agreements import AgreementCreate
from protocol.models.common import KeyUse, OrgKind, PeriodKind
from protocol.models.kpi import KpiClaim, KpiReportPayload
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.periods import period_containing
from protocol.signing import public_key_raw
from supplier_sdk import Client, Outbox
from supplier_sdk.auth import public_jwk
from tests.conftest import make_settings
from tests.hub.webhooks.helpers import Receiver, make_webhook, running_receiver

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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("hub did not start")

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
    key = Ed25519PrivateKey.generate()  # the supplier's one key: it signs reports and client assertions
    with factory.begin() as session:
        oem = orgs.create_organization(
            session, actor="t", data=OrganizationCreate(name="OEM", kind=OrgKind.OEM)
        )
        supplier = orgs.create_organization(
            session, actor="t", data=OrganizationCreate(name="S", kind=OrgKind.SUPPLIER)
        )
        as_oem = Caller(oem.id, OrgKind.OEM, "t", frozenset())
        as_supplier = Caller(supplier.id, OrgKind.SUPPLIER, "t", frozenset())
        orgs.register_key(
            session,
            caller=as_supplier,
            data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(key))),
        )
        client, _ = orgs.create_client(
            session,
            actor="t",
            actor_org_id=None,
            org_id=supplier.id,
            name="c",
            scopes=None,
            public_jwk=public_jwk(key),
        )
        data = AgreementCreate.model_validate(
            {
                "supplier_id": str(supplier.id),
                "title": "t",
                "parts": [{"part_number": "P"}],
                "characteristics": [
                    {"code": c, "part_number": "P", "unit": "mm", "lsl": "1", "usl": "2"}
                    for c in CHARACTERISTICS
                ],
                "kpis": [{"kpi": "cpk", "threshold": "1.33"}],
                "valid_from": date(2025, 1, 1).isoformat(),
            }
        )
        agreement = agreements.propose(session, caller=as_oem, data=data)
        agreements.decide(session, caller=as_supplier, agreement_id=agreement.id, accept=True)
        oem_org = session.get(Organization, oem.id)
        assert oem_org is not None
        make_webhook(session, oem_org, url=receiver.url, types=["kpi_report.accepted"])
        ids = (oem.id, supplier.id, agreement.id, client.client_id)

    hub = HubProcess(fresh_database, free_port())
    hub.start()
    outbox = Outbox(tmp_path / "outbox.db")
    period = str(period_containing(datetime.now(UTC), PeriodKind.WEEK).previous())
    try:
        with Client(
            base_url=hub.base_url, client_id=ids[3], private_key=key, max_retries=1, backoff_base=0.05
        ) as sdk:
            for index, code in enumerate(CHARACTERISTICS):
                if index == REPORTS // 2:
                    hub.kill()  # no shutdown, no flush: the process is gone between two reports' worth of work
                payload = KpiReportPayload(
                    supplier_id=ids[1],
                    oem_id=ids[0],
                    agreement_id=ids[2],
                    part_number="P",
                    characteristic=code,
                    period=period,
                    kpi="cpk",
                    claim=KpiClaim(meets=True, value="1.5", threshold="1.33"),
                    sdk_version="t",
                )
                sdk.submit_report(payload, outbox=outbox)  # while the hub is down, the outbox keeps it
                if index == REPORTS // 2 + 5:
                    hub.start()
            assert len(outbox.pending()) >= 5  # the reports sent while the hub was dead were queued, not lost
            flushed = outbox.flush(sdk)
            assert flushed.remaining == 0, flushed
        with factory() as session:
            stored = session.scalar(select(func.count()).select_from(KpiReport))
            report_ids = {str(r) for r in session.scalars(select(KpiReport.id))}
        assert stored == REPORTS  # every report stored, none twice

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            delivered = {json.loads(body)["subject_id"] for _, body in receiver.requests}
            if report_ids <= delivered:
                break
            time.sleep(0.1)
        assert report_ids <= delivered  # every accepted report's event reached the OEM's receiver
    finally:
        hub.stop()
        engine.dispose()
