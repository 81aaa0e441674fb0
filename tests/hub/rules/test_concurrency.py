"""Concurrent results for one supplier leave one consistent standing (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.engine import make_url

from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.db import make_engine, make_session_factory
from hub.kpis import service as kpis
from hub.models import Standing, StandingChange
from hub.orgs import service as orgs
from hub.rules import service as rules
from protocol.encoding import b64url_encode
from protocol.models.agreements import AgreementCreate
from protocol.models.common import KeyUse, OrgKind
from protocol.models.kpi import KPI_REPORT_TYPE, KpiClaim, KpiReportPayload, KpiReportSubmit
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.models.rules import STANDARD_RULE_TEMPLATE, RuleCreate
from protocol.periods import parse_period
from protocol.signing import public_key_raw, sign_envelope
from tests.conftest import make_settings
from tests.hub.kpis.conftest import LAST_WEEK

CHARACTERISTICS = 3


def test_concurrent_bad_results_for_one_supplier_each_take_a_tier(fresh_database: str) -> None:
    if make_url(fresh_database).get_backend_name() != "postgresql":
        pytest.skip("row-lock behaviour is PostgreSQL's; SQLite has a single writer")
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    key = Ed25519PrivateKey.generate()
    with factory.begin() as session:
        oem = orgs.create_organization(
            session, actor="t", data=OrganizationCreate(name="OEM", kind=OrgKind.OEM)
        )
        supplier = orgs.create_organization(
            session, actor="t", data=OrganizationCreate(name="S", kind=OrgKind.SUPPLIER)
        )
        as_oem = Caller(oem.id, OrgKind.OEM, "t", frozenset())
        as_supplier = Caller(supplier.id, OrgKind.SUPPLIER, "t", frozenset())
        signing = orgs.register_key(
            session,
            caller=as_supplier,
            data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(key))),
        )
        codes = [f"C{i}" for i in range(CHARACTERISTICS)]
        data = AgreementCreate.model_validate(
            {
                "supplier_id": str(supplier.id),
                "title": "t",
                "parts": [{"part_number": "P-1"}],
                "characteristics": [
                    {"code": c, "part_number": "P-1", "unit": "mm", "lsl": "1", "usl": "2"} for c in codes
                ],
                "kpis": [{"kpi": "cpk", "threshold": "1.33"}],
                "valid_from": date(2025, 1, 1).isoformat(),
            }
        )
        agreement = agreements.propose(session, caller=as_oem, data=data)
        agreements.decide(session, caller=as_supplier, agreement_id=agreement.id, accept=True)
        rules.create_rule(
            session,
            caller=as_oem,
            data=RuleCreate.model_validate({**STANDARD_RULE_TEMPLATE, "pattern": {"consecutive": 1}}),
        )
        ids = (oem.id, supplier.id, agreement.id, signing.key_id)

    period = str(parse_period(LAST_WEEK))
    barrier = threading.Barrier(CHARACTERISTICS)
    errors: list[BaseException] = []

    def submit(code: str) -> None:
        payload = KpiReportPayload(
            supplier_id=ids[1],
            oem_id=ids[0],
            agreement_id=ids[2],
            part_number="P-1",
            characteristic=code,
            period=period,
            kpi="cpk",
            claim=KpiClaim(meets=False, value="1.1", threshold="1.33"),
            sdk_version="t",
        )
        envelope = sign_envelope(payload, type=KPI_REPORT_TYPE, private_key=key, key_id=ids[3])
        try:
            barrier.wait(timeout=10)
            with factory.begin() as session:
                kpis.submit(
                    session,
                    caller=as_supplier,
                    submission=KpiReportSubmit(envelope=envelope),
                    idempotency_key=None,
                    now=datetime.now(UTC),
                    max_skew=timedelta(minutes=5),
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        with factory() as session:
            standing = session.scalars(select(Standing)).one()
            changes = session.scalars(select(StandingChange).order_by(StandingChange.id)).all()
        # Three bad results, three tiers: none lost to a concurrent update, and the history is one chain.
        assert standing.tier == "D"
        assert [(c.from_tier, c.to_tier) for c in changes] == [("A", "B"), ("B", "C"), ("C", "D")]
    finally:
        engine.dispose()
