"""The monthly partitions of the tables that age (PostgreSQL): which exist, making them ahead, dropping them.

A partition is ``<table>_yYYYYmMM`` and holds that calendar month (UTC) of the table's partition key;
``<table>_default`` takes any row no month holds, so an insert never fails for lack of a partition. A month whose
rows already sit in the default partition is not made (PostgreSQL would refuse): those rows age out of the default
partition by DELETE instead."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, column, literal, select, table, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from hub.models import AuditEntry, Event, PeriodOutcome, WebhookDelivery

_NAME = re.compile(r"^(?P<table>[a-z_]+)_y(?P<year>\d{4})m(?P<month>\d{2})$")
LOCK_TIMEOUT = "5s"  # DDL on a partitioned table waits for its lock at most this long, then tries next round


@dataclass(frozen=True)
class Aging:
    """A table that grows without bound: its partition key, and the time column its rows age by."""

    table: str
    setting: str  # the Settings field with its retention in days
    key: InstrumentedAttribute[Any]
    time_column: InstrumentedAttribute[Any]
    kind: str = "time"  # "time": the key is a timestamp; "uuid7": a UUIDv7, whose first 48 bits are its time


# In the order retention handles them: deliveries before the events they deliver.
TABLES = (
    Aging(
        "webhook_deliveries",
        "retention_webhook_deliveries_days",
        WebhookDelivery.id,
        WebhookDelivery.created_at,
        "uuid7",
    ),
    Aging("events", "retention_events_days", Event.occurred_at, Event.occurred_at),
    Aging("audit_entries", "retention_audit_entries_days", AuditEntry.at, AuditEntry.at),
    Aging(
        "period_outcomes",
        "retention_period_outcomes_days",
        PeriodOutcome.period_start,
        PeriodOutcome.period_start,
    ),
)


def month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def uuid7_floor(moment: datetime) -> uuid.UUID:
    """The smallest UUIDv7 of ``moment``'s millisecond: every id made at or after it is at least this."""
    return uuid.UUID(int=int(moment.timestamp() * 1000) << 80)


def bound(aging: Aging, moment: datetime) -> Any:
    return uuid7_floor(moment) if aging.kind == "uuid7" else moment


def in_month(aging: Aging, month: datetime) -> ColumnElement[bool]:
    """The rows of ``month``'s partition, as a predicate on the table (PostgreSQL prunes to that partition)."""
    lower, upper = bound(aging, month), bound(aging, add_months(month, 1))
    return (aging.key >= lower) & (aging.key < upper)


def partition_name(aging: Aging, month: datetime) -> str:
    return f"{aging.table}_y{month.year:04d}m{month.month:02d}"


def months(session: Session, aging: Aging) -> list[datetime]:
    """The months that have a partition, oldest first."""
    names = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table"
        ),
        {"table": aging.table},
    )
    found = []
    for name in names:
        match = _NAME.match(name)
        if match and match["table"] == aging.table:
            found.append(datetime(int(match["year"]), int(match["month"]), 1, tzinfo=UTC))
    return sorted(found)


def _literal(aging: Aging, moment: datetime) -> str:
    return f"'{bound(aging, moment)}'" if aging.kind == "uuid7" else f"'{moment.isoformat()}'"


def ensure_ahead(session: Session, aging: Aging, *, now: datetime, ahead: int) -> tuple[list[str], list[str]]:
    """Make the partitions of this month and ``ahead`` more; returns (made, skipped because the default holds
    rows of that month)."""
    have = set(months(session, aging))
    made, skipped = [], []
    this_month = month_start(now)
    for step in range(ahead + 1):
        month = add_months(this_month, step)
        if month in have:
            continue
        name = partition_name(aging, month)
        lower, upper = _literal(aging, month), _literal(aging, add_months(month, 1))
        default = table(default_partition(aging), column(aging.key.key, aging.key.type))
        key = default.c[aging.key.key]
        occupied = session.scalar(
            select(literal(1))
            .select_from(default)
            .where(key >= bound(aging, month), key < bound(aging, add_months(month, 1)))
            .limit(1)
        )
        if occupied:
            skipped.append(name)
            continue
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        session.execute(
            text(f"CREATE TABLE {name} PARTITION OF {aging.table} FOR VALUES FROM ({lower}) TO ({upper})")
        )
        made.append(name)
    return made, skipped


def detach_and_drop(session: Session, aging: Aging, month: datetime) -> str:
    name = partition_name(aging, month)
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    session.execute(text(f"ALTER TABLE {aging.table} DETACH PARTITION {name}"))
    session.execute(text(f"DROP TABLE {name}"))
    return name


def default_partition(aging: Aging) -> str:
    return f"{aging.table}_default"
