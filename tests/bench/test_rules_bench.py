"""Rule evaluation cost per report with 1,000 rules in force for one OEM.

    pytest tests/bench/test_rules_bench.py -s -p no:cacheprovider --override-ini addopts=
    HUB_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/qualink pytest tests/bench/test_rules_bench.py ...

Measured: recording one period outcome and evaluating the rules on it (the work a KPI report adds for the rules),
inside one transaction, the database included. Two shapes of 1,000 rules in force for one OEM:

- spread: 10 OEM-wide rules and 990 rules scoped to one of 99 suppliers each (10 per supplier) — how rule sets
  grow in practice; a report meets the 10 OEM-wide rules and its own supplier's 10;
- all-in-scope: every one of the 1,000 rules watches every report (the worst case).

The rules use 20 distinct CEL conditions, patterns of 2 to 6 periods and recoveries.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hub import migrate
from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.db import make_engine, make_session_factory
from hub.models import RuleVersion, StandingChange
from hub.models.base import uuid7
from hub.orgs import service as orgs
from hub.rules import evaluation
from protocol.models.agreements import AgreementCreate
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from protocol.periods import Period
from tests.conftest import create_postgres_database, make_settings

RULES = 1000
REPORTS = 300


def _database(tmp: Path) -> str:
    base = os.environ.get("HUB_TEST_DATABASE_URL")
    return create_postgres_database(base, "rulesbench") if base else f"sqlite:///{tmp / 'rules.db'}"


@pytest.mark.bench
@pytest.mark.parametrize("shape", ["spread", "all-in-scope"])
def test_rule_evaluation_cost_per_report_with_1000_rules(tmp_path: Path, shape: str) -> None:
    settings = make_settings(_database(tmp_path))
    engine = make_engine(settings)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    with factory.begin() as session:
        oem = orgs.create_organization(
            session, actor="b", data=OrganizationCreate(name="OEM", kind=OrgKind.OEM)
        )
        supplier = orgs.create_organization(
            session, actor="b", data=OrganizationCreate(name="S", kind=OrgKind.SUPPLIER)
        )
        as_oem = Caller(oem.id, OrgKind.OEM, "b", frozenset())
        data = AgreementCreate.model_validate(
            {
                "supplier_id": str(supplier.id),
                "title": "b",
                "parts": [{"part_number": "P"}],
                "characteristics": [{"code": "C", "part_number": "P", "unit": "mm", "lsl": "1", "usl": "2"}],
                "kpis": [{"kpi": "cpk", "threshold": "1.33"}],
                "valid_from": date(2000, 1, 1).isoformat(),
            }
        )
        agreement = agreements.propose(session, caller=as_oem, data=data)
        others = [uuid.uuid4() for _ in range(99)]
        for i in range(RULES):
            scoped = shape == "spread" and i >= 10
            watched = [str(supplier.id if i % 99 == 0 else others[i % 99])] if scoped else []
            definition = {
                "name": f"rule {i}",
                "scope": {"kpis": ["cpk"], "suppliers": watched},
                "condition": f"missing || (has_value && value < {1.0 + (i % 20) / 50:.2f})",
                "pattern": {"consecutive": 2 + i % 5} if i % 2 else {"k_of_last": [2, 3 + i % 4]},
                "actions": [{"type": "lower_tier"}, {"type": "notify", "role": "purchasing"}],
                "recovery": {"good_periods": 3},
                "status": "active",
            }
            rule_id = uuid7()
            from hub.models import Rule

            session.add(Rule(id=rule_id, oem_id=oem.id, name=definition["name"], status="active", version=1))
            session.add(
                RuleVersion(
                    rule_id=rule_id,
                    oem_id=oem.id,
                    version=1,
                    definition=definition,
                    valid_from=now,
                    created_by="b",
                )
            )
    series = evaluation.Series(oem.id, supplier.id, agreement.id, "P", "C", "cpk")
    judging: list[float] = []  # the rules' own work: judging every watching rule and combining the verdicts
    real_judge_all, real_combine = evaluation.judge_all, evaluation.combine

    def timed(function):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                judging.append(time.perf_counter() - started)

        return run

    evaluation.judge_all, evaluation.combine = timed(real_judge_all), timed(real_combine)
    period = Period.week(2010, 1)
    timings, evaluations = [], []
    for i in range(REPORTS):
        value = Decimal("1.1") if (i // 4) % 2 else Decimal("1.6")  # runs of bad and good weeks
        started = time.perf_counter()
        with factory.begin() as session:
            recorded = evaluation.record_outcome(
                session,
                series=series,
                period=period,
                met=value >= Decimal("1.33"),
                missing=False,
                value=value,
                threshold=Decimal("1.33"),
                report_id=None,
                now=now,
            )
            evaluating = time.perf_counter()
            evaluation.evaluate(session, series=series, now=now, recorded=recorded)
            session.flush()
            evaluations.append(time.perf_counter() - evaluating)
        timings.append(time.perf_counter() - started)
        period = period.next()
    evaluation.judge_all, evaluation.combine = real_judge_all, real_combine
    with factory() as session:
        changes = session.query(StandingChange).count()
    engine.dispose()

    def p(values: list[float], q: float) -> float:
        ordered = sorted(values[20:])  # the first few fill the per-process rule cache
        return ordered[int(len(ordered) * q)] * 1000

    print(
        f"\n{RULES} rules in force ({shape}, {engine.dialect.name}): evaluate {p(evaluations, 0.5):.2f} ms p50 /"
        f" {p(evaluations, 0.99):.2f} ms p99; whole transaction (record, evaluate, apply, commit)"
        f" {p(timings, 0.5):.2f} ms p50 / {p(timings, 0.99):.2f} ms p99; judging and combining alone"
        f" {p(judging, 0.5):.3f} ms p50 / {p(judging, 0.99):.3f} ms p99; {changes} standing changes"
    )
    assert changes > 0
