"""Who may see and do what in a room, and the one way every room change is audited and evented.

An organization that is not a member, or was removed, sees nothing of the room: 404 everywhere. An invited
organization sees the room and its members and may accept or leave; it reads and writes nothing else until it
accepts. Observers read; contributors and the owner write; only the owner runs the room (invites, removes,
closes). A closed room reads and exports, and refuses every write with 409.

Every change is an audit entry on the room (subject ``room``/<room id>, so the timeline is the room's audit
trail) and one event per accepted member organization, in the change's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.errors import Forbidden, NotFound
from hub.events import service as events
from hub.models import Organization, Room, RoomAnnotation, RoomDataset, RoomMember
from hub.rooms.errors import RoomClosed
from protocol.models.rooms import RoomRole, RoomStatus

HUB_ACTOR = "hub:rooms"

RoomContent = TypeVar("RoomContent", RoomDataset, RoomAnnotation)


@dataclass(frozen=True)
class Seat:
    """A room and the caller's membership in it."""

    room: Room
    member: RoomMember

    @property
    def role(self) -> RoomRole:
        return RoomRole(self.member.role)

    @property
    def is_owner(self) -> bool:
        return self.member.role == RoomRole.OWNER.value


def member_of(session: Session, room_id: uuid.UUID, org_id: uuid.UUID) -> RoomMember | None:
    """The organization's current (not removed) membership in the room."""
    member = session.scalar(
        select(RoomMember).where(RoomMember.room_id == room_id, RoomMember.organization_id == org_id)
    )
    if member is None or member.removed_at is not None:
        return None
    return member


def in_room(
    session: Session, model: type[RoomContent], room_id: uuid.UUID, row_id: uuid.UUID
) -> RoomContent | None:
    """The room's dataset or annotation with this id; another room's is not there (its id says nothing here)."""
    row = session.get(model, row_id)
    return row if row is not None and row.room_id == room_id else None


def org_names(session: Session, org_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(org_ids)))
    return {org_id: name for org_id, name in rows}


def current_members(session: Session, room_id: uuid.UUID) -> list[RoomMember]:
    """Invited and accepted members, owner first."""
    rows = session.scalars(
        select(RoomMember)
        .where(RoomMember.room_id == room_id, RoomMember.removed_at.is_(None))
        .order_by(RoomMember.invited_at, RoomMember.id)
    )
    return sorted(rows, key=lambda m: m.role != RoomRole.OWNER.value)


def seat(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    accepted: bool = True,
    write: bool = False,
    owner: bool = False,
    lock: Literal["share", "update"] | None = None,
) -> Seat:
    """The caller's seat in the room, or the error that says why it may not do this.

    ``write`` refuses observers and closed rooms; ``owner`` refuses everyone but the owner. On PostgreSQL
    ``lock`` takes the room row FOR SHARE (writes into datasets: uploads run side by side) or FOR UPDATE
    (closing, membership), so a closing waits for the uploads in flight and shreds what they stored, and no
    upload lands in a room that closed meanwhile. SQLite has one writer at a time anyway."""
    query = select(Room).where(Room.id == room_id)
    if lock is not None and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=lock == "share")
    room = session.scalar(query)
    member = member_of(session, room_id, caller.org_id) if room is not None else None
    if room is None or member is None:
        raise NotFound("room not found")
    found = Seat(room, member)
    if accepted and member.accepted_at is None:
        raise Forbidden("your organization has not accepted the invitation to this room")
    if (write or owner) and room.status != RoomStatus.OPEN.value:
        raise RoomClosed("the room is closed")
    if owner and not found.is_owner:
        raise Forbidden("only the room's owner may do this")
    if write and found.role is RoomRole.OBSERVER:
        raise Forbidden("observers read; they do not write in a room")
    return found


def record(
    session: Session,
    *,
    room: Room,
    caller: Caller | None,
    action: str,
    data: dict[str, Any] | None = None,
    also_notify: tuple[uuid.UUID, ...] = (),
) -> None:
    """Audit ``room.<action>`` on the room and tell every accepted member organization (and ``also_notify``):
    an invitation that was not accepted yet hears of itself, not of what happens inside the room."""
    body = {key: str(value) if isinstance(value, uuid.UUID) else value for key, value in (data or {}).items()}
    if caller is None:
        audit.record(
            session,
            actor=HUB_ACTOR,
            actor_org_id=None,
            action=f"room.{action}",
            subject_type="room",
            subject_id=room.id,
            data=body,
        )
    else:
        audit.record_for(
            session, caller, action=f"room.{action}", subject_type="room", subject_id=room.id, data=body
        )
    recipients = {m.organization_id for m in current_members(session, room.id) if m.accepted_at is not None}
    recipients.update(also_notify)
    payload = {"room_id": str(room.id), "action": action, **body}
    events.publish(
        session, type=f"room.{action}", subject_id=room.id, views=dict.fromkeys(recipients, payload)
    )
