"""``/v1/rules/approvals``: rule changes waiting for a second person (four-eyes), and their decisions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from hub.rules import approvals
from protocol.models.pages import Page
from protocol.models.rule_approvals import ApprovalDecision, ApprovalState, RuleApproval

router = APIRouter(prefix="/v1/rules/approvals", tags=["rules"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("rules:read"))]
Admin = Annotated[Caller, Depends(require("rules:admin"))]


@router.get("", summary="Your organization's rule changes under four-eyes, oldest first, cursor-paginated")
def list_approvals(
    session: SessionDep,
    caller: Reader,
    state: ApprovalState | None = None,
    rule_id: uuid.UUID | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[RuleApproval]:
    rows, next_cursor = approvals.list_approvals(
        session, caller=caller, state=state, rule_id=rule_id, cursor=cursor, limit=limit
    )
    return Page[RuleApproval](items=[approvals.as_wire(row) for row in rows], next_cursor=next_cursor)


@router.get("/{approval_id}", summary="One rule change under four-eyes")
def get_approval(approval_id: uuid.UUID, session: SessionDep, caller: Reader) -> RuleApproval:
    return approvals.as_wire(approvals.get(session, caller=caller, approval_id=approval_id))


@router.post(
    "/{approval_id}:approve",
    summary="Approve a pending change as its second person: the rule's next version is saved at once",
    responses={
        403: {
            "description": "SelfApproval (you asked for it), ApproverNotAPerson (an API client), or a scope"
        },
        409: {"description": "StaleApproval (the rule was saved since) or ApprovalDecided"},
    },
)
def approve(
    approval_id: uuid.UUID, session: SessionDep, caller: Admin, body: ApprovalDecision | None = None
) -> RuleApproval:
    reason = body.reason if body else ""
    return approvals.as_wire(
        approvals.approve(session, caller=caller, approval_id=approval_id, reason=reason)
    )


@router.post(
    "/{approval_id}:reject",
    summary="Reject a pending change (the person who asked may withdraw their own); the rule stays as it is",
    responses={409: {"description": "ApprovalDecided"}},
)
def reject(
    approval_id: uuid.UUID, session: SessionDep, caller: Admin, body: ApprovalDecision | None = None
) -> RuleApproval:
    reason = body.reason if body else ""
    return approvals.as_wire(approvals.reject(session, caller=caller, approval_id=approval_id, reason=reason))
