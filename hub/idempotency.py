"""Idempotency-Key handling shared by every POST that creates a resource.

A key belongs to the caller's organization and one endpoint (the route's path template), for 24 hours. The
first request with a key stores which resource it made and a fingerprint of what it asked for; a repeat with
the same fingerprint gets that resource again, as it is now, with the first answer's status and
``Idempotent-Replayed: true``, and makes nothing; a repeat with another fingerprint is refused
(:class:`IdempotencyKeyReused`, 422). Two requests racing with one key meet at the table's unique constraint:
the later one is :class:`IdempotencyKeyInFlight` (409), the one answer a client should retry.

:func:`once` is the whole of it for a route; ``hub.idempotency_header`` gives routes the header and the
fingerprint. ``POST /v1/kpi-reports`` calls :func:`recall` and :func:`remember` itself, because its fingerprint
is the signed payload (an outbox may re-sign a queued report under the same key).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import Conflict, InvalidInput
from hub.models import IdempotencyRecord
from hub.models.base import utcnow

KEY_MAX_LENGTH = 200
RETENTION = timedelta(hours=24)

Made = TypeVar("Made")


class IdempotencyKeyReused(InvalidInput):
    pass


class IdempotencyKeyInFlight(Conflict):
    """Another request with the same Idempotency-Key has not finished: the one case a client should retry."""


@dataclass(frozen=True)
class KeyedRequest:
    """What a POST with an ``Idempotency-Key`` asks for: the key (``None`` without the header), the endpoint it
    is scoped to and the fingerprint of its path parameters and body."""

    key: str | None
    endpoint: str
    request_hash: str


@dataclass(frozen=True)
class Outcome(Generic[Made]):
    made: Made
    replayed: bool


def fingerprint(*, path: dict[str, Any], body: Any) -> str:
    """SHA-256 over the path parameters and the parsed body in one stable JSON spelling (sorted keys), so a
    retry that spells the same request differently is still the same request."""
    meant = json.dumps({"path": path, "body": body}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(meant.encode()).hexdigest()


def once(
    session: Session,
    *,
    org_id: uuid.UUID,
    request: KeyedRequest,
    create: Callable[[], Made],
    resource_id: Callable[[Made], uuid.UUID],
    replay: Callable[[uuid.UUID], Made],
) -> Outcome[Made]:
    """``create()`` once per key: a repeat gets ``replay(id)`` of what the first request made."""
    if request.key is None:
        return Outcome(create(), replayed=False)
    first = recall(
        session, org_id=org_id, endpoint=request.endpoint, key=request.key, request_hash=request.request_hash
    )
    if first is not None:
        return Outcome(replay(first), replayed=True)
    made = create()
    remember(
        session,
        org_id=org_id,
        endpoint=request.endpoint,
        key=request.key,
        request_hash=request.request_hash,
        resource_id=resource_id(made),
    )
    flush_or_in_flight(session)
    return Outcome(made, replayed=False)


def flush_or_in_flight(session: Session) -> None:
    """Flush; a clash on the idempotency table means another request with this key is still running."""
    try:
        session.flush()
    except IntegrityError as exc:
        if "idempotency_records" not in str(exc.orig):
            raise
        raise IdempotencyKeyInFlight(
            "another request with this Idempotency-Key is in flight; retry it"
        ) from exc


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
        session.flush()  # before the new record's insert: a flush inserts before it deletes
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
