"""Which kinds of mail each person wants: every kind, until they turn one off."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.errors import InvalidInput
from hub.mail.outbox import CHOOSABLE
from hub.models import MailOptOut, Person


def wanted(session: Session, *, person: Person) -> dict[str, bool]:
    off = set(session.scalars(select(MailOptOut.kind).where(MailOptOut.person_id == person.id)))
    return {kind: kind not in off for kind in CHOOSABLE}


def choose(session: Session, *, person: Person, kinds: Iterable[str]) -> dict[str, bool]:
    """Keep exactly ``kinds`` on (the others off), audited under the person; an unknown kind is refused."""
    chosen = set(kinds)
    unknown = sorted(chosen - set(CHOOSABLE))
    if unknown:
        raise InvalidInput(
            f"kinds: unknown kind '{unknown[0][:32]}' (one of {', '.join(CHOOSABLE)})", loc="kinds"
        )
    session.execute(delete(MailOptOut).where(MailOptOut.person_id == person.id))
    session.add_all(MailOptOut(person_id=person.id, kind=kind) for kind in CHOOSABLE if kind not in chosen)
    session.flush()
    audit.record(
        session,
        actor=f"person:{person.id}",
        actor_org_id=person.organization_id,
        action="person.mail_choices_changed",
        subject_type="person",
        subject_id=person.id,
        data={"wanted": ",".join(kind for kind in CHOOSABLE if kind in chosen)},
    )
    return wanted(session, person=person)
