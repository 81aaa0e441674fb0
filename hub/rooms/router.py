"""``/v1/rooms``: rooms, members, timeline, closing and export. Datasets, annotations and the 8D record have
routers of their own beside this one."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from hub.auth.deps import require
from hub.auth.tokens import Caller, TokenKeys
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.models.base import utcnow
from hub.openapi import errors
from hub.orgs import service as orgs
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from hub.rooms import closing, service, timeline
from protocol.models import rooms as schemas
from protocol.models.orgs import OrgKey
from protocol.models.pages import Page
from protocol.signing import SignedEnvelope

router = APIRouter(prefix="/v1/rooms", tags=["rooms"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("rooms:read"))]
Writer = Annotated[Caller, Depends(require("rooms:write"))]


@router.post("", status_code=201, summary="Open a room; your organization owns it and invites the members")
def open_room(
    body: schemas.RoomCreate, session: SessionDep, caller: Writer, once: IdempotentPost
) -> schemas.Room:
    seat = once(
        session,
        caller,
        body,
        create=lambda: service.open_room(session, caller=caller, data=body, now=utcnow()),
        replay=lambda room_id: service.get_room(session, caller=caller, room_id=room_id),
        resource_id=lambda made: made.room.id,
    )
    return service.room_as_wire(session, seat)


@router.get(
    "", summary="Rooms your organization is a member of or invited to, newest first, cursor-paginated"
)
def list_rooms(
    session: SessionDep,
    caller: Reader,
    status: schemas.RoomStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[schemas.Room]:
    seats, next_cursor = service.list_rooms(session, caller=caller, status=status, cursor=cursor, limit=limit)
    return Page[schemas.Room](
        items=[service.room_as_wire(session, seat, with_members=False) for seat in seats],
        next_cursor=next_cursor,
    )


@router.get("/{room_id}", summary="A room with its members (404 unless your organization is a member)")
def get_room(room_id: uuid.UUID, session: SessionDep, caller: Reader) -> schemas.Room:
    return service.room_as_wire(session, service.get_room(session, caller=caller, room_id=room_id))


@router.get(
    "/{room_id}/members",
    summary="Members with their roles, people and public keys (wrap data keys to `encryption_key`), in the "
    "order they were invited (the owner first), cursor-paginated",
)
def list_members(
    room_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    include_removed: Annotated[bool, Query(description="Also former members, with removed_at")] = False,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[schemas.Member]:
    members, next_cursor = service.list_members(
        session, caller=caller, room_id=room_id, include_removed=include_removed, cursor=cursor, limit=limit
    )
    return Page[schemas.Member](items=service.members_as_wire(session, members), next_cursor=next_cursor)


@router.get(
    "/{room_id}/keys/{key_id}",
    summary="A public key of an organization that is or was a member (check a manifest after its uploader left)",
)
def get_member_key(room_id: uuid.UUID, key_id: str, session: SessionDep, caller: Reader) -> OrgKey:
    return orgs.key_as_wire(service.member_key(session, caller=caller, room_id=room_id, key_id=key_id))


@router.post("/{room_id}/members", status_code=201, summary="Invite an organization (room owner)")
def invite(
    room_id: uuid.UUID, body: schemas.MemberInvite, session: SessionDep, caller: Writer, once: IdempotentPost
) -> schemas.Member:
    member = once(
        session,
        caller,
        body,
        create=lambda: service.invite(session, caller=caller, room_id=room_id, data=body, now=utcnow()),
        replay=lambda member_id: service.get_member(
            session, caller=caller, room_id=room_id, member_id=member_id
        ),
    )
    return service.members_as_wire(session, [member])[0]


@router.post("/{room_id}/accept", summary="Accept your organization's invitation, naming its people")
def accept(
    room_id: uuid.UUID, session: SessionDep, caller: Writer, body: schemas.MemberAccept | None = None
) -> schemas.Member:
    data = body or schemas.MemberAccept()
    member = service.accept(session, caller=caller, room_id=room_id, data=data, now=utcnow())
    return service.members_as_wire(session, [member])[0]


@router.put(
    "/{room_id}/members/{organization_id}/people", summary="Name your organization's people in the room"
)
def set_people(
    room_id: uuid.UUID,
    organization_id: uuid.UUID,
    body: schemas.PeopleUpdate,
    session: SessionDep,
    caller: Writer,
) -> schemas.Member:
    member = service.set_people(session, caller=caller, room_id=room_id, org_id=organization_id, data=body)
    return service.members_as_wire(session, [member])[0]


@router.delete(
    "/{room_id}/members/{organization_id}",
    status_code=204,
    summary="Remove a member (room owner), or leave / decline (your own organization); its keys go at once",
)
def remove_member(
    room_id: uuid.UUID, organization_id: uuid.UUID, session: SessionDep, caller: Writer
) -> Response:
    service.remove(session, caller=caller, room_id=room_id, org_id=organization_id, now=utcnow())
    return Response(status_code=204)


@router.get("/{room_id}/timeline", summary="Everything that happened in the room, oldest first")
def get_timeline(
    room_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    cursor: CursorParam = None,
    limit: LimitParam = 500,
) -> Page[schemas.TimelineEntry]:
    entries, next_cursor = timeline.timeline(
        session, caller=caller, room_id=room_id, cursor=cursor, limit=limit
    )
    return Page[schemas.TimelineEntry](items=entries, next_cursor=next_cursor)


@router.post(
    "/{room_id}/close",
    summary="Close the room (owner): the hub signs the 8D summary, then shreds data if the policy says so",
)
def close_room(
    room_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    caller: Writer,
    body: schemas.RoomClose | None = None,
) -> schemas.Room:
    keys: TokenKeys = request.app.state.token_keys
    seat = closing.close_room(
        session,
        caller=caller,
        room_id=room_id,
        note=(body or schemas.RoomClose()).note,
        signing_key=keys.private_key,
        key_id=keys.key_id,
        now=utcnow(),
    )
    return service.room_as_wire(session, seat)


@router.get(
    "/{room_id}/export",
    summary="The signed 8D summary of a closed room: the envelope as JSON, or a Markdown report carrying it",
    response_model=SignedEnvelope,
    responses={200: {"content": {"text/markdown": {}}}, **errors(409, s409="The room is still open")},
)
def export(
    room_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    format: Literal["json", "markdown"] = "json",
) -> Response:
    envelope = closing.export(session, caller=caller, room_id=room_id)
    if format == "markdown":
        return Response(closing.as_markdown(envelope), media_type="text/markdown; charset=utf-8")
    return Response(envelope.model_dump_json(), media_type="application/json")
