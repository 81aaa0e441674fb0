"""``POST /v1/trace``: forward and backward traces, filtered by minimal disclosure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.trace import service
from protocol.models.trace import TraceRequest, TraceResult

router = APIRouter(prefix="/v1/trace", tags=["trace"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("trace:read"))]


@router.post(
    "",
    summary="Trace lots or serial parts forward (what contains them) or backward (what went into them)",
    description=(
        "Roots by id, catenaXId or natural key; depth 1 to 100 (default 100); as_of traces the genealogy as known "
        "then. You see your own assets, your direct partners' assets on links with yours, and counts for the "
        "rest. `answer` is yes / no / unknown (nothing found, but the trace was cut short). A root you may not "
        "trace from is a 404."
    ),
)
def trace(body: TraceRequest, session: SessionDep, caller: Reader) -> TraceResult:
    return service.trace_request(session, caller=caller, request=body)
