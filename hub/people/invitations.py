"""An organization's admin invites a person by e-mail; the invitee sets a password and is in.

The link carries 256 random bits; only their SHA-256 is stored (high entropy needs no slow hash), compared in
constant time. An invitation is used once, and is no use after it expires or is revoked: then nothing changes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.errors import Conflict, HubError, InvalidInput, NotFound
from hub.mail import outbox
from hub.models import Invitation, Person
from hub.people import passwords, service
from hub.people.roles import Role

VALID_FOR = timedelta(days=7)


class InvitationUnusable(HubError):
    """No such invitation, or it was used, revoked, or has expired."""

    status_code = 410


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    token: str


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def invite(
    session: Session,
    *,
    inviter: Person,
    email: str,
    role: str | Role,
    link_base: str,
    now: datetime,
    valid_for: timedelta = VALID_FOR,
) -> Invited:
    """Invite ``email`` into the inviter's organization with ``role``; the mail with the link is queued."""
    email = service.check_email(email)
    chosen = service.check_role(role)
    key = service.email_key(email)
    org_id = inviter.organization_id
    taken = select(Person.id).where(Person.organization_id == org_id, Person.email_key == key)
    if session.scalar(taken) is not None:
        raise Conflict(f"a person with the e-mail {email} already belongs to this organization")
    pending = select(Invitation.id).where(
        Invitation.organization_id == org_id,
        Invitation.email_key == key,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )
    if session.scalar(pending) is not None:
        raise Conflict(f"{email} has a pending invitation already: revoke it to invite again")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization_id=org_id,
        email=email,
        email_key=key,
        role=chosen.value,
        locale=inviter.locale,
        token_sha256=_digest(token),
        invited_by=inviter.id,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invitation)
    session.flush()
    _audit(session, inviter, invitation, "invitation.created", {"email": email, "role": chosen.value})
    outbox.queue_invitation(
        session,
        to_address=email,
        locale=inviter.locale,
        inviter=inviter.display_name,
        link=f"{link_base.rstrip('/')}/console/invitations/{token}",
        expires_at=invitation.expires_at,
        now=now,
    )
    return Invited(invitation=invitation, token=token)


def pending(session: Session, *, org_id: uuid.UUID, now: datetime) -> list[Invitation]:
    query = (
        select(Invitation)
        .where(
            Invitation.organization_id == org_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at)
    )
    return list(session.scalars(query))


def revoke(session: Session, *, actor: Person, invitation_id: uuid.UUID, now: datetime) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organization_id != actor.organization_id:
        raise NotFound("invitation not found")
    if invitation.accepted_at is not None:
        raise Conflict("the invitation was accepted already: disable the person instead")
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        _audit(session, actor, invitation, "invitation.revoked", {"email": invitation.email})
    return invitation


def usable(session: Session, *, token: str, now: datetime) -> Invitation:
    """The invitation behind a link, while it may still be accepted; else :class:`InvitationUnusable`."""
    digest = _digest(token)
    invitation = session.scalar(select(Invitation).where(Invitation.token_sha256 == digest))
    if invitation is None or not hmac.compare_digest(invitation.token_sha256, digest):
        raise InvitationUnusable("this invitation link is not valid")
    if invitation.accepted_at is not None:
        raise InvitationUnusable("this invitation was used already: sign in instead")
    if invitation.revoked_at is not None:
        raise InvitationUnusable("this invitation was revoked: ask your organization's admin for a new one")
    if now >= invitation.expires_at:
        raise InvitationUnusable("this invitation has expired: ask your organization's admin for a new one")
    return invitation


def accept(session: Session, *, token: str, password: str, display_name: str | None, now: datetime) -> Person:
    """The invitee becomes a person of the organization with the invited role and the password they chose."""
    invitation = usable(session, token=token, now=now)
    passwords.check_policy(password)
    if display_name is not None and len(display_name) > 200:
        raise InvalidInput("display_name: 1 to 200 characters", loc="display_name")
    inviter = session.get(Person, invitation.invited_by)
    person = service.create_person(
        session,
        actor=f"person:{invitation.invited_by}",
        actor_org_id=invitation.organization_id,
        org_id=invitation.organization_id,
        email=invitation.email,
        role=invitation.role,
        password=password,
        display_name=display_name or None,
        locale=invitation.locale,
        time_zone=inviter.time_zone if inviter is not None else "UTC",
    )
    invitation.accepted_at = now
    invitation.person_id = person.id
    audit.record(
        session,
        actor=f"person:{person.id}",
        actor_org_id=person.organization_id,
        action="invitation.accepted",
        subject_type="invitation",
        subject_id=invitation.id,
        data={"organization_id": str(person.organization_id), "email": person.email},
    )
    return person


def _audit(
    session: Session, actor: Person, invitation: Invitation, action: str, data: dict[str, str]
) -> None:
    audit.record(
        session,
        actor=f"person:{actor.id}",
        actor_org_id=actor.organization_id,
        action=action,
        subject_type="invitation",
        subject_id=invitation.id,
        data={"organization_id": str(invitation.organization_id), **data},
    )
