"""`hub synth reports` at a tiny scale, on the test database (SQLite, or PostgreSQL with HUB_TEST_DATABASE_URL):
what it stored is what the batch endpoint would have stored, signed for real, its events numbered, and a seed
gives the same reports every time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from hub import migrate
from hub.config import get_settings
from hub.db import make_engine
from hub.models import AuditEntry, Event, KpiReport, OrgKey, WebhookDelivery
from hub.synth.shape import Shape
from protocol.signing import SignedEnvelope, public_key_from_raw, verify_envelope
from tests.conftest import _drop_database, _fresh_database_url, make_settings
from tests.hub.conftest import hub

OEMS, SUPPLIERS, CHARACTERISTICS, WEEKS = 2, 2, 3, 2
REPORTS = OEMS * SUPPLIERS * CHARACTERISTICS * WEEKS


def a_month_ago() -> str:
    """The first reported week: four weeks before the clock's today, so every week has ended."""
    return (datetime.now(UTC) - timedelta(weeks=4)).date().isoformat()


def synth(seed: int, start: str, *extra: str) -> dict[str, Any]:
    result = hub(
        "synth", "reports",
        "--oems", str(OEMS), "--suppliers", str(SUPPLIERS), "--characteristics", str(CHARACTERISTICS),
        "--weeks", str(WEEKS), "--seed", str(seed), "--start", start, "--json", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


@pytest.fixture
def second_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Another fresh, migrated database, for a second run of the same seed."""
    url = _fresh_database_url(tmp_path, "second")
    engine = make_engine(make_settings(url))
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    _drop_database(url)


def _values(database_url: str) -> list[tuple[str, str, str, str]]:
    """Each report as (its supplier's name, characteristic, period, value): what a seed decides."""
    from hub.models import Organization

    engine = create_engine(database_url)
    with Session(engine) as session:
        rows = session.execute(
            select(Organization.name, KpiReport.characteristic, KpiReport.period, KpiReport.value)
            .join(Organization, Organization.id == KpiReport.supplier_id)
            .order_by(Organization.name, KpiReport.characteristic, KpiReport.period)
        ).all()
    engine.dispose()
    return [(name, code, period, str(value)) for name, code, period, value in rows]


def test_a_tiny_run_stores_signed_reports_and_numbers_their_events(cli_read: Session) -> None:
    figures = synth(3, a_month_ago())

    assert (figures["reports"], figures["refused"]) == (REPORTS, 0)
    assert cli_read.scalar(select(func.count()).select_from(KpiReport)) == REPORTS
    tables = {row["table"]: row["rows"] for row in figures["tables"]}
    assert tables["kpi_reports"] == REPORTS
    # Each report is one event in each party's stream; the OEM's webhook wants every accepted report.
    accepted = cli_read.scalar(select(func.count()).where(Event.type == "kpi_report.accepted"))
    assert accepted == 2 * REPORTS == figures["events"]
    assert cli_read.scalar(select(func.count()).select_from(WebhookDelivery)) == REPORTS
    positions = list(cli_read.scalars(select(Event.position).order_by(Event.seq)))
    assert None not in positions
    assert positions == list(range(1, len(positions) + 1)), "numbered once each, in commit order, no gap"
    assert cli_read.scalar(select(func.count()).where(AuditEntry.seq.is_(None))) == 0, "the chain is sealed"

    for report in cli_read.scalars(select(KpiReport)):
        key = cli_read.get(OrgKey, report.key_id)
        assert key is not None and key.organization_id == report.supplier_id
        envelope = SignedEnvelope.model_validate(report.envelope)
        verify_envelope(envelope, public_key_from_raw(key.public_key))  # raises when it does not verify
        assert envelope.payload["characteristic"] == report.characteristic
    periods = {report.period for report in cli_read.scalars(select(KpiReport))}
    assert len(periods) == WEEKS


def test_the_same_seed_makes_the_same_reports_and_another_seed_others(
    cli_database: str, second_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = a_month_ago()
    first = synth(11, start)
    monkeypatch.setenv("HUB_DATABASE_URL", second_database)
    get_settings.cache_clear()
    again = synth(11, start)
    other = synth(12, start)  # another seed: other organization names, so the same database takes it

    assert first["digest"] == again["digest"] != other["digest"]
    assert _values(cli_database) == _values(second_database)[:REPORTS]
    assert len(set(_values(second_database))) == 2 * REPORTS


def test_bad_options_are_one_clear_error(cli_database: str) -> None:
    result = hub("synth", "reports", "--scale", "2", "--start", a_month_ago())
    assert result.exit_code == 2
    assert "scale must be in (0, 1]" in result.output
    result = hub("synth", "reports", "--scale", "0.001", "--start", "last tuesday")
    assert result.exit_code == 2
    assert "--start" in result.output


def test_scale_keeps_oems_and_characteristics_and_scales_the_suppliers() -> None:
    hundredth = Shape.at_scale(0.01, weeks=1)
    assert (hundredth.oems, hundredth.suppliers_per_oem, hundredth.characteristics) == (10, 100, 100)
    assert hundredth.reports_per_week == 100_000 and hundredth.fraction_of_full == 0.01
    assert Shape.at_scale(1, weeks=1).reports_per_week == 10**7
    assert Shape.at_scale(1e-9, weeks=1).suppliers_per_oem == 1
