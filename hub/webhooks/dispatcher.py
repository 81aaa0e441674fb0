"""The webhook dispatcher: claims due deliveries, POSTs them signed, and records what happened.

Retry schedule. A delivery is tried at once, then retried after 5 s, 30 s, 2 min, 10 min, 1 h, 6 h and 24 h
(7 retries, 8 attempts, about 31 hours in all). Each delay is stretched or shrunk by up to 10 % at random, so
deliveries that failed together (a receiver that was down) do not all come back in the same instant. Any 2xx
answer is success; every other status, a timeout (10 s) or a connection error is a failure. After the 8th failed
attempt the delivery is dead: it stays listed (``GET /v1/webhooks/{id}/deliveries?status=dead``) and can be
replayed, which starts the schedule afresh.

Delivery is at least once: a dispatcher that crashes after the receiver answered but before it recorded the
answer sends again, with the same ``webhook-id`` (the event id). Receivers deduplicate by it.

Claiming. One short transaction takes up to ``batch`` due deliveries (``pending`` and ``next_attempt_at <= now``,
oldest due first) and pushes their ``next_attempt_at`` forward by a lease of 60 s before the HTTP requests start.
On PostgreSQL the rows are taken ``FOR UPDATE SKIP LOCKED``, so several dispatchers (every ``hub serve`` and any
``hub worker``) share the work and never send one attempt twice; a dispatcher that dies mid-flight loses its
claims only until the lease ends. The sequencer writes the deliveries it makes for its own process's running
dispatcher already leased to it, in its transaction (``claim_made``: the rows, webhooks and events are in hand, so
no statement beyond the INSERT), and hands them over on commit (``hand_over``), sparing a transaction and a
wake-up on the way to the first POST; while hand-overs keep coming, the dispatcher still claims what is due in the
database at least once an interval (retries, other processes' deliveries). A round's answers are recorded while
the next round is sent (the rows stay leased until then, so nothing is sent twice; one recording in flight at a
time). SQLite has a single writer, so run a single dispatcher there. All database work runs in a thread, so the
event loop only ever waits on the network.

Concurrency. A round sends its batch concurrently, but never more than ``PER_RECEIVER`` requests at once to one
receiver (scheme, host and port). A burst of events would otherwise open up to ``batch`` connections to one
receiver in the same instant; a receiver with a short listen queue (Python's ``http.server`` keeps 5) overflows,
the kernel drops the handshakes, and TCP tries again only after 1, 3 and 7 seconds: deliveries then arrive
seconds late with no error anywhere, and the whole round (every receiver's deliveries) waits for the slowest.
A delivery still waiting for its receiver's turn after ``DEFER_AFTER_SECONDS`` is not tried in this round: its
lease ends and it is due again at once (no attempt counted), so a slow receiver's backlog never holds a round
(and every other receiver) longer than about two request timeouts, well inside the lease.

Egress. Outside development every attempt resolves the receiver's host once, refuses it unless every address is
public (:mod:`hub.webhooks.egress`), and connects to one of those checked addresses itself: the URL carries the
address, the ``Host`` header and the TLS server name (SNI, and so certificate verification) carry the name. No
redirect is followed and no proxy from the environment is used. Whatever goes wrong before an HTTP answer
(refused, unreachable, blocked, timed out, not HTTP) is recorded as one and the same error, so a subscriber cannot
use deliveries to tell an open port from a closed one; the operator's log has the cause."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.jobs import Backoff, Wakeup
from hub.models import Event, Webhook, WebhookDelivery
from hub.models.base import utcnow
from hub.webhooks import egress, signing
from hub.webhooks import service as webhooks_service
from hub.webhooks.service import signing_secrets

log = logging.getLogger("hub.webhooks")

RETRY_DELAYS: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s) for s in (5, 30, 120, 600, 3600, 6 * 3600, 24 * 3600)
)
JITTER = 0.10
LEASE = timedelta(seconds=60)  # well above the request timeout, so a live dispatcher's claim never lapses
REQUEST_TIMEOUT_SECONDS = 10.0
# The one text a subscriber sees for every failure before an HTTP answer (see "Egress" above).
NO_ANSWER = "Connection failed or gave no HTTP answer (refused, unreachable, blocked, timed out or not HTTP)"
PER_RECEIVER = 4  # concurrent requests to one receiver; a browser keeps 6 per host
DEFER_AFTER_SECONDS = (
    REQUEST_TIMEOUT_SECONDS  # a round's longest wait for a receiver's turn, then the next round
)
_ERROR_TEXT_MAX = 500


def retry_delay(failed_attempts: int, *, rand: Callable[[], float] = random.random) -> timedelta | None:
    """How long to wait after the ``failed_attempts``-th failure; None when the delivery is dead."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts starts at 1")
    if failed_attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed_attempts - 1] * (1 + JITTER * (2 * rand() - 1))


def event_body(event: Event) -> bytes:
    document: dict[str, Any] = {
        "id": str(event.id),
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "subject_id": event.subject_id,
        "position": event.position,
        "payload": event.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Claim:
    """One attempt at one delivery, with everything needed to send it outside the transaction."""

    delivery_id: uuid.UUID
    attempt: int
    url: str
    secrets: list[str]
    msg_id: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    delivery_id: uuid.UUID
    attempt: int
    status_code: int | None
    error: str | None
    deferred: bool = False  # not tried: its receiver was busy with this round's others (see _send_all)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_due(session: Session, *, now: datetime, batch: int = 100, lease: timedelta = LEASE) -> list[Claim]:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    deliveries = list(session.scalars(query))
    if not deliveries:
        return []
    for delivery in deliveries:
        delivery.next_attempt_at = now + lease
    webhooks = {
        w.id: w
        for w in session.scalars(select(Webhook).where(Webhook.id.in_({d.webhook_id for d in deliveries})))
    }
    events = {
        e.seq: e
        for e in session.scalars(select(Event).where(Event.seq.in_({d.event_seq for d in deliveries})))
    }
    session.flush()
    return [
        Claim(
            delivery_id=d.id,
            attempt=d.attempts + 1,
            url=webhooks[d.webhook_id].url,
            secrets=signing_secrets(webhooks[d.webhook_id], now=now),
            msg_id=str(events[d.event_seq].id),
            body=event_body(events[d.event_seq]),
        )
        for d in deliveries
    ]


def claim_made(
    session: Session, *, events: list[Event], now: datetime, lease: timedelta = LEASE
) -> list[Claim]:
    """Make ``events``' deliveries (the sequencer's fan-out) already leased to the caller, and claim them: the
    rows, webhooks and events are in hand, so claiming them costs no statement beyond their INSERT. Were the
    caller to die before sending, they are due when the lease ends, like any claim."""
    made = webhooks_service.make_deliveries(session, events=events, next_attempt_at=now + lease)
    return [
        Claim(
            delivery_id=m.delivery_id,
            attempt=1,
            url=m.webhook.url,
            secrets=signing_secrets(m.webhook, now=now),
            msg_id=str(m.event.id),
            body=event_body(m.event),
        )
        for m in made
    ]


def record_outcomes(
    session: Session, *, outcomes: list[Outcome], now: datetime, rand: Callable[[], float] = random.random
) -> None:
    for outcome in outcomes:
        delivery = session.get(WebhookDelivery, outcome.delivery_id)
        # Someone else moved it on meanwhile (a replay, or another dispatcher after our lease ran out).
        if delivery is None or delivery.status != "pending" or delivery.attempts != outcome.attempt - 1:
            continue
        if outcome.deferred:
            delivery.next_attempt_at = now  # the lease ends; due again at once, behind what waited longer
            continue
        delivery.attempts = outcome.attempt
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.ok:
            delivery.status, delivery.delivered_at = "delivered", now
            continue
        delay = retry_delay(outcome.attempt, rand=rand)
        if delay is None:
            delivery.status = "dead"
        else:
            delivery.next_attempt_at = now + delay
    session.flush()


class Dispatcher:
    """Sends due deliveries: ``await run_once()`` for one round, ``start()``/``stop()`` for the loop."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        interval_seconds: float = 0.25,
        batch: int = 100,
        per_receiver: int = PER_RECEIVER,
        defer_after_seconds: float = DEFER_AFTER_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_internal: bool = False,
    ) -> None:
        """``allow_internal`` (development mode only) sends to any address as written, loopback included."""
        self.factory = factory
        self.allow_internal = allow_internal
        self.interval_seconds = interval_seconds
        self.batch = batch
        self.per_receiver = per_receiver
        self.defer_after_seconds = defer_after_seconds
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.wakeup = Wakeup()
        self.backoff = Backoff("webhook-dispatcher", interval_seconds)
        self._handed: list[Claim] = []  # leased by the sequencer for this dispatcher (see hand_over)
        self._handed_lock = threading.Lock()
        self._recording: asyncio.Task[None] | None = (
            None  # the last round's answers being recorded (run_once)
        )
        self._claimed_at = 0.0  # time.monotonic() of the last claim from the database

    def wake(self) -> None:
        """Look for due deliveries now: the sequencer just gave some events their deliveries."""
        self.wakeup.wake()

    async def __aenter__(self) -> Dispatcher:
        self._http = httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT_SECONDS,
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _claim(self, now: datetime, batch: int) -> list[Claim]:
        with self.factory.begin() as session:
            return claim_due(session, now=now, batch=batch)

    def claim_made(self, session: Session, *, events: list[Event]) -> list[Claim]:
        """Make ``events``' deliveries inside ``session``'s transaction (the sequencer's, which just numbered
        them) already claimed for this dispatcher; :meth:`hand_over` them once it has committed."""
        return claim_made(session, events=events, now=utcnow())

    def hand_over(self, claims: list[Claim]) -> None:
        """Send ``claims``, leased in a committed transaction, in the next round (any thread)."""
        with self._handed_lock:
            self._handed.extend(claims)
        self.wake()

    def _take_handed(self) -> list[Claim]:
        with self._handed_lock:
            handed, self._handed = self._handed, []
        return handed

    def _record(self, outcomes: list[Outcome], now: datetime) -> None:
        with self.factory.begin() as session:
            record_outcomes(session, outcomes=outcomes, now=now)

    async def _send(self, claim: Claim) -> Outcome:
        headers = signing.headers(claim.secrets, claim.msg_id, int(time.time()), claim.body)
        headers["content-type"] = "application/json"
        try:
            response = await self._post(claim.url, claim.body, headers)
        except (httpx.HTTPError, httpx.InvalidURL, egress.BlockedTarget, ValueError) as exc:
            log.info("webhook delivery %s got no answer: %r", claim.delivery_id, exc)
            return Outcome(claim.delivery_id, claim.attempt, None, NO_ANSWER)
        error = None if response.is_success else f"HTTP {response.status_code}"
        return Outcome(claim.delivery_id, claim.attempt, response.status_code, error)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        assert self._http is not None, "use the dispatcher as `async with`"
        if self.allow_internal:
            return await self._http.post(url, content=body, headers=headers)
        target = httpx.URL(url)
        if target.scheme != "https":
            raise egress.BlockedTarget(url)
        # The name exactly as the client would resolve it (IDNA-encoded), looked up once, here.
        host = target.raw_host.decode("ascii")
        addresses = await egress.resolve_public(host, target.port or 443)
        pinned_headers = {**headers, "host": target.netloc.decode("ascii")}
        failure: httpx.ConnectError | None = None
        for address in addresses:
            try:
                return await self._http.post(
                    target.copy_with(host=address),
                    content=body,
                    headers=pinned_headers,
                    extensions={"sni_hostname": host},
                )
            except httpx.ConnectError as exc:  # the next checked address, as a client would
                failure = exc
        assert failure is not None
        raise failure

    async def _send_all(self, claims: list[Claim]) -> list[Outcome]:
        """Every claim at once, except that each receiver gets at most ``per_receiver`` at a time."""
        gates: defaultdict[tuple[str, str | None, int | None], asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.per_receiver)
        )

        async def send(claim: Claim) -> Outcome:
            try:
                parts = urlsplit(claim.url)
                gate = gates[(parts.scheme, parts.hostname, parts.port)]
                try:
                    await asyncio.wait_for(gate.acquire(), self.defer_after_seconds)
                except TimeoutError:
                    return Outcome(claim.delivery_id, claim.attempt, None, None, deferred=True)
                try:
                    return await self._send(claim)
                finally:
                    gate.release()
            except Exception as exc:
                # Not a network failure but something unforeseen about this one delivery. It fails alone, on
                # its schedule: raised, it would fail the whole round, whose answers then go unrecorded and are
                # sent again after the lease, round after round, as long as it stays due.
                log.exception(
                    "webhook delivery failed unexpectedly", extra={"delivery_id": str(claim.delivery_id)}
                )
                failure = f"{type(exc).__name__}: {exc}"[:_ERROR_TEXT_MAX]
                return Outcome(claim.delivery_id, claim.attempt, None, failure)

        return list(await asyncio.gather(*(send(claim) for claim in claims)))

    async def run_once(self, *, now: datetime | None = None, overlap: bool = False) -> int:
        """Claim, send and record one batch; returns how many deliveries it attempted.

        ``now`` stands in for the clock when deciding what is due and when it is due next (tests). With
        ``overlap`` (the loop) the answers are recorded while the next round is claimed and sent: the rows stay
        leased until recorded, so nothing is sent twice, and a round's sends still end before the next round's
        start (each subscription's deliveries leave in order). At most one recording is in flight."""
        claims = self._take_handed()
        # What is due in the database (retries, other processes' deliveries) is claimed when nothing was handed
        # over, and at least once an interval while hand-overs keep coming, so that a stream of fresh events
        # never starves them.
        if not claims or time.monotonic() - self._claimed_at >= self.interval_seconds:
            self._claimed_at = time.monotonic()
            due = self.batch - len(claims)
            if due > 0:
                claims = await run_in_threadpool(self._claim, now or utcnow(), due) + claims
        if not claims:
            return 0
        outcomes = await self._send_all(claims)
        await self._recorded()
        if overlap:
            self._recording = asyncio.create_task(self._record_async(outcomes, now))
        else:
            await self._record_async(outcomes, now)
        return len(claims)

    async def _record_async(self, outcomes: list[Outcome], now: datetime | None) -> None:
        await run_in_threadpool(self._record, outcomes, now or utcnow())

    async def _recorded(self) -> None:
        """Wait for the recording in flight, if any; its failure is the loop's, as an inline one would be."""
        recording, self._recording = self._recording, None
        if recording is not None:
            try:
                await recording
            except Exception as exc:
                self.backoff.failed(exc)

    async def run(self) -> None:
        """Until :meth:`stop`: a full batch goes straight on to the next; otherwise wait an interval."""
        async with self:
            while not self._stopping.is_set():
                try:
                    done = await self.run_once(overlap=True)
                except Exception as exc:
                    self.backoff.failed(exc)
                    done = 0
                else:
                    self.backoff.succeeded()
                if done < self.batch and not self._stopping.is_set():
                    await self.wakeup.wait(self.backoff.delay)
            await self._recorded()  # the last round's answers, before the client closes and stop() returns

    @property
    def running(self) -> bool:
        """Its loop is alive and not told to stop (the worker probe, and the sequencer's hand-over, ask)."""
        return self._task is not None and not self._task.done() and not self._stopping.is_set()

    def start(self) -> None:
        if self.interval_seconds > 0:
            self._stopping = asyncio.Event()
            self.wakeup.bind()
            self._task = asyncio.create_task(self.run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        """Let the round in flight finish and record its answers (else they would be sent again after the
        lease), then stop; a round stuck past the request timeout is cancelled."""
        if self._task is None:
            return
        self._stopping.set()
        self.wakeup.wake()
        try:
            await asyncio.wait_for(self._task, REQUEST_TIMEOUT_SECONDS + 5)
        except TimeoutError:
            log.warning(
                "webhook dispatcher did not finish its round in time; its claims return after the lease"
            )
        except asyncio.CancelledError:
            pass
        self._task = None
