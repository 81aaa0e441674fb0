"""An organization's opt-in to one stream platform, written once for every platform's table.

A platform (NATS subjects, a Kafka topic) names where an organization's events go in one column of its opt-in
table; opting in starts the cursor at the organization's newest event, as a new webhook does, renaming keeps the
cursor, opting out deletes the row (what the platform already holds stays there). Each change is audited as
``<platform>_stream.opted_in|renamed|opted_out`` with the name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.errors import NotFound
from hub.events import service as events
from hub.models import KafkaStream, NatsStream
from hub.models.base import utcnow

Row = Any  # a NatsStream or a KafkaStream row


@dataclass(frozen=True)
class Platform:
    table: type[NatsStream] | type[KafkaStream]
    column: str  # the column that names the destination: "subject_prefix", "topic"
    audit_as: str  # the audit actions' prefix: "nats_stream", "kafka_stream"
    absent: str  # the 404's words when the organization has not opted in
    check: Callable[[Session, uuid.UUID, str], None]  # refuses a malformed or colliding name


def put(
    session: Session,
    platform: Platform,
    *,
    org_id: uuid.UUID,
    name: str,
    actor: str,
    actor_org_id: uuid.UUID | None,
) -> tuple[Row, bool]:
    """Opt in, or rename an existing opt-in (its cursor stays). Returns the row and whether it is new."""
    platform.check(session, org_id, name)
    row: Row = session.get(platform.table, org_id)
    created = row is None
    if row is None:
        row = platform.table(organization_id=org_id, position=events.head_position(session, org_id=org_id))
        setattr(row, platform.column, name)
        session.add(row)
    elif getattr(row, platform.column) == name:
        return row, False
    else:
        setattr(row, platform.column, name)
        row.updated_at = utcnow()
    session.flush()
    _audit(session, platform, "opted_in" if created else "renamed", org_id, name, actor, actor_org_id)
    return row, created


def get(session: Session, platform: Platform, *, org_id: uuid.UUID) -> Row:
    row = session.get(platform.table, org_id)
    if row is None:
        raise NotFound(platform.absent)
    return row


def remove(
    session: Session, platform: Platform, *, org_id: uuid.UUID, actor: str, actor_org_id: uuid.UUID | None
) -> None:
    """Opt out: the bridge publishes nothing more for the organization."""
    row = get(session, platform, org_id=org_id)
    name = getattr(row, platform.column)
    session.delete(row)
    session.flush()
    _audit(session, platform, "opted_out", org_id, name, actor, actor_org_id)


def _audit(
    session: Session,
    platform: Platform,
    what: str,
    org_id: uuid.UUID,
    name: str,
    actor: str,
    actor_org_id: uuid.UUID | None,
) -> None:
    audit.record(
        session,
        actor=actor,
        actor_org_id=actor_org_id,
        action=f"{platform.audit_as}.{what}",
        subject_type="organization",
        subject_id=org_id,
        data={platform.column: name},
    )
