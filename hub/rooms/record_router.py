"""``/v1/rooms/{room_id}``: annotations and the 8D record."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.models.base import utcnow
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from hub.rooms import annotations as notes
from hub.rooms import eightd
from protocol.models import rooms as schemas
from protocol.models.pages import Page

router = APIRouter(prefix="/v1/rooms/{room_id}", tags=["rooms"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("rooms:read"))]
Writer = Annotated[Caller, Depends(require("rooms:write"))]


@router.post("/annotations", status_code=201, summary="Annotate: anchored, tagged, optionally a reply")
def create_annotation(
    room_id: uuid.UUID,
    body: schemas.AnnotationCreate,
    session: SessionDep,
    caller: Writer,
    once: IdempotentPost,
) -> schemas.Annotation:
    annotation = once(
        session,
        caller,
        body,
        create=lambda: notes.create(session, caller=caller, room_id=room_id, data=body, now=utcnow()),
        replay=lambda annotation_id: notes.get(
            session, caller=caller, room_id=room_id, annotation_id=annotation_id
        ),
    )
    return notes.as_wire(session, [annotation])[0]


@router.get(
    "/annotations", summary="The room's annotations with their histories, oldest first, cursor-paginated"
)
def list_annotations(
    room_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    dataset_id: uuid.UUID | None = None,
    tag: schemas.AnnotationTag | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[schemas.Annotation]:
    rows, next_cursor = notes.list_annotations(
        session, caller=caller, room_id=room_id, dataset_id=dataset_id, tag=tag, cursor=cursor, limit=limit
    )
    return Page[schemas.Annotation](items=notes.as_wire(session, rows), next_cursor=next_cursor)


@router.get("/annotations/{annotation_id}", summary="One annotation with its history")
def get_annotation(
    room_id: uuid.UUID, annotation_id: uuid.UUID, session: SessionDep, caller: Reader
) -> schemas.Annotation:
    annotation = notes.get(session, caller=caller, room_id=room_id, annotation_id=annotation_id)
    return notes.as_wire(session, [annotation])[0]


@router.patch(
    "/annotations/{annotation_id}", summary="Edit your organization's annotation; the old text stays"
)
def edit_annotation(
    room_id: uuid.UUID,
    annotation_id: uuid.UUID,
    body: schemas.AnnotationEdit,
    session: SessionDep,
    caller: Writer,
) -> schemas.Annotation:
    annotation = notes.edit(
        session, caller=caller, room_id=room_id, annotation_id=annotation_id, data=body, now=utcnow()
    )
    return notes.as_wire(session, [annotation])[0]


@router.get("/8d", summary="The 8D record, D1 to D8")
def list_steps(room_id: uuid.UUID, session: SessionDep, caller: Reader) -> list[schemas.EightDRecordStep]:
    return [eightd.as_wire(row) for row in eightd.list_steps(session, caller=caller, room_id=room_id)]


@router.put("/8d/{step}", summary="Write a step: owner (room owner assigns), content, evidence")
def update_step(
    room_id: uuid.UUID,
    step: schemas.EightDStep,
    body: schemas.EightDUpdate,
    session: SessionDep,
    caller: Writer,
) -> schemas.EightDRecordStep:
    return eightd.as_wire(
        eightd.update(session, caller=caller, room_id=room_id, step=step, data=body, now=utcnow())
    )


@router.post("/8d/{step}/sign-off", summary="Sign a step off (its owner organization)")
def sign_off(
    room_id: uuid.UUID, step: schemas.EightDStep, session: SessionDep, caller: Writer
) -> schemas.EightDRecordStep:
    return eightd.as_wire(eightd.sign_off(session, caller=caller, room_id=room_id, step=step, now=utcnow()))


@router.post("/8d/{step}/reopen", summary="Reopen a signed-off step; its sign-off is cleared")
def reopen(
    room_id: uuid.UUID, step: schemas.EightDStep, session: SessionDep, caller: Writer
) -> schemas.EightDRecordStep:
    return eightd.as_wire(eightd.reopen(session, caller=caller, room_id=room_id, step=step, now=utcnow()))
