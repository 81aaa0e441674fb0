"""Small makers for people tests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from hub.models import Organization, Person
from hub.people import service
from hub.people.sessions import SessionPolicy

PASSWORD = "correct horse battery staple"

POLICY = SessionPolicy(
    idle=timedelta(minutes=30),
    absolute=timedelta(hours=12),
    failure_window=timedelta(minutes=15),
    max_failures_per_email=3,
    max_failures_per_address=5,
)


def make_person(
    db: Session,
    org: Organization,
    *,
    email: str | None = None,
    role: str = "viewer",
    password: str = PASSWORD,
) -> Person:
    person = service.create_person(
        db,
        actor="test",
        actor_org_id=None,
        org_id=org.id,
        email=email or f"{role}@{org.name}.example",
        role=role,
        password=password,
    )
    db.flush()
    return person
