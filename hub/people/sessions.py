"""Signing in, browser sessions and their CSRF tokens.

A session is a server-side row behind an opaque cookie of 256 random bits; the table keeps only its SHA-256.
It ends after ``idle`` seconds without a request, ``absolute`` seconds after sign-in, at sign-out, or when
the person is disabled. Each request works out the person's scopes from their current role and organization,
so a role change or a disabled person takes effect at the very next request.

The CSRF token is an HMAC of the session's own secret (synchronizer pattern without storage): it is only
valid with that session's cookie, and a new session (a new sign-in) makes every old token stale.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.errors import HubError, Unauthenticated
from hub.models import BrowserSession, Organization, Person, SignInFailure
from hub.people import passwords
from hub.people.roles import parse_role, scopes_for
from hub.people.service import email_key
from protocol.models.common import OrgKind

COOKIE = "qualink_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# The last-seen time is written at most this often: a page's many requests need not all write.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta
    failure_window: timedelta
    max_failures_per_email: int
    max_failures_per_address: int


class SignInRefused(HubError):
    """Wrong e-mail or password, a disabled person, or a wrong one-time code: the message never says which."""

    status_code = 401


class SecondFactorRequired(HubError):
    status_code = 401


class TooManySignIns(HubError):
    status_code = 429


class SessionEnded(Unauthenticated):
    """No such session, or it expired, was revoked, or its person was disabled."""


@dataclass(frozen=True)
class SignedIn:
    token: str
    browser_session: BrowserSession
    person: Person


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def csrf_token(token: str) -> str:
    mac = hmac.new(token.encode(), b"qualink console csrf v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def csrf_valid(token: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token(token).encode(), presented.encode())


def _failures(session: Session, key: str, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.key == key, SignInFailure.at > since)
    )
    return int(session.scalar(query) or 0)


def _keys(email: str, address: str | None) -> list[str]:
    keys = [f"email:{email_key(email)[:320]}"]
    if address:
        keys.append(f"address:{address[:64]}")
    return keys


def _check_rate(
    session: Session, *, email: str, address: str | None, policy: SessionPolicy, now: datetime
) -> None:
    since = now - policy.failure_window
    limits = [policy.max_failures_per_email, policy.max_failures_per_address]
    for key, limit in zip(_keys(email, address), limits, strict=False):
        if (count := _failures(session, key, since)) >= limit:
            minutes = max(1, int(policy.failure_window.total_seconds() // 60))
            wait = _until_below(session, key, since, count - limit, policy.failure_window, now)
            raise TooManySignIns(
                f"too many failed sign-ins; try again in {minutes} minutes",
                headers={"Retry-After": str(wait)},
            )


def _until_below(
    session: Session, key: str, since: datetime, surplus: int, window: timedelta, now: datetime
) -> int:
    """Seconds until the window holds one failure fewer than the limit: when its (surplus+1)-th oldest ages out.
    The failures live in the database, so every replica answers the same."""
    oldest = session.scalar(
        select(SignInFailure.at)
        .where(SignInFailure.key == key, SignInFailure.at > since)
        .order_by(SignInFailure.at)
        .offset(surplus)
        .limit(1)
    )
    if oldest is None:
        return 1
    if oldest.tzinfo is None:  # SQLite gives naive UTC back
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def _fail(session: Session, *, email: str, address: str | None, now: datetime) -> None:
    for key in _keys(email, address):
        session.add(SignInFailure(key=key, at=now))
    session.flush()


def _candidates(session: Session, email: str) -> list[Person]:
    # The same address may belong to people of two organizations; the password tells them apart.
    query = select(Person).where(Person.email_key == email_key(email)).order_by(Person.created_at).limit(5)
    return list(session.scalars(query))


def _match(people: list[Person], password: str) -> Person | None:
    if not people:
        passwords.verify(None, password)  # as long as a real check: a wrong address is not told apart
        return None
    found = None
    for person in people:
        if passwords.verify(person.password_hash, password) and found is None:
            found = person
    return found


def sign_in(
    session: Session,
    *,
    email: str,
    password: str,
    one_time_code: str | None,
    address: str | None,
    policy: SessionPolicy,
    now: datetime,
) -> SignedIn:
    """A new session for the person with this e-mail and password (and one-time code, if they use one).

    Every refusal is recorded as a failure before it is raised: the caller must commit it (render the refusal
    without letting the exception roll the transaction back)."""
    _check_rate(session, email=email, address=address, policy=policy, now=now)
    person = _match(_candidates(session, email), password)
    if person is None or person.disabled_at is not None:
        _fail(session, email=email, address=address, now=now)
        raise SignInRefused("wrong e-mail or password")
    if person.totp_secret:
        if not one_time_code:
            raise SecondFactorRequired("enter the one-time code from your authenticator app")
        if not pyotp.TOTP(person.totp_secret).verify(one_time_code.strip(), for_time=now, valid_window=1):
            _fail(session, email=email, address=address, now=now)
            raise SignInRefused("wrong one-time code")
    if person.password_hash and passwords.needs_rehash(person.password_hash):
        person.password_hash = passwords.hash_password(password)
    session.execute(delete(SignInFailure).where(SignInFailure.key == _keys(email, None)[0]))
    return open_session(session, person=person, policy=policy, now=now)


def open_session(session: Session, *, person: Person, policy: SessionPolicy, now: datetime) -> SignedIn:
    """A new browser session for ``person``, who has just proven who they are (a password, an invitation)."""
    token = secrets.token_urlsafe(32)
    row = BrowserSession(
        token_sha256=_digest(token),
        person_id=person.id,
        created_at=now,
        last_seen_at=now,
        idle_expires_at=now + policy.idle,
        expires_at=now + policy.absolute,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=f"person:{person.id}",
        actor_org_id=person.organization_id,
        action="person.signed_in",
        subject_type="person",
        subject_id=person.id,
        data={"session_id": str(row.id)},
    )
    return SignedIn(token=token, browser_session=row, person=person)


def resolve(session: Session, *, token: str, policy: SessionPolicy, now: datetime) -> Caller:
    """The caller behind a session cookie, or :class:`SessionEnded`. Keeps the session alive while used."""
    query = (
        select(BrowserSession, Person, Organization)
        .join(Person, Person.id == BrowserSession.person_id)
        .join(Organization, Organization.id == Person.organization_id)
        .where(BrowserSession.token_sha256 == _digest(token))
    )
    row = session.execute(query).first()
    if row is None:
        raise SessionEnded("no such session: sign in")
    browser, person, org = row
    if browser.revoked_at is not None or person.disabled_at is not None:
        raise SessionEnded("the session was ended: sign in again")
    if now >= browser.expires_at or now >= browser.idle_expires_at:
        raise SessionEnded("the session expired: sign in again")
    if now - browser.last_seen_at >= TOUCH_EVERY:
        browser.last_seen_at = now
        browser.idle_expires_at = min(now + policy.idle, browser.expires_at)
    kind = OrgKind(org.kind)
    return Caller(
        org_id=org.id,
        org_kind=kind,
        client_id="browser-session",
        scopes=scopes_for(parse_role(person.role), kind),
        person_id=person.id,
    )


def sign_out(session: Session, *, token: str, now: datetime) -> None:
    browser = session.scalar(select(BrowserSession).where(BrowserSession.token_sha256 == _digest(token)))
    if browser is not None and browser.revoked_at is None:
        browser.revoked_at = now
        audit.record(
            session,
            actor=f"person:{browser.person_id}",
            actor_org_id=session.get(Person, browser.person_id).organization_id,  # type: ignore[union-attr]
            action="person.signed_out",
            subject_type="person",
            subject_id=browser.person_id,
            data={"session_id": str(browser.id)},
        )


# Failed sign-ins are kept this long (the rate limit's window may not be longer), and ended sessions this long
# after they ended, for the person's "where am I signed in" history; then housekeeping deletes them.
KEEP_FAILURES = timedelta(days=1)
KEEP_ENDED_SESSIONS = timedelta(days=7)


def forget_ended(session: Session, *, now: datetime) -> int:
    """Delete old failed sign-ins and long-ended sessions; returns how many rows went."""
    failures = session.execute(delete(SignInFailure).where(SignInFailure.at < now - KEEP_FAILURES))
    before = now - KEEP_ENDED_SESSIONS
    ended = session.execute(
        delete(BrowserSession).where(
            (BrowserSession.expires_at < before)
            | (BrowserSession.idle_expires_at < before)
            | (BrowserSession.revoked_at < before)
        )
    )
    return int(getattr(failures, "rowcount", 0) or 0) + int(getattr(ended, "rowcount", 0) or 0)


def person_of(session: Session, *, caller: Caller) -> Person:
    """The signed-in person (for their name, locale and time zone)."""
    person = session.get(Person, caller.person_id) if caller.person_id else None
    if person is None:
        raise SessionEnded("no person behind this caller")
    return person
