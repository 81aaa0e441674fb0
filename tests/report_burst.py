"""A burst of signed KPI reports submitted over HTTP to a real hub, each organization's webhooks at its own receiver.

The setting of issue #18, shared by the in-suite test (``tests/hub/events/test_burst_delivery.py``) and the
benchmark (``tests/bench/test_event_latency_bench.py``): an OEM and two suppliers, each supplier with an accepted
agreement, every organization with a webhook subscribed to all event types at a receiver of its own on 127.0.0.1;
reports are sent one after another with the SDK's ``client.kpi_reports.submit`` (supplier A every time, supplier B
every tenth report), each for its own week."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.models import Organization
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.jwk import public_jwk
from protocol.models.agreements import AgreementCreate
from protocol.models.common import KeyUse, OrgKind, PeriodKind
from protocol.models.kpi import KpiClaim, KpiReportPayload
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.periods import Period, period_containing
from protocol.signing import public_key_raw
from supplier_sdk.client import Client
from tests.hub.webhooks.helpers import Receiver, make_webhook, running_receiver


@dataclass(frozen=True)
class Supplier:
    org_id: uuid.UUID
    agreement_id: uuid.UUID
    client_id: str
    key: Ed25519PrivateKey
    key_id: str


@dataclass(frozen=True)
class BurstNetwork:
    oem_id: uuid.UUID
    suppliers: tuple[Supplier, Supplier]
    receivers: dict[uuid.UUID, Receiver]  # organization id → the receiver its webhook posts to
    secrets: dict[uuid.UUID, str]  # organization id → its webhook's signing secret


def _supplier(session: Session, *, oem: Caller, name: str) -> tuple[Supplier, Organization]:
    key = Ed25519PrivateKey.generate()
    org = orgs.create_organization(
        session, actor="burst", data=OrganizationCreate(name=name, kind=OrgKind.SUPPLIER)
    )
    client, _ = orgs.create_client(
        session,
        actor="burst",
        actor_org_id=None,
        org_id=org.id,
        name=name,
        scopes=None,
        public_jwk=public_jwk(key),
    )
    as_supplier = Caller(org.id, OrgKind.SUPPLIER, client.client_id, frozenset())
    signing = orgs.register_key(
        session,
        caller=as_supplier,
        data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(key))),
    )
    data = AgreementCreate.model_validate(
        {
            "supplier_id": str(org.id),
            "title": f"{name} CPK",
            "parts": [{"part_number": "P"}],
            "characteristics": [{"code": "DIA", "part_number": "P", "unit": "mm", "lsl": "1", "usl": "2"}],
            "kpis": [{"kpi": "cpk", "threshold": "1.33"}],
            "valid_from": date(2020, 1, 1).isoformat(),
        }
    )
    agreement = agreements.propose(session, caller=oem, data=data)
    agreements.decide(session, caller=as_supplier, agreement_id=agreement.id, accept=True)
    row = session.get(Organization, org.id)
    assert row is not None
    return Supplier(org.id, agreement.id, client.client_id, key, signing.key_id), row


@contextmanager
def burst_network(factory: sessionmaker[Session], *, backlog: int = 256) -> Iterator[BurstNetwork]:
    """The three organizations, committed, each webhook's receiver (listen queue ``backlog``) running until the
    block ends."""
    with ExitStack() as stack:
        receivers = [stack.enter_context(running_receiver(backlog=backlog)) for _ in range(3)]
        with factory.begin() as session:
            oem = orgs.create_organization(
                session, actor="burst", data=OrganizationCreate(name="OEM", kind=OrgKind.OEM)
            )
            as_oem = Caller(oem.id, OrgKind.OEM, "burst", frozenset())
            (a, a_row), (b, b_row) = (
                _supplier(session, oem=as_oem, name=n) for n in ("Supplier A", "Supplier B")
            )
            oem_row = session.get(Organization, oem.id)
            assert oem_row is not None
            secrets = {}
            for row, receiver in zip((oem_row, a_row, b_row), receivers, strict=True):
                _, secrets[row.id] = make_webhook(session, row, url=receiver.url)  # all event types
        yield BurstNetwork(
            oem.id, (a, b), dict(zip((oem.id, a.org_id, b.org_id), receivers, strict=True)), secrets
        )


def _weeks_back(count: int) -> list[Period]:
    weeks, week = [], period_containing(datetime.now(UTC), PeriodKind.WEEK)
    for _ in range(count):
        week = week.previous()
        weeks.append(week)
    return weeks


def burst_payloads(network: BurstNetwork, count: int) -> list[tuple[Supplier, KpiReportPayload]]:
    """``count`` reports in order: every tenth from supplier B, the others from supplier A, each its own week."""
    a, b = network.suppliers
    senders = [b if n % 10 == 0 else a for n in range(1, count + 1)]
    weeks = {a.org_id: iter(_weeks_back(count)), b.org_id: iter(_weeks_back(count))}
    return [
        (
            sender,
            KpiReportPayload(
                supplier_id=sender.org_id,
                oem_id=network.oem_id,
                agreement_id=sender.agreement_id,
                part_number="P",
                characteristic="DIA",
                period=str(next(weeks[sender.org_id])),
                kpi="cpk",
                claim=KpiClaim(meets=True, value="1.52", threshold="1.33"),
                sdk_version="burst",
            ),
        )
        for sender in senders
    ]


def submit_burst(base_url: str, network: BurstNetwork, count: int) -> dict[str, float]:
    """Submit ``count`` reports one after another; report id → when its 201 arrived (``time.monotonic``)."""
    clients = {
        s.org_id: Client(base_url=base_url, client_id=s.client_id, private_key=s.key, signing_key_id=s.key_id)
        for s in network.suppliers
    }
    accepted: dict[str, float] = {}
    try:
        for sender, payload in burst_payloads(network, count):
            report = clients[sender.org_id].kpi_reports.submit(payload)
            accepted[str(report.id)] = time.monotonic()
    finally:
        for client in clients.values():
            client.close()
    return accepted
