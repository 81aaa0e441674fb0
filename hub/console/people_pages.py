"""An organization's admin manages its people in the console, through the same service as `hub user`.

Every change is audited under the admin person; a person of another organization is the 404 page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.export import table_response
from hub.console.web import PREFIX, ConsoleRoute, SignedIn, Viewer, need, parse_id, render
from hub.db import SessionDep
from hub.errors import Conflict, InvalidInput
from hub.models.base import utcnow
from hub.orgs import settings as org_settings
from hub.people import invitations, service
from hub.people.roles import Role

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
ADMIN_SCOPE = "org:admin"


def _page(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    *,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    people = service.list_people(session, org_id=viewer.caller.org_id)
    context = {
        "people": people,
        "invitations": invitations.pending(session, org_id=viewer.caller.org_id, now=utcnow()),
        "invited": request.query_params.get("invited", "")[:320],
        "roles": list(Role),
        "errors": errors or {},
        "entered": entered or {},
        "four_eyes": org_settings.four_eyes(session, org_id=viewer.caller.org_id),
        "nav": "people",
    }
    return render(request, "people.html", context, viewer=viewer, status_code=status_code)


@router.get("/people")
def people(request: Request, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    need(viewer, ADMIN_SCOPE)
    return _page(request, session, viewer)


@router.post("/people")
def add_person(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    email: Annotated[str, Form(max_length=4000)] = "",
    display_name: Annotated[str, Form(max_length=4000)] = "",
    role: Annotated[str, Form(max_length=100)] = "viewer",
    password: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    need(viewer, ADMIN_SCOPE)
    try:
        service.create_person(
            session,
            actor=viewer.caller.actor,
            actor_org_id=viewer.caller.org_id,
            org_id=viewer.caller.org_id,
            email=email,
            role=role,
            password=password,
            display_name=display_name or None,
            time_zone=viewer.person.time_zone,
        )
    except (InvalidInput, Conflict) as exc:
        field = exc.loc if isinstance(exc, InvalidInput) and exc.loc else "email"
        entered = {"email": email, "display_name": display_name, "role": role}
        return _page(
            request, session, viewer, errors={field: exc.detail}, entered=entered, status_code=exc.status_code
        )
    return RedirectResponse(f"{PREFIX}/people", status_code=303)


@router.post("/people/four-eyes")
def set_four_eyes(
    session: SessionDep, viewer: SignedIn, four_eyes: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """The organization's admin turns four-eyes on rule changes on or off (as `hub org four-eyes` does)."""
    need(viewer, ADMIN_SCOPE)
    if four_eyes not in ("on", "off"):
        raise InvalidInput("four_eyes: on or off", loc="four_eyes")
    org_settings.set_four_eyes(
        session,
        actor=viewer.caller.actor,
        actor_org_id=viewer.caller.org_id,
        org_id=viewer.caller.org_id,
        on=four_eyes == "on",
    )
    return RedirectResponse(f"{PREFIX}/people", status_code=303)


@router.post("/people/{person_id}/role")
def change_role(
    person_id: str,
    session: SessionDep,
    viewer: SignedIn,
    role: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    need(viewer, ADMIN_SCOPE)
    person = service.get_person(session, org_id=viewer.caller.org_id, person_id=parse_id(person_id))
    if person.id == viewer.person.id and role != Role.ADMIN.value:
        raise Conflict("you cannot take your own admin role: ask another admin")
    service.set_role(
        session, actor=viewer.caller.actor, actor_org_id=viewer.caller.org_id, person=person, role=role
    )
    return RedirectResponse(f"{PREFIX}/people", status_code=303)


@router.post("/people/{person_id}/disable")
def disable(person_id: str, session: SessionDep, viewer: SignedIn) -> Response:
    need(viewer, ADMIN_SCOPE)
    person = service.get_person(session, org_id=viewer.caller.org_id, person_id=parse_id(person_id))
    if person.id == viewer.person.id:
        raise Conflict("you cannot disable yourself: ask another admin")
    service.disable_person(
        session, actor=viewer.caller.actor, actor_org_id=viewer.caller.org_id, person=person, now=utcnow()
    )
    return RedirectResponse(f"{PREFIX}/people", status_code=303)


@router.post("/people/invitations")
def invite(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    email: Annotated[str, Form(max_length=4000)] = "",
    role: Annotated[str, Form(max_length=100)] = "viewer",
) -> Response:
    """Invite a person by e-mail: the mail with a single-use link is queued with the invitation."""
    need(viewer, ADMIN_SCOPE)
    try:
        invited = invitations.invite(
            session,
            inviter=viewer.person,
            email=email,
            role=role,
            link_base=request.app.state.settings.issuer,
            now=utcnow(),
        )
    except (InvalidInput, Conflict) as exc:
        field = exc.loc if isinstance(exc, InvalidInput) and exc.loc else "email"
        return _page(
            request,
            session,
            viewer,
            errors={f"invite_{field}": exc.detail},
            entered={"invite_email": email, "invite_role": role},
            status_code=exc.status_code,
        )
    return RedirectResponse(f"{PREFIX}/people?invited={invited.invitation.email}", status_code=303)


@router.post("/people/invitations/{invitation_id}/revoke")
def revoke_invitation(invitation_id: str, session: SessionDep, viewer: SignedIn) -> Response:
    need(viewer, ADMIN_SCOPE)
    invitations.revoke(session, actor=viewer.person, invitation_id=parse_id(invitation_id), now=utcnow())
    return RedirectResponse(f"{PREFIX}/people", status_code=303)


@router.get("/people/invitations.{fmt}")
def invitations_export(fmt: str, session: SessionDep, viewer: SignedIn) -> Response:
    need(viewer, ADMIN_SCOPE)
    rows = invitations.pending(session, org_id=viewer.caller.org_id, now=utcnow())
    header = ["email", "role", "invited_at", "expires_at"]
    return table_response(
        "invitations",
        fmt,
        header,
        ([row.email, row.role, row.created_at.isoformat(), row.expires_at.isoformat()] for row in rows),
    )
