"""Token endpoint (RFC 6749 §4.4), JWKS and authorization server metadata (RFC 8414)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from hub.auth import throttle
from hub.auth.oauth import ASSERTION_ALGORITHMS, HubAuthorizationServer
from hub.auth.scopes import SCOPES
from hub.db import SessionDep
from hub.errors import BadRequest, OAuthError
from hub.models.base import utcnow
from hub.openapi import errors
from protocol.models.orgs import TokenResponse

router = APIRouter(tags=["oauth"])

# The form the endpoint parses itself (RFC 6749 §4.4.2, RFC 7523 §2.2), so that the schema says what it takes.
_TOKEN_REQUEST: dict[str, Any] = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["grant_type"],
                "additionalProperties": False,
                "properties": {
                    "grant_type": {"type": "string", "enum": ["client_credentials"]},
                    "scope": {"type": "string", "description": "space-separated scopes; default: all"},
                    "client_assertion_type": {
                        "type": "string",
                        "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
                    },
                    "client_assertion": {"type": "string", "description": "a private_key_jwt (RFC 7523)"},
                },
            },
            "example": {"grant_type": "client_credentials", "scope": "kpi:write agreements:read"},
        }
    },
}


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    summary="Client credentials grant; authenticate with private_key_jwt or client_secret_basic",
    responses={
        400: {"description": "RFC 6749 §5.2 error"},
        401: {"description": "invalid_client"},
        **errors(
            429, s429="RateLimited: too many failed client authentications; Retry-After says when to retry"
        ),
    },
    openapi_extra={"requestBody": _TOKEN_REQUEST},
)
async def token(request: Request, session: SessionDep) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        raise BadRequest("the token endpoint takes application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise BadRequest("the token request body is not UTF-8") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise BadRequest("a token request parameter is repeated (RFC 6749 §3.2)")
    settings = request.app.state.settings
    attempt = {
        "settings": settings,
        "client_id": throttle.claimed_client_id(request.headers, fields),
        "address": throttle.address_key(request.client.host if request.client else None),
        "now": utcnow(),
    }
    await run_in_threadpool(lambda: throttle.check(session, **attempt))
    server = HubAuthorizationServer(session, settings, request.app.state.token_keys, sorted(SCOPES))
    try:
        result: dict[str, Any] = await run_in_threadpool(
            server.create_token_response, {"headers": request.headers, "form": fields}
        )
    except OAuthError as exc:
        if exc.status_code != 401:
            raise
        # Answered, not raised: the session commits, and with it the failure just counted.
        await run_in_threadpool(lambda: throttle.record_failure(session, **attempt))
        return JSONResponse(
            exc.body(), status_code=401, headers={**(exc.headers or {}), "Cache-Control": "no-store"}
        )
    return JSONResponse(result["body"], headers={**result["headers"], "Cache-Control": "no-store"})


@router.get("/.well-known/jwks.json", summary="The hub's public token-signing keys (RFC 7517)")
def jwks(request: Request) -> dict[str, Any]:
    return dict(request.app.state.token_keys.jwks())


@router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)")
def metadata(request: Request) -> dict[str, Any]:
    issuer = request.app.state.settings.issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "scopes_supported": sorted(SCOPES),
        "response_types_supported": [],
        "service_documentation": f"{issuer}/docs",
    }
