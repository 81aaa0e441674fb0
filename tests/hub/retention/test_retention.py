"""Retention: rows land in their month's partition, the job makes months ahead and drops expired ones (PostgreSQL)
or deletes expired rows (SQLite), the audit chain still verifies, and an events reader below retention hears 410.

Every moment here is an injected clock in 2040, never today's date."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hub.audit import service as audit
from hub.auth.tokens import TokenKeys
from hub.config import Settings, development_signing_key
from hub.db import insert_rows
from hub.events import service as events
from hub.models import AuditEntry, Event, Webhook, WebhookDelivery
from hub.retention import service as retention
from protocol.models.common import OrgKind
from tests.conftest import TEST_ISSUER
from tests.hub.conftest import Actor, hub, make_org

KEY = development_signing_key()
KEYS = TokenKeys(KEY, issuer=TEST_ISSUER)
SIGNER = retention.Signer(KEY, KEYS.key_id, TEST_ISSUER)
JAN, FEB, APR = (datetime(2040, m, 15, 12, 0, tzinfo=UTC) for m in (1, 2, 4))
BEFORE = datetime(2040, 1, 10, tzinfo=UTC)  # the clock when the partitions are made ahead
AFTER = datetime(2040, 5, 20, tzinfo=UTC)  # 60 days before is 2040-03-21: January and February expire


def on_postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


@pytest.fixture
def factory(db: Session) -> sessionmaker[Session]:
    """Sessions that join the test's transaction (each commit a savepoint), as the job's own would commit."""
    return sessionmaker(
        bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )


def aged(settings: Settings, **days: int | None) -> Settings:
    keep = {f"retention_{table}_days": None for table in ("events", "audit_entries", "period_outcomes")}
    keep["retention_webhook_deliveries_days"] = None
    keep.update({f"retention_{table}_days": value for table, value in days.items()})
    return settings.model_copy(update=keep)


def run(factory: sessionmaker[Session], settings: Settings, now: datetime) -> retention.Report:
    return retention.run(factory, settings=settings, now=now, signer=SIGNER)


def uuid7_at(moment: datetime) -> uuid.UUID:
    ms = int(moment.timestamp() * 1000)
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | (0b10 << 62) | random.getrandbits(62))


def event_at(db: Session, org_id: uuid.UUID, moment: datetime, n: int) -> None:
    row = {
        "id": uuid7_at(moment),
        "organization_id": org_id,
        "type": "test.aged",
        "subject_id": str(n),
        "payload": {"n": n},
        "occurred_at": moment,
    }
    insert_rows(db, Event, [row])


def audit_at(db: Session, moment: datetime, n: int) -> None:
    entry = AuditEntry(
        at=moment, actor="test", actor_org_id=None, action="test.aged", subject_type="test", subject_id=str(n)
    )
    entry.data = {"n": n}
    entry.leaf_hash = audit._leaf_hash(entry)
    audit.append(db, [entry])


def partition_of(db: Session, table: str, where: str, **params: Any) -> str:
    return str(db.scalar(text(f"SELECT tableoid::regclass::text FROM {table} WHERE {where}"), params))  # noqa: S608


def seal(db: Session) -> None:
    audit.seal(db, signing_key=KEY, key_id=KEYS.key_id, issuer=TEST_ISSUER)
    db.expire_all()


def verify(db: Session) -> audit.VerifyResult:
    db.expire_all()
    return audit.verify(db, public_keys=KEYS.public_keys, issuer=TEST_ISSUER)


# --- partitions ---------------------------------------------------------------------------------------------------


def test_the_job_makes_months_ahead_and_rows_land_in_their_months_partition(
    db: Session, factory: sessionmaker[Session], settings: Settings
) -> None:
    if not on_postgres(db):
        pytest.skip("partitions are PostgreSQL's; SQLite keeps one table")
    report = run(factory, aged(settings), BEFORE)
    for table in ("events", "audit_entries", "webhook_deliveries", "period_outcomes"):
        assert {f"{table}_y2040m0{m}" for m in (1, 2, 3, 4)} <= set(report.made)
    assert run(factory, aged(settings), BEFORE).made == []  # made once

    org = make_org(db, OrgKind.SUPPLIER)
    event_at(db, org.id, FEB, 1)
    event_at(db, org.id, datetime(2047, 6, 1, tzinfo=UTC), 2)  # no month made that far ahead
    audit_at(db, FEB, 1)
    webhook = Webhook(
        organization_id=org.id, url="https://example.test/hook", event_types=[], secret="s" * 32
    )
    db.add(webhook)
    db.flush()
    delivery = WebhookDelivery(id=uuid7_at(FEB), webhook_id=webhook.id, event_seq=1, created_at=FEB)
    db.add(delivery)
    db.flush()

    assert partition_of(db, "events", "subject_id = '1'") == "events_y2040m02"
    assert partition_of(db, "events", "subject_id = '2'") == "events_default"  # the safety net, not a failure
    assert (
        partition_of(db, "audit_entries", "subject_id = '1' AND action = 'test.aged'")
        == "audit_entries_y2040m02"
    )
    assert partition_of(db, "webhook_deliveries", "id = :id", id=delivery.id) == "webhook_deliveries_y2040m02"


def test_a_month_whose_rows_sit_in_the_default_partition_is_not_made(
    db: Session, factory: sessionmaker[Session], settings: Settings
) -> None:
    if not on_postgres(db):
        pytest.skip("partitions are PostgreSQL's")
    org = make_org(db, OrgKind.SUPPLIER)
    event_at(db, org.id, datetime(2040, 2, 3, tzinfo=UTC), 1)  # before its month exists: into DEFAULT
    db.commit()
    report = run(factory, aged(settings), BEFORE)
    assert "events_y2040m02" in report.skipped and "events_y2040m02" not in report.made
    assert "events_y2040m03" in report.made


# --- dropping what is past retention -------------------------------------------------------------------------------


@pytest.fixture
def aged_events(db: Session, factory: sessionmaker[Session], settings: Settings) -> dict[str, Any]:
    """Two organizations' events in January, February and April 2040, numbered, with one delivery each."""
    run(factory, aged(settings), BEFORE)
    org, other = make_org(db, OrgKind.SUPPLIER), make_org(db, OrgKind.OEM)
    for n, moment in enumerate((JAN, FEB, APR, JAN, APR)):
        event_at(db, org.id if n < 3 else other.id, moment, n)
    db.commit()
    events.sequence(db)
    webhook = Webhook(
        organization_id=org.id, url="https://example.test/hook", event_types=[], secret="s" * 32
    )
    db.add(webhook)
    db.flush()
    mine = list(db.scalars(select(Event).where(Event.type == "test.aged").order_by(Event.position)))
    for event in mine:
        db.add(
            WebhookDelivery(
                id=uuid7_at(event.occurred_at),
                webhook_id=webhook.id,
                event_seq=event.seq,
                status="delivered",
                created_at=event.occurred_at,
            )
        )
    db.commit()
    return {"org": org, "other": other, "events": mine, "webhook": webhook}


def aged_positions(db: Session) -> list[int]:
    db.expire_all()
    found = db.scalars(select(Event.position).where(Event.type == "test.aged").order_by(Event.position))
    return [int(p or 0) for p in found]


def test_expired_months_of_events_and_deliveries_go_and_the_rest_stays(
    db: Session, factory: sessionmaker[Session], settings: Settings, aged_events: dict[str, Any]
) -> None:
    positions = [int(e.position or 0) for e in aged_events["events"]]
    kept = [p for p, e in zip(positions, aged_events["events"], strict=True) if e.occurred_at == APR]

    report = run(factory, aged(settings, events=60, webhook_deliveries=60), AFTER)

    assert aged_positions(db) == kept
    if on_postgres(db):
        assert {"events_y2040m01", "events_y2040m02", "webhook_deliveries_y2040m01"} <= set(report.dropped)
        assert "events_y2040m04" not in report.dropped
        assert "events_y2040m08" in report.made  # three months ahead of the new clock
    else:
        assert report.deleted["events"] >= 3
    left = db.scalars(select(WebhookDelivery.created_at)).all()
    assert left and all(moment >= datetime(2040, 3, 1, tzinfo=UTC) for moment in left)
    assert run(factory, aged(settings, events=60, webhook_deliveries=60), AFTER).dropped == []


def test_a_table_without_retention_keeps_everything(
    db: Session, factory: sessionmaker[Session], settings: Settings, aged_events: dict[str, Any]
) -> None:
    before = aged_positions(db)
    report = run(factory, aged(settings, webhook_deliveries=60), AFTER)
    assert aged_positions(db) == before
    assert not [name for name in report.dropped if name.startswith("events_")]


def test_pending_deliveries_keep_their_month(
    db: Session, factory: sessionmaker[Session], settings: Settings, aged_events: dict[str, Any]
) -> None:
    db.execute(update(WebhookDelivery).where(WebhookDelivery.created_at == JAN).values(status="pending"))
    db.commit()
    report = run(factory, aged(settings, webhook_deliveries=60), AFTER)
    assert any("pending" in reason for reason in report.refused.values())
    assert db.scalar(select(WebhookDelivery.id).where(WebhookDelivery.created_at == JAN)) is not None


def test_unnumbered_events_are_not_dropped(
    db: Session, factory: sessionmaker[Session], settings: Settings, aged_events: dict[str, Any]
) -> None:
    event_at(db, aged_events["org"].id, JAN, 99)  # written but never given a stream position
    db.commit()
    report = run(factory, aged(settings, events=60), AFTER)
    assert any("no stream position" in reason for reason in report.refused.values())
    assert len(aged_positions(db)) == 6


# --- readers resuming below retention -------------------------------------------------------------------------------


@pytest.fixture
def streaming(app: FastAPI, client: TestClient, db: Session) -> TestClient:
    connection = db.connection()
    app.state.session_factory = lambda: Session(bind=connection, join_transaction_mode="create_savepoint")
    return client


def test_a_reader_resuming_below_retention_gets_410_naming_the_first_retained_position(
    db: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    aged_events: dict[str, Any],
    streaming: TestClient,
    supplier: Actor,
) -> None:
    # The supplier actor's organization owns the events: give them to it.
    org_id = aged_events["org"].id
    db.execute(update(Event).where(Event.organization_id == org_id).values(organization_id=supplier.org.id))
    db.commit()
    run(factory, aged(settings, events=60), AFTER)
    mine = [e for e in aged_events["events"] if e.organization_id == supplier.org.id]
    dropped_through = int(mine[1].position or 0)  # January and February went
    first_kept = int(mine[2].position or 0)

    headers = {**supplier.headers("events:read"), "Last-Event-ID": str(dropped_through - 1)}
    response = streaming.get("/v1/events", params={"once": "true"}, headers=headers)
    assert response.status_code == 410, response.text
    body = response.json()
    assert body["error"] == "EventsExpired"
    assert f"first retained position is {first_kept}" in body["detail"]
    assert f"Last-Event-ID {dropped_through}" in body["detail"]
    gone = streaming.get("/v1/events", params={"once": "true", "after": "0"}, headers=supplier.headers())
    assert gone.status_code == 410

    for cursor in ({}, {"after": str(dropped_through)}):  # no cursor: the oldest retained; at the mark: fine
        ok = streaming.get("/v1/events", params={"once": "true", **cursor}, headers=supplier.headers())
        assert ok.status_code == 200
        assert f"id: {first_kept}\n" in ok.text


# --- the audit chain across retention -------------------------------------------------------------------------------


@pytest.fixture
def aged_audit(db: Session, factory: sessionmaker[Session], settings: Settings) -> None:
    """Audit entries written in January, February and April 2040, sealed; one February entry is sealed after
    the April ones (a write that took its time stamp early and committed late)."""
    run(factory, aged(settings), BEFORE)
    for n, moment in enumerate((JAN, JAN, FEB, APR)):
        audit_at(db, moment, n)
    seal(db)
    audit_at(db, APR, 4)
    audit_at(db, FEB, 5)  # sealed after an April entry: seq 6, between kept seq 5 and 7
    audit_at(db, APR, 6)
    seal(db)
    db.commit()


def seqs(db: Session) -> list[int]:
    db.expire_all()
    return [int(s or 0) for s in db.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))]


def test_audit_verify_passes_after_retention_dropped_the_oldest_entries(
    db: Session, factory: sessionmaker[Session], settings: Settings, aged_audit: None
) -> None:
    assert seqs(db) == [1, 2, 3, 4, 5, 6, 7]
    report = run(factory, aged(settings, audit_entries=60), AFTER)
    assert not report.refused
    assert seqs(db) == [4, 5, 7]
    result = verify(db)
    assert result.ok, result.reason
    assert result.dropped == 4

    # The chain goes on from where it was: the sealer's head survives the retention.
    audit_at(db, datetime(2040, 5, 20, tzinfo=UTC), 7)
    seal(db)
    assert seqs(db) == [4, 5, 7, 8]
    assert verify(db).ok


def test_audit_verify_still_catches_a_kept_entry_tampered_with_or_removed(
    db: Session, factory: sessionmaker[Session], settings: Settings, aged_audit: None
) -> None:
    run(factory, aged(settings, audit_entries=60), AFTER)
    kept = db.scalars(select(AuditEntry).where(AuditEntry.seq == 5)).one()
    original = dict(kept.data)
    db.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(data={"n": 666}))
    result = verify(db)
    assert not result.ok and result.first_broken_seq == 5 and "leaf hash" in result.reason

    db.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(data=original))
    assert verify(db).ok
    db.execute(
        AuditEntry.__table__.delete().where(AuditEntry.seq == 5)
    )  # a kept entry removed: a gap no one signed
    result = verify(db)
    assert not result.ok and result.first_broken_seq == 7 and "gap" in result.reason


def test_a_forged_retention_checkpoint_is_caught(
    db: Session, factory: sessionmaker[Session], settings: Settings, aged_audit: None
) -> None:
    from hub.models import AuditRetentionCheckpoint

    run(factory, aged(settings, audit_entries=60), AFTER)
    db.execute(update(AuditRetentionCheckpoint).values(ranges=[[1, 5]]))  # claims 5 was dropped too
    db.execute(AuditEntry.__table__.delete().where(AuditEntry.seq == 5))
    result = verify(db)
    assert not result.ok and "retention checkpoint signature is invalid" in result.reason


def test_unsealed_entries_are_not_dropped(
    db: Session, factory: sessionmaker[Session], settings: Settings
) -> None:
    run(factory, aged(settings), BEFORE)
    audit_at(db, JAN, 0)
    db.commit()
    report = run(factory, aged(settings, audit_entries=60), AFTER)
    assert any("not sealed" in reason for reason in report.refused.values())
    assert db.scalar(select(AuditEntry.id).where(AuditEntry.action == "test.aged")) is not None


def test_status_says_what_each_table_keeps(
    db: Session, factory: sessionmaker[Session], settings: Settings, aged_events: dict[str, Any]
) -> None:
    found = {s.table: s for s in retention.status(db, settings=aged(settings, events=60), now=AFTER)}
    assert found["events"].retention_days == 60
    assert found["events"].boundary == datetime(2040, 3, 1, tzinfo=UTC)
    assert found["events"].past_retention >= 3
    assert found["audit_entries"].boundary is None
    if on_postgres(db):
        assert datetime(2040, 4, 1, tzinfo=UTC) in found["events"].months


# --- the command line ------------------------------------------------------------------------------------------------


def test_hub_retention_run_and_status(cli_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_RETENTION_EVENTS_DAYS", "60")
    first = hub("retention", "run", "--now", "2040-01-10")
    assert first.exit_code == 0, first.output
    if cli_database.startswith("postgresql"):
        assert "made partition events_y2040m04" in first.output
    again = hub("retention", "run", "--now", "2040-01-10")
    assert again.exit_code == 0 and "made partition" not in again.output

    status = hub("retention", "status", "--now", "2040-05-20")
    assert status.exit_code == 0, status.output
    lines = {line.split(":")[0]: line for line in status.output.splitlines()}
    assert "keeps 60 days, drops rows before 2040-03-01" in lines["events"]
    assert "keeps forever" in lines["audit_entries"]
    assert "keeps 90 days" in lines["webhook_deliveries"]


# --- period outcomes ---------------------------------------------------------------------------------------------------


def test_period_outcomes_land_by_period_start_keep_first_outcome_rule_and_age_out(
    db: Session, factory: sessionmaker[Session], settings: Settings
) -> None:
    from decimal import Decimal

    from hub.db import insert_or_ignore
    from hub.models import PeriodOutcome, SupplyAgreement
    from hub.rules.evaluation import _OUTCOME_CONFLICT

    run(factory, aged(settings), BEFORE)
    oem, supplier = make_org(db, OrgKind.OEM), make_org(db, OrgKind.SUPPLIER)
    agreement = SupplyAgreement(
        oem_id=oem.id,
        supplier_id=supplier.id,
        title="t",
        terms={},
        period="month",
        valid_from=JAN.date(),
        report_due_days=7,
    )
    db.add(agreement)
    db.flush()

    def outcome(period: str, start: datetime, met: bool) -> bool:
        values = {
            "id": uuid.uuid4(),
            "oem_id": oem.id,
            "supplier_id": supplier.id,
            "agreement_id": agreement.id,
            "part_number": "p",
            "characteristic": "c",
            "kpi": "cpk",
            "period": period,
            "period_start": start,
            "met": met,
            "missing": False,
            "value": None,
            "threshold": Decimal("1.33"),
            "report_id": None,
            "recorded_at": start,
        }
        return insert_or_ignore(db, PeriodOutcome, values, conflict=_OUTCOME_CONFLICT)

    jan, apr = datetime(2040, 1, 1, tzinfo=UTC), datetime(2040, 4, 1, tzinfo=UTC)
    assert outcome("2040-01", jan, True) and outcome("2040-04", apr, True)
    assert not outcome("2040-01", jan, False)  # the first outcome of a period stands
    if on_postgres(db):
        assert partition_of(db, "period_outcomes", "period = '2040-01'") == "period_outcomes_y2040m01"
    db.commit()

    run(factory, aged(settings, period_outcomes=60), AFTER)
    db.expire_all()
    assert db.scalars(select(PeriodOutcome.period)).all() == ["2040-04"]
