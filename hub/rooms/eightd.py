"""The room's 8D record: D1..D8, each with an owner organization, content, evidence and a sign-off.

The room owner assigns each step to a member organization that writes (not an observer). The step's owner (or
the room owner) writes its content and evidence; only the step's owner organization signs it off. A signed-off
step does not change until it is reopened (by its owner or the room owner), and reopening clears the sign-off."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.errors import Conflict, Forbidden, InvalidInput
from hub.models import RoomAnnotation, RoomDataset, RoomStep
from hub.rooms import access
from hub.rooms.access import Seat
from protocol.models import rooms as wire
from protocol.models.rooms import EIGHT_D_TITLES, EightDStep, RoomRole


def _step(session: Session, room_id: uuid.UUID, step: EightDStep) -> RoomStep:
    row = session.scalar(select(RoomStep).where(RoomStep.room_id == room_id, RoomStep.step == step.value))
    assert row is not None, "every room has its eight steps from the start"
    return row


def list_steps(session: Session, *, caller: Caller, room_id: uuid.UUID) -> list[RoomStep]:
    access.seat(session, caller=caller, room_id=room_id)
    return steps_of(session, room_id)


def steps_of(session: Session, room_id: uuid.UUID) -> list[RoomStep]:
    return list(session.scalars(select(RoomStep).where(RoomStep.room_id == room_id).order_by(RoomStep.step)))


def _check_evidence(session: Session, room_id: uuid.UUID, evidence: list[wire.Evidence]) -> None:
    for index, item in enumerate(evidence):
        found = (
            access.in_room(session, RoomDataset, room_id, item.id)
            if item.kind == "dataset"
            else access.in_room(session, RoomAnnotation, room_id, item.id)
        )
        if found is None:
            raise InvalidInput(f"no {item.kind} {item.id} in this room", loc=f"body.evidence.{index}.id")


def _may_write(seat: Seat, row: RoomStep, caller: Caller) -> bool:
    return seat.is_owner or row.owner_id == caller.org_id


def update(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    step: EightDStep,
    data: wire.EightDUpdate,
    now: datetime,
) -> RoomStep:
    seat = access.seat(session, caller=caller, room_id=room_id, write=True)
    row = _step(session, room_id, step)
    if row.signed_off_at is not None:
        raise Conflict(f"{step.value} is signed off; reopen it before changing it")
    changed: dict[str, object] = {"step": step.value}
    if data.owner_id is not None and data.owner_id != row.owner_id:
        if not seat.is_owner:
            raise Forbidden("only the room's owner assigns a step's owner")
        owner = access.member_of(session, room_id, data.owner_id)
        if owner is None or owner.accepted_at is None or owner.role == RoomRole.OBSERVER.value:
            raise InvalidInput(
                "a step's owner is an accepted member organization that writes (not an observer)",
                loc="body.owner_id",
            )
        row.owner_id = data.owner_id
        changed["owner_id"] = str(data.owner_id)
    if data.content is not None or data.evidence is not None:
        if not _may_write(seat, row, caller):
            raise Forbidden(f"only {step.value}'s owner organization or the room's owner writes it")
        if data.content is not None:
            row.content = data.content
            changed["content_chars"] = len(data.content)
        if data.evidence is not None:
            _check_evidence(session, room_id, data.evidence)
            row.evidence = [item.model_dump(mode="json") for item in data.evidence]
            changed["evidence"] = len(data.evidence)
    row.revision += 1
    row.updated_at = now
    access.record(session, room=seat.room, caller=caller, action="step_updated", data=changed)
    return row


def sign_off(
    session: Session, *, caller: Caller, room_id: uuid.UUID, step: EightDStep, now: datetime
) -> RoomStep:
    seat = access.seat(session, caller=caller, room_id=room_id, write=True)
    row = _step(session, room_id, step)
    if row.owner_id is None:
        raise Conflict(f"{step.value} has no owner organization yet")
    if row.owner_id != caller.org_id:
        raise Forbidden(f"only {step.value}'s owner organization signs it off")
    if row.signed_off_at is not None:
        raise Conflict(f"{step.value} is signed off already")
    if not row.content.strip():
        raise Conflict(f"{step.value} has no content to sign off")
    row.signed_off_at, row.signed_off_by = now, caller.org_id
    access.record(
        session,
        room=seat.room,
        caller=caller,
        action="step_signed_off",
        data={"step": step.value, "revision": row.revision},
    )
    return row


def reopen(
    session: Session, *, caller: Caller, room_id: uuid.UUID, step: EightDStep, now: datetime
) -> RoomStep:
    seat = access.seat(session, caller=caller, room_id=room_id, write=True)
    row = _step(session, room_id, step)
    if not _may_write(seat, row, caller):
        raise Forbidden(f"only {step.value}'s owner organization or the room's owner reopens it")
    if row.signed_off_at is None:
        raise Conflict(f"{step.value} is not signed off")
    row.signed_off_at = row.signed_off_by = None
    row.updated_at = now
    access.record(session, room=seat.room, caller=caller, action="step_reopened", data={"step": step.value})
    return row


def as_wire(row: RoomStep) -> wire.EightDRecordStep:
    step = EightDStep(row.step)
    return wire.EightDRecordStep(
        step=step,
        title=EIGHT_D_TITLES[step],
        owner_id=row.owner_id,
        content=row.content,
        evidence=[wire.Evidence.model_validate(item) for item in row.evidence],
        revision=row.revision,
        updated_at=row.updated_at,
        signed_off_at=row.signed_off_at,
        signed_off_by=row.signed_off_by,
    )
