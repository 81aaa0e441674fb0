"""Labs named in an agreement: checked when the OEM proposes it, and which lab a term names.

Kept apart from :mod:`hub.labs.service` because the agreements service calls it while proposing, and the labs
service reads agreements: this module needs neither.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import InvalidInput
from hub.models import AgreementLab, LabAccreditation, Organization, SupplyAgreement
from protocol.models import agreements as wire
from protocol.models.common import KpiName, OrgKind


def _named(data: wire.AgreementCreate) -> dict[uuid.UUID, str]:
    """Each named lab and the first field that names it (for the error's ``loc``)."""
    named: dict[uuid.UUID, str] = {}
    for index, characteristic in enumerate(data.characteristics):
        if characteristic.lab_id is not None:
            named.setdefault(characteristic.lab_id, f"body.characteristics.{index}.lab_id")
    for index, term in enumerate(data.kpis):
        if term.lab_id is not None:
            named.setdefault(term.lab_id, f"body.kpis.{index}.lab_id")
    return named


def accredited_on(session: Session, *, lab_id: uuid.UUID, day: date) -> LabAccreditation | None:
    """An accreditation of the lab that covers ``day`` (the latest-ending one), or ``None``."""
    return session.scalar(
        select(LabAccreditation)
        .where(
            LabAccreditation.lab_id == lab_id,
            LabAccreditation.valid_from <= day,
            LabAccreditation.valid_until >= day,
        )
        .order_by(LabAccreditation.valid_until.desc())
        .limit(1)
    )


def record(session: Session, *, agreement: SupplyAgreement, data: wire.AgreementCreate, today: date) -> None:
    """Check every lab the proposal names is a lab accredited today, and name it in the agreement (each lab then
    accepts or declines its part)."""
    for lab_id, loc in _named(data).items():
        lab = session.get(Organization, lab_id)
        if lab is None or lab.kind != OrgKind.LAB.value:
            raise InvalidInput("lab_id does not name a lab organization", loc=loc)
        if accredited_on(session, lab_id=lab_id, day=today) is None:
            raise InvalidInput(f"lab {lab.name} has no accreditation valid today", loc=loc)
        session.add(AgreementLab(agreement_id=agreement.id, lab_id=lab_id, status="proposed"))


def term_lab(terms: Any, *, kpi: KpiName, characteristic: str | None) -> uuid.UUID | None:
    """The lab an agreement's terms (:class:`hub.agreements.service.AgreementTerms`) name for a report's term:
    on the characteristic for CPK and PPK, on the KPI term for MTBF."""
    if kpi is KpiName.MTBF:
        value = terms.kpis.get(kpi.value, {}).get("lab_id")
    else:
        value = terms.specs.get(characteristic or "", {}).get("lab_id")
    return None if value is None else uuid.UUID(str(value))
