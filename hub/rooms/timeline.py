"""A room's timeline: its audit entries (every change in a room is audited on the room), oldest first."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.models import AuditEntry
from hub.pagination import keyset, page_of
from hub.rooms import access
from protocol.models import rooms as wire


def timeline(
    session: Session, *, caller: Caller, room_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[wire.TimelineEntry], str | None]:
    """Entries after the cursor in audit order (the audit log's sequence); returns them and the cursor of the
    next page (None at the end)."""
    access.seat(session, caller=caller, room_id=room_id)
    query = select(AuditEntry).where(AuditEntry.subject_type == "room", AuditEntry.subject_id == str(room_id))
    rows = session.scalars(keyset(query, AuditEntry.id, cursor=cursor, limit=limit, kind=int)).all()
    page, next_cursor = page_of(rows, limit, last_id=lambda row: row.id)
    entries = [
        wire.TimelineEntry(
            at=row.at,
            action=row.action.removeprefix("room."),
            organization_id=row.actor_org_id,
            data=row.data,
        )
        for row in page
    ]
    return entries, next_cursor
