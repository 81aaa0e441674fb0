"""The sequencer job: numbers committed events so that streams and webhooks can read them in order."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hub.events import service as events
from hub.events import wakeups
from hub.webhooks import service as webhooks


def sequence_once(factory: sessionmaker[Session]) -> int:
    """One round in its own transaction; returns how many events it numbered."""
    with factory.begin() as session:
        numbered = events.sequence(session)
        # In this same transaction, so an event is numbered exactly when its webhook deliveries exist.
        if webhooks.fan_out(session, events=numbered):
            wakeups.notify(session, wakeups.DELIVERIES_DUE)  # every process's dispatcher (PostgreSQL)
        return len(numbered)


def wake_on_publish(factory: sessionmaker[Session], wake: Callable[[], None]) -> None:
    """Call ``wake`` after every commit of a session from ``factory`` that published events."""

    @event.listens_for(factory, "after_commit")
    def _published(session: Session) -> None:
        if session.info.pop(events.PUBLISHED, False):
            wake()

    @event.listens_for(factory, "after_rollback")
    def _discarded(session: Session) -> None:
        session.info.pop(events.PUBLISHED, None)
