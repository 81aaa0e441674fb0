"""Retention: per table, keep rows for a number of days (whole months), then drop them.

A row goes once its whole calendar month (UTC) is older than the table's retention: the boundary is the start of
the month that holds ``now - days``, and everything before it goes. On PostgreSQL that is detaching and dropping
the month's partition (plus DELETEs of stray rows in the DEFAULT partition); on SQLite it is DELETEs in batches.
The same settings and the same boundary apply to both, so both keep the same rows.

Before rows go, the table's guard runs in the same transaction: audit entries are verified and a signed
retention checkpoint is written over them (so ``hub audit verify`` checks the rest); events get their
organizations' retention marks (so a reader resuming below them gets 410) and lose their webhook deliveries;
webhook deliveries still pending are never dropped. A guard that refuses stops that table for this round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnElement, column, delete, func, literal, literal_column, select, table
from sqlalchemy.orm import Session, sessionmaker

from hub.audit import retention as audit_retention
from hub.config import Settings
from hub.events import retention as events_retention
from hub.models import WebhookDelivery
from hub.retention import partitions
from hub.retention.partitions import TABLES, Aging


@dataclass(frozen=True)
class Signer:
    """The hub's key, for the signed retention checkpoints over dropped audit entries."""

    private_key: Ed25519PrivateKey
    key_id: str
    issuer: str


@dataclass
class Report:
    """What one round did."""

    made: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return len(self.made) + len(self.dropped) + sum(self.deleted.values())


def boundary(settings: Settings, aging: Aging, *, now: datetime) -> datetime | None:
    """Rows before this moment are past retention (None: the table keeps everything)."""
    days = getattr(settings, aging.setting)
    if days is None:
        return None
    return partitions.month_start(now - timedelta(days=days))


Guard = Callable[[Session, ColumnElement[bool], datetime], str | None]


def _guard(aging: Aging, *, now: datetime, signer: Signer) -> Guard:
    def audit(session: Session, dropped: ColumnElement[bool], cut: datetime) -> str | None:
        outcome = audit_retention.sign_over_dropped(
            session,
            dropped=dropped,
            boundary=cut,
            now=now,
            signing_key=signer.private_key,
            key_id=signer.key_id,
            issuer=signer.issuer,
        )
        return outcome.reason if isinstance(outcome, audit_retention.Refusal) else None

    def events(session: Session, dropped: ColumnElement[bool], _cut: datetime) -> str | None:
        return events_retention.before_drop(session, dropped=dropped, now=now)

    def deliveries(session: Session, dropped: ColumnElement[bool], _cut: datetime) -> str | None:
        pending = session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(dropped, WebhookDelivery.status == "pending")
        )
        return f"{pending} deliveries are still pending" if pending else None

    def nothing(_session: Session, _dropped: ColumnElement[bool], _cut: datetime) -> str | None:
        return None

    return {"audit_entries": audit, "events": events, "webhook_deliveries": deliveries}.get(
        aging.table, nothing
    )


def run(factory: sessionmaker[Session], *, settings: Settings, now: datetime, signer: Signer) -> Report:
    """One round over every table: make partitions ahead (PostgreSQL), then drop what is past retention."""
    report = Report()
    with factory() as probe:
        postgres = probe.get_bind().dialect.name == "postgresql"
    for aging in TABLES:
        if postgres:
            with factory.begin() as session:
                made, skipped = partitions.ensure_ahead(
                    session, aging, now=now, ahead=settings.retention_partitions_ahead
                )
            report.made += made
            report.skipped += skipped
        cut = boundary(settings, aging, now=now)
        if cut is None:
            continue
        guard = _guard(aging, now=now, signer=signer)
        if postgres and not _drop_partitions(factory, aging, cut=cut, guard=guard, report=report):
            continue
        _delete_rows(
            factory,
            aging,
            cut=cut,
            guard=guard,
            postgres=postgres,
            batch=settings.retention_batch,
            report=report,
        )
    return report


def _drop_partitions(
    factory: sessionmaker[Session], aging: Aging, *, cut: datetime, guard: Guard, report: Report
) -> bool:
    """Drop each month wholly before ``cut``, oldest first, one transaction each; False once a guard refuses."""
    with factory() as session:
        expired = [m for m in partitions.months(session, aging) if partitions.add_months(m, 1) <= cut]
    for month in expired:
        with factory.begin() as session:
            refusal = guard(session, partitions.in_month(aging, month), cut)
            if refusal is not None:  # guards refuse before they write
                report.refused[partitions.partition_name(aging, month)] = refusal
                return False
            report.dropped.append(partitions.detach_and_drop(session, aging, month))
    return True


def _delete_rows(
    factory: sessionmaker[Session],
    aging: Aging,
    *,
    cut: datetime,
    guard: Guard,
    postgres: bool,
    batch: int,
    report: Report,
) -> None:
    """DELETE the rows before ``cut`` in batches (SQLite; the DEFAULT partition on PostgreSQL), the guard first."""
    name = aging.time_column.key
    if postgres:  # ctid is unique within one table only: address the DEFAULT partition itself
        target: Any = table(partitions.default_partition(aging), column(name, aging.time_column.type))
        row: Any = literal_column("ctid")
    else:
        target, row = aging.time_column.class_.__table__, literal_column("rowid")
    expired = target.c[name] < cut
    statement = delete(target).where(row.in_(select(row).select_from(target).where(expired).limit(batch)))
    with factory() as session:
        if session.scalar(select(literal(1)).select_from(target).where(expired).limit(1)) is None:
            return
    deleted = 0
    with factory.begin() as session:
        refusal = guard(session, aging.time_column < cut, cut)
        if refusal is not None:
            report.refused[aging.table] = refusal  # guards refuse before they write
            return
        deleted += _rowcount(session.execute(statement))
    while deleted % batch == 0:
        with factory.begin() as session:
            count = _rowcount(session.execute(statement))
        deleted += count
        if count < batch:
            break
    report.deleted[aging.table] = deleted


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class TableStatus:
    table: str
    retention_days: int | None
    boundary: datetime | None
    months: list[datetime]
    past_retention: int  # rows before the boundary, still there


def status(session: Session, *, settings: Settings, now: datetime) -> list[TableStatus]:
    postgres = session.get_bind().dialect.name == "postgresql"
    found = []
    for aging in TABLES:
        cut = boundary(settings, aging, now=now)
        past = 0
        if cut is not None:
            past = int(
                session.scalar(
                    select(func.count())
                    .select_from(aging.key.class_)
                    .where(aging.key < partitions.bound(aging, cut))
                )
                or 0
            )
        found.append(
            TableStatus(
                table=aging.table,
                retention_days=getattr(settings, aging.setting),
                boundary=cut,
                months=partitions.months(session, aging) if postgres else [],
                past_retention=past,
            )
        )
    return found
