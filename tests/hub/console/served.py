"""Helpers for console tests against a served hub (``running_network``): people made as `hub user create`
makes them, and a supplier downgraded by real reports."""

from __future__ import annotations

import random
import uuid

from hub.db import make_engine, make_session_factory
from hub.models.base import utcnow
from hub.people import service
from protocol.periods import Period
from supplier_sdk.reports import build_capability_report
from tests.hub.people.helpers import PASSWORD
from tests.supplier_sdk.test_client_support import Network, Reporting


def person(network: Network, org_id: uuid.UUID, role: str) -> str:
    """A person made as `hub user create` makes one, in a session of its own; returns the e-mail."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    engine = make_engine(network.hub.settings)
    try:
        with make_session_factory(engine).begin() as session:
            service.create_person(
                session,
                actor="cli:operator",
                actor_org_id=None,
                org_id=org_id,
                email=email,
                role=role,
                password=PASSWORD,
            )
    finally:
        engine.dispose()
    return email


_RULED: set[uuid.UUID] = set()


def downgrade(network: Network, reporting: Reporting) -> None:
    """The OEM's standard rule, then three weeks of a process far too wide: CPK < 1.33, tier A → B."""
    if network.oem.org_id not in _RULED:  # one rule per OEM, or each test's rule would act again
        oem = network.client(network.oem)
        oem.request("POST", "/v1/rules", json=oem.request("GET", "/v1/rules/templates")[0])
        _RULED.add(network.oem.org_id)
    supplier = network.client(reporting.supplier)
    week = Period.week(*utcnow().isocalendar()[:2]).previous().previous().previous()
    rng = random.Random(7)
    for _ in range(3):
        values = [rng.gauss(25.0, 0.02) for _ in range(50)]
        payload = build_capability_report(
            agreement=reporting.agreement,
            characteristic="DIA-01",
            period=str(week),
            kpi="cpk",
            values=values,
            subgroup_size=5,
        )
        assert payload.claim.meets is False
        supplier.kpi_reports.submit(payload)
        week = week.next()
