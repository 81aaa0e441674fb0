"""Four-eyes approvals of rule changes: when an organization turns four-eyes on, activating a rule or changing an
active one waits for a second person of the same organization.

The change is kept as an approval (``pending``) with the definition to save and the rule version it was asked
against; approving saves it as the rule's next version, rejecting keeps the rule as it is. A rule saved in the
meantime makes the approval stale: it can then only be rejected.

Example:
    >>> ApprovalDecision(reason="checked against last quarter").reason
    'checked against last quarter'
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import ConfigDict, Field

from protocol.models.common import WireModel, WireTime
from protocol.models.rules import RuleCreate


class ApprovalState(StrEnum):
    """Where an approval stands: waiting for a second person, or decided.

    Example:
        >>> [state.value for state in ApprovalState]
        ['pending', 'approved', 'rejected']
    """

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class RuleApproval(WireModel):
    """A rule change waiting for (or decided by) a second person.

    ``requested_by`` and ``decided_by`` name the actor (``person:<id>`` or ``client:<id>``); ``applied_version``
    is the version the approval saved.

    Example:
        >>> RuleApproval.model_fields["state"].annotation.__name__
        'ApprovalState'
    """

    id: UUID
    rule_id: UUID
    base_version: int
    definition: RuleCreate
    state: ApprovalState
    requested_by: str
    requested_at: WireTime
    decided_by: str | None = None
    decided_at: WireTime | None = None
    reason: str | None = None
    applied_version: int | None = None


class ApprovalDecision(WireModel):
    """Why a person approves or rejects a change (optional when approving).

    Example:
        >>> ApprovalDecision().reason
        ''
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "dry run shows two early warnings"}]}
    )

    reason: str = Field(default="", max_length=2000)


__all__ = ["ApprovalDecision", "ApprovalState", "RuleApproval"]
