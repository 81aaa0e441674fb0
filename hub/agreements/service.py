"""Supply agreements: the OEM proposes, the supplier accepts or declines, either party may terminate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, undefer

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.db import one_or_not_found
from hub.errors import Conflict, Forbidden, InvalidInput
from hub.events import service as events
from hub.labs import naming
from hub.models import Organization, SupplyAgreement
from hub.models.base import utcnow
from hub.pagination import keyset, page_of
from hub.rules import standings
from protocol.models import agreements as wire
from protocol.models.common import AgreementStatus, OrgKind, PeriodKind


def propose(session: Session, *, caller: Caller, data: wire.AgreementCreate) -> SupplyAgreement:
    if caller.org_kind is not OrgKind.OEM:
        raise Forbidden("only an OEM proposes supply agreements")
    supplier = session.get(Organization, data.supplier_id)
    if supplier is None or supplier.kind != OrgKind.SUPPLIER.value:
        raise InvalidInput("supplier_id does not name a supplier organization", loc="body.supplier_id")
    terms: dict[str, Any] = data.model_dump(mode="json", include={"parts", "characteristics", "kpis"})
    agreement = SupplyAgreement(
        oem_id=caller.org_id,
        supplier_id=data.supplier_id,
        title=data.title,
        terms=terms,
        period=data.period.value,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        report_due_days=data.report_due_days,
        status=AgreementStatus.PROPOSED.value,
    )
    session.add(agreement)
    session.flush()
    naming.record(session, agreement=agreement, data=data, today=utcnow().date())
    _audit(session, caller, agreement, "agreement.proposed", {"supplier_id": str(data.supplier_id)})
    _publish(session, agreement, "agreement.proposed")
    return agreement


def _audit(
    session: Session, caller: Caller, agreement: SupplyAgreement, action: str, data: dict[str, Any]
) -> None:
    audit.record_for(
        session,
        caller,
        action=action,
        subject_type="supply_agreement",
        subject_id=agreement.id,
        data=data,
    )


def _publish(session: Session, agreement: SupplyAgreement, type: str) -> None:
    """Both parties see the whole agreement, as the API shows it to either."""
    view = as_wire(agreement).model_dump(mode="json")
    events.publish(
        session,
        type=type,
        subject_id=agreement.id,
        views={agreement.oem_id: view, agreement.supplier_id: view},
    )


def get(
    session: Session, *, caller: Caller, agreement_id: uuid.UUID, for_update: bool = False
) -> SupplyAgreement:
    """An agreement the caller is party to; any other is, to the caller, not there."""
    query = (
        select(SupplyAgreement)
        .options(undefer(SupplyAgreement.terms))
        .where(
            SupplyAgreement.id == agreement_id,
            or_(SupplyAgreement.oem_id == caller.org_id, SupplyAgreement.supplier_id == caller.org_id),
        )
    )
    return one_or_not_found(session, query, missing="agreement not found", for_update=for_update)


def list_for(
    session: Session,
    *,
    caller: Caller,
    status: AgreementStatus | None = None,
    counterparty: uuid.UUID | None = None,
    cursor: str | None,
    limit: int,
) -> tuple[list[SupplyAgreement], str | None]:
    query = (
        select(SupplyAgreement)
        .options(undefer(SupplyAgreement.terms))
        .where(or_(SupplyAgreement.oem_id == caller.org_id, SupplyAgreement.supplier_id == caller.org_id))
    )
    if status is not None:
        query = query.where(SupplyAgreement.status == status.value)
    if counterparty is not None:
        query = query.where(
            or_(SupplyAgreement.oem_id == counterparty, SupplyAgreement.supplier_id == counterparty)
        )
    rows = list(session.scalars(keyset(query, SupplyAgreement.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda agreement: agreement.id)


def decide(
    session: Session, *, caller: Caller, agreement_id: uuid.UUID, accept: bool, reason: str = ""
) -> SupplyAgreement:
    agreement = get(session, caller=caller, agreement_id=agreement_id, for_update=True)
    if agreement.supplier_id != caller.org_id:
        raise Forbidden("only the supplier named in the agreement accepts or declines it")
    if agreement.status != AgreementStatus.PROPOSED.value:
        raise Conflict(f"agreement is {agreement.status}, not proposed")
    new = AgreementStatus.ACTIVE if accept else AgreementStatus.DECLINED
    now = utcnow()
    agreement.status, agreement.decided_at, agreement.decision_reason = new.value, now, reason
    action = f"agreement.{'accepted' if accept else 'declined'}"
    _audit(session, caller, agreement, action, {"reason": reason})
    _publish(session, agreement, action)
    if accept:
        standings.open_standing(session, oem_id=agreement.oem_id, supplier_id=agreement.supplier_id, now=now)
    return agreement


def terminate(
    session: Session, *, caller: Caller, agreement_id: uuid.UUID, reason: str = ""
) -> SupplyAgreement:
    agreement = get(session, caller=caller, agreement_id=agreement_id, for_update=True)
    if agreement.status not in (AgreementStatus.ACTIVE.value, AgreementStatus.PROPOSED.value):
        raise Conflict(
            f"agreement is {agreement.status}; only a proposed or active agreement can be terminated"
        )
    # decided_at stays the supplier's decision: it is what the wire calls accepted_at, and a proposal withdrawn
    # before any decision was never accepted. The audit entry records when the agreement ended.
    agreement.status, agreement.decision_reason = AgreementStatus.TERMINATED.value, reason
    _audit(session, caller, agreement, "agreement.terminated", {"reason": reason})
    _publish(session, agreement, "agreement.terminated")
    return agreement


def as_wire(agreement: SupplyAgreement) -> wire.Agreement:
    return wire.Agreement.model_validate(
        {
            **agreement.terms,
            "id": agreement.id,
            "oem_id": agreement.oem_id,
            "supplier_id": agreement.supplier_id,
            "title": agreement.title,
            "period": PeriodKind(agreement.period),
            "valid_from": agreement.valid_from,
            "valid_until": agreement.valid_until,
            "report_due_days": agreement.report_due_days,
            "status": AgreementStatus(agreement.status),
            "created_at": agreement.created_at,
            "accepted_at": agreement.decided_at if agreement.status != "declined" else None,
        }
    )


@dataclass(frozen=True)
class AgreementTerms:
    """An agreement's terms indexed for the questions every KPI report asks."""

    characteristics: frozenset[tuple[str, str]]  # (part number, characteristic code)
    parts: frozenset[str]
    kpis: dict[str, dict[str, Any]]
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> limits, unit, resolution (JSON)


_TERMS_CACHE: dict[uuid.UUID, AgreementTerms] = {}
_TERMS_CACHE_SIZE = 4096


def terms_of(session: Session, agreement: SupplyAgreement) -> AgreementTerms:
    """The agreement's terms, parsed once per process: terms never change after a proposal (a change of terms
    is a new agreement), so the cache needs no invalidation, and a report need not load a 2,000-row JSON."""
    cached = _TERMS_CACHE.get(agreement.id)
    if cached is not None:
        return cached
    terms = session.scalar(select(SupplyAgreement.terms).where(SupplyAgreement.id == agreement.id)) or {}
    indexed = AgreementTerms(
        characteristics=frozenset((c["part_number"], c["code"]) for c in terms["characteristics"]),
        parts=frozenset(p["part_number"] for p in terms["parts"]),
        kpis={k["kpi"]: k for k in terms["kpis"]},
        specs={c["code"]: c for c in terms["characteristics"]},
    )
    if len(_TERMS_CACHE) >= _TERMS_CACHE_SIZE:
        _TERMS_CACHE.pop(next(iter(_TERMS_CACHE)))
    _TERMS_CACHE[agreement.id] = indexed
    return indexed
