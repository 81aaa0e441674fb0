"""The invitee's page: open the link from the mail, choose a password, and be signed in.

The link itself is the secret. The form also carries a double-submit token (as the sign-in form does), so that
another site cannot make a browser accept an invitation of its choosing. An invitation that was used, revoked or
has expired is a page that says so, and nothing is changed."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.web import PREFIX, ConsoleRoute, render, set_session_cookie
from hub.db import SessionDep
from hub.errors import InvalidInput
from hub.models.base import utcnow
from hub.people import invitations, sessions
from hub.people.policy import session_policy

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
FORM_COOKIE = "qualink_invitation"
PATH = f"{PREFIX}/invitations"


def _form(
    request: Request,
    invitation: object,
    token: str,
    *,
    errors: dict[str, str] | None = None,
    display_name: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    form_token = secrets.token_urlsafe(16)
    context = {
        "invitation": invitation,
        "token": token,
        "form_token": form_token,
        "errors": errors or {},
        "display_name": display_name,
    }
    response = render(request, "invitation.html", context, status_code=status_code)
    response.set_cookie(
        FORM_COOKIE,
        form_token,
        max_age=3600,
        path=PATH,
        httponly=True,
        secure=request.app.state.settings.environment != "development",
        samesite="strict",
    )
    return response


def _unusable(request: Request, exc: invitations.InvitationUnusable) -> HTMLResponse:
    return render(request, "invitation_unusable.html", {"detail": exc.detail}, status_code=exc.status_code)


@router.get("/invitations/{token}")
def invitation_page(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    try:
        invitation = invitations.usable(session, token=token[:200], now=utcnow())
    except invitations.InvitationUnusable as exc:
        return _unusable(request, exc)
    return _form(request, invitation, token)


@router.post("/invitations/{token}")
def accept_invitation(
    request: Request,
    session: SessionDep,
    token: str,
    password: Annotated[str, Form(max_length=4000)] = "",
    password_again: Annotated[str, Form(max_length=4000)] = "",
    display_name: Annotated[str, Form(max_length=4000)] = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    now = utcnow()
    try:
        invitation = invitations.usable(session, token=token[:200], now=now)
    except invitations.InvitationUnusable as exc:
        return _unusable(request, exc)
    expected = request.cookies.get(FORM_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), form_token.encode()):
        errors = {"form": "That form was out of date, and nothing was changed; please try again."}
        return _form(request, invitation, token, errors=errors, display_name=display_name, status_code=400)
    if password != password_again:
        errors = {"password_again": "password_again: the two passwords differ"}
        return _form(request, invitation, token, errors=errors, display_name=display_name, status_code=422)
    try:
        person = invitations.accept(
            session, token=token, password=password, display_name=display_name.strip() or None, now=now
        )
    except InvalidInput as exc:
        errors = {exc.loc or "password": exc.detail}
        return _form(
            request, invitation, token, errors=errors, display_name=display_name, status_code=exc.status_code
        )
    signed = sessions.open_session(
        session, person=person, policy=session_policy(request.app.state.settings), now=now
    )
    previous = request.cookies.get(sessions.COOKIE)
    if previous:
        sessions.sign_out(session, token=previous, now=now)
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    set_session_cookie(response, request, signed.token)
    response.delete_cookie(FORM_COOKIE, path=PATH)
    return response
