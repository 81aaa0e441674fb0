"""What every console page shares: templates, security headers, the signed-in caller, CSRF and error pages.

A console route never answers JSON: a missing or ended session is a redirect to the sign-in page (nothing was
changed), a stale CSRF token likewise, another organization's thing is the 404 page, and any other hub error
is a page that says what was wrong."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.console import i18n
from hub.db import SessionDep
from hub.errors import HubError, InsufficientScope, NotFound
from hub.models import Person
from hub.models.base import utcnow
from hub.people import sessions
from hub.people.policy import session_policy

PREFIX = "/console"
SIGN_IN = f"{PREFIX}/sign-in"
HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"]
    )
)
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.translate, i18n.translate_plural, newstyle=True
)

# No inline script or style anywhere: htmx is loaded from our own origin and configured by a meta tag.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignInRequired(Exception):
    """No session, or it ended; or a stale CSRF token: the browser goes to the sign-in page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as the templates see them, with the CSRF token their forms carry."""

    caller: Caller
    person: Person
    csrf: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.person.time_zone)


def _secure(request: Request) -> bool:
    return request.app.state.settings.environment != "development"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        sessions.COOKIE,
        token,
        max_age=settings.session_absolute_timeout_seconds,
        path="/",
        httponly=True,
        secure=_secure(request),
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, secure=_secure(request), samesite="lax")


def _resolve(request: Request, session: Session, token: str) -> Viewer:
    try:
        caller = sessions.resolve(
            session, token=token, policy=session_policy(request.app.state.settings), now=utcnow()
        )
    except sessions.SessionEnded as exc:
        raise SignInRequired("ended") from exc
    return Viewer(
        caller=caller, person=sessions.person_of(session, caller=caller), csrf=sessions.csrf_token(token)
    )


async def signed_in(request: Request, session: SessionDep) -> Viewer:
    """The signed-in person; on a state change, only with the session's CSRF token (form field or header)."""
    token = request.cookies.get(sessions.COOKIE)
    if not token:
        raise SignInRequired("signed-out")
    if request.method in UNSAFE:
        presented = request.headers.get(sessions.CSRF_HEADER)
        if presented is None:
            form = await request.form()
            field = form.get(sessions.CSRF_FIELD)
            presented = field if isinstance(field, str) else None
        if not sessions.csrf_valid(token, presented):
            raise SignInRequired("stale")
    return await run_in_threadpool(_resolve, request, session, token)


SignedIn = Annotated[Viewer, Depends(signed_in)]


def need(viewer: Viewer, scope: str) -> None:
    if scope not in viewer.caller.scopes:
        raise InsufficientScope(scope)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with i18n.speaking(viewer.person.locale if viewer else None):  # the template renders right here
        return templates.TemplateResponse(
            request, name, {"viewer": viewer, "prefix": PREFIX, **context}, status_code=status_code
        )


def _error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(
        request, "error.html", {"title": title, "detail": detail, "status": status}, status_code=status
    )


def _answer(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignInRequired):
        response: Response = RedirectResponse(f"{SIGN_IN}?reason={exc.reason}", status_code=303)
        if exc.reason == "ended":
            clear_session_cookie(response, request)
        return response
    if isinstance(exc, HubError) and exc.status_code == 404:
        return _error_page(request, 404, "Not found", "There is nothing here, or it is not visible to you.")
    if isinstance(exc, HubError):
        return _error_page(request, exc.status_code, exc.name, exc.detail)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": ("input",), "msg": "invalid"}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return _error_page(request, 422, "Invalid input", f"{where}: {first.get('msg', 'invalid')}")
    raise exc


class ConsoleRoute(APIRoute):
    """Renders the console's answers as pages and puts the security headers on every one of them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except (SignInRequired, HubError, RequestValidationError) as exc:
                response = _answer(request, exc)
            response.headers.update(SECURITY_HEADERS)
            return response

        return console_handler


def parse_id(value: str) -> uuid.UUID:
    """A path id; a malformed one is simply not there (the 404 page), as on the API."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("not found") from None
