from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.containment import service
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from protocol.models import containment as schemas
from protocol.models.pages import Page

router = APIRouter(prefix="/v1/containment-actions", tags=["containment"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("alerts:read"))]
Writer = Annotated[Caller, Depends(require("containment:write"))]
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "The action's state does not allow this"}}


@router.get("", summary="Containment actions for your organization's plants, cursor-paginated")
def list_actions(
    session: SessionDep,
    caller: Reader,
    status: schemas.ContainmentStatus | None = None,
    notification_id: uuid.UUID | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[schemas.ContainmentAction]:
    items, next_cursor = service.list_actions(
        session, caller=caller, status=status, notification_id=notification_id, cursor=cursor, limit=limit
    )
    return Page[schemas.ContainmentAction](items=items, next_cursor=next_cursor)


@router.get("/{action_id}", summary="One of your plants' actions with the positions it holds")
def get_action(action_id: uuid.UUID, session: SessionDep, caller: Reader) -> schemas.ContainmentAction:
    return service.get_action(session, caller=caller, action_id=action_id)


@router.post(
    "/{action_id}/acknowledge",
    responses=_CONFLICT,
    summary="Acknowledge your plant's action, naming its owner",
)
def acknowledge_action(
    action_id: uuid.UUID, body: schemas.ContainmentAcknowledge, session: SessionDep, caller: Writer
) -> schemas.ContainmentAction:
    return service.acknowledge(session, caller=caller, action_id=action_id, owner=body.owner)


@router.post(
    "/{action_id}/close", responses=_CONFLICT, summary="Close your plant's acknowledged action with a result"
)
def close_action(
    action_id: uuid.UUID, body: schemas.ContainmentClose, session: SessionDep, caller: Writer
) -> schemas.ContainmentAction:
    return service.close(session, caller=caller, action_id=action_id, result=body.result)
