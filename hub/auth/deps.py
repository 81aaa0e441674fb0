"""The dependency every protected endpoint uses to name its scope and learn who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.auth.scopes import SCOPES
from hub.auth.tokens import Caller, TokenKeys
from hub.errors import InsufficientScope, Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth/token")


# Both checks are a few microseconds of CPU and no I/O: async keeps them off the thread pool.
async def _authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("an access token is required (Authorization: Bearer ...)")
    keys: TokenKeys = request.app.state.token_keys
    return keys.verify(credentials.credentials)


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
