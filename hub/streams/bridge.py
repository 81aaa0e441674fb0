"""The NATS bridge: each opted-in organization's events, in position order, to its JetStream subjects.

Per organization, one round reads the events after the stored cursor (exactly the rows ``events`` holds for that
recipient: the same view as its webhooks and its SSE stream), publishes each to ``<prefix>.<event type>`` with
``Nats-Msg-Id`` = the event id, waits for each PubAck, and only then moves the cursor. A bridge killed between a
PubAck and the cursor's update publishes those events again after its restart; JetStream drops them as
duplicates within the stream's duplicate window (``DUPLICATE_WINDOW_SECONDS``), and past it a consumer still
de-duplicates by the CloudEvents ``id``. So: at least once, in order, never a gap.

Each organization has its own stream (``QUALINK_<org id>``, subjects ``<prefix>.>``), created or renamed here. The
database is read and written in worker threads, so the event loop keeps the NATS connection alive meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError
from sqlalchemy.orm import Session, sessionmaker

from hub.events import service as events
from hub.models import Event
from hub.models.base import utcnow
from hub.streams import envelope
from hub.streams import service as streams

log = logging.getLogger("hub.streams")

DUPLICATE_WINDOW_SECONDS = 3600.0
BATCH = 200
ACK_TIMEOUT_SECONDS = 5.0
RECONNECT_ATTEMPTS = 5


async def _connection_trouble(exc: Exception) -> None:
    # One line, not nats-py's default traceback per attempt: the client reconnects by itself meanwhile.
    log.warning("NATS connection: %s", exc)


@dataclass(frozen=True)
class Opted:
    org_id: uuid.UUID
    prefix: str
    position: int


class WrongStream(RuntimeError):
    """JetStream acknowledged into another stream than the organization's: its subjects are misconfigured."""


class NatsBridge:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        servers: str,
        issuer: str,
        batch: int = BATCH,
        clock: Callable[[], datetime] = utcnow,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        self._factory = factory
        self._servers = servers
        self._issuer = issuer
        self._batch = batch
        self._clock = clock
        self._credentials = {"user": user, "password": password} if user else {}
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._streams: dict[uuid.UUID, str] = {}  # org id -> prefix its stream was made for

    async def __aenter__(self) -> NatsBridge:
        self._nc = await nats.connect(
            servers=[self._servers],
            connect_timeout=5,
            error_cb=_connection_trouble,
            max_reconnect_attempts=RECONNECT_ATTEMPTS,
            reconnect_time_wait=1,
            **self._credentials,
        )
        self._js = self._nc.jetstream(timeout=ACK_TIMEOUT_SECONDS)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._nc is not None:
            await self._nc.drain()
            self._nc = self._js = None

    @property
    def jetstream(self) -> JetStreamContext:
        assert self._js is not None, "use the bridge as `async with NatsBridge(...)`"
        return self._js

    # -- one round -------------------------------------------------------------------------------------------

    async def publish_once(self) -> int:
        """Publish every opted-in organization's backlog; returns how many events JetStream acknowledged."""
        count = 0
        for opted in await asyncio.to_thread(self._opted_in):
            while True:
                batch = await asyncio.to_thread(self._read, opted.org_id, opted.position)
                if not batch:
                    break
                last = await self.publish_events(opted, batch)
                await asyncio.to_thread(self._advance, opted.org_id, last)
                count += len(batch)
                opted = Opted(opted.org_id, opted.prefix, last)
                if len(batch) < self._batch:
                    break
        return count

    async def publish_events(self, opted: Opted, batch: Sequence[Event]) -> int:
        """Publish ``batch`` in order, each acknowledged before the next; returns the last position. The cursor
        is the caller's to move (``publish_once`` does, after this returns)."""
        name = await self._ensure_stream(opted)
        last = opted.position
        for event in batch:
            ack = await self.jetstream.publish(
                f"{opted.prefix}.{event.type}",
                envelope.encode(event, issuer=self._issuer),
                stream=name,
                headers={"Nats-Msg-Id": str(event.id), "Content-Type": envelope.CONTENT_TYPE},
            )
            if ack.stream != name:
                raise WrongStream(f"{event.id} went to stream {ack.stream}, not {name}")
            last = event.position or last
        return last

    async def run(self, stop: asyncio.Event, *, interval_seconds: float = 1.0) -> None:
        """Publish until ``stop`` is set; a failed round is logged and tried again after the interval."""
        while not stop.is_set():
            try:
                await self.publish_once()
            except Exception:
                log.warning("NATS bridge round failed; trying again", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)

    # -- JetStream streams -----------------------------------------------------------------------------------

    async def _ensure_stream(self, opted: Opted) -> str:
        name = streams.stream_name(opted.org_id)
        if self._streams.get(opted.org_id) == opted.prefix:
            return name
        config = StreamConfig(
            name=name, subjects=[f"{opted.prefix}.>"], duplicate_window=DUPLICATE_WINDOW_SECONDS
        )
        try:
            await self.jetstream.add_stream(config)
        except BadRequestError:  # the stream exists with other subjects: the organization renamed its prefix
            await self.jetstream.update_stream(config)
        self._streams[opted.org_id] = opted.prefix
        return name

    # -- the database (in worker threads) --------------------------------------------------------------------

    def _opted_in(self) -> list[Opted]:
        with self._factory() as session:
            return [Opted(s.organization_id, s.subject_prefix, s.position) for s in streams.opted_in(session)]

    def _read(self, org_id: uuid.UUID, after: int) -> list[Event]:
        with self._factory() as session:
            found = events.positioned_after(session, org_id=org_id, after=after, limit=self._batch)
            session.expunge_all()
            return found

    def _advance(self, org_id: uuid.UUID, position: int) -> None:
        with self._factory.begin() as session:
            streams.advance(session, org_id=org_id, position=position, at=self._clock())
