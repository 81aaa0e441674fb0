"""The transactional outbox: publishing events with a change, and giving them their stream positions.

``publish`` runs inside the transaction of the change, so an event exists exactly when its change does.
``sequence`` runs after commit, in a job: it takes committed events in ``seq`` order under one lock (a
PostgreSQL advisory lock; SQLite has one writer) and numbers them 1, 2, 3… A reader that has seen position N
asks for positions above N and can never skip an event whose transaction committed late."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hub.models import Event
from hub.models.base import utcnow, uuid7

SEQUENCE_BATCH = 5000
_SEQUENCER_LOCK_ID = 0x51455654  # "QEVT"


def publish(
    session: Session, *, type: str, subject_id: str | uuid.UUID, views: dict[uuid.UUID, dict[str, Any]]
) -> list[Event]:
    """Write one event per recipient organization, each with that recipient's view of the payload."""
    now = utcnow()
    events = [
        Event(
            id=uuid7(),
            organization_id=org_id,
            type=type,
            subject_id=str(subject_id),
            payload=payload,
            occurred_at=now,
        )
        for org_id, payload in views.items()
    ]
    session.add_all(events)
    return events


def sequence(session: Session) -> list[Event]:
    """Number the committed, unnumbered events in ``seq`` order; returns them, numbered."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SEQUENCER_LOCK_ID})
    head = session.scalar(select(func.max(Event.position))) or 0
    batch = list(
        session.scalars(
            select(Event).where(Event.position.is_(None)).order_by(Event.seq).limit(SEQUENCE_BATCH)
        )
    )
    for offset, event in enumerate(batch, start=1):
        event.position = head + offset
    session.flush()
    return batch
