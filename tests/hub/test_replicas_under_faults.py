"""Two `hub serve` and two `hub worker` processes on one PostgreSQL, under faults (issue #17 §1).

Suppliers submit signed KPI reports through a round-robin client (some through the SDK's outbox, with their
Idempotency-Keys) while an alert places holds, a notification passes its target date and a due-date sweep has
periods to mark. One server and one worker are killed with SIGKILL at seeded random moments and started again;
the clients retry. Afterwards every report is stored once, every event numbered once without gaps, every webhook
delivered (duplicates only under one ``webhook-id``), each sweep, escalation and seal done once, the audit chain
verifies, and a revoked client is refused by both servers.

PostgreSQL only: on SQLite the replicas would queue on one file's write lock, and there is no advisory lock,
SKIP LOCKED or NOTIFY to prove. ``REPLICAS_TEST_REPORTS`` sets how many reports (default 300);
``REPLICAS_TEST_SEED`` replays a run's kill moments (the seed is printed)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, make_url, select, update
from sqlalchemy.orm import Session, sessionmaker

from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.db import make_engine, make_session_factory
from hub.models import (
    KpiReport,
    NotificationMessage,
    Organization,
    PeriodOutcome,
    QualityNotification,
    SupplyAgreement,
)
from hub.models.base import utcnow
from hub.orgs import service as orgs
from hub.rules.sweep import _periods_due, expected_series
from protocol.models.common import OrgKind
from supplier_sdk import Client, Outbox
from supplier_sdk.errors import HubError, HubUnreachable
from tests.conftest import make_settings
from tests.hub.notifications.chain import build_chain
from tests.hub.replicas_checks import (
    assert_delivered_at_least_once,
    assert_events_numbered_once_without_gaps,
    assert_holds_placed_once,
    assert_one_delivery_per_event,
    assert_standings_moved_in_one_chain,
    subscribed_event_ids,
)
from tests.hub.webhooks.helpers import Receiver, make_webhook, running_receiver
from tests.network import build_network
from tests.replicas import ISSUER, HubProcess, RoundRobin, pinned, start_all, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        make_url(os.environ.get("HUB_TEST_DATABASE_URL") or "sqlite://").get_backend_name() != "postgresql",
        reason="replicas need PostgreSQL (advisory locks, SKIP LOCKED, NOTIFY): set HUB_TEST_DATABASE_URL",
    ),
]

REPORTS = int(os.environ.get("REPLICAS_TEST_REPORTS", "300"))
SUPPLIERS = 3  # SDK clients submitting at once, each its own supplier with its own outbox
TYPES = ["kpi_report.accepted", "standing.changed", "quality_notification.escalated"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def factory(fresh_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(make_settings(fresh_database))
    yield make_session_factory(engine)
    engine.dispose()


class Progress:
    """How many reports the suppliers have had answered (stored or queued); the chaos thread waits on it."""

    def __init__(self) -> None:
        self.done = 0
        self._changed = threading.Condition()

    def step(self) -> None:
        with self._changed:
            self.done += 1
            self._changed.notify_all()

    def reach(self, count: int, *, seconds: float = 120) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.done >= count, timeout=seconds):
                raise AssertionError(f"suppliers stalled at {self.done} reports, waiting for {count}")


def submit(network_client: tuple[Client, Outbox], payloads: list[object], progress: Progress) -> None:
    """Every second report through the outbox (kept under its Idempotency-Key while no replica answers); the
    others directly, retried by the caller after the SDK's own retries ran out."""
    sdk, outbox = network_client
    for index, payload in enumerate(payloads):
        if index % 2:
            sdk.kpi_reports.submit(payload, outbox=outbox)  # type: ignore[call-overload]
        else:
            key = f"direct-{payload.supplier_id}-{index}"  # type: ignore[attr-defined]
            for _attempt in range(10):
                try:
                    sdk.kpi_reports.submit(payload, idempotency_key=key)  # type: ignore[call-overload]
                    break
                except HubError as error:
                    if error.error == "DuplicateReport":
                        break  # an earlier attempt of ours was stored: the report is there once
                    if not error.retryable:
                        raise
                except HubUnreachable:  # the SDK's retries all met the replica being killed
                    continue
            else:
                raise AssertionError(f"report {index} was never taken in ten tries")
        progress.step()


def test_replicas_under_faults_lose_nothing_and_do_nothing_twice(
    fresh_database: str, factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    seed = int(os.environ.get("REPLICAS_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"REPLICAS_TEST_SEED={seed} REPLICAS_TEST_REPORTS={REPORTS}")
    chance = random.Random(seed)
    per_supplier = REPORTS // SUPPLIERS
    codes = [f"C{i:03d}" for i in range(per_supplier)]
    networks = [build_network(factory, characteristics=codes, label=f" {n}") for n in range(SUPPLIERS)]
    swept = build_network(
        factory, characteristics=["S1", "S2"], label=" swept"
    )  # nobody reports: the sweep marks it
    servers = [HubProcess(fresh_database, "serve", tmp_path / f"serve-{n}.log") for n in range(2)]
    workers = [HubProcess(fresh_database, "worker", tmp_path / f"worker-{n}.log") for n in range(2)]
    http = httpx.Client(base_url=ISSUER, transport=RoundRobin(servers, failover=True))
    with factory.begin() as session:
        for network in networks:
            oem = session.get(Organization, network.oem_id)
            assert oem is not None
            make_webhook(session, oem, url=receiver.url, types=TYPES)
        # Accepted five weeks ago: four or five weekly periods are past due, unreported.
        session.execute(
            update(SupplyAgreement)
            .where(SupplyAgreement.id == swept.agreement_id)
            .values(decided_at=utcnow() - timedelta(days=35))
        )
    with factory() as chain_session:
        chain = build_chain(chain_session, http)  # type: ignore[arg-type]
    try:
        start_all(servers + workers)
        due = (utcnow() + timedelta(seconds=4)).replace(microsecond=0).isoformat()
        investigation = chain.oem.post(
            "/v1/quality-notifications",
            json={
                "type": "INVESTIGATION",
                "title": "late",
                "severity": "MAJOR",
                "target_date": due,
                "affected_asset_ids": [chain.asset("E1")],
            },
        ).json()["id"]
        assert chain.oem.post(f"/v1/quality-notifications/{investigation}/send").status_code == 200
        alert = chain.capacitor.post(
            "/v1/quality-notifications",
            json={
                "type": "ALERT",
                "title": "low withstand voltage",
                "affected_asset_ids": [chain.asset("C1")],
            },
        ).json()["id"]

        progress = Progress()
        clients = [
            (
                Client(
                    base_url=ISSUER,
                    client_id=network.client_id,
                    private_key=network.key,
                    transport=RoundRobin(servers),
                    max_retries=2,
                    backoff_base=0.05,
                ),
                Outbox(tmp_path / f"outbox-{n}.db"),
            )
            for n, network in enumerate(networks)
        ]
        threads = [
            threading.Thread(
                target=submit, args=(client, [network.payload(code) for code in codes], progress), daemon=True
            )
            for client, network in zip(clients, networks, strict=True)
        ]
        for thread in threads:
            thread.start()

        progress.reach(REPORTS // 10)
        assert chain.capacitor.post(f"/v1/quality-notifications/{alert}/send").status_code == 200
        server, worker = chance.choice(servers), chance.choice(workers)
        kills = sorted(
            [
                (chance.randrange(REPORTS // 5, REPORTS // 2), server),
                (chance.randrange(REPORTS // 5, REPORTS // 2), worker),
            ],
            key=lambda kill: kill[0],
        )
        for at, process in kills:
            progress.reach(at)
            process.kill()
            print(f"killed {process.kind} :{process.port} after {progress.done} reports")
        progress.reach(kills[-1][0] + REPORTS // 10)
        start_all([process for _, process in kills])
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), "a supplier's submissions did not finish in 120 s"
        for sdk, outbox in clients:
            assert outbox.flush(sdk.kpi_reports).remaining == 0
            sdk.close()

        with factory() as session:
            stored = session.execute(
                select(KpiReport.supplier_id, KpiReport.characteristic, func.count()).group_by(
                    KpiReport.supplier_id, KpiReport.characteristic
                )
            ).all()
        assert len(stored) == SUPPLIERS * per_supplier, "a report is missing"
        assert {n for *_, n in stored} == {1}, "a report was stored twice"

        assert_events_numbered_once_without_gaps(factory)
        assert_one_delivery_per_event(factory)
        for network in networks:
            assert_delivered_at_least_once(receiver, subscribed_event_ids(factory, network.oem_id, TYPES))
        assert_holds_placed_once(factory, alert)
        assert_escalated_once(factory, investigation)
        assert_swept_once(factory, swept.agreement_id)
        assert_standings_moved_in_one_chain(factory)
        assert_audit_verifies(fresh_database)
        assert_revoked_everywhere(factory, servers, chain.oem.org.id)
    finally:
        http.close()
        for process in servers + workers:
            process.stop()


def assert_escalated_once(factory: sessionmaker[Session], notification_id: str) -> None:
    def escalated() -> bool:
        with factory() as session:
            row = session.get(QualityNotification, uuid.UUID(notification_id))
            return row is not None and row.escalated_at is not None

    wait_until(escalated, seconds=30, failure=lambda: "the notification past its target date never escalated")
    with factory() as session:
        row = session.get(QualityNotification, uuid.UUID(notification_id))
        messages = session.scalars(
            select(NotificationMessage.event).where(
                NotificationMessage.notification_id == uuid.UUID(notification_id)
            )
        ).all()
    assert row is not None and row.severity == "CRITICAL", "escalated more (or less) than one step"
    assert messages.count("escalated") == 1, f"escalation messages: {messages}"


def assert_swept_once(factory: sessionmaker[Session], agreement_id: object) -> None:
    with factory() as session:
        agreement = session.get(SupplyAgreement, agreement_id)
        assert agreement is not None
        session.expunge(agreement)
        agreement.swept_through = None
        expected = len(_periods_due(agreement, utcnow())) * len(
            list(expected_series(agreements.terms_of(session, agreement)))
        )

    def outcomes() -> int:
        with factory() as session:
            query = select(func.count()).where(
                PeriodOutcome.agreement_id == agreement_id, PeriodOutcome.missing
            )
            return int(session.scalar(query) or 0)

    assert expected > 0
    wait_until(
        lambda: outcomes() >= expected,
        seconds=30,
        failure=lambda: f"the sweep marked {outcomes()} of {expected} missing periods",
    )
    assert outcomes() == expected


def assert_audit_verifies(database_url: str) -> None:
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_ISSUER": ISSUER}
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain intact" in done.stdout


def assert_revoked_everywhere(
    factory: sessionmaker[Session], servers: list[HubProcess], org_id: uuid.UUID
) -> None:
    """A client revoked through one replica is refused by every replica, its unexpired token too."""
    with factory.begin() as session:
        admin, _ = orgs.create_client(
            session,
            actor="test",
            actor_org_id=None,
            org_id=org_id,
            name="admin",
            scopes=None,
            public_jwk=None,
        )
        doomed, secret = orgs.create_client(
            session,
            actor="test",
            actor_org_id=None,
            org_id=org_id,
            name="doomed",
            scopes=None,
            public_jwk=None,
        )
    assert secret is not None
    with httpx.Client(base_url=ISSUER, transport=pinned(servers[0])) as first:
        answer = first.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(doomed.client_id, secret)
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
    with factory.begin() as session:
        caller = Caller(org_id, OrgKind.OEM, admin.client_id, frozenset())
        orgs.revoke_client(session, caller=caller, client_id=doomed.client_id)
    for server in servers:
        with httpx.Client(base_url=ISSUER, transport=pinned(server)) as replica:
            me = replica.get("/v1/organizations/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 401, f"replica :{server.port} served a revoked client's token: {me.text}"
            again = replica.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(doomed.client_id, secret)
            )
            assert again.status_code in (400, 401), f"replica :{server.port} issued a token: {again.text}"
