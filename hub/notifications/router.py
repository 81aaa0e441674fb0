from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.notifications import service, views
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from protocol.models import notifications as schemas
from protocol.models.pages import Page

router = APIRouter(
    prefix="/v1/quality-notifications", tags=["quality notifications"], responses=ERROR_RESPONSES
)

Reader = Annotated[Caller, Depends(require("alerts:read"))]
Writer = Annotated[Caller, Depends(require("alerts:write"))]
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The id is taken, or the notification's state does not allow this"}
}


@router.post(
    "",
    status_code=201,
    responses=_CONFLICT,
    summary="Create an investigation or alert (CREATED); several receivers make a case with a child each",
)
def create_notification(
    body: schemas.QualityNotificationCreate, session: SessionDep, caller: Writer, once: IdempotentPost
) -> schemas.QualityNotification:
    notification = once(
        session,
        caller,
        body,
        create=lambda: service.create(session, caller=caller, data=body),
        replay=lambda notification_id: service.get(session, caller=caller, notification_id=notification_id),
    )
    return views.as_wire(session, notification, viewer=caller.org_id)


@router.get("", summary="Notifications your organization sent or received, cursor-paginated")
def list_notifications(
    session: SessionDep,
    caller: Reader,
    type: schemas.NotificationType | None = None,
    status: schemas.NotificationStatus | None = None,
    role: Literal["sender", "receiver"] | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[schemas.QualityNotification]:
    rows, next_cursor = service.list_notifications(
        session, caller=caller, type=type, status=status, role=role, cursor=cursor, limit=limit
    )
    return Page[schemas.QualityNotification](
        items=views.as_wire_many(session, rows, viewer=caller.org_id), next_cursor=next_cursor
    )


@router.get("/{notification_id}", summary="One notification with its messages (and a case's children)")
def get_notification(
    notification_id: uuid.UUID, session: SessionDep, caller: Reader
) -> schemas.QualityNotification:
    notification = service.get(session, caller=caller, notification_id=notification_id)
    return views.as_wire(session, notification, viewer=caller.org_id)


def _transition(
    name: str, summary: str, body_model: type[schemas.NotificationReason | schemas.NotificationAnswer]
) -> None:
    endpoint: Callable[..., schemas.QualityNotification]
    if body_model is schemas.NotificationAnswer:

        def answer(
            notification_id: uuid.UUID, body: schemas.NotificationAnswer, session: SessionDep, caller: Writer
        ) -> schemas.QualityNotification:
            notification = service.transition(
                session, caller=caller, notification_id=notification_id, name=name, reason=body.reason
            )
            return views.as_wire(session, notification, viewer=caller.org_id)

        endpoint = answer
    else:

        def change(
            notification_id: uuid.UUID,
            session: SessionDep,
            caller: Writer,
            body: schemas.NotificationReason | None = None,
        ) -> schemas.QualityNotification:
            reason = body.reason if body else None
            notification = service.transition(
                session, caller=caller, notification_id=notification_id, name=name, reason=reason
            )
            return views.as_wire(session, notification, viewer=caller.org_id)

        endpoint = change
    endpoint.__name__ = f"{name}_notification"
    router.add_api_route(
        f"/{{notification_id}}/{name}",
        endpoint,
        methods=["POST"],
        summary=summary,
        responses={403: {"description": "The other party makes this change"}, **_CONFLICT},
    )


_transition(
    "send",
    "Send (sender): CREATED → SENT; an alert places holds and opens containment actions",
    schemas.NotificationReason,
)
_transition("receive", "Confirm receipt (receiver): SENT → RECEIVED", schemas.NotificationReason)
_transition(
    "acknowledge", "Acknowledge (receiver): SENT or RECEIVED → ACKNOWLEDGED", schemas.NotificationReason
)
_transition(
    "accept",
    "Accept, issue confirmed (receiver): ACKNOWLEDGED → ACCEPTED; reason required",
    schemas.NotificationAnswer,
)
_transition(
    "decline",
    "Decline, no issue found (receiver): ACKNOWLEDGED → DECLINED; reason required",
    schemas.NotificationAnswer,
)
_transition(
    "close", "Close (sender only); an alert's holds are released; reason required", schemas.NotificationAnswer
)
_transition(
    "cancel",
    "Withdraw (sender) before the receiver acknowledges; an alert's holds are released",
    schemas.NotificationReason,
)


@router.post(
    "/{notification_id}/forward",
    status_code=201,
    responses={403: {"description": "Only the receiver forwards"}, **_CONFLICT},
    summary="Forward an investigation you received to your own supplier(s): a new investigation, sent at once",
)
def forward_notification(
    notification_id: uuid.UUID,
    body: schemas.NotificationForward,
    session: SessionDep,
    caller: Writer,
    once: IdempotentPost,
) -> schemas.QualityNotification:
    forwarded = once(
        session,
        caller,
        body,
        create=lambda: service.forward(session, caller=caller, notification_id=notification_id, data=body),
        replay=lambda made: service.get(session, caller=caller, notification_id=made),
    )
    return views.as_wire(session, forwarded, viewer=caller.org_id)
