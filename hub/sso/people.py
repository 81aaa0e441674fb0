"""Who a provider's ID token signs in: the person linked to its subject, else the person of the provider's own
organization with that verified e-mail address, else (only where the provider provisions people) a new one.

A provider only ever reaches people of its own organization. The role follows the provider's claim mapping at
every sign-in where a claim is configured; scopes are then narrowed by the organization's kind as for anyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.models import Person, SsoIdentity, SsoProvider
from hub.models.base import uuid7
from hub.people import service as people
from hub.people.roles import Role
from hub.sso.oidc import SignInFailed

# When a person's claim values map to several roles, the one that may do most wins.
PRECEDENCE = (Role.ADMIN, Role.SQE, Role.PURCHASING, Role.PLANT, Role.VIEWER)


def role_from(provider: SsoProvider, claims: dict[str, Any]) -> Role:
    value = claims.get(provider.role_claim) if provider.role_claim else None
    values = (
        {value} if isinstance(value, str) else {str(v) for v in value} if isinstance(value, list) else set()
    )
    mapped = {Role(provider.role_mapping[v]) for v in values if v in provider.role_mapping}
    return next((role for role in PRECEDENCE if role in mapped), Role(provider.default_role))


def _verified_email(provider: SsoProvider, claims: dict[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") not in (True, "true"):
        raise SignInFailed("the provider did not vouch for the e-mail address (email_verified)")
    domain = email.rpartition("@")[2].casefold()
    if provider.allowed_email_domains and domain not in provider.allowed_email_domains:
        raise SignInFailed(f"addresses at {domain[:253]} may not sign in with this provider")
    return email


def _linked(session: Session, provider: SsoProvider, subject: str) -> Person | None:
    query = (
        select(Person)
        .join(SsoIdentity, SsoIdentity.person_id == Person.id)
        .where(SsoIdentity.provider_id == provider.id, SsoIdentity.subject == subject)
        .where(Person.organization_id == provider.organization_id)
    )
    return session.scalar(query)


def _by_email(session: Session, provider: SsoProvider, email: str) -> Person | None:
    query = select(Person).where(
        Person.organization_id == provider.organization_id, Person.email_key == people.email_key(email)
    )
    return session.scalar(query)


def _provision(session: Session, provider: SsoProvider, email: str, claims: dict[str, Any]) -> Person:
    if not provider.provision_people:
        raise SignInFailed("there is no account for this address here; ask your organization's admin")
    person_id = uuid7()
    name = claims.get("name")
    return people.create_person(
        session,
        actor=f"person:{person_id}",
        actor_org_id=provider.organization_id,
        org_id=provider.organization_id,
        email=email,
        role=role_from(provider, claims),
        password=None,
        display_name=name[:200] if isinstance(name, str) and name.strip() else None,
        person_id=person_id,
    )


def _link(session: Session, provider: SsoProvider, person: Person, subject: str) -> None:
    identity = SsoIdentity(
        provider_id=provider.id, person_id=person.id, issuer=provider.issuer, subject=subject
    )
    try:
        with session.begin_nested():
            session.add(identity)
    except IntegrityError:
        return  # a sign-in of the same person in another tab linked them a moment ago
    audit.record(
        session,
        actor=f"person:{person.id}",
        actor_org_id=person.organization_id,
        action="person.sso_linked",
        subject_type="person",
        subject_id=person.id,
        data={"provider_id": str(provider.id), "issuer": provider.issuer, "subject": subject},
    )


def person_for(session: Session, *, provider: SsoProvider, claims: dict[str, Any]) -> Person:
    """The person these validated claims sign in, or :class:`SignInFailed`."""
    subject = str(claims["sub"])[:255]
    person = _linked(session, provider, subject)
    if person is None:
        email = _verified_email(provider, claims)
        person = _by_email(session, provider, email) or _provision(session, provider, email, claims)
        if person.disabled_at is None:
            _link(session, provider, person, subject)
    if person.disabled_at is not None:
        raise SignInFailed("this account is disabled")
    role = role_from(provider, claims)
    if provider.role_claim and person.role != role.value:
        people.set_role(
            session,
            actor=f"person:{person.id}",
            actor_org_id=person.organization_id,
            person=person,
            role=role,
        )
    return person
