from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from hub.audit import service
from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)

Operator = Annotated[Caller, Depends(require("operator:admin"))]


class AuditVerification(BaseModel):
    ok: bool
    entries: int
    sealed_now: int
    checkpoints: int
    first_broken_seq: int | None
    first_broken_id: int | None
    reason: str


@router.post("/verify", summary="Seal pending entries, then recompute the whole chain (operator)")
def verify(request: Request, session: SessionDep, caller: Operator) -> AuditVerification:
    settings, keys = request.app.state.settings, request.app.state.token_keys
    sealed = service.seal(session, signing_key=keys.private_key, key_id=keys.key_id, issuer=settings.issuer)
    result = service.verify(session, public_keys=keys.public_keys, issuer=settings.issuer)
    return AuditVerification(
        ok=result.ok,
        entries=result.entries,
        sealed_now=sealed,
        checkpoints=result.checkpoints,
        first_broken_seq=result.first_broken_seq,
        first_broken_id=result.first_broken_id,
        reason=result.reason,
    )
