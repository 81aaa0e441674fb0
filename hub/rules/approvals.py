"""Four-eyes on rules: with it on, activating a rule or changing an active one waits for a second person.

Every save of a rule goes through :func:`create` or :func:`save` here (API and console alike). Without four-eyes,
or for a change that touches no active rule (editing a draft), they are ``hub.rules.service`` as it always was. With
it, such a change is checked as a save would be, then kept as a pending :class:`RuleApproval` against the rule's
current version, and nothing about the rule changes. A second person of the same organization with the rules scope
approves it (the save then happens in that transaction, audited under them) or rejects it.

The second person is a person: an API client stands for its organization, not for someone who looked, so it may ask
for a change but never approve one. The person who asked cannot approve; they may withdraw (reject) their own.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.db import one_or_not_found
from hub.errors import Conflict, Forbidden, InvalidInput
from hub.models import Rule, RuleApproval
from hub.models.base import utcnow
from hub.orgs import settings as org_settings
from hub.pagination import keyset, page_of
from hub.rules import service
from protocol.models import rule_approvals as wire
from protocol.models.rules import RuleCreate, RuleStatus

ACTIVE = RuleStatus.ACTIVE.value


class SelfApproval(Forbidden):
    """The person who asked for a change cannot be its second pair of eyes."""


class ApproverNotAPerson(Forbidden):
    """An API client asked to approve: only a person can be the second pair of eyes."""


class ApprovalDecided(Conflict):
    """The approval was already approved or rejected."""


class StaleApproval(Conflict):
    """The rule was saved since the change was asked for: approving it would undo that save."""


def create(session: Session, *, caller: Caller, data: RuleCreate) -> Rule | RuleApproval:
    """A new rule; under four-eyes an active one is stored as a draft, its activation pending approval."""
    if data.status is not RuleStatus.ACTIVE or not org_settings.four_eyes(session, org_id=caller.org_id):
        return service.create_rule(session, caller=caller, data=data)
    rule = service.create_rule(
        session, caller=caller, data=data.model_copy(update={"status": RuleStatus.DRAFT})
    )
    return _request(session, caller=caller, rule=rule, data=data)


def save(session: Session, *, caller: Caller, rule_id: uuid.UUID, data: RuleCreate) -> Rule | RuleApproval:
    """Save ``data`` as the rule's next version, or, under four-eyes for an active rule, ask for approval."""
    rule, current = service.get_rule(session, caller=caller, rule_id=rule_id)
    touches_active = ACTIVE in (data.status.value, current.definition.get("status"))
    unchanged = current.definition == data.model_dump(mode="json")
    if unchanged or not touches_active or not org_settings.four_eyes(session, org_id=caller.org_id):
        return service.update_rule(session, caller=caller, rule_id=rule_id, data=data)
    service.check_definition(session, caller=caller, data=data)
    return _request(session, caller=caller, rule=rule, data=data)


def created(session: Session, *, caller: Caller, made_id: uuid.UUID) -> Rule | RuleApproval:
    """What :func:`create` made under ``made_id`` (for an idempotent replay): the approval, else the rule."""
    found = session.get(RuleApproval, made_id)
    if found is not None and found.oem_id == caller.org_id:
        return found
    return service.get_rule(session, caller=caller, rule_id=made_id)[0]


def needs_approval(session: Session, *, caller: Caller) -> bool:
    """Whether the caller's organization has four-eyes on (what the console says next to its button)."""
    return org_settings.four_eyes(session, org_id=caller.org_id)


def get(session: Session, *, caller: Caller, approval_id: uuid.UUID) -> RuleApproval:
    """One of the caller's organization's approvals; another organization's is not there."""
    query = select(RuleApproval).where(RuleApproval.id == approval_id, RuleApproval.oem_id == caller.org_id)
    return one_or_not_found(session, query, missing="approval not found")


def list_approvals(
    session: Session,
    *,
    caller: Caller,
    state: wire.ApprovalState | None,
    rule_id: uuid.UUID | None = None,
    cursor: str | None,
    limit: int,
) -> tuple[list[RuleApproval], str | None]:
    """The caller's organization's approvals, oldest first, optionally of one state or one rule."""
    query = select(RuleApproval).where(RuleApproval.oem_id == caller.org_id)
    if state is not None:
        query = query.where(RuleApproval.state == state)
    if rule_id is not None:
        query = query.where(RuleApproval.rule_id == rule_id)
    rows = list(session.scalars(keyset(query, RuleApproval.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda row: row.id)


def approve(session: Session, *, caller: Caller, approval_id: uuid.UUID, reason: str) -> RuleApproval:
    """Apply the pending change as the rule's next version, in this transaction, under the approver's name."""
    approval = _pending(session, caller=caller, approval_id=approval_id)
    if caller.person_id is None:
        raise ApproverNotAPerson(
            "an approval needs a person: an API client cannot be the second pair of eyes"
        )
    if caller.person_id == approval.requested_by_person_id:
        raise SelfApproval("you asked for this change: another person of your organization must approve it")
    # Locked before the version is compared: a save racing this approval either lands first (stale) or waits.
    rule = service.owned_rule(session, caller=caller, rule_id=approval.rule_id, for_update=True)
    if rule.version != approval.base_version:
        raise StaleApproval(
            f"the rule was saved since this change was asked for (version {approval.base_version}, now "
            f"{rule.version}): reject it and ask again"
        )
    definition = RuleCreate.model_validate(approval.definition)
    saved = service.update_rule(session, caller=caller, rule_id=rule.id, data=definition)
    _decide(approval, caller=caller, state=wire.ApprovalState.APPROVED, reason=reason)
    approval.applied_version = saved.version
    _audit(session, caller, approval, "rule.approval.approved")
    return approval


def reject(session: Session, *, caller: Caller, approval_id: uuid.UUID, reason: str) -> RuleApproval:
    """Keep the rule as it is; the person who asked may reject (withdraw) their own change."""
    if not reason.strip():
        raise InvalidInput("a rejection needs a reason", loc="body.reason")
    approval = _pending(session, caller=caller, approval_id=approval_id)
    _decide(approval, caller=caller, state=wire.ApprovalState.REJECTED, reason=reason)
    _audit(session, caller, approval, "rule.approval.rejected")
    return approval


def as_wire(approval: RuleApproval) -> wire.RuleApproval:
    return wire.RuleApproval(
        id=approval.id,
        rule_id=approval.rule_id,
        base_version=approval.base_version,
        definition=RuleCreate.model_validate(approval.definition),
        state=approval.state,
        requested_by=approval.requested_by,
        requested_at=approval.requested_at,
        decided_by=approval.decided_by,
        decided_at=approval.decided_at,
        reason=approval.reason,
        applied_version=approval.applied_version,
    )


def _request(session: Session, *, caller: Caller, rule: Rule, data: RuleCreate) -> RuleApproval:
    approval = RuleApproval(
        oem_id=caller.org_id,
        rule_id=rule.id,
        base_version=rule.version,
        definition=data.model_dump(mode="json"),
        state=wire.ApprovalState.PENDING,
        requested_by=caller.actor,
        requested_by_person_id=caller.person_id,
        requested_at=utcnow(),
    )
    session.add(approval)
    session.flush()
    _audit(session, caller, approval, "rule.approval.requested", {"status": data.status.value})
    return approval


def _pending(session: Session, *, caller: Caller, approval_id: uuid.UUID) -> RuleApproval:
    query = select(RuleApproval).where(RuleApproval.id == approval_id, RuleApproval.oem_id == caller.org_id)
    approval = one_or_not_found(session, query, missing="approval not found", for_update=True)
    if approval.state is not wire.ApprovalState.PENDING:
        raise ApprovalDecided(f"this approval was already {approval.state.value}")
    return approval


def _decide(approval: RuleApproval, *, caller: Caller, state: wire.ApprovalState, reason: str) -> None:
    approval.state, approval.decided_by, approval.decided_by_person_id = state, caller.actor, caller.person_id
    approval.decided_at, approval.reason = utcnow(), reason or None


def _audit(
    session: Session, caller: Caller, approval: RuleApproval, action: str, data: dict[str, Any] | None = None
) -> None:
    audit.record_for(
        session,
        caller,
        action=action,
        subject_type="rule",
        subject_id=approval.rule_id,
        data={"approval_id": str(approval.id), "base_version": approval.base_version, **(data or {})},
    )
