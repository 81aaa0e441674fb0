from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from hub.agreements import service
from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from protocol.models.agreements import Agreement, AgreementCreate, AgreementDecision
from protocol.models.common import AgreementStatus
from protocol.models.pages import Page

router = APIRouter(prefix="/v1/agreements", tags=["agreements"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("agreements:read"))]
Writer = Annotated[Caller, Depends(require("agreements:write"))]


@router.post("", status_code=201, summary="Propose an agreement to a supplier (OEM)")
def propose(body: AgreementCreate, session: SessionDep, caller: Writer, once: IdempotentPost) -> Agreement:
    agreement = once(
        session,
        caller,
        body,
        create=lambda: service.propose(session, caller=caller, data=body),
        replay=lambda agreement_id: service.get(session, caller=caller, agreement_id=agreement_id),
    )
    return service.as_wire(agreement)


@router.get("", summary="Agreements your organization is party to, oldest first, cursor-paginated")
def list_agreements(
    session: SessionDep,
    caller: Reader,
    status: AgreementStatus | None = None,
    counterparty: uuid.UUID | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[Agreement]:
    rows, next_cursor = service.list_for(
        session, caller=caller, status=status, counterparty=counterparty, cursor=cursor, limit=limit
    )
    return Page[Agreement](items=[service.as_wire(row) for row in rows], next_cursor=next_cursor)


@router.get("/{agreement_id}", summary="One agreement")
def get_agreement(agreement_id: uuid.UUID, session: SessionDep, caller: Reader) -> Agreement:
    return service.as_wire(service.get(session, caller=caller, agreement_id=agreement_id))


@router.post("/{agreement_id}/accept", summary="Accept a proposed agreement (the supplier named in it)")
def accept(
    agreement_id: uuid.UUID, session: SessionDep, caller: Writer, body: AgreementDecision | None = None
) -> Agreement:
    reason = body.reason if body else ""
    return service.as_wire(
        service.decide(session, caller=caller, agreement_id=agreement_id, accept=True, reason=reason)
    )


@router.post("/{agreement_id}/decline", summary="Decline a proposed agreement (the supplier named in it)")
def decline(
    agreement_id: uuid.UUID, session: SessionDep, caller: Writer, body: AgreementDecision | None = None
) -> Agreement:
    reason = body.reason if body else ""
    return service.as_wire(
        service.decide(session, caller=caller, agreement_id=agreement_id, accept=False, reason=reason)
    )


@router.post("/{agreement_id}/terminate", summary="End a proposed or active agreement (either party)")
def terminate(
    agreement_id: uuid.UUID, session: SessionDep, caller: Writer, body: AgreementDecision | None = None
) -> Agreement:
    reason = body.reason if body else ""
    return service.as_wire(
        service.terminate(session, caller=caller, agreement_id=agreement_id, reason=reason)
    )
