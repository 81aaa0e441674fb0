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
from hub.kpis import attestation, batch, service
from hub.models.base import utcnow
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from protocol.models.common import KpiName
from protocol.models.errors import ErrorBody
from protocol.models.kpi import KpiReport, KpiReportBatch, KpiReportBatchResults, KpiReportSubmit
from protocol.models.pages import Page
from protocol.zk.attestation import Attestation, BindingContext

router = APIRouter(prefix="/v1/kpi-reports", tags=["kpi reports"], responses=ERROR_RESPONSES)

context_router = APIRouter(prefix="/v1/agreements", tags=["kpi reports"], responses=ERROR_RESPONSES)

Writer = Annotated[Caller, Depends(require("kpi:write"))]
Reader = Annotated[Caller, Depends(require("kpi:read"))]

_PROOF_ERRORS = (
    "Malformed input, or a refused claim or proof, each named: ProofRequired, MalformedProof, "
    "ProofNotExpected, ProofStatementMismatch, ProofThresholdMismatch, ProofPublicInputMismatch, "
    "ProofContextMismatch, ProofCommitmentMismatch, InvalidProof (with `check`: the failed cryptographic "
    "check); InvalidSignature, StaleSignature, UnknownKey, RevokedKey"
)


def _binding(request: Request) -> attestation.Binding:
    settings = request.app.state.settings
    return attestation.Binding(hub=settings.issuer, nonce_key=settings.attestation_key())


@router.post(
    "",
    status_code=201,
    summary="Submit a signed KPI report (supplier)",
    responses={
        409: {"description": "DuplicateReport, ReplayedNonce or an inactive agreement"},
        422: {"model": ErrorBody, "description": _PROOF_ERRORS},
    },
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
        binding=_binding(request),
    )
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return service.as_wire(result.report, caller=caller)


@router.post(
    ":batch",
    summary="Submit up to 100 signed KPI reports at once (an outbox flush); proofs are verified as a batch",
    description="Each item is judged as a single POST would judge it; `results[i].status` is that POST's "
    "status and `error` its error name. One item's refusal never affects another's.",
)
def submit_batch(
    body: KpiReportBatch, request: Request, session: SessionDep, caller: Writer
) -> KpiReportBatchResults:
    return batch.submit_batch(
        session,
        caller=caller,
        batch=body,
        now=utcnow(),
        max_skew=timedelta(seconds=request.app.state.settings.report_max_skew_seconds),
        binding=_binding(request),
    )


@context_router.get(
    "/{agreement_id}/attestation-context",
    summary="The binding context (with the hub nonce) a KPI-ZK proof for one period must be made under",
    description="The nonce is derived by the hub, the same for every request about the same supplier, "
    "agreement, characteristic, KPI and period: prove once per period, offline if need be. `key_id` defaults "
    "to your active signing key; the proof must be submitted in a report signed with that key.",
)
def attestation_context(
    agreement_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    caller: Writer,
    kpi: KpiName,
    period: Annotated[str, Query(description="The period, e.g. 2026-W48 or 2026-11")],
    characteristic: Annotated[str | None, Query(description="Characteristic code (cpk, ppk)")] = None,
    key_id: Annotated[str | None, Query(description="Signing key id (default: your active one)")] = None,
) -> BindingContext:
    return attestation.context(
        session,
        caller=caller,
        binding=_binding(request),
        agreement_id=agreement_id,
        characteristic=characteristic,
        kpi=kpi,
        period=period,
        key_id=key_id,
    )


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
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
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


@router.get(
    "/{report_id}/proof",
    summary="The KPI-ZK proof a report was accepted with, to verify offline (404 for a report without one)",
)
def get_proof(report_id: uuid.UUID, session: SessionDep, caller: Reader) -> Attestation:
    return service.proof_of(session, caller=caller, report_id=report_id)
