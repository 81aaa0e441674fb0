"""The hub's error tree and the one handler that renders it.

    HubError (500)
    ├── BadRequest (400)
    │   └── InvalidInput (422)          a field is malformed; names it
    ├── Unauthenticated (401)           no, malformed, expired or foreign token
    ├── InsufficientScope (403)         the token lacks the scope an endpoint names
    ├── Forbidden (403)                 the organization may not do this (kind, role)
    ├── NotFound (404)                  absent, or another organization's row
    ├── Conflict (409)                  a state or uniqueness rule is broken
    ├── Gone (410)                      it existed and was deleted for good (a shredded dataset)
    ├── PayloadTooLarge (413)
    ├── RateLimited (429)               a rate limit; Retry-After says when to try again
    ├── ServiceUnavailable (503)
    └── OAuthError (status of RFC 6749 §5.2)  token endpoint errors, with the OAuth fields kept

Every error becomes ``{"error": "<Name>", "detail": "...", "request_id": "..."}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.observability import current_request_id
from hub.openapi import allowed_methods, refused_method
from protocol.models.errors import ErrorBody

log = logging.getLogger("hub.errors")


class HubError(Exception):
    status_code = 500

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers

    @property
    def name(self) -> str:
        return type(self).__name__

    def body(self) -> dict[str, Any]:
        return {"error": self.name, "detail": self.detail, "request_id": current_request_id()}


class BadRequest(HubError):
    status_code = 400


class InvalidInput(BadRequest):
    status_code = 422

    def __init__(self, detail: str, *, loc: str | None = None) -> None:
        super().__init__(detail)
        self.loc = loc

    def body(self) -> dict[str, Any]:
        body = super().body()
        if self.loc:
            body["fields"] = [{"loc": self.loc, "msg": self.detail}]
        return body


class Unauthenticated(HubError):
    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class InsufficientScope(HubError):
    status_code = 403

    def __init__(self, scope: str) -> None:
        super().__init__(
            f"this endpoint needs the scope '{scope}'",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )


class Forbidden(HubError):
    status_code = 403


class NotFound(HubError):
    status_code = 404


class Conflict(HubError):
    status_code = 409


class Gone(HubError):
    status_code = 410


class PayloadTooLarge(HubError):
    status_code = 413


class RateLimited(HubError):
    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(HubError):
    status_code = 503


class OAuthError(HubError):
    """A token endpoint error: keeps RFC 6749's ``error`` code and ``error_description`` for OAuth clients."""

    def __init__(self, status_code: int, oauth_body: dict[str, Any], headers: dict[str, str]) -> None:
        description = str(oauth_body.get("error_description") or oauth_body.get("error", "invalid_request"))
        super().__init__(description, headers=headers)
        self.status_code = status_code
        self.oauth_body = oauth_body

    def body(self) -> dict[str, Any]:
        return {**self.oauth_body, "detail": self.detail, "request_id": current_request_id()}


def refuse_nul_parameters(request: Request) -> None:
    """An app-wide dependency: a NUL character in a path or query parameter is a 422 naming it, never a
    database error (PostgreSQL text cannot hold NUL)."""
    for where, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            if isinstance(value, str) and "\x00" in value:
                raise InvalidInput(f"{where}.{name}: must not contain NUL characters", loc=f"{where}.{name}")


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    fields = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err.get("loc", ()))
        fields.append({"loc": loc, "msg": str(err.get("msg", "invalid"))})
    return fields


def _render(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> JSONResponse:
        return _render(exc.status_code, exc.body(), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        allow = refused_method(request)
        if allow:  # e.g. PUT /v1/rules/templates reached PUT /v1/rules/{rule_id}: a method the path lacks
            refusal = {
                "error": "MethodNotAllowed",
                "detail": "Method Not Allowed",
                "request_id": current_request_id(),
            }
            return _render(405, refusal, {"Allow": allow})
        fields = _field_errors(exc)
        first = fields[0] if fields else {"loc": "body", "msg": "invalid"}
        body = ErrorBody(
            error="InvalidInput",
            detail=f"{first['loc']}: {first['msg']}",
            request_id=current_request_id(),
            fields=fields,
        )
        return _render(422, body.model_dump())

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge", 400: "BadRequest"}
        name = names.get(exc.status_code, "HTTPError")
        detail = str(exc.detail) if exc.detail else name
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}"
        body = {"error": name, "detail": detail, "request_id": current_request_id()}
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; the path's other routes count too.
            allow = allowed_methods(request)
            if allow:
                headers = {**(headers or {}), "Allow": allow}
        return _render(exc.status_code, body, headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
        # A lock wait that ran out (SQLite's one writer), an exhausted pool or a lost connection: nothing was
        # written, and the same request may simply be sent again, so say so instead of an opaque 500.
        log.warning("database unavailable: %s", exc.__class__.__name__, extra={"path": request.url.path})
        error = ServiceUnavailable(
            "the database is busy or unreachable; nothing was changed, retry shortly",
            headers={"Retry-After": "1"},
        )
        return _render(error.status_code, error.body(), error.headers)

    # A request's unexpected error is answered by RequestContext (hub.observability), inside the request's
    # context so the body and log carry its id; this handler is the fallback for what fails outside it.
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        body = {"error": "InternalError", "detail": "internal error", "request_id": current_request_id()}
        return _render(500, body)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        401: "Missing, malformed or expired access token",
        403: "The token lacks the scope this endpoint needs",
        404: "Not found, or not visible to your organization",
        422: "Malformed input; `fields` names each invalid field",
    }.items()
}
