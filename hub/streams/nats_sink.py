"""NATS JetStream as a :class:`Sink <hub.streams.sink.Sink>`: each event to ``<prefix>.<event type>``.

Each event is published with ``Nats-Msg-Id`` = the event id and the next waits for its PubAck. Republished events
(a bridge killed between a PubAck and the cursor's update) are dropped by JetStream as duplicates within the
stream's duplicate window (``DUPLICATE_WINDOW_SECONDS``); past it a consumer still de-duplicates by the CloudEvents
``id``. Each organization has its own stream (``QUALINK_<org id>``, subjects ``<prefix>.>``), created or renamed
here."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError

from hub.streams import envelope
from hub.streams import service as streams
from hub.streams.sink import Opted, Outgoing

log = logging.getLogger("hub.streams")

DUPLICATE_WINDOW_SECONDS = 3600.0
ACK_TIMEOUT_SECONDS = 5.0
RECONNECT_ATTEMPTS = 5


async def _connection_trouble(exc: Exception) -> None:
    # One line, not nats-py's default traceback per attempt: the client reconnects by itself meanwhile.
    log.warning("NATS connection: %s", exc)


class WrongStream(RuntimeError):
    """JetStream acknowledged into another stream than the organization's: its subjects are misconfigured."""


class NatsSink:
    platform = "NATS"

    def __init__(self, *, servers: str, user: str | None = None, password: str | None = None) -> None:
        self._servers = servers
        self._credentials = {"user": user, "password": password} if user else {}
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._streams: dict[uuid.UUID, str] = {}  # org id -> prefix its stream was made for

    async def open(self) -> None:
        self._nc = await nats.connect(
            servers=[self._servers],
            connect_timeout=5,
            error_cb=_connection_trouble,
            max_reconnect_attempts=RECONNECT_ATTEMPTS,
            reconnect_time_wait=1,
            **self._credentials,
        )
        self._js = self._nc.jetstream(timeout=ACK_TIMEOUT_SECONDS)

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
            self._nc = self._js = None

    @property
    def jetstream(self) -> JetStreamContext:
        assert self._js is not None, "open the sink first (`async with` its bridge)"
        return self._js

    async def publish(self, opted: Opted, batch: Sequence[Outgoing]) -> int:
        name = await self._ensure_stream(opted)
        last = opted.position
        for event in batch:
            ack = await self.jetstream.publish(
                f"{opted.target}.{event.type}",
                event.body,
                stream=name,
                headers={"Nats-Msg-Id": event.id, "Content-Type": envelope.CONTENT_TYPE},
            )
            if ack.stream != name:
                raise WrongStream(f"{event.id} went to stream {ack.stream}, not {name}")
            last = event.position or last
        return last

    async def _ensure_stream(self, opted: Opted) -> str:
        name = streams.stream_name(opted.org_id)
        if self._streams.get(opted.org_id) == opted.target:
            return name
        config = StreamConfig(
            name=name, subjects=[f"{opted.target}.>"], duplicate_window=DUPLICATE_WINDOW_SECONDS
        )
        try:
            await self.jetstream.add_stream(config)
        except BadRequestError:  # the stream exists with other subjects: the organization renamed its prefix
            await self.jetstream.update_stream(config)
        self._streams[opted.org_id] = opted.target
        return name
