"""The transactional outbox: publishing events with a change, and giving them their stream positions.

``publish`` runs inside the transaction of the change, so an event exists exactly when its change does.
``sequence`` runs after commit, in a job: it takes committed events in ``seq`` order under one lock (a
PostgreSQL advisory lock; SQLite has one writer) and numbers them 1, 2, 3… A reader that has seen position N
asks for positions above N and can never skip an event whose transaction committed late.

Delivery is at least once. A stream reader that reconnects with ``Last-Event-ID`` may be sent the event it
was reading when the connection dropped, and a webhook delivery whose answer was lost is tried again. Each
event keeps one ``id`` (a UUID, per recipient) wherever and however often it is delivered, so a receiver
deduplicates by that id; ``position`` orders a recipient's events and is the stream's resume cursor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.db import insert_rows, take_turn
from hub.mail import outbox as mail_outbox
from hub.models import Event
from hub.models.base import utcnow, uuid7
from protocol.models.events import EventMessage

SEQUENCE_BATCH = 5000
PUBLISHED = "events_published"  # session.info flag: this transaction published events (see sequencer.py)
_SEQUENCER_LOCK_ID = 0x51455654  # "QEVT"
_INSERTED = ("id", "organization_id", "type", "subject_id", "payload", "occurred_at")


def publish(
    session: Session, *, type: str, subject_id: str | uuid.UUID, views: dict[uuid.UUID, dict[str, Any]]
) -> list[Event]:
    """Write one event per recipient organization, each with that recipient's view of the payload."""
    return publish_many(session, [Publication(type, subject_id, views)])


@dataclass(frozen=True)
class Publication:
    """One change to publish: its event type, its subject and each recipient's view of it."""

    type: str
    subject_id: str | uuid.UUID
    views: dict[uuid.UUID, dict[str, Any]]


def publish_many(session: Session, publications: Sequence[Publication]) -> list[Event]:
    """:func:`publish` for several changes of one transaction, in their order, with one INSERT for all."""
    now = utcnow()
    events = [
        Event(
            id=uuid7(),
            organization_id=org_id,
            type=publication.type,
            subject_id=str(publication.subject_id),
            payload=payload,
            occurred_at=now,
        )
        for publication in publications
        for org_id, payload in publication.views.items()
    ]
    if not events:
        return events
    # One INSERT of every recipient's row, now: a unit-of-work flush cost more CPU than the report it described.
    # Past the session, so a caller's pending rows still flush (and fail) where it flushes.
    insert_rows(
        session, Event, [{column: getattr(event, column) for column in _INSERTED} for event in events]
    )
    mail_outbox.queue_for_events(session, events)  # mail for what people must not miss, in this transaction
    # This process's sequencer wakes on commit (sequencer.wake_on_publish); other processes' sequencers hear the
    # events table's trigger (PostgreSQL: NOTIFY events_published, migration 5b1e0c7d3f21), without a statement.
    session.info[PUBLISHED] = True
    return events


def sequence(session: Session) -> list[Event]:
    """Number the committed, unnumbered events in ``seq`` order; returns them, numbered."""
    take_turn(session, _SEQUENCER_LOCK_ID)
    head = session.scalar(select(func.max(Event.position))) or 0
    # One statement numbers the whole batch (one UPDATE per event was two statements per KPI report).
    numbered = (
        select(Event.seq, (head + func.row_number().over(order_by=Event.seq)).label("position"))
        .where(Event.position.is_(None))
        .order_by(Event.seq)
        .limit(SEQUENCE_BATCH)
        .subquery()
    )
    batch = session.scalars(
        update(Event)
        .where(Event.seq == numbered.c.seq)
        .values(position=numbered.c.position)
        .returning(Event),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted(batch, key=lambda event: event.position or 0)


STREAM_BATCH = 500


def positioned_after(
    session: Session,
    *,
    org_id: uuid.UUID,
    after: int,
    types: Sequence[str] | None = None,
    limit: int = STREAM_BATCH,
) -> list[Event]:
    """The organization's numbered events with a position above ``after``, in position order."""
    query = select(Event).where(
        Event.organization_id == org_id, Event.position.is_not(None), Event.position > after
    )
    if types:
        query = query.where(Event.type.in_(list(types)))
    return list(session.scalars(query.order_by(Event.position).limit(limit)))


def head_position(session: Session, *, org_id: uuid.UUID) -> int:
    """The position of the organization's newest numbered event (0 for none): a live view that has just read
    the current state streams from here on, instead of replaying the whole history."""
    query = select(func.max(Event.position)).where(Event.organization_id == org_id)
    return int(session.scalar(query) or 0)


def as_message(event: Event) -> dict[str, Any]:
    """The event as the stream and webhooks carry it: an ``EventMessage`` as JSON."""
    return EventMessage(
        id=event.id,
        type=event.type,
        occurred_at=event.occurred_at,
        subject_id=event.subject_id,
        payload=event.payload,
    ).model_dump(mode="json")
