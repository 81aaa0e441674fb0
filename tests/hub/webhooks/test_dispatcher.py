"""The dispatcher against a real HTTP receiver: signed deliveries, the retry schedule, dead letters, replay,
leases, and two dispatchers sharing the work on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.app import create_app
from hub.db import make_engine, make_session_factory
from hub.events import service as events
from hub.events.sequencer import sequence_once
from hub.models import Event, Organization, Webhook, WebhookDelivery
from hub.models.base import utcnow
from hub.webhooks import service as webhooks
from hub.webhooks.dispatcher import (
    JITTER,
    LEASE,
    PER_RECEIVER,
    RETRY_DELAYS,
    Dispatcher,
    Outcome,
    claim_due,
    claim_made,
    record_outcomes,
    retry_delay,
)
from protocol.models.common import OrgKind
from supplier_sdk import WebhookVerificationError
from supplier_sdk.webhooks import verify
from tests.conftest import make_settings
from tests.hub.conftest import make_org
from tests.hub.webhooks.helpers import Receiver, caller_for, make_events, make_webhook, running_receiver


@pytest.fixture
def factory(fresh_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(make_settings(fresh_database))
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def _subscribe(
    factory: sessionmaker[Session], url: str, *, events: int = 1
) -> tuple[Organization, Webhook, str, list[Event]]:
    with factory() as session:
        org = make_org(session, OrgKind.OEM)
        webhook, secret = make_webhook(session, org, url=url)
        made = make_events(session, org, *["report.accepted"] * events)
        webhooks.fan_out(session, events=made)
        session.commit()
        return org, webhook, secret, made


def _delivery(factory: sessionmaker[Session], webhook: Webhook) -> WebhookDelivery:
    with factory() as session:
        return session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)).one()


def dispatch(factory: sessionmaker[Session], *, now: datetime | None = None, batch: int = 100) -> int:
    async def _round() -> int:
        async with Dispatcher(factory, batch=batch, allow_internal=True) as dispatcher:
            return await dispatcher.run_once(now=now)

    return asyncio.run(_round())


def test_the_schedule_is_5s_30s_2min_10min_1h_6h_24h_then_dead() -> None:
    exact = [retry_delay(n, rand=lambda: 0.5) for n in range(1, 9)]
    assert exact == [timedelta(seconds=s) for s in (5, 30, 120, 600, 3600, 21600, 86400)] + [None]
    assert retry_delay(1, rand=lambda: 0.0) == timedelta(seconds=4.5)
    assert retry_delay(7, rand=lambda: 1.0) == timedelta(hours=24) * (1 + JITTER)
    with pytest.raises(ValueError, match="starts at 1"):
        retry_delay(0)


def test_a_delivery_arrives_signed_and_the_sdk_verifies_it(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    _, webhook, secret, (event,) = _subscribe(factory, receiver.url)

    assert dispatch(factory) == 1

    ((headers, body),) = receiver.requests
    assert headers["content-type"] == "application/json"
    received = verify(secret=secret, headers=headers, body=body)
    assert received == {
        "id": str(event.id),
        "type": "report.accepted",
        "occurred_at": event.occurred_at.isoformat(),
        "subject_id": event.subject_id,
        "position": event.position,
        "payload": {"type": "report.accepted"},
    }
    assert headers["webhook-id"] == str(event.id)
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    delivery = _delivery(factory, webhook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    assert delivery.delivered_at is not None
    assert dispatch(factory) == 0
    assert len(receiver.requests) == 1


def test_failures_follow_the_schedule_until_dead_and_replay_delivers(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    receiver.status = 500
    org, webhook, _, (event,) = _subscribe(factory, receiver.url)
    now = utcnow()

    for attempt in range(1, 9):
        assert dispatch(factory, now=now) == 1
        delivery = _delivery(factory, webhook)
        assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (
            attempt,
            500,
            "HTTP 500",
        )
        if attempt == 8:
            break
        delay = RETRY_DELAYS[attempt - 1]
        assert delivery.status == "pending"
        assert now + delay * (1 - JITTER) <= delivery.next_attempt_at <= now + delay * (1 + JITTER)
        assert dispatch(factory, now=delivery.next_attempt_at - timedelta(milliseconds=1)) == 0
        now = delivery.next_attempt_at

    assert delivery.status == "dead"
    assert dispatch(factory, now=now + timedelta(days=30)) == 0
    assert receiver.ids() == {str(event.id): 8}

    with factory.begin() as session:
        webhooks.replay_delivery(
            session, caller=caller_for(org), webhook_id=webhook.id, delivery_id=delivery.id
        )
    receiver.status = 200
    assert dispatch(factory) == 1
    delivery = _delivery(factory, webhook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert receiver.ids() == {str(event.id): 9}


def test_an_unreachable_receiver_is_a_failure_with_the_error_kept(factory: sessionmaker[Session]) -> None:
    with running_receiver() as gone:
        url = gone.url
    _, webhook, _, _ = _subscribe(factory, url)

    assert dispatch(factory) == 1

    delivery = _delivery(factory, webhook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error and "Connect" in delivery.last_error


def test_during_a_rotation_both_secrets_sign_and_after_the_overlap_only_the_new_one(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    org, webhook, old_secret, _ = _subscribe(factory, receiver.url)
    with factory.begin() as session:
        _, new_secret = webhooks.rotate_secret(
            session, caller=caller_for(org), webhook_id=webhook.id, overlap_seconds=3600
        )
    dispatch(factory)
    with factory() as session:
        webhooks.fan_out(session, events=make_events(session, session.get_one(Organization, org.id), "x.y"))
        session.commit()
    dispatch(factory, now=utcnow() + timedelta(seconds=3601))

    (during_headers, during_body), (after_headers, after_body) = receiver.requests
    assert len(during_headers["webhook-signature"].split(" ")) == 2
    assert verify(secret=old_secret, headers=during_headers, body=during_body)
    assert verify(secret=new_secret, headers=during_headers, body=during_body)
    assert len(after_headers["webhook-signature"].split(" ")) == 1
    assert verify(secret=new_secret, headers=after_headers, body=after_body)
    with pytest.raises(WebhookVerificationError):
        verify(secret=old_secret, headers=after_headers, body=after_body)


def test_a_round_sends_at_most_per_receiver_requests_at_once_to_each_receiver(
    factory: sessionmaker[Session],
) -> None:
    # 20 deliveries to each of two receivers in one round: all at once would overflow a short listen queue.
    with running_receiver() as first, running_receiver() as second:
        first.delay = second.delay = 0.05
        for receiver in (first, second):
            _subscribe(factory, receiver.url, events=20)

        assert dispatch(factory) == 40

        for receiver in (first, second):
            assert len(receiver.ids()) == 20
            assert 1 < receiver.most_at_once <= PER_RECEIVER


def test_a_delivery_that_fails_unforeseen_fails_alone_and_the_rest_of_its_round_is_recorded(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    with factory() as session:
        org = make_org(session, OrgKind.OEM)
        good, _ = make_webhook(session, org, url=receiver.url)
        bad, _ = make_webhook(session, org, url=receiver.url)
        bad.url = "http://127.0.0.1:99999/hook"  # a stored row no check would pass today: httpx cannot even parse it
        webhooks.fan_out(session, events=make_events(session, org, "report.accepted"))
        session.commit()

    assert dispatch(factory) == 2

    assert len(receiver.ids()) == 1
    delivered, failed = _delivery(factory, good), _delivery(factory, bad)
    assert (delivered.status, delivered.attempts) == ("delivered", 1)
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert failed.last_error is not None and failed.last_error.startswith("ValueError")


def test_a_receiver_busy_past_the_wait_defers_the_rest_of_its_round_without_counting_an_attempt(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    receiver.delay = 0.5
    _subscribe(factory, receiver.url, events=4)

    async def rounds() -> list[int]:
        async with Dispatcher(
            factory, per_receiver=1, defer_after_seconds=0.1, allow_internal=True
        ) as dispatcher:
            first = await dispatcher.run_once()
            with factory() as session:
                states = [
                    (d.status, d.attempts, d.last_error) for d in session.scalars(select(WebhookDelivery))
                ]
            tried = [await dispatcher.run_once() for _ in range(6)]
            return [first, len([s for s in states if s == ("delivered", 1, None)]), *tried]

    first, delivered_after_first, *_ = asyncio.run(rounds())

    assert first == 4  # all four claimed; one sent, three deferred after waiting 0.1 s for the receiver
    assert delivered_after_first == 1
    assert sorted(receiver.ids().values()) == [1, 1, 1, 1]  # each event once: deferral never sends twice
    with factory() as session:
        assert {(d.status, d.attempts) for d in session.scalars(select(WebhookDelivery))} == {
            ("delivered", 1)
        }


def test_the_sequencer_hands_new_deliveries_straight_to_the_running_dispatcher(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    with factory() as session:
        org = make_org(session, OrgKind.OEM)
        make_webhook(session, org, url=receiver.url)
        events.publish(session, type="report.accepted", subject_id="r1", views={org.id: {}})
        session.commit()

    async def run() -> None:
        # An hour between polls: only the hand-over can get this delivery sent within the test.
        dispatcher = Dispatcher(factory, interval_seconds=3600, allow_internal=True)
        dispatcher.start()
        try:
            await asyncio.sleep(0.2)  # let its first round find nothing and start waiting
            assert await asyncio.to_thread(sequence_once, factory, dispatcher=dispatcher) == 1
            deadline = time.monotonic() + 20
            while not receiver.requests and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        finally:
            await dispatcher.stop()

    asyncio.run(run())

    assert len(receiver.ids()) == 1
    with factory() as session:
        assert {(d.status, d.attempts) for d in session.scalars(select(WebhookDelivery))} == {
            ("delivered", 1)
        }


def test_deliveries_made_for_the_dispatcher_are_leased_so_a_crash_before_sending_loses_nothing(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    with factory() as session:
        org = make_org(session, OrgKind.OEM)
        make_webhook(session, org, url=receiver.url)
        session.commit()
        made = make_events(session, org, "report.accepted", "report.accepted")
        now = utcnow()
        claims = claim_made(session, events=made, now=now)
        session.commit()
    assert [(c.attempt, c.msg_id) for c in claims] == [(1, str(e.id)) for e in made]
    # Its process died before the POSTs: no other dispatcher takes them while the lease lasts, all do after.
    with factory.begin() as session:
        assert claim_due(session, now=now + LEASE - timedelta(seconds=1)) == []
    with factory.begin() as session:
        again = claim_due(session, now=now + LEASE)
    assert sorted(c.delivery_id for c in again) == sorted(c.delivery_id for c in claims)
    assert {c.body for c in again} == {c.body for c in claims}


def test_hand_overs_that_keep_coming_do_not_starve_what_is_due_in_the_database(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    with factory() as session:
        org = make_org(session, OrgKind.OEM)
        make_webhook(session, org, url=receiver.url)
        session.commit()
        org_id = org.id

    def handed_over(dispatcher: Dispatcher) -> None:
        with factory() as session:
            made = make_events(session, session.get_one(Organization, org_id), "report.accepted")
            claims = claim_made(session, events=made, now=utcnow())
            session.commit()
        dispatcher.hand_over(claims)

    async def run() -> None:
        async with Dispatcher(factory, interval_seconds=0.05, allow_internal=True) as dispatcher:
            handed_over(dispatcher)
            await dispatcher.run_once()
            # Now a delivery due in the database (a retry, another process's), while fresh ones keep coming.
            _subscribe(factory, receiver.url)
            for _ in range(3):
                await asyncio.sleep(0.1)
                handed_over(dispatcher)
                await dispatcher.run_once()

    asyncio.run(run())
    with factory() as session:
        deliveries = list(session.scalars(select(WebhookDelivery)))
    assert len(deliveries) == 5
    assert {(d.status, d.attempts) for d in deliveries} == {("delivered", 1)}


def test_a_claim_is_leased_so_a_crashed_dispatchers_work_comes_back(
    factory: sessionmaker[Session], receiver: Receiver
) -> None:
    _, webhook, _, _ = _subscribe(factory, receiver.url)
    now = utcnow()
    with factory.begin() as session:
        (claim,) = claim_due(session, now=now)
    # The dispatcher "crashed": it never recorded an outcome.
    with factory.begin() as session:
        assert claim_due(session, now=now + LEASE - timedelta(seconds=1)) == []
    with factory.begin() as session:
        (again,) = claim_due(session, now=now + LEASE)
    assert (again.delivery_id, again.attempt) == (claim.delivery_id, 1)
    # The late outcome of the first claim and the outcome of the second are one attempt: recorded once.
    with factory.begin() as session:
        record_outcomes(session, outcomes=[Outcome(claim.delivery_id, 1, 500, "HTTP 500")], now=now)
        record_outcomes(session, outcomes=[Outcome(again.delivery_id, 1, 200, None)], now=now)
    delivery = _delivery(factory, webhook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)


def test_two_dispatchers_on_postgresql_never_send_one_delivery_twice(
    factory: sessionmaker[Session], receiver: Receiver, fresh_database: str
) -> None:
    if fresh_database.startswith("sqlite"):
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite runs one dispatcher")
    _, webhook, _, made = _subscribe(factory, receiver.url, events=300)
    start = threading.Barrier(2)
    attempted: list[int] = [0, 0]

    def run(index: int) -> None:
        async def drain() -> None:
            async with Dispatcher(factory, batch=10, allow_internal=True) as dispatcher:
                start.wait()
                while (done := await dispatcher.run_once()) > 0:
                    attempted[index] += done

        asyncio.run(drain())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    with factory() as session:
        outcomes = session.execute(
            select(WebhookDelivery.status, WebhookDelivery.attempts, WebhookDelivery.last_error).where(
                WebhookDelivery.webhook_id == webhook.id
            )
        ).all()
    assert set(outcomes) == {("delivered", 1, None)}, outcomes
    assert receiver.ids() == {str(event.id): 1 for event in made}
    assert sum(attempted) == 300 and min(attempted) > 0, attempted


def test_hub_serve_runs_the_dispatcher(
    fresh_database: str, receiver: Receiver, factory: sessionmaker[Session]
) -> None:
    _, webhook, _, (event,) = _subscribe(factory, receiver.url)
    app = create_app(make_settings(fresh_database, webhook_dispatch_interval_seconds=0.05))

    with TestClient(app):
        deadline = time.monotonic() + 10
        while _delivery(factory, webhook).status == "pending" and time.monotonic() < deadline:
            time.sleep(0.02)

    assert receiver.ids() == {str(event.id): 1}
    assert _delivery(factory, webhook).status == "delivered"


def test_unknown_ids_are_ignored_when_recording(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        record_outcomes(session, outcomes=[Outcome(uuid.uuid4(), 1, 200, None)], now=utcnow())
