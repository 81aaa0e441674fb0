"""Forgetting what has served its purpose: used client-assertion ids past their expiry, Idempotency-Key
records past their retention, and token-endpoint failure counts of windows that ended. Runs as a background job in every process (deletes are idempotent)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from hub.auth import throttle
from hub.idempotency import RETENTION
from hub.models import IdempotencyRecord, UsedClientAssertion
from hub.models.base import utcnow
from hub.people.sessions import forget_ended  # people: old failed sign-ins and long-ended sessions


def forget_expired(session: Session, *, now: datetime) -> int:
    """Delete expired assertion ids and idempotency records; returns how many rows went."""
    assertions = session.execute(delete(UsedClientAssertion).where(UsedClientAssertion.expires_at < now))
    records = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= now - RETENTION)
    )
    failures = throttle.forget_ended(session, now=now)
    return int(getattr(assertions, "rowcount", 0) or 0) + int(getattr(records, "rowcount", 0) or 0) + failures


def housekeeping_once(factory: sessionmaker[Session]) -> int:
    with factory.begin() as session:
        now = utcnow()
        return forget_expired(session, now=now) + forget_ended(session, now=now)
