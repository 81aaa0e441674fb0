"""An organization's opt-ins to NATS JetStream and to Kafka, as ``/v1/streams/nats`` and ``/v1/streams/kafka`` take
and return them.

The hub's bridge publishes each of the organization's events to ``<subject_prefix>.<event type>`` as a CloudEvents
1.0 structured JSON message (``id`` = the event id, also sent as ``Nats-Msg-Id``; ``sequence`` and ``position`` =
the event's stream position), in position order, at least once. The Kafka bridge publishes the same message to the
organization's topic, keyed by the series (``<agreement>/<characteristic>/<kpi>``) or else the case/subject the
event is about, with an idempotent producer (acks=all).

Example:
    >>> NatsStreamPut(subject_prefix="qualink.aurora").subject_prefix
    'qualink.aurora'
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from protocol.models.common import WireModel

__all__ = ["KAFKA_TOPIC", "SUBJECT_PREFIX", "KafkaStream", "KafkaStreamPut", "NatsStream", "NatsStreamPut"]

SUBJECT_PREFIX = r"^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$"
"""Dot-separated tokens of letters, digits, ``_`` and ``-``: no wildcard (``*``, ``>``), no white space, no empty token.

Example:
    >>> import re
    >>> bool(re.match(SUBJECT_PREFIX, "qualink.aurora")), bool(re.match(SUBJECT_PREFIX, "qualink.>"))
    (True, False)
"""


class NatsStreamPut(WireModel):
    """Publish your organization's events under this subject prefix.

    Example:
        >>> NatsStreamPut(subject_prefix="plant-7.qualink").subject_prefix
        'plant-7.qualink'
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"subject_prefix": "qualink.aurora"}]})

    subject_prefix: str = Field(
        min_length=1,
        max_length=200,
        pattern=SUBJECT_PREFIX,
        description="Subjects are <subject_prefix>.<event type>; your NATS user may subscribe to <subject_prefix>.>",
    )


class NatsStream(WireModel):
    """Your organization's JetStream publication and how far the bridge has got.

    Example:
        >>> from datetime import UTC
        >>> NatsStream(subject_prefix="qualink.aurora", stream="QUALINK_0", position=0,
        ...            published_at=None, created_at=datetime(2026, 1, 1, tzinfo=UTC)).position
        0
    """

    subject_prefix: str = Field(description="Subjects are <subject_prefix>.<event type>")
    stream: str = Field(description="The JetStream stream that holds your subjects")
    position: int = Field(description="Position of your last event JetStream acknowledged (0: none yet)")
    published_at: datetime | None = Field(description="When the bridge last published one of your events")
    created_at: datetime


KAFKA_TOPIC = r"^[A-Za-z0-9._-]{1,249}$"
"""A Kafka topic name: letters, digits, ``.``, ``_``, ``-``, at most 249 (the hub also refuses ``.`` and ``..``).

Example:
    >>> import re
    >>> bool(re.match(KAFKA_TOPIC, "qualink.aurora.events")), bool(re.match(KAFKA_TOPIC, "a b"))
    (True, False)
"""


class KafkaStreamPut(WireModel):
    """Publish your organization's events to this Kafka topic.

    Example:
        >>> KafkaStreamPut(topic="qualink.aurora").topic
        'qualink.aurora'
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"topic": "qualink.aurora"}]})

    topic: str = Field(
        min_length=1,
        max_length=249,
        pattern=KAFKA_TOPIC,
        description="The topic your events go to (your Kafka principal may be granted READ on it alone)",
    )


class KafkaStream(WireModel):
    """Your organization's Kafka publication and how far the bridge has got.

    Example:
        >>> from datetime import UTC
        >>> KafkaStream(topic="qualink.aurora", position=0, published_at=None,
        ...             created_at=datetime(2026, 1, 1, tzinfo=UTC)).topic
        'qualink.aurora'
    """

    topic: str = Field(description="The topic your events go to")
    position: int = Field(description="Position of your last event the brokers acknowledged (0: none yet)")
    published_at: datetime | None = Field(description="When the bridge last published one of your events")
    created_at: datetime
