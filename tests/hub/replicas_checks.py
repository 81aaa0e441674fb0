"""What must hold after replicas ran under faults, read from the database and the webhook receiver."""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.models import AuditEntry, Event, Hold, WebhookDelivery
from tests.hub.webhooks.helpers import Receiver
from tests.replicas import wait_until


def unnumbered(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).where(Event.position.is_(None))) or 0)


def assert_events_numbered_once_without_gaps(factory: sessionmaker[Session]) -> int:
    """Every committed event gets one position, and the positions are 1…M: a reader resuming at any N is sent
    every event above it (the sequencer's contract in hub/events/service.py). Returns M."""
    wait_until(
        lambda: unnumbered(factory) == 0,
        seconds=60,
        failure=lambda: f"{unnumbered(factory)} committed events still have no position after 60 s",
    )
    with factory() as session:
        positions = list(session.scalars(select(Event.position).order_by(Event.position)))
    duplicates = [p for p, n in Counter(positions).items() if n > 1]
    assert not duplicates, f"positions given twice: {duplicates[:10]}"
    expected = list(range(1, len(positions) + 1))
    missing = sorted(set(expected) - set(positions))
    assert positions == expected, f"positions with gaps: missing {missing[:10]}, highest {positions[-1:]}"
    return len(positions)


def assert_one_delivery_per_event(factory: sessionmaker[Session]) -> None:
    """The sequencer made each event's webhook delivery exactly once, however many sequencers ran."""
    with factory() as session:
        rows = session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.event_seq, func.count())
            .group_by(WebhookDelivery.webhook_id, WebhookDelivery.event_seq)
            .having(func.count() > 1)
        ).all()
    assert not rows, f"events with more than one delivery to one webhook: {rows[:10]}"


def subscribed_event_ids(factory: sessionmaker[Session], org_id: uuid.UUID, types: list[str]) -> set[str]:
    with factory() as session:
        query = select(Event.id).where(Event.organization_id == org_id, Event.type.in_(types))
        return {str(event_id) for event_id in session.scalars(query)}


def assert_delivered_at_least_once(receiver: Receiver, event_ids: set[str]) -> None:
    """Each event reached the receiver; a second delivery carried the same ``webhook-id`` and the same body."""

    def received() -> dict[str, set[bytes]]:
        bodies: dict[str, set[bytes]] = defaultdict(set)
        for headers, body in list(receiver.requests):
            bodies[headers["webhook-id"]].add(body)
        return bodies

    wait_until(
        lambda: event_ids <= set(received()),
        seconds=60,
        failure=lambda: f"{len(event_ids - set(received()))} of {len(event_ids)} events never delivered",
    )
    bodies = received()
    differing = {msg_id for msg_id, seen in bodies.items() if len(seen) > 1}
    assert not differing, f"one webhook-id delivered with different bodies: {sorted(differing)[:5]}"
    by_event = Counter(json.loads(next(iter(seen)))["id"] for seen in bodies.values())
    renamed = [event_id for event_id, n in by_event.items() if n > 1]
    assert not renamed, f"one event delivered under several webhook-ids: {renamed[:5]}"


def assert_holds_placed_once(factory: sessionmaker[Session], alert_id: str) -> int:
    """The alert's holds: at least one, and no inventory position held twice by it. Returns how many."""
    with factory() as session:
        held = list(
            session.scalars(
                select(Hold.inventory_position_id).where(Hold.notification_id == uuid.UUID(alert_id))
            )
        )
    twice = [p for p, n in Counter(held).items() if n > 1]
    assert held, "the alert placed no hold"
    assert not twice, f"positions held twice by one alert: {twice}"
    return len(held)


def assert_standings_moved_in_one_chain(factory: sessionmaker[Session]) -> None:
    """Each standing's changes form one chain (each starts where the last ended, none from a state to itself):
    two replicas applying one downgrade would record the same step twice."""
    with factory() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "standing.changed").order_by(AuditEntry.id)
        ).all()
    last: dict[str, tuple[str, str]] = {}
    for entry in entries:
        tier, status = entry.data["tier"], entry.data["status"]
        before, after = (tier[0], status[0]), (tier[1], status[1])
        assert before != after, f"standing {entry.subject_id} 'changed' to what it was: {entry.data}"
        if entry.subject_id in last:
            assert last[entry.subject_id] == before, f"standing {entry.subject_id} moved twice from {before}"
        last[entry.subject_id] = after
