"""Managing the people of an organization: create, list, disable, change role, turn on a second factor.

Each change is audited under the actor who made it (an operator at the command line, or a person)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.errors import Conflict, InvalidInput, NotFound
from hub.models import BrowserSession, Organization, Person
from hub.people import passwords
from hub.people.roles import Role, parse_role

# Deliberately loose (RFC 5322 allows far more); the address is checked by mail, not by a pattern.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
LOCALES = ("en", "de", "zh")


def email_key(email: str) -> str:
    return email.strip().casefold()


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise InvalidInput("email: not an e-mail address", loc="email")
    return email


def _check_time_zone(time_zone: str) -> None:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"time_zone: unknown time zone '{time_zone[:64]}'", loc="time_zone") from None


def check_role(value: str | Role) -> Role:
    try:
        return parse_role(str(value))
    except ValueError as exc:
        raise InvalidInput(f"role: {exc}", loc="role") from None


def create_person(
    session: Session,
    *,
    actor: str,
    actor_org_id: uuid.UUID | None,
    org_id: uuid.UUID,
    email: str,
    role: str | Role,
    password: str | None,
    display_name: str | None = None,
    locale: str = "en",
    time_zone: str = "UTC",
    person_id: uuid.UUID | None = None,
) -> Person:
    """``person_id`` chooses the new person's id, for a person who creates themself (single sign-on's
    provisioning), so that their creation is audited under their own identity."""
    email = check_email(email)
    chosen = check_role(role)
    if locale not in LOCALES:
        raise InvalidInput(f"locale: one of {', '.join(LOCALES)}", loc="locale")
    _check_time_zone(time_zone)
    name = (display_name or email.split("@")[0]).strip()
    if not name or len(name) > 200:
        raise InvalidInput("display_name: 1 to 200 characters", loc="display_name")
    if session.get(Organization, org_id) is None:
        raise NotFound("organization not found")
    key = email_key(email)
    taken = select(Person.id).where(Person.organization_id == org_id, Person.email_key == key)
    if session.scalar(taken) is not None:
        raise Conflict(f"a person with the e-mail {email} already belongs to this organization")
    person = Person(
        **({"id": person_id} if person_id else {}),
        organization_id=org_id,
        email=email,
        email_key=key,
        display_name=name,
        role=chosen.value,
        password_hash=passwords.hash_password(password) if password is not None else None,
        locale=locale,
        time_zone=time_zone,
    )
    session.add(person)
    session.flush()
    _audit(session, actor, actor_org_id, person, "person.created", {"email": email, "role": chosen.value})
    return person


def list_people(session: Session, *, org_id: uuid.UUID) -> list[Person]:
    query = select(Person).where(Person.organization_id == org_id).order_by(Person.email_key)
    return list(session.scalars(query))


def find_person(session: Session, *, org_id: uuid.UUID, email: str) -> Person:
    query = select(Person).where(Person.organization_id == org_id, Person.email_key == email_key(email))
    person = session.scalar(query)
    if person is None:
        raise NotFound(f"no person with the e-mail {email[:320]} in this organization")
    return person


def get_person(session: Session, *, org_id: uuid.UUID, person_id: uuid.UUID) -> Person:
    """A person of ``org_id``; one of another organization is, to the caller, not there."""
    person = session.get(Person, person_id)
    if person is None or person.organization_id != org_id:
        raise NotFound("person not found")
    return person


def disable_person(
    session: Session, *, actor: str, actor_org_id: uuid.UUID | None, person: Person, now: datetime
) -> Person:
    """Disable the person and revoke every session they hold: their next request signs them out."""
    if person.disabled_at is None:
        person.disabled_at = now
        session.execute(
            update(BrowserSession)
            .where(BrowserSession.person_id == person.id, BrowserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        _audit(session, actor, actor_org_id, person, "person.disabled", {})
    return person


def set_role(
    session: Session, *, actor: str, actor_org_id: uuid.UUID | None, person: Person, role: str | Role
) -> Person:
    """Takes effect at the person's next request: a session's scopes are worked out from the role each time."""
    chosen = check_role(role)
    before = person.role
    person.role = chosen.value
    _audit(session, actor, actor_org_id, person, "person.role_changed", {"from": before, "to": chosen.value})
    return person


def enable_totp(session: Session, *, actor: str, actor_org_id: uuid.UUID | None, person: Person) -> str:
    """Give the person a new TOTP secret (RFC 6238) and return its otpauth:// URI for an authenticator app."""
    person.totp_secret = pyotp.random_base32()
    _audit(session, actor, actor_org_id, person, "person.totp_enabled", {})
    return pyotp.TOTP(person.totp_secret).provisioning_uri(name=person.email, issuer_name="Qualink")


def _audit(
    session: Session,
    actor: str,
    actor_org_id: uuid.UUID | None,
    person: Person,
    action: str,
    data: dict[str, str],
) -> None:
    audit.record(
        session,
        actor=actor,
        actor_org_id=actor_org_id,
        action=action,
        subject_type="person",
        subject_id=person.id,
        data={"organization_id": str(person.organization_id), **data},
    )
