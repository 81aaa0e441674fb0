"""What the webhook endpoints take and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from protocol.models.common import WireModel

EventType = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$")]
DeliveryStatus = Literal["pending", "delivered", "dead"]


class WebhookCreate(WireModel):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="https URL that receives the POSTs (http to localhost only in development mode)",
    )
    event_types: list[EventType] = Field(
        default_factory=list, max_length=100, description="Event types to send; empty means every type"
    )


class SecretRotate(WireModel):
    overlap_seconds: int = Field(
        default=86400,
        ge=0,
        le=7 * 86400,
        description="How long the previous secret keeps signing next to the new one",
    )


class Webhook(WireModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    created_at: datetime
    disabled_at: datetime | None = None
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="Until then deliveries carry a signature by the previous secret too"
    )


class WebhookWithSecret(WireModel):
    webhook: Webhook
    secret: str = Field(description="whsec_…, shown once: store it now to verify deliveries")


class WebhookDelivery(WireModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When the next try is due (pending only)")
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
