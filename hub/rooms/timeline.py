"""A room's timeline: its audit entries (every change in a room is audited on the room), oldest first."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.models import AuditEntry
from hub.rooms import access
from protocol.models import rooms as wire


def timeline(
    session: Session, *, caller: Caller, room_id: uuid.UUID, after: int | None, limit: int
) -> tuple[list[wire.TimelineEntry], int | None]:
    """Entries after the cursor ``after``; returns them and the cursor of the next page (None at the end)."""
    access.seat(session, caller=caller, room_id=room_id)
    query = select(AuditEntry).where(AuditEntry.subject_type == "room", AuditEntry.subject_id == str(room_id))
    if after is not None:
        query = query.where(AuditEntry.id > after)
    rows = session.scalars(query.order_by(AuditEntry.id).limit(limit + 1)).all()
    page = rows[:limit]
    entries = [
        wire.TimelineEntry(
            at=row.at,
            action=row.action.removeprefix("room."),
            organization_id=row.actor_org_id,
            data=row.data,
        )
        for row in page
    ]
    return entries, page[-1].id if len(rows) > limit else None
