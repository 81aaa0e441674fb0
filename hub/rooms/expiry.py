"""The expiry job: an open room past its ``expires_at`` closes by itself, with the same summary and shredding
as a closing by its owner. Rooms are claimed with SKIP LOCKED on PostgreSQL, so replicas share the work."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.models import Room
from hub.models.base import utcnow
from hub.rooms import closing
from protocol.models.rooms import RoomStatus

BATCH = 50


def expire(session: Session, *, now: datetime, signing_key: Ed25519PrivateKey, key_id: str) -> int:
    """Close a batch of expired open rooms; returns how many closed."""
    query = (
        select(Room)
        .where(Room.status == RoomStatus.OPEN.value, Room.expires_at <= now)
        .order_by(Room.expires_at)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    closed = 0
    for room in session.scalars(query).all():
        closing.close(
            session, room=room, caller=None, note="expired", signing_key=signing_key, key_id=key_id, now=now
        )
        closed += 1
    return closed


def expire_once(factory: sessionmaker[Session], *, signing_key: Ed25519PrivateKey, key_id: str) -> int:
    """One round of the background job, in a transaction of its own."""
    with factory.begin() as session:
        return expire(session, now=utcnow(), signing_key=signing_key, key_id=key_id)
