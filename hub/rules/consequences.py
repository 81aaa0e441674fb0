"""What a decision does once rules have fired: the standing moves and the OEM's roles hear of it.

A period's rules (:mod:`hub.rules.evaluation`) and certificate rules (:mod:`hub.rules.certificate_rules`) both end
in a :class:`~hub.rules.engine.Decision`; this module applies one the same way for both. A moved standing gets a
:class:`StandingChange` row with its causes, a ``standing.changed`` event to the OEM and the supplier, and an audit
entry; each role the decision notifies gets an inbox notification and its ``notification.created`` event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.events import service as events
from hub.models import InboxNotification, Standing, StandingChange
from hub.models.base import uuid7
from hub.rules import standings
from hub.rules.engine import Decision, RuleRef
from protocol.models.rules import StandingStatus, Tier


def move_standing(
    session: Session, standing: Standing, decision: Decision, *, causes: list[dict[str, Any]], now: datetime
) -> tuple[Tier, StandingStatus]:
    """Move ``standing`` to the decision's tier and status, if that is a move; returns the tier and status before."""
    before_tier, before_status = Tier(standing.tier), StandingStatus(standing.status)
    if (decision.tier, decision.status) == (before_tier, before_status):
        return before_tier, before_status
    standing.tier, standing.status, standing.updated_at = decision.tier.value, decision.status.value, now
    owner = decision.owner
    change = StandingChange(
        standing_id=standing.id,
        at=now,
        from_tier=before_tier.value,
        to_tier=decision.tier.value,
        from_status=before_status.value,
        to_status=decision.status.value,
        rule_id=owner.rule_id if owner else None,
        rule_version=owner.version if owner else None,
        reason=decision.reason,
        causes=causes,
    )
    session.add(change)
    publish_change(session, standing, change)
    audit.record(
        session,
        actor="rules",
        actor_org_id=standing.oem_id,
        action="standing.changed",
        subject_type="standing",
        subject_id=standing.id,
        data={
            "supplier_id": str(standing.supplier_id),
            "tier": [before_tier.value, decision.tier.value],
            "status": [before_status.value, decision.status.value],
            "rule_id": str(owner.rule_id) if owner else None,
            "rule_version": owner.version if owner else None,
        },
    )
    return before_tier, before_status


def publish_change(session: Session, standing: Standing, change: StandingChange) -> None:
    """The new standing and why it moved, to both parties: each reads the same standing and history in the API."""
    view = standings.as_wire(standing).model_dump(mode="json", exclude={"history"})
    view["change"] = standings.as_wire(standing, [change]).history[0].model_dump(mode="json")
    events.publish(
        session,
        type="standing.changed",
        subject_id=standing.id,
        views={standing.oem_id: view, standing.supplier_id: view},
    )


def notify_roles(
    session: Session,
    *,
    oem_id: uuid.UUID,
    notify: Mapping[str, list[RuleRef]],
    title: Callable[[list[str]], str],
    body: Mapping[str, Any],
    now: datetime,
) -> None:
    """One ``rule.fired`` notification per role in ``notify``, titled from the names of its rules; its body is
    ``body`` with the role's rules and their causes."""
    for role, refs in notify.items():
        notification = InboxNotification(
            id=uuid7(),
            organization_id=oem_id,
            role=role,
            kind="rule.fired",
            title=title([r.definition.name for r in refs])[:300],
            body={**body, "rules": [rule_summary(r) for r in refs]},
            created_at=now,
        )
        session.add(notification)
        events.publish(
            session,
            type="notification.created",
            subject_id=notification.id,
            views={oem_id: standings.notification_as_wire(notification).model_dump(mode="json")},
        )


def rule_summary(ref: RuleRef) -> dict[str, Any]:
    return {
        "rule_id": str(ref.rule_id),
        "version": ref.version,
        "name": ref.definition.name,
        "causes": ref.verdict.causes,
    }
