"""Labs and certification bodies: accreditations (recorded by the operator), the agreements a lab is named in,
its acceptance, and the context a lab binds a measurement to.

A lab sees only the agreements it is named in, and of those only the parties, the period, validity and the
terms it is named for (limits and resolution, never a threshold): any other agreement is a 404. It never reads
a KPI report, a standing or genealogy (its scopes do not allow it, and those services show a lab nothing).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.errors import Conflict, Forbidden, InvalidInput, NotFound
from hub.kpis import attestation as kpi_attestation
from hub.labs import errors
from hub.models import AgreementLab, LabAccreditation, Organization, OrgKey, SupplyAgreement
from hub.pagination import keyset, page_of
from protocol.encoding import b64url_encode
from protocol.models import labs as wire
from protocol.models.common import AgreementStatus, KpiName, OrgKind


def _lab(session: Session, lab_id: uuid.UUID) -> Organization:
    lab = session.get(Organization, lab_id)
    if lab is None or lab.kind != OrgKind.LAB.value:
        raise NotFound("lab not found")
    return lab


def record_accreditation(
    session: Session, *, caller: Caller, lab_id: uuid.UUID, data: wire.AccreditationCreate
) -> LabAccreditation:
    """The operator vouches for a lab's accreditation (the network's trust anchor for T2 proofs)."""
    if caller.org_kind is not OrgKind.OPERATOR:
        raise Forbidden("only the operator records accreditations")
    _lab(session, lab_id)
    row = LabAccreditation(lab_id=lab_id, **data.model_dump())
    session.add(row)
    session.flush()
    audit.record_for(
        session,
        caller,
        action="lab.accreditation_recorded",
        subject_type="organization",
        subject_id=lab_id,
        data=data.model_dump(mode="json"),
    )
    return row


def accreditations(
    session: Session, *, lab_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[LabAccreditation], str | None]:
    """A lab's accreditations, in the order they were recorded: public within the network, so that an OEM can
    choose an accredited lab."""
    _lab(session, lab_id)
    query = select(LabAccreditation).where(LabAccreditation.lab_id == lab_id)
    rows = list(session.scalars(keyset(query, LabAccreditation.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda row: row.id)


def get_accreditation(
    session: Session, *, lab_id: uuid.UUID, accreditation_id: uuid.UUID
) -> LabAccreditation:
    """One accreditation of a lab (what a repeated recording answers)."""
    row = session.get(LabAccreditation, accreditation_id)
    if row is None or row.lab_id != lab_id:
        raise NotFound("accreditation not found")
    return row


def accreditation_as_wire(row: LabAccreditation) -> wire.Accreditation:
    return wire.Accreditation(
        id=row.id,
        lab_id=row.lab_id,
        scheme=row.scheme,
        number=row.number,
        scope=row.scope,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        recorded_at=row.recorded_at,
    )


# -- the agreements a lab is named in ------------------------------------------------------------------------


def _assignment(
    session: Session, *, caller: Caller, agreement_id: uuid.UUID, for_update: bool = False
) -> tuple[AgreementLab, SupplyAgreement]:
    query = select(AgreementLab).where(
        AgreementLab.agreement_id == agreement_id, AgreementLab.lab_id == caller.org_id
    )
    if for_update:
        query = query.with_for_update()
    named = session.scalar(query)
    if named is None:
        raise NotFound("agreement not found")
    agreement = session.scalar(
        select(SupplyAgreement)
        .options(undefer(SupplyAgreement.terms))
        .where(SupplyAgreement.id == agreement_id)
    )
    assert agreement is not None  # a foreign key
    return named, agreement


def _terms_for(terms: dict[str, Any], lab_id: uuid.UUID) -> list[wire.LabTermRef]:
    mine = str(lab_id)
    found = [
        wire.LabTermRef(
            kind="characteristic",
            part_number=c["part_number"],
            characteristic=c["code"],
            unit=c.get("unit"),
            lsl=c.get("lsl"),
            usl=c.get("usl"),
            resolution=c.get("resolution"),
        )
        for c in terms["characteristics"]
        if c.get("lab_id") == mine
    ]
    if any(k["kpi"] == KpiName.MTBF.value and k.get("lab_id") == mine for k in terms["kpis"]):
        found += [wire.LabTermRef(kind="mtbf", part_number=p["part_number"]) for p in terms["parts"]]
    return found


def assignment_as_wire(named: AgreementLab, agreement: SupplyAgreement) -> wire.LabAssignment:
    return wire.LabAssignment(
        agreement_id=agreement.id,
        oem_id=agreement.oem_id,
        supplier_id=agreement.supplier_id,
        lab_id=named.lab_id,
        title=agreement.title,
        period=agreement.period,
        valid_from=agreement.valid_from,
        valid_until=agreement.valid_until,
        agreement_status=agreement.status,
        status=named.status,
        decided_at=named.decided_at,
        terms=_terms_for(agreement.terms, named.lab_id),
    )


def get_assignment(session: Session, *, caller: Caller, agreement_id: uuid.UUID) -> wire.LabAssignment:
    return assignment_as_wire(*_assignment(session, caller=caller, agreement_id=agreement_id))


def list_assignments(
    session: Session, *, caller: Caller, cursor: str | None, limit: int
) -> tuple[list[wire.LabAssignment], str | None]:
    """The agreements the caller's lab is named in, in the order it was named (the naming's id)."""
    query = (
        select(AgreementLab, SupplyAgreement)
        .join(SupplyAgreement, SupplyAgreement.id == AgreementLab.agreement_id)
        .options(undefer(SupplyAgreement.terms))
        .where(AgreementLab.lab_id == caller.org_id)
    )
    rows = session.execute(keyset(query, AgreementLab.id, cursor=cursor, limit=limit)).all()
    page, next_cursor = page_of(rows, limit, last_id=lambda row: row[0].id)
    return [assignment_as_wire(named, agreement) for named, agreement in page], next_cursor


def decide(
    session: Session, *, caller: Caller, agreement_id: uuid.UUID, accept: bool, now: datetime
) -> wire.LabAssignment:
    """The lab accepts (or declines) its part of an agreement; only an accepted lab's measurements count."""
    if caller.org_kind is not OrgKind.LAB:
        raise Forbidden("only a lab answers for its part of an agreement")
    named, agreement = _assignment(session, caller=caller, agreement_id=agreement_id, for_update=True)
    if named.status != "proposed":
        raise Conflict(f"your part of the agreement is {named.status} already")
    if agreement.status not in (AgreementStatus.PROPOSED.value, AgreementStatus.ACTIVE.value):
        raise Conflict(f"agreement is {agreement.status}")
    named.status, named.decided_at = ("accepted" if accept else "declined"), now
    audit.record_for(
        session,
        caller,
        action=f"agreement.lab_{named.status}",
        subject_type="supply_agreement",
        subject_id=agreement.id,
        data={"lab_id": str(caller.org_id)},
    )
    return assignment_as_wire(named, agreement)


def named_lab(session: Session, *, agreement_id: uuid.UUID, lab_id: uuid.UUID) -> AgreementLab | None:
    return session.scalar(
        select(AgreementLab).where(AgreementLab.agreement_id == agreement_id, AgreementLab.lab_id == lab_id)
    )


def supplier_encryption_key(session: Session, supplier_id: uuid.UUID) -> OrgKey | None:
    return session.scalar(
        select(OrgKey).where(
            OrgKey.organization_id == supplier_id, OrgKey.use == "enc", OrgKey.status == "active"
        )
    )


def measurement_context(
    session: Session,
    *,
    caller: Caller,
    binding: kpi_attestation.Binding,
    agreement_id: uuid.UUID,
    part_number: str,
    characteristic: str | None,
    kpi: KpiName,
    period: str,
) -> wire.LabMeasurementContext:
    """What one measurement must be bound to: the same hub nonce the supplier's proof for that period gets."""
    named, agreement = _assignment(session, caller=caller, agreement_id=agreement_id)
    if named.status != "accepted":
        raise errors.LabNotAccepted("accept your part of the agreement first")
    parsed = kpi_attestation.agreement_period(agreement, period)
    terms = _terms_for(agreement.terms, caller.org_id)
    if kpi is KpiName.MTBF:
        characteristic = ""
        term = next((t for t in terms if t.kind == "mtbf" and t.part_number == part_number), None)
    else:
        term = next(
            (t for t in terms if t.characteristic == characteristic and t.part_number == part_number), None
        )
    if term is None:
        raise errors.LabNotNamed(
            f"the agreement does not name your lab for {kpi.value} of {part_number} {characteristic or ''}".rstrip(),
            loc="query.characteristic",
        )
    if kpi not in kpi_attestation.STATEMENTS or (kpi is not KpiName.MTBF) != (term.kind == "characteristic"):
        raise InvalidInput(f"{kpi.value} is not measured for this term", loc="query.kpi")
    key = supplier_encryption_key(session, agreement.supplier_id)
    nonce = kpi_attestation.nonce_for(
        binding,
        supplier_id=agreement.supplier_id,
        agreement_id=agreement.id,
        characteristic=characteristic,
        kpi=kpi,
        period=str(parsed),
    )
    return wire.LabMeasurementContext(
        hub=binding.hub,
        lab_id=caller.org_id,
        supplier_id=agreement.supplier_id,
        agreement_id=agreement.id,
        part_number=part_number,
        characteristic=characteristic or "",
        kpi=kpi,
        period=str(parsed),
        nonce=nonce,
        lsl=term.lsl,
        usl=term.usl,
        resolution=term.resolution,
        supplier_key=None
        if key is None
        else wire.SupplierKey(key_id=key.key_id, public_key=b64url_encode(key.public_key)),
    )
