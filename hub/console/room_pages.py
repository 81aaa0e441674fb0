"""The console's rooms: the list of the organization's rooms and one room's page (members, datasets' metadata,
annotations, the 8D board, the signed closing summary). Changes are CSRF-carrying forms answered by a redirect;
a refused one is the room page again with the service's message next to the form it came from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from hub.console import room_views
from hub.console.export import table_response
from hub.console.web import PREFIX, ConsoleRoute, SignedIn, need, parse_id, render
from hub.db import SessionDep
from hub.errors import HubError, NotFound
from hub.models.base import utcnow
from protocol.models.rooms import AnnotationCreate, AnnotationTag, EightDStep, EightDUpdate

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@router.get("/rooms")
def rooms(request: Request, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    need(viewer, "rooms:read")
    found = room_views.rooms(session, caller=viewer.caller)
    return render(request, "rooms.html", {"rooms": found, "nav": "rooms"}, viewer=viewer)


@router.get("/rooms.{fmt}")
def rooms_export(fmt: str, session: SessionDep, viewer: SignedIn) -> Response:
    need(viewer, "rooms:read")
    found = room_views.rooms(session, caller=viewer.caller)
    header = ["room_id", "title", "status", "your_role", "created_at", "expires_at", "closed_at"]
    data = [
        [
            r.id,
            r.title,
            r.status.value,
            r.your_role.value,
            r.created_at.isoformat(),
            r.expires_at.isoformat(),
            r.closed_at.isoformat() if r.closed_at else "",
        ]
        for r in found
    ]
    return table_response("rooms", fmt, header, data)


def _room(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    room_id: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    need(viewer, "rooms:read")
    page = room_views.room_page(session, caller=viewer.caller, room_id=parse_id(room_id))
    context = {
        "page": page,
        "errors": errors or {},
        "nav": "rooms",
        "tags": [tag.value for tag in AnnotationTag],
    }
    return render(request, "room.html", context, viewer=viewer, status_code=status_code)


@router.get("/rooms/{room_id}")
def room(request: Request, room_id: str, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    return _room(request, session, viewer, room_id)


def _step(value: str) -> EightDStep:
    try:
        return EightDStep(value)
    except ValueError:
        raise NotFound(f"no 8D step {value[:10]}") from None


def _refused(
    request: Request, session: SessionDep, viewer: SignedIn, room_id: str, where: str, exc: Exception
) -> HTMLResponse:
    """The room page again with the message next to the form: nothing was written (the services check first)."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "input"
        return _room(
            request, session, viewer, room_id, errors={where: f"{field}: {first['msg']}"}, status_code=422
        )
    assert isinstance(exc, HubError)
    if exc.status_code == 404:
        raise exc
    return _room(request, session, viewer, room_id, errors={where: exc.detail}, status_code=exc.status_code)


@router.post("/rooms/{room_id}/annotations")
def annotate(
    request: Request,
    room_id: str,
    session: SessionDep,
    viewer: SignedIn,
    body: Annotated[str, Form(max_length=20000)] = "",
    tag: Annotated[str, Form(max_length=40)] = "observation",
) -> Response:
    need(viewer, "rooms:write")
    found = parse_id(room_id)
    try:
        data = AnnotationCreate(body=body.strip(), tag=tag)
        room_views.annotate(session, caller=viewer.caller, room_id=found, data=data, now=utcnow())
    except (ValidationError, HubError) as exc:
        return _refused(request, session, viewer, room_id, "annotation", exc)
    return RedirectResponse(f"{PREFIX}/rooms/{found}#annotations", status_code=303)


@router.post("/rooms/{room_id}/8d/{step}")
def write_step(
    request: Request,
    room_id: str,
    step: str,
    session: SessionDep,
    viewer: SignedIn,
    content: Annotated[str | None, Form(max_length=20000)] = None,
    owner_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    need(viewer, "rooms:write")
    found, which = parse_id(room_id), _step(step)
    try:
        data = EightDUpdate(owner_id=owner_id or None, content=content)
        room_views.write_step(
            session, caller=viewer.caller, room_id=found, step=which, data=data, now=utcnow()
        )
    except (ValidationError, HubError) as exc:
        return _refused(request, session, viewer, room_id, which.value, exc)
    return RedirectResponse(f"{PREFIX}/rooms/{found}#{which.value}", status_code=303)


@router.post("/rooms/{room_id}/8d/{step}/{action}")
def step_action(
    request: Request, room_id: str, step: str, action: str, session: SessionDep, viewer: SignedIn
) -> Response:
    need(viewer, "rooms:write")
    found, which = parse_id(room_id), _step(step)
    act = {"sign-off": room_views.sign_off, "reopen": room_views.reopen}.get(action)
    if act is None:
        raise NotFound(f"no 8D action {action[:20]}")
    try:
        act(session, caller=viewer.caller, room_id=found, step=which, now=utcnow())
    except HubError as exc:
        return _refused(request, session, viewer, room_id, which.value, exc)
    return RedirectResponse(f"{PREFIX}/rooms/{found}#{which.value}", status_code=303)
