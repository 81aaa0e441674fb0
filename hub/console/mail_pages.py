"""Each person chooses which mail they receive (downgrades, alerts at their plant, escalations)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.web import PREFIX, ConsoleRoute, SignedIn, render
from hub.db import SessionDep
from hub.errors import InvalidInput
from hub.mail import choices
from hub.mail.outbox import ROLES

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _page(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    wanted = choices.wanted(session, person=viewer.person)
    rows = [
        {"kind": kind, "on": on, "for_role": any(role.value == viewer.person.role for role in ROLES[kind])}
        for kind, on in wanted.items()
    ]
    context = {
        "rows": rows,
        "error": error,
        "saved": request.query_params.get("saved") == "1",
        "nav": "notifications",
    }
    return render(request, "notifications.html", context, viewer=viewer, status_code=status_code)


@router.get("/notifications")
def notifications(request: Request, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    return _page(request, session, viewer)


@router.post("/notifications")
def choose(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    kinds: Annotated[list[str] | None, Form(max_length=32)] = None,
) -> Response:
    try:
        choices.choose(session, person=viewer.person, kinds=kinds or [])
    except InvalidInput as exc:
        return _page(request, session, viewer, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"{PREFIX}/notifications?saved=1", status_code=303)
