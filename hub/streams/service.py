"""Which organizations publish their events to NATS JetStream, under which subjects, and the bridge's cursor.

An organization opts in with a subject prefix; its events go to ``<prefix>.<event type>``. Two organizations'
prefixes never overlap (neither is a token-prefix of the other), so a NATS user allowed ``<prefix>.>`` reads one
organization's events and nobody else's. A new opt-in starts at the organization's newest event, as a new webhook
does; the cursor then moves only forward, and only after JetStream acknowledged (``advance``).

``opted_in`` and ``advance`` serve every platform's table (``NatsStream``, ``KafkaStream``): the cursor logic is
written once; :mod:`hub.streams.topics` holds the Kafka opt-ins."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.errors import Conflict, InvalidInput
from hub.models import KafkaStream, NatsStream
from hub.streams import opt_ins
from protocol.models import streams as schemas

STREAM_PREFIX = "QUALINK_"

Opt = type[NatsStream] | type[KafkaStream]
"""A platform's opt-in table: a row per organization with its cursor (``position``, ``published_at``)."""


def stream_name(org_id: uuid.UUID) -> str:
    """The JetStream stream that holds one organization's subjects (names may not contain ``.``, ``*``, ``>``)."""
    return f"{STREAM_PREFIX}{org_id.hex.upper()}"


def _overlaps(one: str, other: str) -> bool:
    a, b = one.split("."), other.split(".")
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def check_prefix(
    session: Session, *, org_id: uuid.UUID, prefix: str, loc: str = "body.subject_prefix"
) -> None:
    """Well-formed, and overlapping no other organization's prefix (a subscription to one would see the other)."""
    if not re.match(schemas.SUBJECT_PREFIX, prefix) or len(prefix) > 200:
        raise InvalidInput(
            "subject_prefix must be dot-separated tokens of letters, digits, '_' and '-' (no wildcards)",
            loc=loc,
        )
    others = session.scalars(select(NatsStream.subject_prefix).where(NatsStream.organization_id != org_id))
    if any(_overlaps(prefix, other) for other in others):
        raise Conflict(f"subject_prefix '{prefix}' overlaps another organization's subjects")


NATS = opt_ins.Platform(
    table=NatsStream,
    column="subject_prefix",
    audit_as="nats_stream",
    absent="your organization does not publish to NATS",
    check=lambda session, org_id, prefix: check_prefix(session, org_id=org_id, prefix=prefix),
)


def put_stream(
    session: Session, *, org_id: uuid.UUID, prefix: str, actor: str, actor_org_id: uuid.UUID | None
) -> tuple[NatsStream, bool]:
    """Opt in, or rename the subjects of an existing opt-in (its cursor stays). Returns the row and whether it is new."""
    return opt_ins.put(session, NATS, org_id=org_id, name=prefix, actor=actor, actor_org_id=actor_org_id)


def get_stream(session: Session, *, org_id: uuid.UUID) -> NatsStream:
    return opt_ins.get(session, NATS, org_id=org_id)


def remove_stream(session: Session, *, org_id: uuid.UUID, actor: str, actor_org_id: uuid.UUID | None) -> None:
    """Opt out: the bridge publishes nothing more for the organization (what JetStream holds stays there)."""
    opt_ins.remove(session, NATS, org_id=org_id, actor=actor, actor_org_id=actor_org_id)


def opted_in(session: Session, table: Opt = NatsStream) -> list[Any]:
    """Every organization opted in to the platform of ``table``, oldest opt-in first."""
    return list(session.scalars(select(table).order_by(table.created_at)))


def advance(
    session: Session, *, org_id: uuid.UUID, position: int, at: datetime, table: Opt = NatsStream
) -> None:
    """Move the cursor forward to ``position`` (never back: a slower bridge replica cannot undo a faster one)."""
    session.execute(
        update(table)
        .where(table.organization_id == org_id, table.position < position)
        .values(position=position, published_at=at, updated_at=at)
    )


def as_wire(stream: NatsStream) -> schemas.NatsStream:
    return schemas.NatsStream(
        subject_prefix=stream.subject_prefix,
        stream=stream_name(stream.organization_id),
        position=stream.position,
        published_at=stream.published_at,
        created_at=stream.created_at,
    )
