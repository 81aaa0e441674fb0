"""Which organizations publish their events to Kafka, to which topic; the cursor is :mod:`hub.streams.service`'s.

An organization opts in with a topic name. Two organizations never share a topic, nor two topics that Kafka would
confuse: Kafka folds ``.`` and ``_`` together in its metric names and refuses to create a topic that collides with
an existing one that way, so ``qualink.aurora`` and ``qualink_aurora`` count as the same here. A principal granted
READ on one topic (a Kafka ACL, ``deploy/kafka/acls.sh``) reads one organization's events and nobody else's. A new
opt-in starts at the organization's newest event, as a new webhook does."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.errors import Conflict, InvalidInput, NotFound
from hub.events import service as events
from hub.models import KafkaStream
from hub.models.base import utcnow
from protocol.models import streams as schemas


def _folded(topic: str) -> str:
    return topic.replace(".", "_").lower()


def check_topic(session: Session, *, org_id: uuid.UUID, topic: str, loc: str = "body.topic") -> None:
    """A legal topic name, colliding with no other organization's topic."""
    if not re.match(schemas.KAFKA_TOPIC, topic) or topic in (".", ".."):
        raise InvalidInput(
            "topic must be 1-249 letters, digits, '.', '_' and '-' (and neither '.' nor '..')", loc=loc
        )
    others = session.scalars(select(KafkaStream.topic).where(KafkaStream.organization_id != org_id))
    if any(_folded(topic) == _folded(other) for other in others):
        raise Conflict(f"topic '{topic}' is another organization's (or differs from it only by '.' and '_')")


def put_topic(
    session: Session, *, org_id: uuid.UUID, topic: str, actor: str, actor_org_id: uuid.UUID | None
) -> tuple[KafkaStream, bool]:
    """Opt in, or move an existing opt-in to another topic (its cursor stays). Returns the row and whether it is new."""
    check_topic(session, org_id=org_id, topic=topic)
    stream = session.get(KafkaStream, org_id)
    created = stream is None
    if stream is None:
        stream = KafkaStream(
            organization_id=org_id, topic=topic, position=events.head_position(session, org_id=org_id)
        )
        session.add(stream)
    elif stream.topic == topic:
        return stream, False
    else:
        stream.topic = topic
        stream.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_org_id=actor_org_id,
        action="kafka_stream.opted_in" if created else "kafka_stream.renamed",
        subject_type="organization",
        subject_id=org_id,
        data={"topic": topic},
    )
    return stream, created


def get_topic(session: Session, *, org_id: uuid.UUID) -> KafkaStream:
    stream = session.get(KafkaStream, org_id)
    if stream is None:
        raise NotFound("your organization does not publish to Kafka")
    return stream


def remove_topic(session: Session, *, org_id: uuid.UUID, actor: str, actor_org_id: uuid.UUID | None) -> None:
    """Opt out: the bridge publishes nothing more for the organization (what the topic holds stays there)."""
    stream = get_topic(session, org_id=org_id)
    topic = stream.topic
    session.delete(stream)
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_org_id=actor_org_id,
        action="kafka_stream.opted_out",
        subject_type="organization",
        subject_id=org_id,
        data={"topic": topic},
    )


def as_wire(stream: KafkaStream) -> schemas.KafkaStream:
    return schemas.KafkaStream(
        topic=stream.topic,
        position=stream.position,
        published_at=stream.published_at,
        created_at=stream.created_at,
    )
