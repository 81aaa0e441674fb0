from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from hub import models
from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.certificates import service
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.models.base import utcnow
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from protocol.models.certificates import (
    Certificate,
    CertificateAction,
    CertificateIssue,
    CertificateShare,
    CertificateStatusChange,
)
from protocol.models.errors import ErrorBody
from protocol.models.pages import Page

router = APIRouter(tags=["certificates"], responses=ERROR_RESPONSES)

Issuer = Annotated[Caller, Depends(require("certificates:issue"))]
Reader = Annotated[Caller, Depends(require("certificates:read"))]
Sharer = Annotated[Caller, Depends(require("certificates:share"))]

_CREDENTIAL_ERRORS = (
    "InvalidCredential: the failed check is named in `detail` and `fields[0].loc` (body.credential.<check>): "
    "credential, proof, type, cryptosuite, proofPurpose, verificationMethod, @context, proofValue, signature, issuer"
)


def _wire(session: SessionDep, row: models.Certificate, caller: Caller) -> Certificate:
    return service.as_wire(session, row, viewer=caller.org_id, now=utcnow())


@router.post(
    "/v1/certificates",
    status_code=201,
    summary="Issue a certificate: a verifiable credential with an eddsa-jcs-2022 proof by your key (certifier)",
    responses={
        409: {"description": "DuplicateCertificate"},
        422: {"model": ErrorBody, "description": _CREDENTIAL_ERRORS},
    },
)
def issue(body: CertificateIssue, session: SessionDep, caller: Issuer, once: IdempotentPost) -> Certificate:
    row = once(
        session,
        caller,
        body,
        create=lambda: service.issue(session, caller=caller, data=body, now=utcnow()),
        replay=lambda row_id: service.get(session, caller=caller, certificate_id=row_id),
    )
    return _wire(session, row, caller)


@router.get(
    "/v1/certificates",
    summary="Certificates you issued (certifier), hold (supplier) or that were shared with you (OEM), "
    "oldest first, cursor-paginated",
)
def list_certificates(
    session: SessionDep,
    caller: Reader,
    supplier_id: uuid.UUID | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[Certificate]:
    rows, next_cursor = service.list_for(
        session, caller=caller, supplier_id=supplier_id, cursor=cursor, limit=limit
    )
    return Page[Certificate](items=[_wire(session, row, caller) for row in rows], next_cursor=next_cursor)


@router.get("/v1/certificates/{certificate_id}", summary="One certificate with its signed credential")
def get_certificate(certificate_id: uuid.UUID, session: SessionDep, caller: Reader) -> Certificate:
    return _wire(session, service.get(session, caller=caller, certificate_id=certificate_id), caller)


@router.post(
    "/v1/certificates/{certificate_id}/share", summary="Share your certificate with a customer (supplier)"
)
def share(
    certificate_id: uuid.UUID, body: CertificateShare, session: SessionDep, caller: Sharer
) -> Certificate:
    row = service.share(
        session, caller=caller, certificate_id=certificate_id, oem_id=body.oem_id, shared=True, now=utcnow()
    )
    return _wire(session, row, caller)


@router.post(
    "/v1/certificates/{certificate_id}/unshare",
    summary="Stop sharing your certificate with a customer (supplier)",
)
def unshare(
    certificate_id: uuid.UUID, body: CertificateShare, session: SessionDep, caller: Sharer
) -> Certificate:
    row = service.share(
        session, caller=caller, certificate_id=certificate_id, oem_id=body.oem_id, shared=False, now=utcnow()
    )
    return _wire(session, row, caller)


def _status_route(action: CertificateAction, summary: str) -> None:
    @router.post(
        f"/v1/certificates/{{certificate_id}}/{action}",
        summary=summary,
        responses={409: {"description": "CertificateStatusConflict"}},
        name=f"{action}_certificate",
    )
    def change(
        certificate_id: uuid.UUID, body: CertificateStatusChange, session: SessionDep, caller: Issuer
    ) -> Certificate:
        row = service.change_status(
            session,
            caller=caller,
            certificate_id=certificate_id,
            action=action,
            reason=body.reason,
            now=utcnow(),
        )
        return _wire(session, row, caller)


_status_route("suspend", "Suspend your certificate; every entitled party learns it (certifier)")
_status_route("reinstate", "Reinstate your suspended certificate (certifier)")
_status_route("withdraw", "Withdraw your certificate for good; every entitled party learns it (certifier)")
