"""Webhook subscriptions and their deliveries, as the hub's ``/v1/webhooks`` endpoints take and return them.

Deliveries themselves are signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``); ``supplier_sdk.webhooks.verify`` checks them on the receiving side.

Example:
    >>> WebhookCreate(url="https://plant.example/qualink", event_types=["standing.changed"]).event_types
    ['standing.changed']
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictInt

from protocol.models.common import WireModel

EventType = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$")]
"""An event type such as ``kpi_report.accepted``.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(EventType).validate_python("standing.changed")
    'standing.changed'
"""

DeliveryStatus = Literal["pending", "delivered", "dead"]
"""Where a delivery stands: still being tried, acknowledged with a 2xx, or given up after the last retry.

Example:
    >>> "dead" in DeliveryStatus.__args__
    True
"""


class WebhookCreate(WireModel):
    """A subscription request: the URL and the event types to send there (empty: every type).

    Example:
        >>> WebhookCreate(url="https://plant.example/hook").event_types
        []
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://mes.aurora.example/qualink/events",
                    "event_types": ["standing.changed", "containment_action.opened"],
                }
            ]
        }
    )

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="https URL that receives the POSTs (http to localhost only in development mode)",
    )
    event_types: list[EventType] = Field(
        default_factory=list, max_length=100, description="Event types to send; empty means every type"
    )


class SecretRotate(WireModel):
    """How long the previous secret keeps signing beside the new one.

    Example:
        >>> SecretRotate().overlap_seconds
        86400
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"overlap_seconds": 86400}]})

    overlap_seconds: StrictInt = Field(
        default=86400,
        ge=0,
        le=7 * 86400,
        description="How long the previous secret keeps signing next to the new one",
    )


class Webhook(WireModel):
    """A subscription as the hub keeps it (its secret is never shown again).

    Example:
        >>> sorted(Webhook.model_fields)[:3]
        ['created_at', 'disabled_at', 'event_types']
    """

    id: uuid.UUID
    url: str
    event_types: list[str]
    created_at: datetime
    disabled_at: datetime | None = None
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="Until then deliveries carry a signature by the previous secret too"
    )


class WebhookWithSecret(WireModel):
    """A new or rotated subscription with its secret, shown this once.

    Example:
        >>> WebhookWithSecret.model_fields["secret"].description.startswith("whsec_")
        True
    """

    webhook: Webhook
    secret: str = Field(description="whsec_…, shown once: store it now to verify deliveries")


class WebhookDelivery(WireModel):
    """One event's journey to one webhook: attempts, the last answer, and when the next try is due.

    Example:
        >>> WebhookDelivery.model_fields["status"].annotation == DeliveryStatus
        True
    """

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


__all__ = [
    "DeliveryStatus",
    "EventType",
    "SecretRotate",
    "Webhook",
    "WebhookCreate",
    "WebhookDelivery",
    "WebhookWithSecret",
]
