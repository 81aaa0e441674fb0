"""What the console's room pages show, assembled from the room services the API uses (hub.rooms.*).

Every read goes through the room's seat check: a room the person's organization does not sit in is not found,
exactly as on ``/v1/rooms``. Datasets are metadata only: the hub holds ciphertext and wrapped keys it cannot
open, so the page says how a member decrypts one on its own machine with ``supplier-sdk room download``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.errors import Conflict
from hub.pagination import every
from hub.rooms import access, closing, datasets, eightd, service
from hub.rooms import annotations as notes
from protocol.models import rooms as wire
from protocol.models.rooms import EightDStep, RoomRole, RoomStatus

PAGE = 500


def rooms(session: Session, *, caller: Caller) -> list[wire.Room]:
    """The rooms the caller's organization sits in or is invited to, newest first."""
    seats = every(lambda cursor: service.list_rooms(session, caller=caller, cursor=cursor, limit=PAGE))
    return [service.room_as_wire(session, seat, with_members=False) for seat in seats]


@dataclass(frozen=True)
class BoardStep:
    """One 8D step as the board shows it, with what the signed-in person's organization may do to it."""

    step: wire.EightDRecordStep
    owner_name: str
    may_write: bool
    may_sign_off: bool
    may_reopen: bool

    @property
    def state(self) -> str:
        if self.step.signed_off_at is not None:
            return "signed_off"
        return "written" if self.step.content.strip() else "empty"


@dataclass(frozen=True)
class RoomPage:
    room: wire.Room
    names: dict[uuid.UUID, str]
    datasets: list[wire.Dataset]
    annotations: list[wire.Annotation]
    board: list[BoardStep]
    writers: list[wire.Member]
    summary: dict[str, Any] | None
    signature: dict[str, Any] | None
    accepted: bool

    @property
    def is_open(self) -> bool:
        return self.room.status is RoomStatus.OPEN

    @property
    def is_owner(self) -> bool:
        return self.room.your_role is RoomRole.OWNER


def _board(
    rows: list[wire.EightDRecordStep],
    *,
    caller: Caller,
    writes: bool,
    owner: bool,
    names: dict[uuid.UUID, str],
) -> list[BoardStep]:
    """Mirrors hub.rooms.eightd: the step's owner (or the room's owner) writes and reopens; only the step's owner
    organization signs off, a step with content that is not signed off yet. The service checks again."""
    board = []
    for step in rows:
        mine = step.owner_id == caller.org_id
        signed = step.signed_off_at is not None
        board.append(
            BoardStep(
                step=step,
                owner_name=names.get(step.owner_id, str(step.owner_id)) if step.owner_id else "",
                may_write=writes and not signed and (owner or mine),
                may_sign_off=writes and mine and not signed and bool(step.content.strip()),
                may_reopen=writes and signed and (owner or mine),
            )
        )
    return board


def room_page(session: Session, *, caller: Caller, room_id: uuid.UUID) -> RoomPage:
    """One room: members, datasets' metadata, annotations, the 8D board and, once closed, the signed summary."""
    seat = service.get_room(session, caller=caller, room_id=room_id)  # 404 for a non-member
    room = service.room_as_wire(session, seat)
    names = {member.organization_id: member.organization_name for member in room.members}
    accepted = seat.member.accepted_at is not None
    if not accepted:  # an invitation sees the room and its members, nothing inside until it accepts
        return RoomPage(room, names, [], [], [], [], None, None, accepted=False)
    found = every(
        lambda cursor: datasets.list_datasets(
            session, caller=caller, room_id=room_id, cursor=cursor, limit=PAGE
        )
    )
    written = every(
        lambda cursor: notes.list_annotations(
            session, caller=caller, room_id=room_id, cursor=cursor, limit=PAGE
        )
    )
    steps = [eightd.as_wire(row) for row in eightd.list_steps(session, caller=caller, room_id=room_id)]
    names.update(access.org_names(session, [s.owner_id for s in steps if s.owner_id] + [room.owner_id]))
    is_open = room.status is RoomStatus.OPEN
    writes = "rooms:write" in caller.scopes and is_open and seat.role is not RoomRole.OBSERVER
    summary = signature = None
    if not is_open:
        try:
            envelope = closing.export(session, caller=caller, room_id=room_id)
        except Conflict:
            envelope = None
        if envelope is not None:
            summary = envelope.payload
            signature = {
                "key_id": envelope.key_id,
                "signed_at": envelope.signed_at,
                "signature": envelope.signature,
                "type": envelope.type,
            }
    return RoomPage(
        room=room,
        names=names,
        datasets=datasets.datasets_as_wire(session, found, org_id=caller.org_id),
        annotations=notes.as_wire(session, written),
        board=_board(steps, caller=caller, writes=writes, owner=seat.is_owner, names=names),
        writers=[
            m
            for m in room.members
            if m.accepted_at is not None and m.role is not RoomRole.OBSERVER and m.removed_at is None
        ],
        summary=summary,
        signature=signature,
        accepted=True,
    )


def annotate(
    session: Session, *, caller: Caller, room_id: uuid.UUID, data: wire.AnnotationCreate, now: datetime
) -> wire.Annotation:
    return notes.as_wire(
        session, [notes.create(session, caller=caller, room_id=room_id, data=data, now=now)]
    )[0]


def write_step(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    step: EightDStep,
    data: wire.EightDUpdate,
    now: datetime,
) -> wire.EightDRecordStep:
    return eightd.as_wire(
        eightd.update(session, caller=caller, room_id=room_id, step=step, data=data, now=now)
    )


def sign_off(
    session: Session, *, caller: Caller, room_id: uuid.UUID, step: EightDStep, now: datetime
) -> wire.EightDRecordStep:
    return eightd.as_wire(eightd.sign_off(session, caller=caller, room_id=room_id, step=step, now=now))


def reopen(
    session: Session, *, caller: Caller, room_id: uuid.UUID, step: EightDStep, now: datetime
) -> wire.EightDRecordStep:
    return eightd.as_wire(eightd.reopen(session, caller=caller, room_id=room_id, step=step, now=now))
