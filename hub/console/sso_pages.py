"""Signing in with the organization's OpenID Connect provider.

``/console/sso/{provider}`` sends the browser to the provider with a fresh state, nonce and PKCE challenge, and
keeps them in a sealed, HttpOnly cookie (SameSite=Lax: the provider's redirect back is a top-level GET). The
callback accepts only the state of that cookie (CSRF), then validates the ID token and opens the same
server-side session a password sign-in opens."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from hub.console.sign_in import form_page, signed_in_response
from hub.console.web import PREFIX, ConsoleRoute, parse_id
from hub.db import SessionDep
from hub.errors import HubError
from hub.models.base import utcnow
from hub.people import sessions
from hub.people.policy import session_policy
from hub.sso import oidc, sealing
from hub.sso import people as sso_people
from hub.sso import service as sso

router = APIRouter(prefix=f"{PREFIX}/sso", route_class=ConsoleRoute, include_in_schema=False)

PENDING_COOKIE = "qualink_sso"
PENDING_MAX_AGE = 600


def _key(request: Request) -> bytes:
    try:
        return request.app.state.settings.sso_key()
    except ValueError as exc:
        raise sealing.SsoUnavailable(str(exc)) from None


def _redirect_uri(request: Request) -> str:
    return f"{request.app.state.settings.issuer}{PREFIX}/sso/callback"


def _refused(request: Request, session: Session, detail: str, status_code: int) -> Response:
    response = form_page(request, session, error=detail, status_code=status_code)
    response.delete_cookie(PENDING_COOKIE, path=f"{PREFIX}/sso")
    return response


@router.get("/callback")
def callback(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Query(max_length=2000)] = "",
    state: Annotated[str, Query(max_length=500)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    now = utcnow()
    sealed = request.cookies.get(PENDING_COOKIE, "")
    pending = (
        sealing.open_pending(_key(request), sealed, max_age_seconds=PENDING_MAX_AGE, now=now)
        if sealed
        else None
    )
    if pending is None or not hmac.compare_digest(str(pending.get("state", "")).encode(), state.encode()):
        return _refused(
            request, session, "That sign-in was out of date or not begun here; please try again.", 400
        )
    if error or not code:
        return _refused(
            request, session, f"The provider did not sign you in ({error[:100] or 'no code'}).", 401
        )
    settings = request.app.state.settings
    try:
        provider = sso.get_provider(session, provider_id=parse_id(str(pending.get("provider"))))
        claims = oidc.finish(
            provider,
            secret=sealing.open_secret(_key(request), provider.client_secret_encrypted),
            pending=pending,
            code=code,
            redirect_uri=_redirect_uri(request),
            now=now,
            timeout=settings.sso_http_timeout_seconds,
        )
        person = sso_people.person_for(session, provider=provider, claims=claims)
    except HubError as exc:
        return _refused(request, session, f"Single sign-on failed: {exc.detail}", exc.status_code)
    signed = sessions.open_session(session, person=person, policy=session_policy(settings), now=now)
    response = signed_in_response(request, session, signed)
    response.delete_cookie(PENDING_COOKIE, path=f"{PREFIX}/sso")
    return response


@router.get("/{provider_id}")
def begin(request: Request, session: SessionDep, provider_id: str) -> Response:
    provider = sso.get_provider(session, provider_id=parse_id(provider_id))
    try:
        url, pending = oidc.begin(
            provider,
            redirect_uri=_redirect_uri(request),
            timeout=request.app.state.settings.sso_http_timeout_seconds,
        )
    except oidc.SignInFailed as exc:
        return _refused(request, session, f"Single sign-on failed: {exc.detail}", 502)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        sealing.seal_pending(_key(request), pending, now=utcnow()),
        max_age=PENDING_MAX_AGE,
        path=f"{PREFIX}/sso",
        httponly=True,
        secure=request.app.state.settings.environment != "development",
        samesite="lax",
    )
    return response
