"""Two requests racing with one Idempotency-Key: the later meets the first at the unique constraint (PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub import idempotency
from hub.db import make_engine, make_session_factory
from hub.models import IdempotencyRecord, Organization
from hub.orgs import service as orgs
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from tests.conftest import make_settings


def test_the_later_of_two_racing_requests_is_in_flight_and_makes_nothing(fresh_database: str) -> None:
    if make_url(fresh_database).get_backend_name() != "postgresql":
        pytest.skip("a second writer waits on the first's row here; SQLite has a single writer")
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    with factory.begin() as session:
        operator = orgs.create_organization(
            session, actor="test", data=OrganizationCreate(name="Operator", kind=OrgKind.OPERATOR)
        )
    request = idempotency.KeyedRequest(key="k-1", endpoint="/v1/organizations", request_hash="h" * 64)

    def make(session_name: str, session: Session) -> Organization:
        return orgs.create_organization(
            session,
            actor="test",
            data=OrganizationCreate(
                name=f"Acme {session_name} {uuid.uuid4().hex[:6]}", kind=OrgKind.SUPPLIER
            ),
        )

    def first_request() -> None:
        with factory.begin() as session:
            idempotency.once(
                session,
                org_id=operator.id,
                request=request,
                create=lambda: make("first", session),
                resource_id=lambda org: org.id,
                replay=lambda _: pytest.fail("the first request is no repeat"),
            )

    def racing_create(session: Session) -> Organization:
        # The later request has looked the key up and found nothing; the first finishes in the meantime.
        first_request()
        return make("second", session)

    with pytest.raises(idempotency.IdempotencyKeyInFlight), factory.begin() as later:
        idempotency.once(
            later,
            org_id=operator.id,
            request=request,
            create=lambda: racing_create(later),
            resource_id=lambda org: org.id,
            replay=lambda _: pytest.fail("the key was not stored when this request looked"),
        )

    with factory() as session:
        suppliers = session.scalar(
            select(func.count()).select_from(Organization).where(Organization.kind == OrgKind.SUPPLIER.value)
        )
        records = session.scalar(select(func.count()).select_from(IdempotencyRecord))
    assert (suppliers, records) == (1, 1)
    engine.dispose()
