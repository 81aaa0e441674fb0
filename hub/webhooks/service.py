"""Webhook subscriptions of an organization, their deliveries, and the fan-out that creates deliveries.

A delivery is one event on its way to one webhook. ``fan_out`` runs in the sequencer's transaction right after
the events are numbered, so an event gets its deliveries exactly when it gets its stream position — never twice,
never not at all. The dispatcher (:mod:`hub.webhooks.dispatcher`) sends them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.db import insert_rows
from hub.errors import Conflict, InvalidInput, NotFound
from hub.models import Event, Webhook, WebhookDelivery
from hub.models.base import utcnow, uuid7
from hub.pagination import keyset, page_of
from hub.webhooks import egress, signing
from protocol.models import webhooks as schemas

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check_url(url: str, *, development: bool) -> None:
    """https everywhere; plain http only to this machine and only in development (a local test receiver).

    Outside development the host must not name an internal address in any spelling (see
    :mod:`hub.webhooks.egress`); names are resolved and checked again at every delivery."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidInput("url is not a valid URL", loc="body.url") from exc
    if not host:
        raise InvalidInput("url has no host", loc="body.url")
    if parts.username or parts.password:
        raise InvalidInput("url must not carry credentials", loc="body.url")
    if parts.scheme == "https":
        if not development:
            try:
                egress.check_host(host)
            except egress.BlockedTarget:
                raise InvalidInput(
                    "url must not point at a loopback, private or link-local (or other internal) address",
                    loc="body.url",
                ) from None
        return
    if parts.scheme == "http" and development and host in _LOOPBACK_HOSTS:
        return
    raise InvalidInput("url must be https (http only to localhost in development mode)", loc="body.url")


def create_webhook(
    session: Session, *, caller: Caller, data: schemas.WebhookCreate, development: bool
) -> tuple[Webhook, str]:
    """Subscribe; returns the webhook and its secret, which is never shown again."""
    check_url(data.url, development=development)
    secret = signing.new_secret()
    webhook = Webhook(
        organization_id=caller.org_id,
        url=data.url,
        event_types=sorted(set(data.event_types)),
        secret=secret,
    )
    session.add(webhook)
    session.flush()
    audit.record_for(
        session,
        caller,
        action="webhook.created",
        subject_type="webhook",
        subject_id=webhook.id,
        data={"url": webhook.url, "event_types": webhook.event_types},
    )
    return webhook, secret


def list_webhooks(
    session: Session, *, caller: Caller, cursor: str | None, limit: int
) -> tuple[list[Webhook], str | None]:
    query = keyset(
        select(Webhook).where(Webhook.organization_id == caller.org_id),
        Webhook.id,
        cursor=cursor,
        limit=limit,
    )
    return page_of(list(session.scalars(query)), limit, last_id=lambda webhook: webhook.id)


def get_webhook(session: Session, *, caller: Caller, webhook_id: uuid.UUID) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.organization_id != caller.org_id:
        raise NotFound("webhook not found")
    return webhook


def webhook_with_secret(session: Session, *, caller: Caller, webhook_id: uuid.UUID) -> tuple[Webhook, str]:
    """The webhook and its current secret, for an Idempotency-Key's repeat of the answer that showed it."""
    webhook = get_webhook(session, caller=caller, webhook_id=webhook_id)
    return webhook, webhook.secret


def disable_webhook(session: Session, *, caller: Caller, webhook_id: uuid.UUID) -> Webhook:
    """Stop sending: the webhook stays listed with its deliveries, and what was still pending is dead-lettered
    with the reason, so nothing waits on a subscription that will never send again."""
    webhook = get_webhook(session, caller=caller, webhook_id=webhook_id)
    if webhook.disabled_at is not None:
        return webhook
    now = utcnow()
    webhook.disabled_at = now
    for delivery in session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.status == "pending"
        )
    ):
        delivery.status, delivery.last_error = "dead", "webhook disabled"
    audit.record_for(
        session, caller, action="webhook.disabled", subject_type="webhook", subject_id=webhook.id
    )
    return webhook


def rotate_secret(
    session: Session,
    *,
    caller: Caller,
    webhook_id: uuid.UUID,
    overlap_seconds: int,
    now: datetime | None = None,
) -> tuple[Webhook, str]:
    """A new secret, returned once; the current one keeps signing beside it for ``overlap_seconds`` so the
    receiver can switch without rejecting a delivery."""
    webhook = get_webhook(session, caller=caller, webhook_id=webhook_id)
    if webhook.disabled_at is not None:
        raise Conflict("webhook is disabled")
    now = now or utcnow()
    secret = signing.new_secret()
    webhook.previous_secret = webhook.secret if overlap_seconds > 0 else None
    webhook.previous_secret_expires_at = now + timedelta(seconds=overlap_seconds) if overlap_seconds else None
    webhook.secret = secret
    audit.record_for(
        session,
        caller,
        action="webhook.secret_rotated",
        subject_type="webhook",
        subject_id=webhook.id,
        data={"overlap_seconds": overlap_seconds},
    )
    return webhook, secret


def signing_secrets(webhook: Webhook, *, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret and expires is not None and now < expires:
        return [webhook.secret, webhook.previous_secret]
    return [webhook.secret]


def list_deliveries(
    session: Session,
    *,
    caller: Caller,
    webhook_id: uuid.UUID,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[tuple[WebhookDelivery, Event]], str | None]:
    """Newest event first. A webhook has one delivery per event, so the event's ``seq`` orders them and is the
    key a cursor continues after."""
    get_webhook(session, caller=caller, webhook_id=webhook_id)
    query = (
        select(WebhookDelivery, Event)
        .join(Event, Event.seq == WebhookDelivery.event_seq)
        .where(WebhookDelivery.webhook_id == webhook_id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    query = keyset(query, WebhookDelivery.event_seq, cursor=cursor, limit=limit, kind=int, newest_first=True)
    rows = [(delivery, event) for delivery, event in session.execute(query).all()]
    return page_of(rows, limit, last_id=lambda row: row[0].event_seq)


def replay_delivery(
    session: Session, *, caller: Caller, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, Event]:
    """Send a dead or delivered delivery again, from a fresh retry schedule."""
    webhook = get_webhook(session, caller=caller, webhook_id=webhook_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound("delivery not found")
    if webhook.disabled_at is not None:
        raise Conflict("webhook is disabled")
    if delivery.status == "pending":
        raise Conflict("delivery is pending already")
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    delivery.last_error = None
    audit.record_for(
        session,
        caller,
        action="webhook.delivery_replayed",
        subject_type="webhook_delivery",
        subject_id=delivery.id,
        data={"webhook_id": str(webhook.id)},
    )
    event = session.scalars(select(Event).where(Event.seq == delivery.event_seq)).one()
    return delivery, event


def fan_out(session: Session, *, events: Sequence[Event]) -> int:
    """A pending delivery for each event and each active webhook of its organization that wants its type."""
    return len(make_deliveries(session, events=events, next_attempt_at=utcnow()))


@dataclass(frozen=True)
class Made:
    """A delivery just written by :func:`make_deliveries`, with the webhook and event it joins."""

    delivery_id: uuid.UUID
    webhook: Webhook
    event: Event


def make_deliveries(session: Session, *, events: Sequence[Event], next_attempt_at: datetime) -> list[Made]:
    """:func:`fan_out`'s rows, first due at ``next_attempt_at`` (a lease's end, for a dispatcher that sends them
    itself at once), in event order, written with one INSERT past the unit of work."""
    if not events:
        return []
    org_ids = {event.organization_id for event in events}
    webhooks: dict[uuid.UUID, list[Webhook]] = {}
    for webhook in session.scalars(
        select(Webhook)
        .where(Webhook.organization_id.in_(org_ids), Webhook.disabled_at.is_(None))
        .order_by(Webhook.created_at)
    ):
        webhooks.setdefault(webhook.organization_id, []).append(webhook)
    made = [
        Made(uuid7(), webhook, event)
        for event in events
        for webhook in webhooks.get(event.organization_id, [])
        if not webhook.event_types or event.type in webhook.event_types
    ]
    now = utcnow()
    rows = [
        {
            "id": m.delivery_id,
            "webhook_id": m.webhook.id,
            "event_seq": m.event.seq,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": next_attempt_at,
            "created_at": now,
        }
        for m in made
    ]
    insert_rows(session, WebhookDelivery, rows)
    return made


def webhook_as_wire(webhook: Webhook) -> schemas.Webhook:
    return schemas.Webhook(
        id=webhook.id,
        url=webhook.url,
        event_types=webhook.event_types,
        created_at=webhook.created_at,
        disabled_at=webhook.disabled_at,
        previous_secret_expires_at=webhook.previous_secret_expires_at,
    )


def delivery_as_wire(delivery: WebhookDelivery, event: Event) -> schemas.WebhookDelivery:
    return schemas.WebhookDelivery(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=event.id,
        event_type=event.type,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )
