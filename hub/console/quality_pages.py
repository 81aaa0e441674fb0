"""Quality notifications in the console: raise an investigation or alert, follow it through its states with a
button for each change the caller's side may make from where it stands, and forward a received investigation to
the next tier. Every change is the service call ``/v1/quality-notifications`` makes, inside a savepoint: a refused
change writes nothing, and comes back as the page with the service's message next to the form."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.console import quality_views, views
from hub.console.export import table_response
from hub.console.web import PREFIX, ConsoleRoute, SignedIn, Viewer, need, parse_id, render
from hub.db import SessionDep
from hub.errors import HubError, InvalidInput
from hub.notifications import service
from hub.notifications import views as wire_views
from hub.notifications.states import TRANSITIONS
from protocol.models import notifications as wire
from protocol.models.containment import ContainmentKind, ContainmentRequest

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
HOME = f"{PREFIX}/quality"
Text = Annotated[str, Form(max_length=wire.MAX_TEXT_LENGTH)]


def _notifications(session: Session, viewer: Viewer) -> list[wire.QualityNotification]:
    need(viewer, "alerts:read")
    found, _ = service.list_notifications(session, caller=viewer.caller, limit=views.PAGE)
    # A case's children are on the case's own page; the newest first.
    rows = [row for row in found if row.parent_id is None]
    return list(reversed(wire_views.as_wire_many(session, rows, viewer=viewer.caller.org_id)))


def _list_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "nav": "quality",
        "rows": _notifications(session, viewer),
        "names": views.names(session, caller=viewer.caller),
        "form": form or {},
        "errors": errors or {},
        "types": list(wire.NotificationType),
        "severities": list(wire.Severity),
        "kinds": list(ContainmentKind),
    }
    return render(request, "quality.html", context, viewer=viewer, status_code=status_code)


@router.get("/quality")
def quality(request: Request, session: SessionDep, viewer: SignedIn, lot: str = "") -> HTMLResponse:
    return _list_page(request, session, viewer, form={"lots": lot[:200]})


@router.get("/quality.{fmt}")
def quality_export(fmt: str, session: SessionDep, viewer: SignedIn) -> Response:
    known = views.names(session, caller=viewer.caller)
    header = [
        "id",
        "type",
        "status",
        "severity",
        "title",
        "role",
        "sender",
        "receiver",
        "target_date",
        "updated_at",
    ]
    data = [
        [
            n.id,
            n.type.value,
            n.status.value,
            n.severity.value,
            n.title,
            n.role,
            known.get(n.sender_id, ""),
            known.get(n.receiver_id, "") if n.receiver_id else "",
            n.target_date.isoformat() if n.target_date else "",
            n.updated_at.isoformat(),
        ]
        for n in _notifications(session, viewer)
    ]
    return table_response("quality-notifications", fmt, header, data)


@router.post("/quality")
def raise_notification(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    type: Annotated[str, Form(max_length=20)],
    title: Annotated[str, Form(max_length=200)] = "",
    description: Text = "",
    severity: Annotated[str, Form(max_length=20)] = "MINOR",
    lots: Annotated[str, Form(max_length=20_000)] = "",
    containment: Annotated[str, Form(max_length=20)] = "",
    target_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    need(viewer, "alerts:write")
    form = {"type": type, "title": title, "description": description, "severity": severity, "lots": lots}
    form |= {"containment": containment, "target_date": target_date}
    try:
        with session.begin_nested():
            # The choices first: a misspelt type is named before the lots are looked up.
            wire.QualityNotificationCreate.model_validate(
                {"type": type, "title": title, "severity": severity, "affected_asset_ids": [uuid.UUID(int=1)]}
            )
            data = wire.QualityNotificationCreate(
                type=type,
                title=title,
                description=description,
                severity=severity,
                target_date=quality_views.target(target_date),
                affected_asset_ids=quality_views.assets(session, viewer, lots),
                containment=ContainmentRequest(kind=containment) if containment and type == "ALERT" else None,
            )
            made = service.create(session, caller=viewer.caller, data=data)
    except ValidationError as exc:
        where, message = quality_views.field_of(exc)
        return _list_page(request, session, viewer, form=form, errors={where: message}, status_code=422)
    except HubError as exc:
        if exc.status_code in (401, 403):
            raise
        loc = getattr(exc, "loc", None) or "lots"
        where = loc.removeprefix("body.").split(".")[0]
        errors = {"lots" if where in ("roots", "affected_asset_ids") else where: exc.detail}
        return _list_page(request, session, viewer, form=form, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"{HOME}/{made.id}", status_code=303)


def _detail_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    notification_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    need(viewer, "alerts:read")
    found = service.get(session, caller=viewer.caller, notification_id=notification_id)
    notification = wire_views.as_wire(session, found, viewer=viewer.caller.org_id)
    context = {
        "nav": "quality",
        "n": notification,
        "names": views.names(session, caller=viewer.caller),
        "steps": quality_views.steps(notification),
        "needs_reason": {name for name, step in TRANSITIONS.items() if step.reason_required},
        "candidates": quality_views.forward_candidates(session, viewer, notification),
        "errors": errors or {},
    }
    return render(request, "quality_notification.html", context, viewer=viewer, status_code=status_code)


@router.get("/quality/{notification_id}")
def quality_notification(
    request: Request, notification_id: str, session: SessionDep, viewer: SignedIn
) -> HTMLResponse:
    return _detail_page(request, session, viewer, parse_id(notification_id))


def _change(
    request: Request, session: Session, viewer: Viewer, found: uuid.UUID, where: str, act: Callable[[], Any]
) -> Response:
    need(viewer, "alerts:write")
    try:
        with session.begin_nested():
            made = act()
    except ValidationError as exc:
        message = f"{quality_views.field_of(exc)[1]}"
        return _detail_page(request, session, viewer, found, errors={where: message}, status_code=422)
    except HubError as exc:
        if exc.status_code in (401, 404):
            raise
        return _detail_page(
            request, session, viewer, found, errors={where: exc.detail}, status_code=exc.status_code
        )
    return RedirectResponse(f"{HOME}/{made.id}", status_code=303)


@router.post("/quality/{notification_id}/forward")
def forward(
    request: Request,
    notification_id: str,
    session: SessionDep,
    viewer: SignedIn,
    lots: Annotated[list[str] | None, Form()] = None,
    reason: Text = "",
) -> Response:
    found = parse_id(notification_id)

    def act() -> Any:
        data = wire.NotificationForward(
            affected_asset_ids=[parse_id(lot) for lot in lots or []], reason=reason or None
        )
        return service.forward(session, caller=viewer.caller, notification_id=found, data=data)

    return _change(request, session, viewer, found, "forward", act)


@router.post("/quality/{notification_id}/{step}")
def change_state(
    request: Request,
    notification_id: str,
    step: str,
    session: SessionDep,
    viewer: SignedIn,
    reason: Text = "",
) -> Response:
    found = parse_id(notification_id)
    if step not in TRANSITIONS:
        raise InvalidInput(f"step: one of {', '.join(TRANSITIONS)}", loc="path.step")

    def act() -> Any:
        service.transition(
            session, caller=viewer.caller, notification_id=found, name=step, reason=reason or None
        )
        return service.get(session, caller=viewer.caller, notification_id=found)

    return _change(request, session, viewer, found, "state", act)
