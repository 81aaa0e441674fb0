"""The dependency every protected endpoint uses to name its scope and learn who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from hub.auth.revocation import check_active
from hub.auth.scopes import SCOPES
from hub.auth.tokens import Caller, TokenKeys
from hub.db import SessionDep, StreamingSessionDep
from hub.errors import Forbidden, InsufficientScope, Unauthenticated
from hub.models.base import utcnow
from hub.people import sessions
from hub.people.policy import session_policy

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth/token")


# A bearer token is checked by its signature (CPU only, cached) and then its client's row, one indexed lookup in
# the request's own session (the one the endpoint then uses), so a revoked client is refused on its next request on
# every replica. A browser session resolves to the same Caller (organization, scopes, and the person); its row says
# whether it and its person are still active.
def _caller(request: Request, credentials: HTTPAuthorizationCredentials | None, session: Session) -> Caller:
    if credentials is None and _session_cookie(request):
        return _from_session_cookie(request, session)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("an access token is required (Authorization: Bearer ...)")
    keys: TokenKeys = request.app.state.token_keys
    caller = keys.verify(credentials.credentials)
    check_active(session, caller)
    return caller


def _authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: SessionDep,
) -> Caller:
    return _caller(request, credentials, session)


# The same for an endpoint whose session lives while its response streams: it must share that session (a second
# one in the same request would wait on the first for SQLite's write lock).
def _authenticate_streaming(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: StreamingSessionDep,
) -> Caller:
    return _caller(request, credentials, session)


# --- people: the session cookie (hub/people/sessions.py); a state change by cookie needs the CSRF token ---
def _session_cookie(request: Request) -> str | None:
    return request.cookies.get(sessions.COOKIE)


def _from_session_cookie(request: Request, session: Session) -> Caller:
    token = _session_cookie(request) or ""
    caller = sessions.resolve(
        session, token=token, policy=session_policy(request.app.state.settings), now=utcnow()
    )
    if request.method not in ("GET", "HEAD", "OPTIONS") and not sessions.csrf_valid(
        token, request.headers.get(sessions.CSRF_HEADER)
    ):
        raise Forbidden(f"a change made with a session cookie needs the {sessions.CSRF_HEADER} header")
    return caller


# --- end people ---


def require(scope: str, *, streaming: bool = False) -> Callable[..., Awaitable[Caller]]:
    """``caller: Annotated[Caller, Depends(require("kpi:write"))]``: authenticate, then demand ``scope``.

    ``streaming=True`` for an endpoint that takes ``StreamingSessionDep`` instead of ``SessionDep``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def demand(caller: Caller) -> Caller:
        if scope not in caller.scopes:
            raise InsufficientScope(scope)
        return caller

    # Two spellings because annotations are resolved from module globals (postponed evaluation).
    if streaming:

        async def _check(caller: Annotated[Caller, Depends(_authenticate_streaming)]) -> Caller:
            return demand(caller)
    else:

        async def _check(caller: Annotated[Caller, Depends(_authenticate)]) -> Caller:
            return demand(caller)

    _check.__name__ = f"require_{scope.replace(':', '_')}"
    return _check
