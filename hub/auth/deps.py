"""The dependency every protected endpoint uses to name its scope and learn who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.auth.revocation import check_active
from hub.auth.scopes import SCOPES
from hub.auth.tokens import Caller, TokenKeys
from hub.db import SessionDep, StreamingSessionDep
from hub.errors import InsufficientScope, Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth/token")


def _verified(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("an access token is required (Authorization: Bearer ...)")
    keys: TokenKeys = request.app.state.token_keys
    return keys.verify(credentials.credentials)


# The token check is CPU only (and cached); the revocation check is one indexed lookup in the request's own session
# (the one the endpoint then uses), so a revoked client is refused on its next request on every replica.
def _authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: SessionDep,
) -> Caller:
    caller = _verified(request, credentials)
    check_active(session, caller)
    return caller


# The same for an endpoint whose session lives while its response streams: it must share that session (a second
# one in the same request would wait on the first for SQLite's write lock).
def _authenticate_streaming(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: StreamingSessionDep,
) -> Caller:
    caller = _verified(request, credentials)
    check_active(session, caller)
    return caller


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
