"""Idempotency-Key handling shared by every POST that creates a resource."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import InvalidInput
from hub.models import IdempotencyRecord
from hub.models.base import utcnow

KEY_MAX_LENGTH = 200
RETENTION = timedelta(hours=24)


class IdempotencyKeyReused(InvalidInput):
    pass


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= KEY_MAX_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {KEY_MAX_LENGTH} printable characters",
            loc="header.Idempotency-Key",
        )
    return key


def recall(
    session: Session, *, org_id: uuid.UUID, endpoint: str, key: str, request_hash: str
) -> uuid.UUID | None:
    """The resource the first request with this key made, or None if the key is new (or expired)."""
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.organization_id == org_id,
            IdempotencyRecord.endpoint == endpoint,
            IdempotencyRecord.key == key,
        )
    )
    if record is None:
        return None
    if record.created_at <= utcnow() - RETENTION:
        session.delete(record)  # an expired key is a new key
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    return record.resource_id


def remember(
    session: Session, *, org_id: uuid.UUID, endpoint: str, key: str, request_hash: str, resource_id: uuid.UUID
) -> None:
    """Added to the caller's transaction; two requests racing with one key meet at the unique constraint."""
    session.add(
        IdempotencyRecord(
            organization_id=org_id,
            endpoint=endpoint,
            key=key,
            request_hash=request_hash,
            resource_id=resource_id,
        )
    )
