"""The notification inbox of an organization: read it filtered (role, kind, state, free text), mark a
notification done and reopen it.

The inbox is the organization's, not one person's: done means someone dealt with it, and everyone sees who.
Marking done twice keeps the first mark (two people clicking at once is not an error); reopening clears it.
Each change is audited and published (``notification.updated``), so every open inbox page refreshes."""

from __future__ import annotations

import uuid

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.errors import InvalidInput, NotFound
from hub.events import service as events
from hub.models import InboxNotification
from hub.models.base import utcnow
from hub.pagination import keyset, page_of
from hub.rules import standings
from protocol.models import rules as wire

MAX_QUERY = 200  # characters of free text; longer is refused, not cut


def list_inbox(
    session: Session,
    *,
    caller: Caller,
    role: wire.RecipientRole | None = None,
    kind: str | None = None,
    q: str | None = None,
    state: wire.InboxState | None = None,
    cursor: str | None = None,
    limit: int,
) -> tuple[list[InboxNotification], str | None]:
    """The caller's organization's notifications, newest first (ids are UUIDv7), narrowed by each filter given.

    ``q`` matches, case-insensitively, anywhere in the title, the kind or the body's text."""
    query = select(InboxNotification).where(InboxNotification.organization_id == caller.org_id)
    if role is not None:
        query = query.where(InboxNotification.role == role.value)
    if kind:
        query = query.where(InboxNotification.kind == kind)
    if state is wire.InboxState.OPEN:
        query = query.where(InboxNotification.done_at.is_(None))
    elif state is wire.InboxState.DONE:
        query = query.where(InboxNotification.done_at.is_not(None))
    if q:
        if len(q) > MAX_QUERY:
            raise InvalidInput(f"q: at most {MAX_QUERY} characters", loc="query.q")
        query = query.where(
            or_(
                InboxNotification.title.icontains(q, autoescape=True),
                InboxNotification.kind.icontains(q, autoescape=True),
                cast(InboxNotification.body, String).icontains(q, autoescape=True),
            )
        )
    query = keyset(query, InboxNotification.id, cursor=cursor, limit=limit, newest_first=True)
    return page_of(list(session.scalars(query)), limit, last_id=lambda row: row.id)


def kinds(session: Session, *, caller: Caller) -> list[str]:
    """The kinds of notification the organization's inbox holds, for a filter's choices."""
    query = (
        select(InboxNotification.kind)
        .where(InboxNotification.organization_id == caller.org_id)
        .distinct()
        .order_by(InboxNotification.kind)
    )
    return list(session.scalars(query))


def _own(session: Session, *, caller: Caller, notification_id: uuid.UUID) -> InboxNotification:
    found = session.scalar(
        select(InboxNotification)
        .where(InboxNotification.id == notification_id, InboxNotification.organization_id == caller.org_id)
        .with_for_update()
    )
    if found is None:
        raise NotFound(f"no inbox notification {notification_id}")
    return found


def mark_done(session: Session, *, caller: Caller, notification_id: uuid.UUID) -> InboxNotification:
    found = _own(session, caller=caller, notification_id=notification_id)
    if found.done_at is None:
        found.done_at, found.done_by = utcnow(), caller.actor
        _changed(session, caller, found, "inbox_notification.done")
    return found


def reopen(session: Session, *, caller: Caller, notification_id: uuid.UUID) -> InboxNotification:
    found = _own(session, caller=caller, notification_id=notification_id)
    if found.done_at is not None:
        found.done_at, found.done_by = None, None
        _changed(session, caller, found, "inbox_notification.reopened")
    return found


def _changed(session: Session, caller: Caller, found: InboxNotification, action: str) -> None:
    session.flush()
    audit.record_for(session, caller, action=action, subject_type="inbox_notification", subject_id=found.id)
    events.publish(
        session,
        type="notification.updated",
        subject_id=found.id,
        views={found.organization_id: as_wire(found).model_dump(mode="json")},
    )


# One wire shape for a notification, whether it is new (the rules) or changed here.
as_wire = standings.notification_as_wire
