from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.kpis import attestation
from hub.labs import measurements, service
from hub.models.base import utcnow
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from protocol.models.common import KpiName
from protocol.models.errors import ErrorBody
from protocol.models.labs import (
    Accreditation,
    AccreditationCreate,
    LabAssignment,
    LabMeasurementContext,
    LabMeasurementRecord,
    LabMeasurementSubmit,
)
from protocol.models.pages import Page

router = APIRouter(tags=["labs"], responses=ERROR_RESPONSES)

Operator = Annotated[Caller, Depends(require("operator:admin"))]
Reader = Annotated[Caller, Depends(require("agreements:read"))]
LabWriter = Annotated[Caller, Depends(require("lab:write"))]

_MEASUREMENT_ERRORS = (
    "Refused, each named: MalformedLabAttestation, LabNotNamed, LabNotAccepted, InvalidLabSignature, "
    "LabKeyRevoked, LabAccreditationExpired, LabAttestationMismatch (the field in `fields`), NoEncryptionKey"
)


def _binding(request: Request) -> attestation.Binding:
    settings = request.app.state.settings
    return attestation.Binding(hub=settings.issuer, nonce_key=settings.attestation_key())


@router.post(
    "/v1/labs/{lab_id}/accreditations",
    status_code=201,
    summary="Record a lab's accreditation: scheme, number, scope, validity (operator)",
)
def record_accreditation(
    lab_id: uuid.UUID, body: AccreditationCreate, session: SessionDep, caller: Operator, once: IdempotentPost
) -> Accreditation:
    row = once(
        session,
        caller,
        body,
        create=lambda: service.record_accreditation(session, caller=caller, lab_id=lab_id, data=body),
        replay=lambda row_id: service.get_accreditation(session, lab_id=lab_id, accreditation_id=row_id),
    )
    return service.accreditation_as_wire(row)


@router.get(
    "/v1/labs/{lab_id}/accreditations",
    summary="A lab's accreditations (to choose an accredited lab), oldest first, cursor-paginated",
)
def list_accreditations(
    lab_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[Accreditation]:
    rows, next_cursor = service.accreditations(session, lab_id=lab_id, cursor=cursor, limit=limit)
    return Page[Accreditation](
        items=[service.accreditation_as_wire(row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/v1/lab/assignments",
    summary="The agreements your lab is named in, with the terms it measures (lab), cursor-paginated",
)
def list_assignments(
    session: SessionDep, caller: Reader, cursor: CursorParam = None, limit: LimitParam = DEFAULT_LIMIT
) -> Page[LabAssignment]:
    items, next_cursor = service.list_assignments(session, caller=caller, cursor=cursor, limit=limit)
    return Page[LabAssignment](items=items, next_cursor=next_cursor)


@router.get("/v1/lab/assignments/{agreement_id}", summary="One agreement your lab is named in (lab)")
def get_assignment(agreement_id: uuid.UUID, session: SessionDep, caller: Reader) -> LabAssignment:
    return service.get_assignment(session, caller=caller, agreement_id=agreement_id)


@router.post(
    "/v1/lab/assignments/{agreement_id}/accept", summary="Accept your lab's part of an agreement (lab)"
)
def accept(agreement_id: uuid.UUID, session: SessionDep, caller: LabWriter) -> LabAssignment:
    return service.decide(session, caller=caller, agreement_id=agreement_id, accept=True, now=utcnow())


@router.post(
    "/v1/lab/assignments/{agreement_id}/decline", summary="Decline your lab's part of an agreement (lab)"
)
def decline(agreement_id: uuid.UUID, session: SessionDep, caller: LabWriter) -> LabAssignment:
    return service.decide(session, caller=caller, agreement_id=agreement_id, accept=False, now=utcnow())


@router.get(
    "/v1/lab/assignments/{agreement_id}/measurement-context",
    summary="What a measurement for one period must be bound to, with the supplier's X25519 key (lab)",
    description="The nonce is the hub's nonce for the supplier's proof of that period: the lab's measurement "
    "and the supplier's proof are bound to the same one.",
)
def measurement_context(
    agreement_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    caller: LabWriter,
    kpi: KpiName,
    part_number: str,
    period: Annotated[str, Query(description="The period, e.g. 2026-W48 or 2026-11")],
    characteristic: Annotated[str | None, Query(description="Characteristic code (cpk, ppk)")] = None,
) -> LabMeasurementContext:
    return service.measurement_context(
        session,
        caller=caller,
        binding=_binding(request),
        agreement_id=agreement_id,
        part_number=part_number,
        characteristic=characteristic,
        kpi=kpi,
        period=period,
    )


@router.post(
    "/v1/lab/measurements",
    status_code=201,
    summary="Issue a signed measurement attestation, its openings sealed to the supplier (lab)",
    responses={
        409: {"description": "DuplicateLabMeasurement"},
        422: {"model": ErrorBody, "description": _MEASUREMENT_ERRORS},
    },
)
def submit_measurement(
    body: LabMeasurementSubmit, request: Request, session: SessionDep, caller: LabWriter, once: IdempotentPost
) -> LabMeasurementRecord:
    row = once(
        session,
        caller,
        body,
        create=lambda: measurements.submit(
            session, caller=caller, data=body, binding=_binding(request), now=utcnow()
        ),
        replay=lambda row_id: measurements.get(session, caller=caller, measurement_id=row_id),
    )
    return measurements.as_wire(session, row)


@router.get(
    "/v1/lab-measurements",
    summary="Lab measurements addressed to your organization (supplier) or issued by it (lab), cursor-paginated",
)
def list_measurements(
    session: SessionDep,
    caller: Reader,
    agreement_id: uuid.UUID | None = None,
    period: str | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[LabMeasurementRecord]:
    rows, next_cursor = measurements.list_for(
        session, caller=caller, agreement_id=agreement_id, period=period, cursor=cursor, limit=limit
    )
    return Page[LabMeasurementRecord](
        items=[measurements.as_wire(session, row) for row in rows], next_cursor=next_cursor
    )


@router.get("/v1/lab-measurements/{measurement_id}", summary="One lab measurement")
def get_measurement(measurement_id: uuid.UUID, session: SessionDep, caller: Reader) -> LabMeasurementRecord:
    return measurements.as_wire(
        session, measurements.get(session, caller=caller, measurement_id=measurement_id)
    )
