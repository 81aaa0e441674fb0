"""The sequencer job: numbers committed events so that streams and webhooks can read them in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hub.events import service as events
from hub.events import wakeups
from hub.webhooks import service as webhooks

if TYPE_CHECKING:
    from hub.webhooks.dispatcher import Claim, Dispatcher


def sequence_once(factory: sessionmaker[Session], *, dispatcher: Dispatcher | None = None) -> int:
    """One round in its own transaction; returns how many events it numbered.

    With this process's running ``dispatcher``, the new deliveries are made already claimed for it (leased) in the
    same transaction and handed to it after commit: no claiming transaction, no re-reading of rows it has in hand,
    between an event's commit and its first POST."""
    claims: list[Claim] = []
    with factory.begin() as session:
        numbered = events.sequence(session)
        # In this same transaction, so an event is numbered exactly when its webhook deliveries exist.
        if dispatcher is not None and dispatcher.running:
            claims = dispatcher.claim_made(session, events=numbered)
        elif webhooks.fan_out(session, events=numbered):
            wakeups.notify(session, wakeups.DELIVERIES_DUE)  # every process's dispatcher (PostgreSQL)
        count = len(numbered)
    if dispatcher is not None and claims:
        dispatcher.hand_over(claims)
    return count


def wake_on_publish(factory: sessionmaker[Session], wake: Callable[[], None]) -> None:
    """Call ``wake`` after every commit of a session from ``factory`` that published events."""

    @event.listens_for(factory, "after_commit")
    def _published(session: Session) -> None:
        if session.info.pop(events.PUBLISHED, False):
            wake()

    @event.listens_for(factory, "after_rollback")
    def _discarded(session: Session) -> None:
        session.info.pop(events.PUBLISHED, None)
