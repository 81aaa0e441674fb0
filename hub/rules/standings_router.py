from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from hub.rules import inbox as inbox_service
from hub.rules import standings
from protocol.models.pages import Page
from protocol.models.rules import InboxNotification, InboxState, RecipientRole, Standing

router = APIRouter(prefix="/v1", tags=["standings"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("standings:read"))]


@router.get(
    "/standings",
    summary="Your suppliers' standings (OEM), or your standing at each OEM (supplier), cursor-paginated",
)
def list_standings(
    session: SessionDep, caller: Reader, cursor: CursorParam = None, limit: LimitParam = DEFAULT_LIMIT
) -> Page[Standing]:
    rows, next_cursor = standings.list_standings(session, caller=caller, cursor=cursor, limit=limit)
    return Page[Standing](items=[standings.as_wire(s) for s in rows], next_cursor=next_cursor)


@router.get(
    "/standings/{supplier_id}", summary="One standing with its history and the reasons for each change"
)
def get_standing(
    supplier_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    oem_id: Annotated[uuid.UUID | None, Query(description="For a supplier: which OEM's standing")] = None,
) -> Standing:
    found = standings.get_standing(session, caller=caller, supplier_id=supplier_id, oem_id=oem_id)
    return standings.as_wire(found, standings.history(session, standing=found))


@router.get("/inbox", summary="Notifications for your organization, newest first, cursor-paginated")
def inbox(
    session: SessionDep,
    caller: Reader,
    role: RecipientRole | None = None,
    kind: Annotated[str | None, Query(max_length=64, description="Only this kind, e.g. rule.fired")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Free text: in the title, the kind or the body")
    ] = None,
    state: Annotated[InboxState | None, Query(description="open (not yet done) or done")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[InboxNotification]:
    rows, next_cursor = inbox_service.list_inbox(
        session, caller=caller, role=role, kind=kind, q=q, state=state, cursor=cursor, limit=limit
    )
    return Page[InboxNotification](
        items=[inbox_service.as_wire(row) for row in rows], next_cursor=next_cursor
    )


@router.post("/inbox/{notification_id}/done", summary="Mark an inbox notification done (again: unchanged)")
def mark_done(notification_id: uuid.UUID, session: SessionDep, caller: Reader) -> InboxNotification:
    return inbox_service.as_wire(
        inbox_service.mark_done(session, caller=caller, notification_id=notification_id)
    )


@router.post("/inbox/{notification_id}/reopen", summary="Reopen an inbox notification marked done")
def reopen(notification_id: uuid.UUID, session: SessionDep, caller: Reader) -> InboxNotification:
    return inbox_service.as_wire(
        inbox_service.reopen(session, caller=caller, notification_id=notification_id)
    )
