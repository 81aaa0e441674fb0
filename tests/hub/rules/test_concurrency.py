"""Concurrent results for one supplier leave one consistent standing (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from hub.db import make_engine, make_session_factory
from hub.kpis import service as kpis
from hub.kpis.attestation import Binding
from hub.models import Standing, StandingChange
from hub.rules import service as rules
from protocol.models.kpi import KpiReportSubmit
from protocol.models.rules import STANDARD_RULE_TEMPLATE, RuleCreate
from tests.conftest import make_settings
from tests.network import build_network

CHARACTERISTICS = ["C0", "C1", "C2"]


def test_concurrent_bad_results_for_one_supplier_each_take_a_tier(fresh_database: str) -> None:
    if make_url(fresh_database).get_backend_name() != "postgresql":
        pytest.skip("row-lock behaviour is PostgreSQL's; SQLite has a single writer")
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    network = build_network(factory, characteristics=CHARACTERISTICS)
    with factory.begin() as session:
        rule = {**STANDARD_RULE_TEMPLATE, "pattern": {"consecutive": 1}}
        rules.create_rule(session, caller=network.as_oem, data=RuleCreate.model_validate(rule))

    barrier = threading.Barrier(len(CHARACTERISTICS))
    errors: list[BaseException] = []

    def submit(code: str) -> None:
        envelope = network.envelope(network.payload(code, value="1.1"))
        try:
            barrier.wait(timeout=10)
            with factory.begin() as session:
                kpis.submit(
                    session,
                    caller=network.as_supplier,
                    submission=KpiReportSubmit(envelope=envelope),
                    idempotency_key=None,
                    now=datetime.now(UTC),
                    max_skew=timedelta(minutes=5),
                    binding=Binding(hub="test", nonce_key=b"k" * 32),
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(code,)) for code in CHARACTERISTICS]
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
