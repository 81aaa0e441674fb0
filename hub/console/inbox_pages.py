"""The inbox: filtered by role, kind, state and free text exactly as ``GET /v1/inbox`` filters it (one service,
:mod:`hub.rules.inbox`), marked done and reopened as ``POST /v1/inbox/{id}/done|reopen`` do, and live: the event
stream's ``notification.*`` and ``standing.changed`` make htmx fetch the rows again, with the same filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from hub.console.export import table_response
from hub.console.views import PAGE, event_head
from hub.console.web import PREFIX, ConsoleRoute, SignedIn, Viewer, need, parse_id, render
from hub.db import SessionDep
from hub.errors import InvalidInput
from hub.rules import inbox as service
from protocol.models.rules import InboxNotification, InboxState, RecipientRole

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

# The events after which the inbox has something new to show.
INBOX_EVENTS = ("standing.changed", "notification.created", "notification.updated")
ALL = "all"  # the console's third state choice; the API gives it by leaving ``state`` out


@dataclass(frozen=True)
class InboxFilter:
    """What the person narrowed the inbox to; the console opens on what is still open."""

    role: RecipientRole | None = None
    kind: str = ""
    q: str = ""
    state: InboxState | None = InboxState.OPEN

    @property
    def query(self) -> str:
        """The filter as a query string (with its ``?``), for the rows, the exports and the way back."""
        pairs = {
            "role": self.role.value if self.role else "",
            "kind": self.kind,
            "q": self.q,
            "state": self.state.value if self.state else ALL,
        }
        return "?" + urlencode({k: v for k, v in pairs.items() if v})


def _state(state: Annotated[str, Query(pattern="^(open|done|all)$")] = "open") -> InboxState | None:
    return None if state == ALL else InboxState(state)


def _rows(session: Session, viewer: Viewer, chosen: InboxFilter) -> list[InboxNotification]:
    need(viewer, "standings:read")
    found, _ = service.list_inbox(
        session,
        caller=viewer.caller,
        role=chosen.role,
        kind=chosen.kind or None,
        q=chosen.q or None,
        state=chosen.state,
        limit=PAGE,
    )
    return [service.as_wire(row) for row in found]


_ROLES = "|".join(choice.value for choice in RecipientRole)


def _role(role: Annotated[str, Query(pattern=f"^(|{_ROLES})$")] = "") -> RecipientRole | None:
    """The form's "everyone" sends an empty role: no filter, as leaving it out does on the API."""
    return RecipientRole(role) if role else None


def _chosen(
    role: Annotated[RecipientRole | None, Depends(_role)] = None,
    kind: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=service.MAX_QUERY)] = "",
    state: Annotated[InboxState | None, Depends(_state)] = InboxState.OPEN,
) -> InboxFilter:
    return InboxFilter(role=role, kind=kind.strip(), q=q.strip(), state=state)


Chosen = Annotated[InboxFilter, Depends(_chosen)]


@router.get("/inbox")
def inbox(request: Request, session: SessionDep, viewer: SignedIn, chosen: Chosen) -> HTMLResponse:
    need(viewer, "standings:read")
    # The head is read before the rows: an event that lands in between refreshes the table once more.
    head = event_head(session, caller=viewer.caller)
    context = {
        "rows": _rows(session, viewer, chosen),
        "nav": "inbox",
        "chosen": chosen,
        "roles": list(RecipientRole),
        "kinds": service.kinds(session, caller=viewer.caller),
        "head": head,
        "live_types": ",".join(INBOX_EVENTS),
    }
    return render(request, "inbox.html", context, viewer=viewer)


@router.get("/inbox/rows")
def inbox_rows(request: Request, session: SessionDep, viewer: SignedIn, chosen: Chosen) -> HTMLResponse:
    """The table's rows alone, fetched by htmx when the event stream says something changed."""
    rows = _rows(session, viewer, chosen)
    return render(request, "_inbox_rows.html", {"rows": rows, "chosen": chosen}, viewer=viewer)


@router.get("/inbox.{fmt}")
def inbox_export(fmt: str, session: SessionDep, viewer: SignedIn, chosen: Chosen) -> Response:
    data = [
        [
            r.created_at.isoformat(),
            r.role.value,
            r.kind,
            r.title,
            r.body,
            r.done_at.isoformat() if r.done_at else "",
        ]
        for r in _rows(session, viewer, chosen)
    ]
    header = ["created_at", "role", "kind", "title", "body", "done_at"]
    return table_response("inbox", fmt, header, data)


@router.post("/inbox/{notification_id}/{step}")
def inbox_step(
    notification_id: str,
    step: str,
    session: SessionDep,
    viewer: SignedIn,
    back: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    """Done or reopen, then back to the inbox as the person had filtered it."""
    need(viewer, "standings:read")
    found = parse_id(notification_id)
    change = {"done": service.mark_done, "reopen": service.reopen}.get(step)
    if change is None:
        raise InvalidInput("step: done or reopen", loc="path.step")
    change(session, caller=viewer.caller, notification_id=found)
    # Only a query string of our own goes back into the redirect: never another site.
    target = back if back.startswith("?") and "//" not in back and "\\" not in back else ""
    return RedirectResponse(f"{PREFIX}/inbox{target}", status_code=303)
