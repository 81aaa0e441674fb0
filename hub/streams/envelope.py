"""The CloudEvents 1.0 envelope of a published event (structured JSON mode, the CNCF SDK's JSON format).

Stream processors route on the envelope alone: ``type`` is ``io.qualink.<event type>``, ``source`` names the hub
and the recipient organization, ``id`` is the event id (the same id webhooks and the SSE stream carry, and the
``Nats-Msg-Id``), ``time`` when it happened, ``subject`` what it is about; ``data`` is the recipient's view, the
same ``EventMessage`` a webhook receives. ``sequence`` (the CloudEvents sequence extension: a string that orders
lexicographically) and ``position`` (an integer) are the event's position in the organization's stream.

``partition_key`` is what Kafka partitions by: the series (``series:<agreement>/<characteristic>/<kpi>``) when the
recipient's view names one (KPI reports and their outcomes), else the subject the event is about (``<type
family>:<subject id>``: the quality case, the agreement, the room...). All events of one series or case land in one
partition, in order."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from hub.events import service as events
from hub.models import Event
from hub.streams.sink import Outgoing

CONTENT_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "io.qualink."
_SEQUENCE_DIGITS = 19  # positions are 64-bit signed: at most 19 digits
_FORMAT = JSONFormat()


def source(issuer: str, event: Event) -> str:
    return f"{issuer}/v1/organizations/{event.organization_id}"


def cloud_event(event: Event, *, issuer: str) -> CloudEvent:
    position = event.position or 0
    occurred = event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(tzinfo=UTC)
    attributes = {
        "id": str(event.id),
        "source": source(issuer, event),
        "type": TYPE_PREFIX + event.type,
        "time": occurred,
        "subject": event.subject_id,
        "datacontenttype": "application/json",
        "sequence": str(position).zfill(_SEQUENCE_DIGITS),
        "position": position,
    }
    return CloudEvent(attributes, events.as_message(event))


def encode(event: Event, *, issuer: str) -> bytes:
    """The structured-mode JSON document: attributes and ``data`` in one object."""
    return _FORMAT.write(cloud_event(event, issuer=issuer))


def partition_key(event: Event) -> str:
    """The series when the view names one, else the event's subject (see the module's docstring)."""
    view: Any = event.payload
    if isinstance(view, dict) and all(view.get(k) for k in ("agreement_id", "characteristic", "kpi")):
        return f"series:{view['agreement_id']}/{view['characteristic']}/{view['kpi']}"
    return f"{event.type.split('.', 1)[0]}:{event.subject_id}"


def outgoing(event: Event, *, issuer: str) -> Outgoing:
    """The event as a sink takes it: CloudEvents id, key, type, position and the encoded document."""
    return Outgoing(
        id=str(event.id),
        key=partition_key(event),
        type=event.type,
        position=event.position or 0,
        body=encode(event, issuer=issuer),
    )
