"""Events in seconds: report accepted → webhook received, and the sustained delivery rate of 2 dispatchers.

    HUB_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/qualink \\
        pytest tests/bench/test_events_bench.py -s -p no:cacheprovider --override-ini addopts=

Latency: 1,000 signed reports submitted one after another to `hub serve` (default intervals: sequencer 0.2 s,
dispatcher 0.25 s); for each, the time from the hub's 201 to the OEM's receiver holding the signed delivery.
Rate: 5,000 events published at once, drained by `hub serve` plus one `hub worker` (two dispatchers).
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub import migrate
from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.db import make_engine, make_session_factory
from hub.events import service as events
from hub.local import free_port
from hub.models import Organization
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.jwk import public_jwk
from protocol.models.agreements import AgreementCreate
from protocol.models.common import KeyUse, OrgKind, PeriodKind
from protocol.models.kpi import KPI_REPORT_TYPE, KpiClaim, KpiReportPayload
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.periods import period_containing
from protocol.signing import public_key_raw, sign_envelope
from supplier_sdk.auth import token_request_form
from tests.conftest import create_postgres_database, make_settings
from tests.hub.webhooks.helpers import make_webhook, running_receiver
from tests.hub_server import hub_process, wait_until_ready

REPORTS = 1000
BURST = 5000


@pytest.mark.bench
def test_report_to_webhook_latency_and_delivery_rate() -> None:
    database_url = create_postgres_database(
        os.environ.get("HUB_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/qualink"),
        "eventsbench",
    )
    engine = make_engine(make_settings(database_url))
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    key = Ed25519PrivateKey.generate()
    codes = [f"C{i:04d}" for i in range(REPORTS)]
    receiver_context = running_receiver()
    receiver = receiver_context.__enter__()
    with factory.begin() as session:
        oem = orgs.create_organization(
            session, actor="b", data=OrganizationCreate(name="OEM", kind=OrgKind.OEM)
        )
        supplier = orgs.create_organization(
            session, actor="b", data=OrganizationCreate(name="S", kind=OrgKind.SUPPLIER)
        )
        as_oem = Caller(oem.id, OrgKind.OEM, "b", frozenset())
        as_supplier = Caller(supplier.id, OrgKind.SUPPLIER, "b", frozenset())
        signing = orgs.register_key(
            session,
            caller=as_supplier,
            data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(key))),
        )
        client, _ = orgs.create_client(
            session,
            actor="b",
            actor_org_id=None,
            org_id=supplier.id,
            name="b",
            scopes=None,
            public_jwk=public_jwk(key),
        )
        data = AgreementCreate.model_validate(
            {
                "supplier_id": str(supplier.id),
                "title": "b",
                "parts": [{"part_number": "P"}],
                "characteristics": [
                    {"code": c, "part_number": "P", "unit": "mm", "lsl": "1", "usl": "2"} for c in codes
                ],
                "kpis": [{"kpi": "cpk", "threshold": "1.33"}],
                "valid_from": date(2025, 1, 1).isoformat(),
            }
        )
        agreement = agreements.propose(session, caller=as_oem, data=data)
        agreements.decide(session, caller=as_supplier, agreement_id=agreement.id, accept=True)
        oem_row = session.get(Organization, oem.id)
        assert oem_row is not None
        make_webhook(session, oem_row, url=receiver.url, types=["kpi_report.accepted", "bench.burst"])
        ids = (oem.id, supplier.id, agreement.id, client.client_id, signing.key_id)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = hub_process(database_url, port, "serve", "--port", str(port), "--no-migrate")
    worker = None
    try:
        wait_until_ready(base_url)
        form = token_request_form(
            client_id=ids[3], private_key=key, token_url=f"{base_url}/oauth/token", scope="kpi:write"
        )
        token = httpx.post(f"{base_url}/oauth/token", data=form).json()["access_token"]
        period = str(period_containing(datetime.now(UTC), PeriodKind.WEEK).previous())
        accepted: dict[str, float] = {}
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as http:
            for code in codes:
                payload = KpiReportPayload(
                    supplier_id=ids[1],
                    oem_id=ids[0],
                    agreement_id=ids[2],
                    part_number="P",
                    characteristic=code,
                    period=period,
                    kpi="cpk",
                    claim=KpiClaim(meets=True, value="1.5", threshold="1.33"),
                    sdk_version="b",
                )
                envelope = sign_envelope(payload, type=KPI_REPORT_TYPE, private_key=key, key_id=ids[4])
                response = http.post("/v1/kpi-reports", json={"envelope": envelope.model_dump(mode="json")})
                assert response.status_code == 201, response.text
                accepted[response.json()["id"]] = time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(receiver.arrivals) < REPORTS:
            time.sleep(0.05)
        latencies = sorted(
            (receiver.arrivals[subject] - accepted[subject]) * 1000
            for subject in accepted
            if subject in receiver.arrivals
        )
        assert len(latencies) == REPORTS

        # Sustained rate: a burst of events, drained by hub serve and one hub worker.
        worker = hub_process(database_url, port, "worker")
        with factory.begin() as session:
            for _ in range(BURST):
                events.publish(session, type="bench.burst", subject_id=uuid.uuid4(), views={ids[0]: {"n": 1}})
        started, before = time.monotonic(), len(receiver.arrivals)
        deadline = started + 120
        while time.monotonic() < deadline and len(receiver.arrivals) - before < BURST:
            time.sleep(0.05)
        drained = len(receiver.arrivals) - before
        elapsed = time.monotonic() - started
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        engine.dispose()
        receiver_context.__exit__(None, None, None)
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    print(
        f"\nreport accepted → webhook received over {REPORTS} events: p50 {p50:.0f} ms, p99 {p99:.0f} ms;"
        f" burst of {BURST} events drained by 2 dispatchers in {elapsed:.1f} s: {drained / elapsed:.0f} deliveries/s"
    )
    assert drained == BURST
