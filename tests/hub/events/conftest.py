"""Reading what the outbox holds for an organization, and the Reporting fixture the events tests drive."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Event
from tests.hub.kpis.conftest import reporting

__all__ = ["events_for", "reporting"]


def events_for(db: Session, org_id: uuid.UUID, type: str | None = None) -> list[Event]:
    """The organization's events in the order they were written."""
    query = select(Event).where(Event.organization_id == org_id)
    if type is not None:
        query = query.where(Event.type == type)
    return list(db.scalars(query.order_by(Event.seq)))
