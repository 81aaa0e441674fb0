from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from hub import idempotency
from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.kpis import service
from hub.models.base import utcnow
from protocol.models.common import KpiName
from protocol.models.kpi import KpiReport, KpiReportSubmit
from protocol.models.pages import Page

router = APIRouter(prefix="/v1/kpi-reports", tags=["kpi reports"], responses=ERROR_RESPONSES)

Writer = Annotated[Caller, Depends(require("kpi:write"))]
Reader = Annotated[Caller, Depends(require("kpi:read"))]


@router.post(
    "",
    status_code=201,
    summary="Submit a signed KPI report (supplier)",
    responses={409: {"description": "DuplicateReport, ReplayedNonce or an inactive agreement"}},
)
def submit(
    body: KpiReportSubmit,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Writer,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> KpiReport:
    settings = request.app.state.settings
    result = service.submit(
        session,
        caller=caller,
        submission=body,
        idempotency_key=idempotency.check_key(idempotency_key),
        now=utcnow(),
        max_skew=timedelta(seconds=settings.report_max_skew_seconds),
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return service.as_wire(result.report, caller=caller)


@router.get("", summary="KPI reports your agreements entitle you to, oldest first, cursor-paginated")
def list_reports(
    session: SessionDep,
    caller: Reader,
    agreement_id: uuid.UUID | None = None,
    supplier_id: uuid.UUID | None = None,
    kpi: KpiName | None = None,
    characteristic: str | None = None,
    part_number: str | None = None,
    period_from: Annotated[str | None, Query(description="First period, e.g. 2026-W40")] = None,
    period_to: Annotated[str | None, Query(description="Last period, e.g. 2026-W48")] = None,
    meets: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[KpiReport]:
    filters = service.ReportFilter(
        agreement_id=agreement_id,
        supplier_id=supplier_id,
        kpi=kpi,
        characteristic=characteristic,
        part_number=part_number,
        period_from=period_from,
        period_to=period_to,
        meets=meets,
    )
    rows, next_cursor = service.list_reports(
        session, caller=caller, filters=filters, cursor=cursor, limit=limit
    )
    return Page[KpiReport](
        items=[service.as_wire(row, caller=caller) for row in rows], next_cursor=next_cursor
    )


@router.get("/{report_id}", summary="One KPI report")
def get_report(report_id: uuid.UUID, session: SessionDep, caller: Reader) -> KpiReport:
    return service.as_wire(service.get(session, caller=caller, report_id=report_id), caller=caller)
