"""Expired assertion ids and idempotency records are forgotten; live ones are kept."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.housekeeping import forget_expired
from hub.idempotency import RETENTION
from hub.models import IdempotencyRecord, UsedClientAssertion
from hub.models.base import utcnow
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org


def test_only_what_expired_is_forgotten(db: Session) -> None:
    now = utcnow()
    org = make_org(db, OrgKind.SUPPLIER)
    db.add_all(
        [
            UsedClientAssertion(client_id="c", jti="old", expires_at=now - timedelta(seconds=1)),
            UsedClientAssertion(client_id="c", jti="live", expires_at=now + timedelta(minutes=5)),
            IdempotencyRecord(
                organization_id=org.id,
                endpoint="e",
                key="old",
                request_hash="h",
                resource_id=uuid.uuid4(),
                created_at=now - RETENTION - timedelta(seconds=1),
            ),
            IdempotencyRecord(
                organization_id=org.id,
                endpoint="e",
                key="live",
                request_hash="h",
                resource_id=uuid.uuid4(),
                created_at=now - timedelta(hours=1),
            ),
        ]
    )
    db.flush()
    assert forget_expired(db, now=now) == 2
    assert db.scalars(select(UsedClientAssertion.jti)).all() == ["live"]
    assert db.scalars(select(IdempotencyRecord.key)).all() == ["live"]
