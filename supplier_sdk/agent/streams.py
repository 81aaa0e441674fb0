"""Stream sources: measurements from a NATS JetStream subject or a Kafka topic, reported per period like any source.

A stream source is read through a **durable consumer** (``durable``: the JetStream consumer's name, the Kafka
consumer group), so what it has acknowledged survives the agent. Each pass:

1. :meth:`StreamReader.fetch` takes every message the consumer has (until none came for ``wait_seconds``), without
   acknowledging any. A message is a JSON object or a CSV line (``format``; a CSV line's fields are named by
   ``columns``); the field ``time_column`` places it in a period (ISO 8601, ``time_format``, or epoch seconds).
2. The mappings read the rows of their periods from it (:meth:`StreamReader.table`), sorted by time and then by
   the message's place in the stream.
3. After the pass's reports were submitted or queued to the outbox, :meth:`StreamReader.finish` acknowledges the
   messages that are *done* for every mapping fed by the source: their period is settled (accepted, queued,
   refused, a duplicate) or lies before the oldest period the agent still reports. The others (the open period, a
   failed one) are handed back: a JetStream NAK (redelivered to the next pass), a Kafka offset not committed.

So a restart resumes without loss (nothing unreported was acknowledged) or double counting (a re-read message of
a settled period is dropped, the state file knows the period is settled, and the hub's Idempotency-Key catches a
report sent just before a crash). On Kafka, offsets are committed per partition up to the first message that is
not done: done messages behind it are read again next pass and dropped by the same rule. A message that cannot be
placed (not JSON, no time) is logged and acknowledged: it never could be counted. Raw values never leave this
process: the messages are read here and only the KPI is reported.

The client libraries are the optional extra ``agent-stream`` (``nats-py``, ``confluent-kafka``)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from supplier_sdk.agent.config import SourceConfig
from supplier_sdk.agent.schedule import Window
from supplier_sdk.agent.sources import SourceError, Table, parse_time

FETCH_BATCH = 256
NATS_ACK_WAIT_SECONDS = 600.0
"""How long JetStream waits for an acknowledgement before redelivering: longer than a pass (proofs included)."""


@dataclass
class Received:
    """One message: its time (``None``: it could not be placed), its cells, its place in the stream, its handle."""

    at: datetime | None
    row: tuple[Any, ...]
    place: tuple[int, int]
    handle: Any
    problem: str | None = None


def _cells(data: bytes, source: SourceConfig) -> dict[str, Any]:
    text = data.decode("utf-8-sig")
    if source.format == "csv":
        delimiter = source.delimiter or ","
        fields = next(csv.reader(io.StringIO(text.strip()), delimiter=delimiter), [])
        if len(fields) != len(source.columns):
            raise ValueError(
                f"{len(fields)} fields, expected {len(source.columns)} ({', '.join(source.columns)})"
            )
        return dict(zip(source.columns, (f.strip() for f in fields), strict=True))
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _moment(cell: Any, source: SourceConfig, zone: ZoneInfo) -> datetime:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return datetime.fromtimestamp(cell, UTC)
    return parse_time(cell, source, zone, "message")


class StreamReader:
    """One pass's messages of one stream source; ``fetch`` once, ``table`` per window, ``finish`` once."""

    def __init__(self, source: SourceConfig, zone: ZoneInfo) -> None:
        self.source = source
        self.zone = zone
        self.columns: list[str] = list(source.columns)
        self.messages: list[Received] = []

    # -- the platform's part -------------------------------------------------------------------------------------

    def _receive(self) -> list[tuple[bytes, tuple[int, int], Any]]:
        raise NotImplementedError

    def _settle(self, done: list[Received], kept: list[Received], *, ack: bool) -> None:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------------------------

    def fetch(self) -> StreamReader:
        """Every message the durable consumer has now, parsed; nothing acknowledged yet.

        Raises:
            SourceError: the server is unreachable, the subject/topic is missing, or (JetStream) messages an
                earlier run held are not redelivered yet.
        """
        parsed: list[tuple[dict[str, Any] | None, tuple[int, int], Any, str | None]] = []
        for data, place, handle in self._receive():
            try:
                parsed.append((_cells(data, self.source), place, handle, None))
            except (ValueError, UnicodeDecodeError) as exc:
                parsed.append((None, place, handle, f"unreadable message: {exc}"))
        if not self.columns:
            seen: dict[str, None] = {}
            for cells, *_ in parsed:
                seen.update(dict.fromkeys(cells or {}))
            self.columns = list(seen)
        time_column = self.source.time_column or ""
        for cells, place, handle, problem in parsed:
            at = None
            if cells is not None:
                try:
                    if time_column not in cells:
                        raise SourceError(f"no field {time_column!r}")
                    at = _moment(cells[time_column], self.source, self.zone)
                except SourceError as exc:
                    problem = f"message without a time: {exc}"
            row = tuple((cells or {}).get(c) for c in self.columns)
            self.messages.append(Received(at, row, place, handle, problem))
        self.messages.sort(key=lambda m: (m.at or datetime.min.replace(tzinfo=UTC), m.place))
        return self

    @property
    def unreadable(self) -> list[Received]:
        return [m for m in self.messages if m.at is None]

    def table(self, window: Window) -> Table:
        """The rows of the messages whose time falls in ``window``, in time order."""
        rows = [m.row for m in self.messages if m.at is not None and window.start <= m.at < window.end]
        return Table(columns=self.columns if rows else [], rows=rows)

    def finish(self, done: Callable[[datetime], bool] | None) -> tuple[int, int]:
        """Acknowledge the messages ``done`` says are done (and the unreadable ones); hand the others back.

        ``done`` = ``None`` (a dry run) hands every message back. Returns (acknowledged, handed back)."""
        if done is None:
            count = len(self.messages)
            self._settle([], self.messages, ack=False)
            return 0, count
        finished = [m for m in self.messages if m.at is None or done(m.at)]
        kept = [m for m in self.messages if not (m.at is None or done(m.at))]
        self._settle(finished, kept, ack=True)
        return len(finished), len(kept)

    def close(self) -> None:
        """Release what ``finish`` did not (an interrupted pass hands every message back)."""


class NatsReader(StreamReader):
    """A JetStream pull consumer named ``durable`` on ``subject`` (explicit acks, no limit on pending acks)."""

    def __init__(self, source: SourceConfig, zone: ZoneInfo) -> None:
        super().__init__(source, zone)
        self._loop = asyncio.new_event_loop()
        self._nc: Any = None
        self._open = False

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    def _receive(self) -> list[tuple[bytes, tuple[int, int], Any]]:
        try:
            import nats
            from nats.errors import Error as NatsError
            from nats.errors import TimeoutError as NatsTimeout
            from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        except ImportError:
            raise SourceError(
                f"source {self.source.name}: needs the NATS client: pip install 'qualink[agent-stream]'"
            ) from None
        source = self.source

        async def receive() -> list[tuple[bytes, tuple[int, int], Any]]:
            self._nc = await nats.connect(
                servers=[source.url or ""], connect_timeout=5, max_reconnect_attempts=2, allow_reconnect=False
            )
            self._open = True
            js = self._nc.jetstream(timeout=10)
            durable = source.durable or ""
            config = ConsumerConfig(
                durable_name=durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=NATS_ACK_WAIT_SECONDS,
                max_ack_pending=-1,
                max_deliver=-1,
            )
            stream = await js.find_stream_name_by_subject(source.subject or "")
            # Caught up = the consumer was delivered everything the stream held when the pass began; a quiet
            # moment alone (a slow server) could end the read early and report a short period.
            target = (await js.stream_info(stream)).state.last_seq
            sub = await js.pull_subscribe(source.subject or "", durable=durable, config=config)
            found = []
            deadline = time.monotonic() + max(60.0, 10 * source.wait_seconds)
            while True:
                try:
                    batch = await sub.fetch(FETCH_BATCH, timeout=source.wait_seconds)
                except (NatsTimeout, TimeoutError):
                    info = await js.consumer_info(stream, durable)
                    if info.delivered.stream_seq >= target or info.num_pending == 0:
                        break
                    if time.monotonic() > deadline:
                        raise SourceError(
                            f"source {source.name}: {source.subject} not read to its end "
                            f"(delivered up to {info.delivered.stream_seq} of {target})"
                        ) from None
                    continue
                for msg in batch:
                    found.append((msg.data, (0, msg.metadata.sequence.stream), msg))
            # Messages handed back by NAK come to this pass; ones a crashed run took are held until the ack wait
            # ends. Reporting without them would report a short period: wait for them instead.
            info = await js.consumer_info(stream, durable)
            if info.num_ack_pending > len(found):
                for _data, _place, msg in found:
                    await msg.nak()
                await self._nc.flush(timeout=10)
                held = info.num_ack_pending - len(found)
                raise SourceError(
                    f"source {source.name}: {held} messages an earlier run held are not redelivered yet "
                    f"(JetStream redelivers them within {NATS_ACK_WAIT_SECONDS:g} s)"
                )
            return found

        try:
            return self._run(receive())
        except SourceError:
            self.close()
            raise
        except (TimeoutError, OSError, NatsError) as exc:
            self.close()
            reason = str(exc) or type(exc).__name__
            raise SourceError(
                f"source {source.name}: cannot read {source.subject} at {source.url} ({reason})"
            ) from None

    def _settle(self, done: list[Received], kept: list[Received], *, ack: bool) -> None:
        async def settle() -> None:
            for message in done if ack else []:
                await message.handle.ack()
            for message in kept:
                await message.handle.nak()
            await self._nc.flush(timeout=10)

        try:
            if self._open:
                self._run(settle())
        finally:
            self.messages = []
            self.close()

    def close(self) -> None:
        if self._open:
            try:
                for message in self.messages:  # an interrupted pass: hand them back at once
                    self._run(message.handle.nak())
                self._run(self._nc.close())
            except Exception:  # noqa: S110 - unacknowledged messages come back after the ack wait anyway
                pass
            self._open = False
        if not self._loop.is_closed():
            self._loop.close()


class KafkaReader(StreamReader):
    """The partitions of ``topic``, assigned by the agent (no group rebalancing), offsets committed to the group
    ``durable``; ``settings`` go to librdkafka (TLS, SASL)."""

    def __init__(self, source: SourceConfig, zone: ZoneInfo) -> None:
        super().__init__(source, zone)
        self._consumer: Any = None

    def _receive(self) -> list[tuple[bytes, tuple[int, int], Any]]:
        try:
            from confluent_kafka import OFFSET_STORED, Consumer, KafkaException, TopicPartition
        except ImportError:
            raise SourceError(
                f"source {self.source.name}: needs the Kafka client: pip install 'qualink[agent-stream]'"
            ) from None
        source = self.source
        topic = source.topic or ""
        try:
            self._consumer = Consumer({
                **dict(source.settings),
                "bootstrap.servers": source.url,
                "group.id": source.durable,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
            })  # fmt: skip
            metadata = self._consumer.list_topics(topic, timeout=10).topics.get(topic)
            if metadata is None or metadata.error is not None or not metadata.partitions:
                raise SourceError(f"source {source.name}: no topic {topic!r} at {source.url}")
            partitions = [TopicPartition(topic, p) for p in metadata.partitions]
            # Caught up = at each partition's end as the pass began (its high watermark) and then quiet for
            # wait_seconds (Tansu under-reports the watermark; a real Kafka's alone would do).
            ends = {
                tp.partition: self._consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions
            }
            self._consumer.assign([TopicPartition(topic, p, OFFSET_STORED) for p in metadata.partitions])
            found = []
            last = time.monotonic()
            deadline = last + max(60.0, 10 * source.wait_seconds)
            while time.monotonic() - last < source.wait_seconds or not self._at_ends(topic, ends, deadline):
                msg = self._consumer.poll(0.2)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().fatal():
                        raise KafkaException(msg.error())
                    continue
                found.append((msg.value() or b"", (msg.partition(), msg.offset()), None))
                last = time.monotonic()
            return found
        except SourceError:
            self.close()
            raise
        except KafkaException as exc:
            self.close()
            raise SourceError(f"source {source.name}: cannot read {topic} at {source.url} ({exc})") from None

    def _at_ends(self, topic: str, ends: dict[int, int], deadline: float) -> bool:
        from confluent_kafka import TopicPartition

        positions = self._consumer.position([TopicPartition(topic, p) for p in ends])
        behind = [tp for tp in positions if ends[tp.partition] > 0 and tp.offset < ends[tp.partition]]
        if behind and time.monotonic() > deadline:
            raise SourceError(
                f"source {self.source.name}: {topic} not read to its end (partitions "
                f"{', '.join(str(tp.partition) for tp in behind)})"
            )
        return not behind

    def _settle(self, done: list[Received], kept: list[Received], *, ack: bool) -> None:
        from confluent_kafka import TopicPartition

        try:
            if not ack:
                return
            held = {m.place for m in kept}
            offsets = []
            for partition in sorted({m.place[0] for m in done}):
                places = sorted(m.place[1] for m in self.messages if m.place[0] == partition)
                first_kept = next((o for o in places if (partition, o) in held), None)
                commit = places[-1] + 1 if first_kept is None else first_kept
                offsets.append(TopicPartition(self.source.topic or "", partition, commit))
            if offsets:
                self._consumer.commit(offsets=offsets, asynchronous=False)
        finally:
            self.messages = []
            self.close()

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


def reader_for(source: SourceConfig, zone: ZoneInfo) -> StreamReader:
    return (NatsReader if source.kind == "nats" else KafkaReader)(source, zone)


__all__ = ["KafkaReader", "NatsReader", "Received", "StreamReader", "reader_for"]
