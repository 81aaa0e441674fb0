"""What a bridge hands a stream platform: a batch of CloudEvents, each with its id and key, for one organization.

A :class:`Sink` publishes a batch in order and returns the position of the last event the platform acknowledged;
if it cannot have every event of the batch acknowledged it raises, and the bridge leaves its cursor where it was
(so the next round publishes the batch again: at least once). The cursor, the resume after a crash and the
per-organization view are the bridge's (:mod:`hub.streams.bridge`), written once for every platform."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Opted:
    """An organization opted in: where its events go (a NATS subject prefix, a Kafka topic) and its cursor."""

    org_id: uuid.UUID
    target: str
    position: int


@dataclass(frozen=True)
class Outgoing:
    """One event ready to publish: the CloudEvent's ``id``, its routing ``key`` (the series or case), the event
    type, its position in the organization's stream and the structured-mode JSON document."""

    id: str
    key: str
    type: str
    position: int
    body: bytes


class Sink(Protocol):
    """A stream platform's publishing side (``NatsSink``, ``KafkaSink``)."""

    platform: str  # for logs and errors: "NATS", "Kafka"

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, opted: Opted, batch: Sequence[Outgoing]) -> int:
        """Publish ``batch`` in order; return the position of its last event once the platform acknowledged
        every one of them. Raises when any is not acknowledged."""
        ...
