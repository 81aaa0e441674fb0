"""The dependency every protected endpoint uses to name its scope and learn who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.auth.scopes import SCOPES
from hub.auth.tokens import Caller, TokenKeys
from hub.db import SessionDep
from hub.errors import Forbidden, InsufficientScope, Unauthenticated
from hub.models.base import utcnow
from hub.people import sessions
from hub.people.policy import session_policy

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth/token")


# Both checks are a few microseconds of CPU and no I/O: async keeps them off the thread pool.
async def _authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: SessionDep,
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        # --- people: a browser session resolves to the same Caller (organization, scopes, and the person) ---
        if credentials is None and _session_cookie(request):
            return await run_in_threadpool(_from_session_cookie, request, session)
        # --- end people ---
        raise Unauthenticated("an access token is required (Authorization: Bearer ...)")
    keys: TokenKeys = request.app.state.token_keys
    return keys.verify(credentials.credentials)


# --- people: the session cookie (hub/people/sessions.py); a state change by cookie needs the CSRF token ---
def _session_cookie(request: Request) -> str | None:
    return request.cookies.get(sessions.COOKIE)


def _from_session_cookie(request: Request, session: SessionDep) -> Caller:
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


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """``caller: Annotated[Caller, Depends(require("kpi:write"))]``: authenticate, then demand ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def _check(caller: Annotated[Caller, Depends(_authenticate)]) -> Caller:
        if scope not in caller.scopes:
            raise InsufficientScope(scope)
        return caller

    _check.__name__ = f"require_{scope.replace(':', '_')}"
    return _check
