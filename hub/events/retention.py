"""Events past retention: what is remembered of them, and what a reader resuming below them is told.

Before retention drops events it records, per organization, the highest position it drops
(:class:`hub.models.EventRetentionMark`) and deletes their webhook deliveries (nothing is left to deliver). A
reader that resumes at a position below the mark would silently miss events, so it gets 410 naming the first
position still retained instead; a reader without a cursor starts at the oldest retained event as before."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from hub.errors import Gone
from hub.models import Event, EventRetentionMark, WebhookDelivery


class EventsExpired(Gone):
    """The cursor is below what retention kept: events after it were dropped."""


def before_drop(session: Session, *, dropped: ColumnElement[bool], now: datetime) -> str | None:
    """Mark and clean up before the events ``dropped`` names go; a reason when they must not go yet."""
    unnumbered = session.scalar(
        select(func.count()).select_from(Event).where(dropped, Event.position.is_(None))
    )
    if unnumbered:
        return f"{unnumbered} events have no stream position yet"
    highest = session.execute(
        select(Event.organization_id, func.max(Event.position)).where(dropped).group_by(Event.organization_id)
    ).all()
    for org_id, highest_position in highest:
        position = int(highest_position or 0)
        mark = session.get(EventRetentionMark, org_id, with_for_update=True)
        if mark is None:
            session.add(EventRetentionMark(organization_id=org_id, dropped_through=position, updated_at=now))
        elif position > mark.dropped_through:
            mark.dropped_through, mark.updated_at = position, now
    session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.event_seq.in_(select(Event.seq).where(dropped))),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return None


def require_retained(session: Session, *, org_id: uuid.UUID, after: int) -> None:
    """Refuse (410) a cursor below the organization's retention mark."""
    mark = session.get(EventRetentionMark, org_id)
    if mark is None or after >= mark.dropped_through:
        return
    first = session.scalar(
        select(func.min(Event.position)).where(
            Event.organization_id == org_id, Event.position > mark.dropped_through
        )
    )
    oldest = f"the first retained position is {first}" if first is not None else "no later event is retained"
    raise EventsExpired(
        f"events after position {after} up to {mark.dropped_through} are past retention and were dropped; "
        f"{oldest}: resume with Last-Event-ID {mark.dropped_through}, or without a cursor from the oldest "
        "retained event"
    )
