from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.models import RuleApproval as RuleApprovalRow
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from hub.rules import approvals, dryrun, service
from protocol.models.pages import Page
from protocol.models.rule_approvals import RuleApproval
from protocol.models.rules import DryRunRequest, DryRunResult, Rule, RuleCreate, RuleStatus, RuleVersion

router = APIRouter(prefix="/v1/rules", tags=["rules"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("rules:read"))]
Admin = Annotated[Caller, Depends(require("rules:admin"))]


# Under four-eyes, activating or changing an active rule answers 202 with the approval it waits for.
_PENDING: dict[int | str, dict[str, Any]] = {
    202: {
        "model": RuleApproval,
        "description": "Four-eyes is on: the change waits for a second person (GET /v1/rules/approvals)",
    }
}


def _pending(approval: RuleApprovalRow, response: Response) -> JSONResponse:
    body = approvals.as_wire(approval).model_dump(mode="json")
    replayed = {k: v for k, v in response.headers.items() if k.lower() == "idempotent-replayed"}
    return JSONResponse(status_code=202, content=body, headers=replayed)


@router.post(
    "",
    status_code=201,
    response_model=Rule,
    responses=_PENDING,
    summary="Create a rule (OEM); it is version 1 (an active one under four-eyes: a draft, pending approval)",
)
def create_rule(
    body: RuleCreate, session: SessionDep, caller: Admin, once: IdempotentPost, response: Response
) -> Rule | JSONResponse:
    made = once(
        session,
        caller,
        body,
        create=lambda: approvals.create(session, caller=caller, data=body),
        replay=lambda made_id: approvals.created(session, caller=caller, made_id=made_id),
    )
    if isinstance(made, RuleApprovalRow):
        return _pending(made, response)
    return service.as_wire(made, body)


@router.get(
    "", summary="Your organization's rules, each as its newest version, oldest first, cursor-paginated"
)
def list_rules(
    session: SessionDep,
    caller: Reader,
    status: RuleStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[Rule]:
    rows, next_cursor = service.list_rules(session, caller=caller, status=status, cursor=cursor, limit=limit)
    return Page[Rule](
        items=[service.as_wire(rule, version.definition) for rule, version in rows], next_cursor=next_cursor
    )


# Before "/{rule_id}", which would otherwise take "templates" for an id and answer 422.
@router.get("/templates", summary="Rules to start from, such as the standard CPK rule")
def templates(caller: Reader) -> list[RuleCreate]:
    return service.templates()


@router.get("/{rule_id}", summary="One rule, as its newest version")
def get_rule(rule_id: uuid.UUID, session: SessionDep, caller: Reader) -> Rule:
    rule, version = service.get_rule(session, caller=caller, rule_id=rule_id)
    return service.as_wire(rule, version.definition)


@router.put(
    "/{rule_id}",
    response_model=Rule,
    responses=_PENDING,
    summary="Save a rule; a changed rule becomes a new version, the old one is kept (under four-eyes, "
    "activating or changing an active rule waits for approval: 202)",
)
def update_rule(
    rule_id: uuid.UUID, body: RuleCreate, session: SessionDep, caller: Admin, response: Response
) -> Rule | JSONResponse:
    saved = approvals.save(session, caller=caller, rule_id=rule_id, data=body)
    if isinstance(saved, RuleApprovalRow):
        return _pending(saved, response)
    return service.as_wire(saved, body)


@router.get(
    "/{rule_id}/versions",
    summary="Every version of a rule and when each was in force, oldest first, cursor-paginated",
)
def list_versions(
    rule_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[RuleVersion]:
    rows, next_cursor = service.list_versions(
        session, caller=caller, rule_id=rule_id, cursor=cursor, limit=limit
    )
    return Page[RuleVersion](items=[service.version_as_wire(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "/{rule_id}/dry-run",
    summary="Replay stored results under the rule's newest version (a draft too); the changes it would have made",
)
def dry_run(
    rule_id: uuid.UUID, session: SessionDep, caller: Admin, body: DryRunRequest | None = None
) -> DryRunResult:
    return dryrun.dry_run(session, caller=caller, rule_id=rule_id, since=body.since if body else None)
