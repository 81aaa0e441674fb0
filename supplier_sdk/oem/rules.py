"""``oem.rules``: the OEM's rules over its suppliers' KPI reports, their versions, dry runs and approvals.

A rule is created as a ``draft``, replayed over stored history with :meth:`Rules.dry_run` (nothing changes) and
switched on with :meth:`Rules.activate`. Each changed save is a new version; the old one is kept. Under
four-eyes the hub answers activating or changing an active rule with a :class:`RuleApproval` that waits for a
second person (``oem.rules.approvals``) instead of the rule. Needs ``rules:admin`` to change, ``rules:read`` to
read.

Example::

    draft = oem.rules.create(RuleCreate.model_validate(STANDARD_RULE_TEMPLATE))
    print(oem.rules.dry_run(draft.id).changes)
    oem.rules.activate(draft.id)
"""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from protocol.models.rule_approvals import ApprovalDecision, ApprovalState, RuleApproval
from protocol.models.rules import DryRunRequest, DryRunResult, Rule, RuleCreate, RuleStatus, RuleVersion
from supplier_sdk.oem.listing import Listing

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

RULES_PATH = "/v1/rules"
"""Where the hub keeps rules.

Example:
    >>> RULES_PATH
    '/v1/rules'
"""

APPROVALS_PATH = "/v1/rules/approvals"
"""Where the hub keeps rule changes waiting under four-eyes.

Example:
    >>> APPROVALS_PATH
    '/v1/rules/approvals'
"""


def _id(value: uuid.UUID | str) -> uuid.UUID:
    return uuid.UUID(str(value))


def _rule_or_approval(answer: dict[str, Any]) -> Rule | RuleApproval:
    # A pending change (202) carries its state and base version; a saved rule does not.
    if "state" in answer and "base_version" in answer:
        return RuleApproval.model_validate(answer)
    return Rule.model_validate(answer)


class Approvals:
    """Rule changes waiting for a second person (``oem.rules.approvals``).

    Example::

        for pending in oem.rules.approvals.list(state="pending"):
            oem.rules.approvals.approve(pending.id, reason="checked against the Q4 review")
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(
        self,
        *,
        state: ApprovalState | str | None = None,
        rule_id: uuid.UUID | str | None = None,
        page_size: int = 100,
    ) -> Listing[RuleApproval]:
        """The organization's rule changes under four-eyes, oldest first, every page by cursor.

        Example: ``waiting = oem.rules.approvals.list(state="pending").all()``
        """
        params = {
            "state": None if state is None else ApprovalState(state).value,
            "rule_id": None if rule_id is None else str(_id(rule_id)),
        }
        return Listing(self._requester, APPROVALS_PATH, RuleApproval, params=params, page_size=page_size)

    def get(self, approval_id: uuid.UUID | str) -> RuleApproval:
        """One change under four-eyes.

        Example: ``oem.rules.approvals.get(approval_id).state``
        """
        return RuleApproval.model_validate(
            self._requester.request("GET", f"{APPROVALS_PATH}/{_id(approval_id)}")
        )

    def approve(self, approval_id: uuid.UUID | str, *, reason: str = "") -> RuleApproval:
        """Approve a pending change (someone other than who asked for it); the rule version is applied.

        Example: ``oem.rules.approvals.approve(approval_id, reason="four eyes: ok")``
        """
        return self._decide(approval_id, "approve", reason)

    def reject(self, approval_id: uuid.UUID | str, *, reason: str = "") -> RuleApproval:
        """Reject a pending change; the rule stays as it was.

        Example: ``oem.rules.approvals.reject(approval_id, reason="threshold too strict")``
        """
        return self._decide(approval_id, "reject", reason)

    def _decide(self, approval_id: uuid.UUID | str, decision: str, reason: str) -> RuleApproval:
        body = ApprovalDecision(reason=reason).model_dump(mode="json")
        path = f"{APPROVALS_PATH}/{_id(approval_id)}:{decision}"
        return RuleApproval.model_validate(self._requester.request("POST", path, json=body))


class Rules:
    """The rules of one OEM client's organization (``oem.rules``).

    Example::

        for rule in oem.rules.list(status="active"):
            print(rule.name, rule.version)
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester
        self.approvals = Approvals(requester)

    def templates(self) -> builtins.list[RuleCreate]:
        """Rules to start from, such as the standard CPK rule.

        Example: ``draft = oem.rules.create(oem.rules.templates()[0])``
        """
        return [
            RuleCreate.model_validate(item)
            for item in self._requester.request("GET", f"{RULES_PATH}/templates")
        ]

    def create(
        self, definition: RuleCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> Rule | RuleApproval:
        """Create a rule (version 1; a ``draft`` unless ``definition.status`` says otherwise).

        Returns the rule, or under four-eyes for an active one the :class:`RuleApproval` it waits for.

        Raises:
            InvalidRequest: a condition or action the hub refuses (``fields`` names it).

        Example: ``draft = oem.rules.create(RuleCreate.model_validate(STANDARD_RULE_TEMPLATE))``
        """
        body = RuleCreate.model_validate(definition).model_dump(mode="json", exclude_none=True)
        return _rule_or_approval(
            self._requester.request("POST", RULES_PATH, json=body, idempotency_key=idempotency_key)
        )

    def update(
        self, rule_id: uuid.UUID | str, definition: RuleCreate | dict[str, Any]
    ) -> Rule | RuleApproval:
        """Save a rule's new definition; a changed rule becomes a new version (or a pending approval).

        Example: ``oem.rules.update(rule.id, rule.model_copy(update={"description": "from Q1"}))``
        """
        fields = set(RuleCreate.model_fields)
        if isinstance(definition, RuleCreate):
            definition = definition.model_dump(mode="json", include=fields)
        body = RuleCreate.model_validate(definition).model_dump(mode="json", exclude_none=True)
        return _rule_or_approval(self._requester.request("PUT", f"{RULES_PATH}/{_id(rule_id)}", json=body))

    def activate(self, rule_id: uuid.UUID | str) -> Rule | RuleApproval:
        """Switch a rule on: its newest version with status ``active`` (a pending approval under four-eyes).

        Example: ``rule = oem.rules.activate(draft.id)``
        """
        return self._set_status(rule_id, RuleStatus.ACTIVE)

    def _set_status(self, rule_id: uuid.UUID | str, status: RuleStatus) -> Rule | RuleApproval:
        current = self.get(rule_id)
        definition = current.model_dump(mode="json", include=set(RuleCreate.model_fields))
        return self.update(rule_id, {**definition, "status": status.value})

    def dry_run(self, rule_id: uuid.UUID | str, *, since: datetime | None = None) -> DryRunResult:
        """Replay stored results under the rule's newest version (a draft too): what it would have changed.

        Example: ``print(oem.rules.dry_run(draft.id).evaluated)``
        """
        body = DryRunRequest(since=since).model_dump(mode="json", exclude_none=True)
        answer = self._requester.request("POST", f"{RULES_PATH}/{_id(rule_id)}/dry-run", json=body)
        return DryRunResult.model_validate(answer)

    def get(self, rule_id: uuid.UUID | str) -> Rule:
        """One rule, as its newest version.

        Example: ``oem.rules.get(rule_id).status``
        """
        return Rule.model_validate(self._requester.request("GET", f"{RULES_PATH}/{_id(rule_id)}"))

    def list(self, *, status: RuleStatus | str | None = None, page_size: int = 100) -> Listing[Rule]:
        """Your rules, each as its newest version, oldest first, every page by cursor.

        Example: ``active = oem.rules.list(status="active").all()``
        """
        params = {"status": None if status is None else RuleStatus(status).value}
        return Listing(self._requester, RULES_PATH, Rule, params=params, page_size=page_size)

    def versions(self, rule_id: uuid.UUID | str, *, page_size: int = 100) -> Listing[RuleVersion]:
        """Every version of a rule and when each was in force, oldest first.

        Example: ``[v.version for v in oem.rules.versions(rule.id)]``
        """
        return Listing(
            self._requester, f"{RULES_PATH}/{_id(rule_id)}/versions", RuleVersion, page_size=page_size
        )


__all__ = ["APPROVALS_PATH", "RULES_PATH", "Approvals", "Rules"]
