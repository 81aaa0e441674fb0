"""Events: what the hub tells an organization when something it is entitled to see changes.

The same envelope travels over the event stream (``GET /v1/events``, Server-Sent Events) and in webhook
deliveries. Its ``payload`` is the recipient's own view, under the same minimal-disclosure rules as the API:
an OEM under threshold disclosure gets a ``kpi_report.accepted`` event without the value, as it would read
the report.

Delivery is **at least once**: a stream that reconnects with ``Last-Event-ID`` may repeat the event it was
reading when the connection dropped, and a webhook whose answer was lost is delivered again. ``id`` is the
same on every delivery of one event to one organization, so receivers deduplicate by ``id`` (keep the ids
of, say, the last day's events and skip one seen before). On the stream, the SSE ``id:`` field is the
event's *position*, the organization's resume cursor, and not this ``id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from protocol.models.certificates import CERTIFICATE_EVENT_TYPES
from protocol.models.common import WireModel
from protocol.models.rooms import ROOM_EVENT_TYPES

EVENT_TYPES = (
    "kpi_report.accepted",
    "agreement.proposed",
    "agreement.accepted",
    "agreement.declined",
    "agreement.terminated",
    "standing.opened",
    "standing.changed",
    "notification.created",
    "notification.updated",
    "quality_notification.created",
    "quality_notification.sent",
    "quality_notification.received",
    "quality_notification.acknowledged",
    "quality_notification.accepted",
    "quality_notification.declined",
    "quality_notification.closed",
    "quality_notification.canceled",
    "quality_notification.forwarded",
    "quality_notification.answered",
    "quality_notification.escalated",
    "containment_action.opened",
    "containment_action.acknowledged",
    "containment_action.closed",
    "genealogy.imported",
    *ROOM_EVENT_TYPES,
    *CERTIFICATE_EVENT_TYPES,
)
"""The event types the hub publishes; ``payload`` is the wire model the API answers for the subject
(``KpiReport``, ``Agreement``, ``Standing`` without history: as it opens when an agreement is accepted, or with
the ``change`` that moved it, ``InboxNotification`` (created, or marked done or reopened: ``updated``);
``QualityNotification`` without history plus the ``message`` of the change; ``ContainmentAction`` for the plant's
organization, and for the alert's sender only ``{notification_id, progress}``; for ``genealogy.imported`` the
counts of ``ImportReport``; ``certificate.*`` the ``Certificate`` without its credential); ``room.*`` events carry ids only (see
:data:`protocol.models.rooms.ROOM_EVENT_TYPES`).

Example:
    >>> "kpi_report.accepted" in EVENT_TYPES
    True
"""


class EventMessage(WireModel):
    """One event for one organization: its id (deduplicate by it), type, time, subject and payload.

    Args:
        id: the event's id, the same on every delivery to this organization: deduplicate by it.
        type: one of :data:`EVENT_TYPES`, e.g. ``kpi_report.accepted``.
        occurred_at: when the change committed its transaction (UTC).
        subject_id: the id of what changed (a report, an agreement, a standing, a notification).
        payload: the recipient's view of the subject, as the API would answer it.

    Example:
        >>> from uuid import UUID
        >>> message = EventMessage.model_validate({
        ...     "id": str(UUID(int=7)), "type": "agreement.accepted",
        ...     "occurred_at": "2026-11-25T10:00:00Z", "subject_id": str(UUID(int=3)),
        ...     "payload": {"status": "active"}})
        >>> message.type, message.occurred_at.isoformat()
        ('agreement.accepted', '2026-11-25T10:00:00+00:00')
    """

    id: UUID
    type: str = Field(min_length=1, max_length=64)
    occurred_at: datetime
    subject_id: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any]


__all__ = ["EVENT_TYPES", "EventMessage"]
