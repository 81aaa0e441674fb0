"""Creating, finding, disabling people and changing their role, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Conflict, InvalidInput, NotFound
from hub.models import AuditEntry, BrowserSession
from hub.models.base import utcnow
from hub.people import passwords, service
from hub.people.sessions import sign_in
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org
from tests.hub.people.helpers import PASSWORD, POLICY, make_person


def test_a_person_is_stored_with_an_argon2id_hash_and_audited(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    person = make_person(db, org, email="Ada.Lovelace@Example.COM", role="sqe")

    assert person.password_hash is not None and person.password_hash.startswith("$argon2id$")
    assert PASSWORD not in person.password_hash
    assert passwords.verify(person.password_hash, PASSWORD)
    assert not passwords.verify(person.password_hash, PASSWORD + "!")
    assert (person.email, person.email_key, person.display_name) == (
        "Ada.Lovelace@Example.COM",
        "ada.lovelace@example.com",
        "Ada.Lovelace",
    )
    entry = db.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(person.id))).one()
    assert (entry.action, entry.data["role"]) == ("person.created", "sqe")
    assert PASSWORD not in str(entry.data)


def test_the_email_is_unique_per_organization_regardless_of_case(db: Session) -> None:
    org, other = make_org(db, OrgKind.OEM), make_org(db, OrgKind.SUPPLIER)
    make_person(db, org, email="qa@example.com")
    with pytest.raises(Conflict, match="already belongs"):
        make_person(db, org, email="QA@Example.com")
    assert make_person(db, other, email="QA@example.com").organization_id == other.id


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("email", {"email": "not-an-address"}),
        ("email", {"email": "a@" + "b" * 400 + ".com"}),
        ("role", {"role": "boss"}),
        ("password", {"password": "short"}),
        ("password", {"password": "x" * 5000}),
        ("time_zone", {"time_zone": "Mars/Olympus"}),
        ("locale", {"locale": "fr"}),
    ],
)
def test_bad_input_names_the_field(db: Session, field: str, kwargs: dict[str, str]) -> None:
    org = make_org(db, OrgKind.OEM)
    values = {"email": "ok@example.com", "role": "viewer", "password": PASSWORD, **kwargs}
    with pytest.raises(InvalidInput) as caught:
        service.create_person(db, actor="test", actor_org_id=None, org_id=org.id, **values)  # type: ignore[arg-type]
    assert caught.value.loc == field


def test_disabling_revokes_every_session_and_refuses_sign_in(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    person = make_person(db, org, email="leaving@example.com")
    now = utcnow()
    for _ in range(2):
        sign_in(
            db,
            email=person.email,
            password=PASSWORD,
            one_time_code=None,
            address=None,
            policy=POLICY,
            now=now,
        )

    service.disable_person(db, actor="test", actor_org_id=None, person=person, now=now)
    db.flush()

    rows = db.scalars(select(BrowserSession).where(BrowserSession.person_id == person.id)).all()
    assert len(rows) == 2 and all(row.revoked_at == now for row in rows)
    assert person.disabled_at == now


def test_find_and_set_role(db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    make_person(db, org, email="p@example.com")
    person = service.find_person(db, org_id=org.id, email="P@EXAMPLE.com")
    service.set_role(db, actor="person:x", actor_org_id=org.id, person=person, role="purchasing")
    assert person.role == "purchasing"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "person.role_changed")).one()
    assert (entry.actor, entry.data["from"], entry.data["to"]) == ("person:x", "viewer", "purchasing")
    with pytest.raises(InvalidInput):
        service.set_role(db, actor="test", actor_org_id=None, person=person, role="owner")
    with pytest.raises(NotFound):
        service.find_person(db, org_id=make_org(db, OrgKind.OEM).id, email="p@example.com")
