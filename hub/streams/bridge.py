"""The bridge: each opted-in organization's events, in position order, to a stream platform (NATS, Kafka).

Per organization, one round reads the events after the stored cursor (exactly the rows ``events`` holds for that
recipient: the same view as its webhooks and its SSE stream), hands them to the platform's :class:`Sink
<hub.streams.sink.Sink>` as CloudEvents, and only once the sink returns (every event acknowledged) moves the
cursor. A bridge killed between the acknowledgements and the cursor's update publishes those events again after
its restart: at least once, in order, never a gap. How the platform de-duplicates them is the sink's
(:mod:`hub.streams.nats_sink`: ``Nats-Msg-Id``; :mod:`hub.streams.kafka_sink`: consumers, by the CloudEvents id).

The database is read and written in worker threads, so the event loop keeps the platform's connection alive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hub.events import service as events
from hub.models import Event, KafkaStream, NatsStream
from hub.models.base import utcnow
from hub.streams import envelope
from hub.streams import service as streams
from hub.streams.sink import Opted, Sink

log = logging.getLogger("hub.streams")

BATCH = 200

__all__ = ["BATCH", "Bridge", "KafkaBridge", "NatsBridge", "Opted"]


class Bridge:
    """Publishes the organizations opted in to ``table``'s platform through ``sink``; use as ``async with``."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        sink: Sink,
        *,
        table: streams.Opt,
        issuer: str,
        batch: int = BATCH,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._factory = factory
        self.sink = sink
        self._table = table
        self._issuer = issuer
        self._batch = batch
        self._clock = clock

    async def __aenter__(self) -> Bridge:
        await self.sink.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sink.close()

    # -- one round -------------------------------------------------------------------------------------------

    async def publish_once(self) -> int:
        """Publish every opted-in organization's backlog; returns how many events the platform acknowledged."""
        count = 0
        for opted in await asyncio.to_thread(self._opted_in):
            while True:
                batch = await asyncio.to_thread(self._read, opted.org_id, opted.position)
                if not batch:
                    break
                last = await self.publish_events(opted, batch)
                await asyncio.to_thread(self._advance, opted.org_id, last)
                count += len(batch)
                opted = Opted(opted.org_id, opted.target, last)
                if len(batch) < self._batch:
                    break
        return count

    async def publish_events(self, opted: Opted, batch: Sequence[Event]) -> int:
        """Publish ``batch`` in order, all acknowledged; returns the last position. The cursor is the caller's to
        move (``publish_once`` does, after this returns)."""
        outgoing = [envelope.outgoing(event, issuer=self._issuer) for event in batch]
        return await self.sink.publish(opted, outgoing)

    async def run(self, stop: asyncio.Event, *, interval_seconds: float = 1.0) -> None:
        """Publish until ``stop`` is set; a failed round is logged and tried again after the interval."""
        while not stop.is_set():
            try:
                await self.publish_once()
            except Exception:
                log.warning("%s bridge round failed; trying again", self.sink.platform, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)

    # -- the database (in worker threads) --------------------------------------------------------------------

    def _opted_in(self) -> list[Opted]:
        with self._factory() as session:
            return [
                Opted(row.organization_id, _target(row), row.position)
                for row in streams.opted_in(session, self._table)
            ]

    def _read(self, org_id: uuid.UUID, after: int) -> list[Event]:
        with self._factory() as session:
            found = events.positioned_after(session, org_id=org_id, after=after, limit=self._batch)
            session.expunge_all()
            return found

    def _advance(self, org_id: uuid.UUID, position: int) -> None:
        with self._factory.begin() as session:
            streams.advance(session, org_id=org_id, position=position, at=self._clock(), table=self._table)


def _target(row: NatsStream | KafkaStream) -> str:
    return row.subject_prefix if isinstance(row, NatsStream) else row.topic


def NatsBridge(
    factory: sessionmaker[Session],
    *,
    servers: str,
    issuer: str,
    batch: int = BATCH,
    clock: Callable[[], datetime] = utcnow,
    user: str | None = None,
    password: str | None = None,
) -> Bridge:
    """The bridge to NATS JetStream (``nats_streams`` opt-ins)."""
    from hub.streams.nats_sink import NatsSink

    sink = NatsSink(servers=servers, user=user, password=password)
    return Bridge(factory, sink, table=NatsStream, issuer=issuer, batch=batch, clock=clock)


def KafkaBridge(
    factory: sessionmaker[Session],
    *,
    bootstrap: str,
    issuer: str,
    batch: int = BATCH,
    clock: Callable[[], datetime] = utcnow,
    partitions: int = 1,
    config: dict[str, str] | None = None,
) -> Bridge:
    """The bridge to Kafka (``kafka_streams`` opt-ins), through an idempotent producer."""
    from hub.streams.kafka_sink import KafkaSink

    sink = KafkaSink(bootstrap=bootstrap, partitions=partitions, config=config)
    return Bridge(factory, sink, table=KafkaStream, issuer=issuer, batch=batch, clock=clock)
