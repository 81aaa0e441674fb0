"""Signing in and out of the console.

The sign-in form carries a double-submit token (a random value in a cookie and in the form) so that another
site cannot sign a browser in to an account of its choosing (login CSRF); once signed in, every change needs
the session's own CSRF token."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from hub.console.web import (
    PREFIX,
    SIGN_IN,
    ConsoleRoute,
    SignedIn,
    clear_session_cookie,
    render,
    set_session_cookie,
)
from hub.db import SessionDep
from hub.models.base import utcnow
from hub.people import sessions
from hub.people.policy import session_policy
from hub.sso import service as sso

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

FORM_COOKIE = "qualink_sign_in"
REASONS = {
    "ended": "Your session ended. Please sign in again.",
    "stale": "That form was out of date, and nothing was changed. Please sign in again.",
    "signed-out": "Please sign in.",
    "bye": "You are signed out.",
}


def form_page(
    request: Request,
    session: Session,
    *,
    email: str = "",
    message: str | None = None,
    error: str | None = None,
    second_factor: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    form_token = secrets.token_urlsafe(16)
    context = {
        "email": email,
        "message": message,
        "error": error,
        "form_token": form_token,
        "second_factor": second_factor,
        "providers": sso.sign_in_choices(session),
    }
    response = render(request, "sign_in.html", context, status_code=status_code)
    response.set_cookie(
        FORM_COOKIE,
        form_token,
        max_age=3600,
        path=SIGN_IN,
        httponly=True,
        secure=request.app.state.settings.environment != "development",
        samesite="strict",
    )
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, session: SessionDep, reason: str | None = None) -> HTMLResponse:
    return form_page(request, session, message=REASONS.get(reason or ""))


@router.post("/sign-in")
def sign_in(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    form_token: Annotated[str, Form(max_length=100)] = "",
    one_time_code: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    expected = request.cookies.get(FORM_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), form_token.encode()):
        return form_page(
            request,
            session,
            email=email,
            error="That form was out of date; please try again.",
            status_code=400,
        )
    try:
        signed = sessions.sign_in(
            session,
            email=email,
            password=password,
            one_time_code=one_time_code or None,
            address=request.client.host if request.client else None,
            policy=session_policy(request.app.state.settings),
            now=utcnow(),
        )
    except sessions.SecondFactorRequired as exc:
        return form_page(request, session, email=email, error=exc.detail, second_factor=True, status_code=401)
    except (sessions.SignInRefused, sessions.TooManySignIns) as exc:
        # Returned, not raised: the failure just recorded must be committed for the rate limit to count it.
        page = form_page(request, session, email=email, error=exc.detail, status_code=exc.status_code)
        page.headers.update(exc.headers or {})  # Retry-After on a 429
        return page
    response = signed_in_response(request, session, signed)
    response.delete_cookie(FORM_COOKIE, path=SIGN_IN)
    return response


def signed_in_response(request: Request, session: Session, signed: sessions.SignedIn) -> Response:
    """To the console with the new session's cookie (by password or by a provider alike)."""
    previous = request.cookies.get(sessions.COOKIE)
    if previous:  # the browser's earlier session ends: one browser, one session, never a fixated one
        sessions.sign_out(session, token=previous, now=utcnow())
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    set_session_cookie(response, request, signed.token)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: SessionDep, viewer: SignedIn) -> Response:
    sessions.sign_out(session, token=request.cookies.get(sessions.COOKIE, ""), now=utcnow())
    response = RedirectResponse(f"{SIGN_IN}?reason=bye", status_code=303)
    clear_session_cookie(response, request)
    return response
