"""The sequencer job: numbers committed events so that streams and webhooks can read them in order."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from hub.events import service as events
from hub.webhooks import service as webhooks


def sequence_once(factory: sessionmaker[Session]) -> int:
    """One round in its own transaction; returns how many events it numbered."""
    with factory.begin() as session:
        numbered = events.sequence(session)
        # In this same transaction, so an event is numbered exactly when its webhook deliveries exist.
        webhooks.fan_out(session, events=numbered)
        return len(numbered)
