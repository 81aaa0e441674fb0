"""Annotations: comments anchored to a dataset, rows or a time range, tagged, threaded, with every edit kept."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.errors import Forbidden, InvalidInput, NotFound
from hub.models import RoomAnnotation, RoomAnnotationRevision, RoomDataset
from hub.models.base import uuid7
from hub.pagination import keyset, page_of
from hub.rooms import access
from protocol.models import rooms as wire
from protocol.models.rooms import AnnotationTag


def create(
    session: Session, *, caller: Caller, room_id: uuid.UUID, data: wire.AnnotationCreate, now: datetime
) -> RoomAnnotation:
    seat = access.seat(session, caller=caller, room_id=room_id, write=True)
    dataset_id = data.anchor.dataset_id if data.anchor else None
    if dataset_id is not None and access.in_room(session, RoomDataset, room_id, dataset_id) is None:
        raise InvalidInput(f"no dataset {dataset_id} in this room", loc="body.anchor.dataset_id")
    if (
        data.parent_id is not None
        and access.in_room(session, RoomAnnotation, room_id, data.parent_id) is None
    ):
        raise InvalidInput(f"no annotation {data.parent_id} in this room", loc="body.parent_id")
    annotation = RoomAnnotation(
        id=uuid7(),
        room_id=room_id,
        organization_id=caller.org_id,
        parent_id=data.parent_id,
        dataset_id=dataset_id,
        anchor=data.anchor.model_dump(mode="json", exclude_none=True) if data.anchor else None,
        tag=data.tag.value,
        body=data.body,
        revision=1,
        created_at=now,
        updated_at=now,
    )
    session.add(annotation)
    session.flush()
    _revision(session, annotation, now)
    access.record(
        session,
        room=seat.room,
        caller=caller,
        action="annotation_added",
        data={
            "annotation_id": annotation.id,
            "tag": annotation.tag,
            "parent_id": annotation.parent_id,
            "dataset_id": dataset_id,
        },
    )
    return annotation


def _revision(session: Session, annotation: RoomAnnotation, now: datetime) -> None:
    session.add(
        RoomAnnotationRevision(
            annotation_id=annotation.id,
            revision=annotation.revision,
            body=annotation.body,
            tag=annotation.tag,
            organization_id=annotation.organization_id,
            edited_at=now,
        )
    )
    session.flush()


def _annotation(session: Session, room_id: uuid.UUID, annotation_id: uuid.UUID) -> RoomAnnotation:
    annotation = access.in_room(session, RoomAnnotation, room_id, annotation_id)
    if annotation is None:
        raise NotFound("annotation not found")
    return annotation


def edit(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    annotation_id: uuid.UUID,
    data: wire.AnnotationEdit,
    now: datetime,
) -> RoomAnnotation:
    """The authoring organization edits; the previous text stays as a revision."""
    seat = access.seat(session, caller=caller, room_id=room_id, write=True)
    annotation = _annotation(session, room_id, annotation_id)
    if annotation.organization_id != caller.org_id:
        raise Forbidden("only the organization that wrote an annotation edits it")
    if data.body is not None:
        annotation.body = data.body
    if data.tag is not None:
        annotation.tag = data.tag.value
    annotation.revision += 1
    annotation.updated_at = now
    _revision(session, annotation, now)
    access.record(
        session,
        room=seat.room,
        caller=caller,
        action="annotation_edited",
        data={"annotation_id": annotation.id, "revision": annotation.revision, "tag": annotation.tag},
    )
    return annotation


def get(session: Session, *, caller: Caller, room_id: uuid.UUID, annotation_id: uuid.UUID) -> RoomAnnotation:
    access.seat(session, caller=caller, room_id=room_id)
    return _annotation(session, room_id, annotation_id)


def list_annotations(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID | None = None,
    tag: AnnotationTag | None = None,
    cursor: str | None,
    limit: int,
) -> tuple[list[RoomAnnotation], str | None]:
    access.seat(session, caller=caller, room_id=room_id)
    query = select(RoomAnnotation).where(RoomAnnotation.room_id == room_id)
    if dataset_id is not None:
        query = query.where(RoomAnnotation.dataset_id == dataset_id)
    if tag is not None:
        query = query.where(RoomAnnotation.tag == tag.value)
    rows = list(session.scalars(keyset(query, RoomAnnotation.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda annotation: annotation.id)


def as_wire(session: Session, annotations: list[RoomAnnotation]) -> list[wire.Annotation]:
    ids = [annotation.id for annotation in annotations]
    revisions = session.scalars(
        select(RoomAnnotationRevision)
        .where(RoomAnnotationRevision.annotation_id.in_(ids))
        .order_by(RoomAnnotationRevision.revision)
    ).all()
    return [
        wire.Annotation(
            id=annotation.id,
            room_id=annotation.room_id,
            organization_id=annotation.organization_id,
            body=annotation.body,
            tag=AnnotationTag(annotation.tag),
            anchor=wire.Anchor.model_validate(annotation.anchor) if annotation.anchor else None,
            parent_id=annotation.parent_id,
            revision=annotation.revision,
            created_at=annotation.created_at,
            updated_at=annotation.updated_at,
            revisions=[
                wire.AnnotationRevision(
                    revision=revision.revision,
                    body=revision.body,
                    tag=AnnotationTag(revision.tag),
                    organization_id=revision.organization_id,
                    edited_at=revision.edited_at,
                )
                for revision in revisions
                if revision.annotation_id == annotation.id
            ],
        )
        for annotation in annotations
    ]
