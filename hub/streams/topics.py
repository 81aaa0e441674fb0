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

from hub.errors import Conflict, InvalidInput
from hub.models import KafkaStream
from hub.streams import opt_ins
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


KAFKA = opt_ins.Platform(
    table=KafkaStream,
    column="topic",
    audit_as="kafka_stream",
    absent="your organization does not publish to Kafka",
    check=lambda session, org_id, topic: check_topic(session, org_id=org_id, topic=topic),
)


def put_topic(
    session: Session, *, org_id: uuid.UUID, topic: str, actor: str, actor_org_id: uuid.UUID | None
) -> tuple[KafkaStream, bool]:
    """Opt in, or move an existing opt-in to another topic (its cursor stays). Returns the row and whether it is new."""
    return opt_ins.put(session, KAFKA, org_id=org_id, name=topic, actor=actor, actor_org_id=actor_org_id)


def get_topic(session: Session, *, org_id: uuid.UUID) -> KafkaStream:
    return opt_ins.get(session, KAFKA, org_id=org_id)


def remove_topic(session: Session, *, org_id: uuid.UUID, actor: str, actor_org_id: uuid.UUID | None) -> None:
    """Opt out: the bridge publishes nothing more for the organization (what the topic holds stays there)."""
    opt_ins.remove(session, KAFKA, org_id=org_id, actor=actor, actor_org_id=actor_org_id)


def as_wire(stream: KafkaStream) -> schemas.KafkaStream:
    return schemas.KafkaStream(
        topic=stream.topic,
        position=stream.position,
        published_at=stream.published_at,
        created_at=stream.created_at,
    )
