"""A real hub on a local socket, and the organizations the SDK tests drive through it (no tests in here).

``running_network()`` starts ``hub.local.LocalHub`` (uvicorn on a free port, schema by the migrations)
on SQLite, or on a fresh PostgreSQL database when ``HUB_TEST_DATABASE_URL`` is set, and bootstraps an operator
and an OEM the way ``hub org create`` / ``hub client create`` do: through ``hub.orgs.service`` in a session of
its own. Everything after that goes over HTTP through ``supplier_sdk.Client``. Each test takes a fresh supplier
with its own accepted agreement (``network.reporting()``), so tests sharing one hub never see each other's
reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.db import make_engine, make_session_factory
from hub.local import LocalHub, free_port
from hub.orgs import service as orgs
from protocol.jwk import public_jwk
from protocol.models.agreements import Agreement
from protocol.models.common import OrgKind, PeriodKind
from protocol.models.orgs import OrganizationCreate
from protocol.periods import period_containing
from supplier_sdk.client import Client
from tests.conftest import _drop_database, _fresh_database_url

FAST = {"backoff_base": 0.01, "backoff_cap": 0.05}
"""Retry timing for tests: the same policy, shorter waits."""


def past_weeks(count: int) -> list[str]:
    """The ``count`` ISO weeks before the current one, newest first (all started, all inside the agreements)."""
    week = period_containing(datetime.now(UTC), PeriodKind.WEEK).previous()
    weeks = []
    for _ in range(count):
        weeks.append(str(week))
        week = week.previous()
    return weeks


def last_month() -> str:
    return str(period_containing(datetime.now(UTC), PeriodKind.MONTH).previous())


def closed_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}"


class CountingTransport(httpx.HTTPTransport):
    """The real network transport, recording each request's method, path and headers on the way."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.requests if method is None or r.method == method]


@dataclass
class Party:
    """An organization with a private_key_jwt API client whose key also signs its reports."""

    name: str
    org_id: uuid.UUID
    client_id: str
    key: Ed25519PrivateKey

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write_key(self, folder: Path) -> Path:
        path = folder / f"{self.client_id}.pem"
        path.write_bytes(self.key_pem())
        return path


def agreement_terms(supplier_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "supplier_id": str(supplier_id),
        "title": "Drive shaft quality agreement",
        "parts": [{"part_number": "SH-4410", "name": "Drive shaft"}],
        "characteristics": [
            {"code": "DIA-01", "part_number": "SH-4410", "unit": "mm", "lsl": "24.980", "usl": "25.020"}
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": "value"},
            {"kpi": "ppk", "threshold": "1.33", "disclosure": "threshold"},
            {"kpi": "ppm", "threshold": "100", "disclosure": "value"},
            {"kpi": "mtbf", "threshold": "5000", "disclosure": "value"},
        ],
        "period": "week",
        "valid_from": (date.today() - timedelta(days=400)).isoformat(),
        "report_due_days": 7,
    }
    terms.update(overrides)
    return terms


@dataclass
class Reporting:
    """A supplier with a registered signing key under an active agreement with the network's OEM."""

    supplier: Party
    agreement: Agreement
    key_id: str


@dataclass
class Network:
    hub: LocalHub
    operator: Party
    oem: Party
    _clients: list[Client] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.hub.base_url

    def client(self, party: Party, **options: Any) -> Client:
        """A Client for ``party`` against this hub (closed with the network)."""
        options = {**FAST, **options}
        options.setdefault("base_url", self.base_url)
        client = Client(client_id=party.client_id, private_key=party.key, **options)
        self._clients.append(client)
        return client

    def register(
        self,
        kind: OrgKind,
        name: str | None = None,
        *,
        scopes: list[str] | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> Party:
        """Create an organization and its first client, as the operator's CLI does, straight in the database."""
        key = key or Ed25519PrivateKey.generate()
        label = name or f"{kind.value} {uuid.uuid4().hex[:8]}"
        engine = make_engine(self.hub.settings)
        try:
            with make_session_factory(engine)() as session, session.begin():
                org = orgs.create_organization(
                    session, actor="cli:operator", data=OrganizationCreate(name=label, kind=kind)
                )
                client, _ = orgs.create_client(
                    session,
                    actor="cli:operator",
                    actor_org_id=None,
                    org_id=org.id,
                    name=f"{label} integration",
                    scopes=scopes,
                    public_jwk=public_jwk(key),
                )
                party = Party(name=label, org_id=org.id, client_id=client.client_id, key=key)
        finally:
            engine.dispose()
        return party

    def agree(self, supplier: Party, **overrides: Any) -> Agreement:
        """The OEM proposes an agreement over HTTP; the supplier accepts it: it is active."""
        proposed = self.client(self.oem).request(
            "POST", "/v1/agreements", json=agreement_terms(supplier.org_id, **overrides)
        )
        accepted = self.client(supplier).request(
            "POST", f"/v1/agreements/{proposed['id']}/accept", json={"reason": "ok"}
        )
        return Agreement.model_validate(accepted)

    def reporting(self, **overrides: Any) -> Reporting:
        """A fresh supplier, its signing key registered through the SDK, under a fresh active agreement."""
        supplier = self.register(OrgKind.SUPPLIER)
        agreement = self.agree(supplier, **overrides)
        key_id = self.client(supplier).keys.register_signing_key()
        return Reporting(supplier=supplier, agreement=agreement, key_id=key_id)

    def close(self) -> None:
        for client in self._clients:
            client.close()


@contextmanager
def running_network(tmp_root: Path, label: str) -> Iterator[Network]:
    """A LocalHub on a migrated database of its own, with an operator and an OEM registered."""
    database_url = _fresh_database_url(tmp_root, label)
    try:
        with LocalHub(database_url=database_url) as hub:
            network = Network(hub=hub, operator=None, oem=None)  # type: ignore[arg-type]
            network.operator = network.register(
                OrgKind.OPERATOR, f"Qualink Operations {uuid.uuid4().hex[:6]}"
            )
            network.oem = network.register(OrgKind.OEM, f"Aurora Motors {uuid.uuid4().hex[:6]}")
            try:
                yield network
            finally:
                network.close()
    finally:
        _drop_database(database_url)
