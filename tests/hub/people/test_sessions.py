"""Signing in, resolving a session to a caller, timeouts, revocation, second factor and the rate limit.

Every time comes from one clock value taken at the test's start and moved forward from there."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, BrowserSession
from hub.models.base import utcnow
from hub.people import passwords, service
from hub.people.roles import Role, scopes_for
from hub.people.sessions import (
    SecondFactorRequired,
    SessionEnded,
    SignInRefused,
    TooManySignIns,
    csrf_token,
    csrf_valid,
    resolve,
    sign_in,
    sign_out,
)
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org
from tests.hub.people.helpers import PASSWORD, POLICY, make_person


def _sign_in(db: Session, email: str, password: str = PASSWORD, **kw: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "one_time_code": None,
        "address": "203.0.113.7",
        "policy": POLICY,
        "now": utcnow(),
    }
    values.update(kw)
    return sign_in(db, email=email, password=password, **values)  # type: ignore[arg-type]


def test_a_session_resolves_to_the_persons_caller(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    person = make_person(db, org, email="sqe@example.com", role="sqe")
    signed = _sign_in(db, "SQE@example.com")

    caller = resolve(db, token=signed.token, policy=POLICY, now=utcnow())

    assert (caller.org_id, caller.org_kind, caller.person_id) == (org.id, OrgKind.OEM, person.id)
    assert caller.scopes == scopes_for(Role.SQE, OrgKind.OEM)
    assert caller.actor == f"person:{person.id}"
    row = db.get(BrowserSession, signed.browser_session.id)
    assert row is not None and row.token_sha256 != signed.token.encode()  # only the digest is kept
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "person.signed_in")).one()
    assert entry.actor == f"person:{person.id}"


def test_wrong_password_unknown_email_and_disabled_person_are_refused_alike(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    person = make_person(db, org, email="a@example.com")
    make_person(db, org, email="gone@example.com")
    service.disable_person(
        db,
        actor="test",
        actor_org_id=None,
        person=service.find_person(db, org_id=org.id, email="gone@example.com"),
        now=utcnow(),
    )
    messages = set()
    for email, password in [
        ("a@example.com", "wrong password!!"),
        ("nobody@example.com", PASSWORD),
        ("gone@example.com", PASSWORD),
    ]:
        with pytest.raises(SignInRefused) as caught:
            _sign_in(db, email, password)
        messages.add(caught.value.detail)
    assert messages == {"wrong e-mail or password"}
    assert person.disabled_at is None


def test_the_idle_and_absolute_timeouts_end_a_session(db: Session) -> None:
    org = make_org(db, OrgKind.SUPPLIER)
    make_person(db, org, email="s@example.com")
    start = utcnow()
    signed = _sign_in(db, "s@example.com", now=start)

    # Used every 20 minutes, the session outlives its 30-minute idle limit ...
    at = start
    for _ in range(5):
        at += timedelta(minutes=20)
        resolve(db, token=signed.token, policy=POLICY, now=at)
    # ... but 31 idle minutes end it,
    with pytest.raises(SessionEnded, match="expired"):
        resolve(db, token=signed.token, policy=POLICY, now=at + timedelta(minutes=31))
    # and so does the absolute limit however busy it is.
    busy = _sign_in(db, "s@example.com", now=start)
    at = start
    while at < start + POLICY.absolute - timedelta(minutes=20):
        at += timedelta(minutes=20)
        resolve(db, token=busy.token, policy=POLICY, now=at)
    with pytest.raises(SessionEnded, match="expired"):
        resolve(db, token=busy.token, policy=POLICY, now=start + POLICY.absolute)


def test_sign_out_and_a_disabled_person_end_the_session_at_the_next_request(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    person = make_person(db, org, email="x@example.com")
    first, second = _sign_in(db, "x@example.com"), _sign_in(db, "x@example.com")

    sign_out(db, token=first.token, now=utcnow())
    with pytest.raises(SessionEnded):
        resolve(db, token=first.token, policy=POLICY, now=utcnow())
    resolve(db, token=second.token, policy=POLICY, now=utcnow())

    person.disabled_at = utcnow()  # even without the revocation the disable service also does
    with pytest.raises(SessionEnded):
        resolve(db, token=second.token, policy=POLICY, now=utcnow())
    with pytest.raises(SessionEnded):
        resolve(db, token="not a session", policy=POLICY, now=utcnow())


def test_a_role_change_applies_at_the_next_request(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    person = make_person(db, org, email="r@example.com", role="viewer")
    signed = _sign_in(db, "r@example.com")
    assert "rules:admin" not in resolve(db, token=signed.token, policy=POLICY, now=utcnow()).scopes
    service.set_role(db, actor="test", actor_org_id=None, person=person, role="sqe")
    assert "rules:admin" in resolve(db, token=signed.token, policy=POLICY, now=utcnow()).scopes


def test_totp_is_asked_for_and_checked(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    person = make_person(db, org, email="t@example.com")
    uri = service.enable_totp(db, actor="test", actor_org_id=None, person=person)
    assert uri.startswith("otpauth://totp/") and person.totp_secret
    now = utcnow()
    with pytest.raises(SecondFactorRequired):
        _sign_in(db, "t@example.com", now=now)
    with pytest.raises(SignInRefused, match="one-time code"):
        _sign_in(
            db,
            "t@example.com",
            one_time_code="000000" if pyotp.TOTP(person.totp_secret).at(now) != "000000" else "111111",
            now=now,
        )
    code = pyotp.TOTP(person.totp_secret).at(now)
    assert _sign_in(db, "t@example.com", one_time_code=code, now=now).person.id == person.id


def test_failed_sign_ins_are_limited_per_email_and_per_address(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    make_person(db, org, email="v@example.com")
    now = utcnow()
    for _ in range(POLICY.max_failures_per_email):
        with pytest.raises(SignInRefused):
            _sign_in(db, "v@example.com", "wrong password!!", address="198.51.100.1", now=now)
    # Now even the right password is refused, until the window has passed.
    with pytest.raises(TooManySignIns):
        _sign_in(db, "v@example.com", address="198.51.100.2", now=now)
    later = now + POLICY.failure_window + timedelta(seconds=1)
    assert _sign_in(db, "v@example.com", address="198.51.100.2", now=later).person.email == "v@example.com"

    # One address guessing at many e-mails is stopped too.
    for i in range(POLICY.max_failures_per_address):
        with pytest.raises(SignInRefused):
            _sign_in(db, f"guess{i}@example.com", address="198.51.100.9", now=later)
    with pytest.raises(TooManySignIns):
        _sign_in(db, "v@example.com", address="198.51.100.9", now=later)


def test_a_weak_hash_is_replaced_at_sign_in(db: Session) -> None:
    from argon2 import PasswordHasher

    org = make_org(db, OrgKind.OEM)
    person = make_person(db, org, email="old@example.com")
    person.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    assert passwords.needs_rehash(person.password_hash)
    _sign_in(db, "old@example.com")
    assert not passwords.needs_rehash(person.password_hash)
    assert passwords.verify(person.password_hash, PASSWORD)


def test_the_csrf_token_belongs_to_its_session() -> None:
    assert csrf_valid("session-a", csrf_token("session-a"))
    assert not csrf_valid("session-b", csrf_token("session-a"))
    assert not csrf_valid("session-a", None)
    assert not csrf_valid("session-a", "")


def test_housekeeping_forgets_old_failures_and_long_ended_sessions(db: Session) -> None:
    from hub.models import SignInFailure
    from hub.people.sessions import KEEP_ENDED_SESSIONS, KEEP_FAILURES, forget_ended

    org = make_org(db, OrgKind.OEM)
    make_person(db, org, email="h@example.com")
    start = utcnow()
    ended, alive = _sign_in(db, "h@example.com", now=start), _sign_in(db, "h@example.com", now=start)
    sign_out(db, token=ended.token, now=start)
    with pytest.raises(SignInRefused):
        _sign_in(db, "h@example.com", "wrong password!!", now=start)
    db.flush()

    assert forget_ended(db, now=start + timedelta(hours=1)) == 0
    later = start + max(KEEP_FAILURES, KEEP_ENDED_SESSIONS) + timedelta(seconds=1)
    assert forget_ended(db, now=later) == 3  # the failures and the session ended at sign-out
    assert db.get(BrowserSession, alive.browser_session.id) is not None  # idle only since 7 days - 30 minutes
    assert forget_ended(db, now=later + POLICY.idle) == 1
    db.expire_all()
    assert db.scalars(select(SignInFailure)).all() == []
    assert db.get(BrowserSession, alive.browser_session.id) is None
