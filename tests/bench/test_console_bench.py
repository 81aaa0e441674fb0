"""Server time of the console's network overview and scorecard for an OEM with many suppliers.

    HUB_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/qualink \\
        pytest tests/bench/test_console_bench.py -s -p no:cacheprovider --override-ini addopts=

``CONSOLE_BENCH_SUPPLIERS`` (default 100) suppliers each get an active agreement over ten characteristics, a
standing with three changes, and two years of weekly CPK reports on each characteristic (104 x 10 rows, written
in bulk as the ingest path stores them: signing 104,000 reports through the API would take the run's whole
budget). Printed: the median and p95 of 50 in-process requests after 3 warm-ups (the time the hub spends, no
network), against the issue's goal of 150 ms p95, and the floor measured in the same run: a bare SELECT of the
columns of one supplier's reports the scorecard's charts draw. Runs on SQLite too (a temporary file) when no PostgreSQL is named.
"""

from __future__ import annotations

import os
import random
import statistics
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

import hub.console as hub_console
from hub import migrate
from hub.agreements import service as agreements
from hub.app import create_app
from hub.db import make_engine, make_session_factory
from hub.models import KpiReport, OrgKey, Standing, StandingChange
from hub.models.base import utcnow, uuid7
from hub.orgs import service as orgs
from hub.people import service as people
from protocol.models.agreements import AgreementCreate
from protocol.models.common import OrgKind, PeriodKind
from protocol.models.orgs import OrganizationCreate
from protocol.periods import period_containing
from tests.bench._support import median_ms
from tests.conftest import _drop_database, _fresh_database_url, make_settings
from tests.hub.console.conftest import sign_in
from tests.hub.kpis.conftest import agreement_body
from tests.hub.people.helpers import PASSWORD

pytestmark = pytest.mark.bench
SUPPLIERS = int(os.environ.get("CONSOLE_BENCH_SUPPLIERS", "100"))
CHARACTERISTICS = 10
WEEKS = 104
RUNS = 50


def _caller(org_id: uuid.UUID, kind: OrgKind):  # type: ignore[no-untyped-def]
    from hub.auth.tokens import Caller

    return Caller(org_id=org_id, org_kind=kind, client_id="bench", scopes=frozenset())


def _agreement(supplier_id: uuid.UUID) -> AgreementCreate:
    body = agreement_body(supplier_id)
    body["characteristics"] = [
        {"code": f"DIA-{c:02d}", "part_number": "SH-1", "unit": "mm", "lsl": "24.98", "usl": "25.02"}
        for c in range(CHARACTERISTICS)
    ]
    return AgreementCreate.model_validate(body)


def _history(
    session: Session, *, oem_id: uuid.UUID, supplier_id: uuid.UUID, agreement_id: uuid.UUID, seed: int
) -> None:
    """Two years of weekly CPK reports per characteristic, as the ingest path stores them (one key, a signed
    envelope's shape), one multi-row INSERT per supplier."""
    key_id = f"bench-{supplier_id.hex[:12]}"
    session.add(
        OrgKey(
            key_id=key_id,
            organization_id=supplier_id,
            use="sig",
            algorithm="Ed25519",
            public_key=bytes(32),
        )
    )
    session.flush()
    rng = random.Random(seed)
    now = utcnow()
    this_week = period_containing(now, PeriodKind.WEEK)
    weeks = [this_week]
    while len(weeks) < WEEKS + 1:
        weeks.append(weeks[-1].previous())
    rows = []
    for period in reversed(weeks[1:]):
        for c in range(CHARACTERISTICS):
            value = Decimal(f"{rng.gauss(1.45, 0.12):.4f}")
            rows.append(
                {
                    "id": uuid7(),
                    "supplier_id": supplier_id,
                    "oem_id": oem_id,
                    "agreement_id": agreement_id,
                    "part_number": "SH-1",
                    "characteristic": f"DIA-{c:02d}",
                    "period": str(period),
                    "period_start": period.start,
                    "kpi": "cpk",
                    "meets": value >= Decimal("1.33"),
                    "value": value,
                    "threshold": Decimal("1.33"),
                    "disclosure": "value",
                    "key_id": key_id,
                    "nonce": uuid.uuid4().hex,
                    "signed_at": period.end,
                    "received_at": period.end + timedelta(hours=2),
                    "envelope": {"payload": {"period": str(period), "characteristic": f"DIA-{c:02d}"}},
                    "has_proof": False,
                }
            )
    session.execute(insert(KpiReport), rows)


def _network(session: Session) -> tuple[uuid.UUID, uuid.UUID]:
    oem = orgs.create_organization(
        session, actor="bench", data=OrganizationCreate(name="Bench OEM", kind=OrgKind.OEM)
    )
    first = None
    now = utcnow()
    for i in range(SUPPLIERS):
        supplier = orgs.create_organization(
            session, actor="bench", data=OrganizationCreate(name=f"Supplier {i:04d}", kind=OrgKind.SUPPLIER)
        )
        first = first or supplier.id
        agreement = agreements.propose(
            session, caller=_caller(oem.id, OrgKind.OEM), data=_agreement(supplier.id)
        )
        agreements.decide(
            session, caller=_caller(supplier.id, OrgKind.SUPPLIER), agreement_id=agreement.id, accept=True
        )
        _history(session, oem_id=oem.id, supplier_id=supplier.id, agreement_id=agreement.id, seed=i)
        # Acceptance opened the standing; the bench moves it to a spread of tiers.
        standing = session.scalars(
            select(Standing).where(Standing.oem_id == oem.id, Standing.supplier_id == supplier.id)
        ).one()
        standing.tier = "ABCD"[i % 4]
        session.flush()
        for step in range(3):
            session.add(
                StandingChange(
                    standing_id=standing.id,
                    at=now - timedelta(days=3 - step),
                    from_tier="A",
                    to_tier="ABCD"[i % 4],
                    from_status="approved",
                    to_status="approved",
                    reason="bench",
                    causes=[{"period": "2026-W01", "kpi": "cpk", "characteristic": "DIA-01", "value": "1.2"}],
                )
            )
    people.create_person(
        session,
        actor="bench",
        actor_org_id=None,
        org_id=oem.id,
        email="bench@oem.example",
        role="sqe",
        password=PASSWORD,
    )
    assert first is not None
    return oem.id, first


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


STATIC = Path(hub_console.__file__).parent / "static"


def test_script_and_style_shipped() -> None:
    """Everything the console's pages can load, uncompressed (the issue's budget: 250 KB)."""
    shipped = [path for path in STATIC.rglob("*") if path.suffix in {".js", ".css"}]
    total = sum(path.stat().st_size for path in shipped)
    print(f"\nscript and style shipped: {total / 1000:.1f} KB in {len(shipped)} files (goal: <= 250 KB)")
    assert total <= 250_000


def test_overview_and_scorecard_server_time(tmp_path: Path) -> None:
    url = _fresh_database_url(tmp_path, "console_bench")
    settings = make_settings(url)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    with make_session_factory(engine).begin() as session:
        _, supplier_id = _network(session)
    try:
        with make_session_factory(engine)() as session:

            def floor() -> None:
                columns = (KpiReport.characteristic, KpiReport.period, KpiReport.value, KpiReport.meets)
                query = select(*columns).where(KpiReport.supplier_id == supplier_id)
                rows = session.execute(query.order_by(KpiReport.period_start)).all()
                assert len(rows) == WEEKS * CHARACTERISTICS

            floor_median, floor_times, _ = median_ms(floor, RUNS, warmups=3)
            total = session.scalar(select(func.count()).select_from(KpiReport))
        print(
            f"\n{SUPPLIERS} suppliers, {total:,} reports; floor (one supplier's {WEEKS * CHARACTERISTICS} report"
            f" rows, a bare SELECT of the columns a chart needs): median {floor_median:.1f} ms, p95 {_p95(floor_times):.1f} ms"
        )
        with TestClient(create_app(settings), base_url="http://localhost:8000") as client:
            assert sign_in(client, "bench@oem.example").status_code == 303
            for path in ("/console/network", f"/console/suppliers/{supplier_id}"):

                def page(path: str = path) -> None:
                    assert client.get(path).status_code == 200

                median, times, _ = median_ms(page, RUNS, warmups=3)
                print(
                    f"{path.split('/')[2]:>10}: median {median:.1f} ms, p95 {_p95(times):.1f} ms"
                    f" ({median / floor_median:.1f}x the floor's median; goal: p95 <= 150 ms)"
                )
    finally:
        engine.dispose()
        _drop_database(url)
