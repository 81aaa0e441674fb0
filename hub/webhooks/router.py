from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.config import Settings
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from hub.webhooks import service
from protocol.models import webhooks as schemas
from protocol.models.pages import Page

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)

Admin = Annotated[Caller, Depends(require("webhooks:admin"))]


def _development(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.environment == "development"


@router.post(
    "", status_code=201, summary="Subscribe a URL to your organization's events; the secret is shown once"
)
def create_webhook(
    body: schemas.WebhookCreate, request: Request, session: SessionDep, caller: Admin, once: IdempotentPost
) -> schemas.WebhookWithSecret:
    webhook, secret = once(
        session,
        caller,
        body,
        create=lambda: service.create_webhook(
            session, caller=caller, data=body, development=_development(request)
        ),
        replay=lambda webhook_id: service.webhook_with_secret(session, caller=caller, webhook_id=webhook_id),
        resource_id=lambda made: made[0].id,
    )
    return schemas.WebhookWithSecret(webhook=service.webhook_as_wire(webhook), secret=secret)


@router.get("", summary="Your organization's webhooks, disabled ones included, cursor-paginated")
def list_webhooks(
    session: SessionDep, caller: Admin, cursor: CursorParam = None, limit: LimitParam = DEFAULT_LIMIT
) -> Page[schemas.Webhook]:
    rows, next_cursor = service.list_webhooks(session, caller=caller, cursor=cursor, limit=limit)
    return Page[schemas.Webhook](items=[service.webhook_as_wire(w) for w in rows], next_cursor=next_cursor)


@router.get("/{webhook_id}", summary="One of your organization's webhooks")
def get_webhook(webhook_id: uuid.UUID, session: SessionDep, caller: Admin) -> schemas.Webhook:
    return service.webhook_as_wire(service.get_webhook(session, caller=caller, webhook_id=webhook_id))


@router.delete("/{webhook_id}", status_code=204, summary="Disable a webhook: nothing more is sent to it")
def disable_webhook(webhook_id: uuid.UUID, session: SessionDep, caller: Admin) -> Response:
    service.disable_webhook(session, caller=caller, webhook_id=webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    summary="A new secret, shown once; the previous one keeps signing during the overlap",
)
def rotate_secret(
    webhook_id: uuid.UUID,
    session: SessionDep,
    caller: Admin,
    once: IdempotentPost,
    body: schemas.SecretRotate | None = None,
) -> schemas.WebhookWithSecret:
    """Takes an Idempotency-Key although it makes nothing new: a blind retry would rotate twice, losing the
    secret the first rotation made and dropping the receiver's current one out of the overlap."""
    overlap = (body or schemas.SecretRotate()).overlap_seconds
    webhook, secret = once(
        session,
        caller,
        body,
        create=lambda: service.rotate_secret(
            session, caller=caller, webhook_id=webhook_id, overlap_seconds=overlap
        ),
        replay=lambda same: service.webhook_with_secret(session, caller=caller, webhook_id=same),
        resource_id=lambda made: made[0].id,
    )
    return schemas.WebhookWithSecret(webhook=service.webhook_as_wire(webhook), secret=secret)


@router.get("/{webhook_id}/deliveries", summary="A webhook's deliveries, newest first, cursor-paginated")
def list_deliveries(
    webhook_id: uuid.UUID,
    session: SessionDep,
    caller: Admin,
    status: schemas.DeliveryStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[schemas.WebhookDelivery]:
    rows, next_cursor = service.list_deliveries(
        session, caller=caller, webhook_id=webhook_id, status=status, cursor=cursor, limit=limit
    )
    return Page[schemas.WebhookDelivery](
        items=[service.delivery_as_wire(delivery, event) for delivery, event in rows], next_cursor=next_cursor
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    summary="Send a dead or delivered delivery again, from a fresh retry schedule",
)
def replay_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, caller: Admin
) -> schemas.WebhookDelivery:
    delivery, event = service.replay_delivery(
        session, caller=caller, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return service.delivery_as_wire(delivery, event)
