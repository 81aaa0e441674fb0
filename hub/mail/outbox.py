"""Which events become mail, to whom, in whose words; written to the outbox in the event's own transaction.

Events are published per recipient organization (hub.events.service.publish), each with that organization's
view of the payload; this module turns the few that people must not miss into one mail per person who wants
it. Who receives what is decided by role inside the recipient organization:

- ``downgrade`` (``standing.changed`` to a worse tier or status): purchasing, supplier-quality engineers, admins;
- ``alert`` (``containment_action.opened``: an alert reached one of the organization's plants): plant people;
- ``escalation`` (``quality_notification.escalated``): supplier-quality engineers and admins.

A person who turned a kind off (:mod:`hub.mail.choices`) gets none of it; a disabled person gets nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.console import i18n
from hub.models import Event, MailOptOut, OutboxMail, Person
from hub.people.roles import Role
from protocol.models.rules import StandingStatus, Tier

DOWNGRADE, ALERT, ESCALATION, INVITATION = "downgrade", "alert", "escalation", "invitation"
# The kinds a person may turn off (an invitation goes to someone who is no person yet).
CHOOSABLE = (DOWNGRADE, ALERT, ESCALATION)
ROLES: dict[str, frozenset[Role]] = {
    DOWNGRADE: frozenset({Role.PURCHASING, Role.SQE, Role.ADMIN}),
    ALERT: frozenset({Role.PLANT}),
    ESCALATION: frozenset({Role.SQE, Role.ADMIN}),
}
_SEVERITY = {
    StandingStatus.APPROVED.value: 0,
    StandingStatus.PROBATION.value: 1,
    StandingStatus.BLOCKED.value: 2,
}


def _(message: str) -> str:
    """Marks a message for the catalogues; translated when the mail is written, in the person's locale."""
    return i18n.translate(message)


def is_downgrade(change: dict[str, Any]) -> bool:
    tier_from, tier_to = Tier(change["from_tier"]), Tier(change["to_tier"])
    status_from = _SEVERITY.get(change["from_status"], 0)
    return tier_to > tier_from or _SEVERITY.get(change["to_status"], 0) > status_from


def kind_of(event: Event) -> str | None:
    if event.type == "standing.changed":
        change = event.payload.get("change")
        return DOWNGRADE if isinstance(change, dict) and is_downgrade(change) else None
    if event.type == "containment_action.opened":
        return ALERT
    if event.type == "quality_notification.escalated":
        return ESCALATION
    return None


def _text(kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    """Subject and body in the current locale (see :func:`hub.console.i18n.speaking`)."""
    if kind == DOWNGRADE:
        change = payload.get("change", {})
        subject = _("Supplier downgraded to tier %(tier)s (%(status)s)") % {
            "tier": change.get("to_tier", "?"),
            "status": change.get("to_status", "?"),
        }
        body = _(
            "A supplier's standing was lowered from tier %(from_tier)s (%(from_status)s) to tier %(to_tier)s "
            "(%(to_status)s).\n\nWhy: %(reason)s\n\nSupplier: %(supplier)s"
        ) % {
            "from_tier": change.get("from_tier", "?"),
            "from_status": change.get("from_status", "?"),
            "to_tier": change.get("to_tier", "?"),
            "to_status": change.get("to_status", "?"),
            "reason": change.get("reason", ""),
            "supplier": payload.get("supplier_id", ""),
        }
    elif kind == ALERT:
        subject = _("Alert at plant %(plant)s: %(title)s") % {
            "plant": payload.get("plant_code", "?"),
            "title": payload.get("alert_title", ""),
        }
        body = _(
            "An alert reached plant %(plant)s and needs containment: %(kind)s of %(quantity)s %(unit)s, "
            "due %(due)s.\n\nAlert: %(title)s (severity %(severity)s)"
        ) % {
            "plant": payload.get("plant_code", "?"),
            "kind": payload.get("kind", ""),
            "quantity": payload.get("quantity", ""),
            "unit": payload.get("unit", ""),
            "due": payload.get("due_date") or "—",
            "title": payload.get("alert_title", ""),
            "severity": payload.get("severity", ""),
        }
    else:
        subject = _("Escalated: %(title)s") % {"title": payload.get("title", "")}
        body = _(
            "A quality notification passed its target date without an answer and was escalated.\n\n"
            "%(title)s (severity %(severity)s, target date %(target)s)"
        ) % {
            "title": payload.get("title", ""),
            "severity": payload.get("severity", ""),
            "target": payload.get("target_date") or "—",
        }
    footer = _("Choose which mail you receive on the console's Notifications page.")
    return subject[:300], f"{body}\n\n-- \nQualink\n{footer}\n"


def recipients(session: Session, *, org_id: uuid.UUID, kind: str) -> list[Person]:
    """The organization's active people of the kind's roles who did not turn it off."""
    opted_out = select(MailOptOut.person_id).where(MailOptOut.kind == kind)
    query = select(Person).where(
        Person.organization_id == org_id,
        Person.disabled_at.is_(None),
        Person.role.in_([role.value for role in ROLES[kind]]),
        Person.id.not_in(opted_out),
    )
    return list(session.scalars(query.order_by(Person.email_key)))


def queue_for_events(session: Session, events: Iterable[Event]) -> int:
    """One mail per wanting person for each event people must not miss; returns how many were queued."""
    queued = 0
    for event in events:
        kind = kind_of(event)
        if kind is None:
            continue
        for person in recipients(session, org_id=event.organization_id, kind=kind):
            with i18n.speaking(person.locale):
                subject, body = _text(kind, event.payload)
            session.add(
                OutboxMail(
                    kind=kind,
                    person_id=person.id,
                    to_address=person.email,
                    subject=subject,
                    body=body,
                    next_attempt_at=event.occurred_at,
                    created_at=event.occurred_at,
                )
            )
            queued += 1
    return queued


def queue_invitation(
    session: Session,
    *,
    to_address: str,
    locale: str,
    inviter: str,
    link: str,
    expires_at: datetime,
    now: datetime,
) -> OutboxMail:
    with i18n.speaking(locale):
        subject = _("You are invited to Qualink")
        body = _(
            "%(inviter)s invites you to your organization on Qualink.\n\nOpen this link to choose your "
            "password and sign in (it works once, until %(expires)s UTC):\n\n%(link)s\n\nIf you did not "
            "expect this invitation, ignore this mail."
        ) % {"inviter": inviter, "link": link, "expires": expires_at.strftime("%Y-%m-%d %H:%M")}
    mail = OutboxMail(
        kind=INVITATION,
        to_address=to_address,
        subject=subject,
        body=f"{body}\n\n-- \nQualink\n",
        next_attempt_at=now,
        created_at=now,
    )
    session.add(mail)
    return mail
