"""Kafka as a :class:`Sink <hub.streams.sink.Sink>`: each event to the organization's topic, keyed by series/case.

The producer is idempotent (``enable.idempotence=true``, ``acks=all``): the broker numbers each producer's
messages per partition and drops a retried one it already has, so a retry inside one producer session neither
duplicates nor reorders (librdkafka keeps at most 5 requests in flight, which idempotence orders). A batch counts
as published only when every message's delivery report came back without error; then the bridge moves its cursor.

Ordering is per key within a partition: ``key`` is the series (``series:<agreement>/<characteristic>/<kpi>``) or
the case/subject (:func:`hub.streams.envelope.partition_key`), so a consumer sees one series' or one case's
events in order. A topic the bridge creates gets ``partitions`` partitions (default 1, which keeps the whole
organization's order too); with more, the order across keys is the CloudEvents ``position``/``sequence``.

De-duplication across a bridge crash: Kafka has no ``Nats-Msg-Id``. A bridge killed after the acks and before its
cursor's update starts a new producer session after the restart, and the broker cannot recognise that session's
messages as the old one's; the batch is in the topic twice. Consumers de-duplicate by the CloudEvents ``id`` (the
event id, unique; ``position`` orders). A transactional producer would not close the gap either: the cursor lives
in PostgreSQL, not in Kafka, so the two cannot commit atomically. At least once, in order per key, never a gap."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from hub.streams import envelope
from hub.streams.sink import Opted, Outgoing

FLUSH_TIMEOUT_SECONDS = 30.0
PINNED = {"enable.idempotence": "true", "acks": "all"}
"""Producer settings an operator's ``--config`` may not weaken: they are the delivery contract."""


class NotDelivered(RuntimeError):
    """Some message of a batch has no successful delivery report; the cursor stays, the batch is sent again."""


def producer_config(bootstrap: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    """The producer's librdkafka configuration: the operator's ``extra`` (TLS, SASL, …) plus the pinned contract.

    Raises:
        ValueError: ``extra`` tries to change ``enable.idempotence`` or ``acks``.
    """
    extra = dict(extra or {})
    for key, value in PINNED.items():
        if key in extra and str(extra[key]).lower() not in (value, "-1" if key == "acks" else value):
            raise ValueError(f"{key} must stay {value} (the bridge's delivery contract)")
    return {
        "client.id": "qualink-hub-bridge",
        "linger.ms": 5,
        "delivery.timeout.ms": int(FLUSH_TIMEOUT_SECONDS * 1000),
        **extra,
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "max.in.flight.requests.per.connection": 5,
    }


class KafkaSink:
    platform = "Kafka"

    def __init__(self, *, bootstrap: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
        self.config = producer_config(bootstrap, config)
        self._partitions = partitions
        self._producer: Producer | None = None
        self._admin: AdminClient | None = None
        self._topics: set[str] = set()

    async def open(self) -> None:
        self._producer = Producer(self.config)
        admin = {k: v for k, v in self.config.items() if not _producer_only(k)}
        self._admin = AdminClient(admin)
        # Fail fast (as the NATS sink's connect does) when no broker answers.
        await asyncio.to_thread(self._admin.list_topics, timeout=10)

    async def close(self) -> None:
        if self._producer is not None:
            await asyncio.to_thread(self._producer.flush, FLUSH_TIMEOUT_SECONDS)
            self._producer = self._admin = None

    @property
    def producer(self) -> Producer:
        assert self._producer is not None, "open the sink first (`async with` its bridge)"
        return self._producer

    async def publish(self, opted: Opted, batch: Sequence[Outgoing]) -> int:
        await self._ensure_topic(opted.target)
        return await asyncio.to_thread(self._produce, opted, batch)

    def _produce(self, opted: Opted, batch: Sequence[Outgoing]) -> int:
        failures: list[str] = []

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                failures.append(f"{msg.key()!r}: {err}")

        for event in batch:
            while True:
                try:
                    self.producer.produce(
                        opted.target,
                        value=event.body,
                        key=event.key.encode(),
                        headers=[("content-type", envelope.CONTENT_TYPE.encode())],
                        on_delivery=delivered,
                    )
                    break
                except BufferError:  # the local queue is full: let deliveries drain, then go on
                    self.producer.poll(0.5)
            self.producer.poll(0)
        left = self.producer.flush(FLUSH_TIMEOUT_SECONDS)
        if left or failures:
            raise NotDelivered(
                f"{left} undelivered, {len(failures)} failed to {opted.target}: {'; '.join(failures[:3])}"
            )
        return max([opted.position, *(event.position for event in batch)])

    async def _ensure_topic(self, topic: str) -> None:
        if topic in self._topics:
            return
        assert self._admin is not None
        admin = self._admin

        def ensure() -> None:
            if topic in admin.list_topics(topic=None, timeout=10).topics:
                return
            future = admin.create_topics([NewTopic(topic, num_partitions=self._partitions)])[topic]
            try:
                future.result(timeout=30)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise

        await asyncio.to_thread(ensure)
        self._topics.add(topic)


def _producer_only(key: str) -> bool:
    return key in ("linger.ms", "delivery.timeout.ms", "enable.idempotence", "acks") or key.startswith(
        "max.in.flight"
    )
