"""One containment action as its plant sees it: the alert it answers, what is asked, and every held position
(bin, lot, quantity, released or not) as ``GET /v1/containment-actions/{id}`` reads them; the holds export to
CSV/XLSX. Acknowledging and closing post to the list page's forms (:mod:`hub.console.pages`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hub.console.export import table_response
from hub.console.web import PREFIX, ConsoleRoute, SignedIn, Viewer, need, parse_id, render
from hub.containment import service
from hub.db import SessionDep
from protocol.models.containment import ContainmentAction

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _action(session: Session, viewer: Viewer, action_id: str) -> ContainmentAction:
    need(viewer, "alerts:read")
    return service.get_action(session, caller=viewer.caller, action_id=parse_id(action_id))


@router.get("/containment/{action_id}")
def containment_action(
    request: Request, action_id: str, session: SessionDep, viewer: SignedIn
) -> HTMLResponse:
    action = _action(session, viewer, action_id)
    context = {"nav": "containment", "row": action, "errors": {}}
    return render(request, "containment_action.html", context, viewer=viewer)


@router.get("/containment/{action_id}/holds.{fmt}")
def holds_export(action_id: str, fmt: str, session: SessionDep, viewer: SignedIn) -> Response:
    action = _action(session, viewer, action_id)
    header = ["location", "lot", "quantity", "unit", "released_at"]
    data = [
        [h.location, h.local_id, h.quantity, h.unit, h.released_at.isoformat() if h.released_at else ""]
        for h in action.holds or []
    ]
    return table_response(f"holds-{action.plant_code}", fmt, header, data)
