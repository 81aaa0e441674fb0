"""What an OEM knows of a supplier's certificates: the ones shared with it, per standard, as rules read them.

Kept apart from :mod:`hub.certificates.service` because the rules read it, and the certificates service runs the
rules when a certificate changes: this module needs neither.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Certificate, CertificateShare
from protocol.models.certificates import CertificateStatus


def effective_status(row: Certificate, now: datetime) -> CertificateStatus:
    """The stored status, except that an active certificate past ``valid_until`` reads ``expired``."""
    if row.status == CertificateStatus.ACTIVE.value and now >= row.valid_until:
        return CertificateStatus.EXPIRED
    return CertificateStatus(row.status)


def is_valid(row: Certificate, now: datetime) -> bool:
    return row.status == CertificateStatus.ACTIVE.value and row.valid_from <= now < row.valid_until


@dataclass(frozen=True)
class StandardFacts:
    """One standard's certificates of one supplier, as one OEM sees them."""

    status: (
        str  # "valid", or the newest certificate's status ("suspended", "withdrawn", "expired", "pending")
    )
    days_to_expiry: int  # of the longest-valid certificate; -1 when none is valid


NO_CERTIFICATE = StandardFacts("none", -1)


def shared_with(session: Session, *, oem_id: uuid.UUID, supplier_id: uuid.UUID) -> list[Certificate]:
    """The supplier's certificates shared with the OEM, oldest issued first."""
    query = (
        select(Certificate)
        .join(CertificateShare, CertificateShare.certificate_id == Certificate.id)
        .where(CertificateShare.oem_id == oem_id, Certificate.supplier_id == supplier_id)
        .order_by(Certificate.issued_at, Certificate.id)
    )
    return list(session.scalars(query))


def facts(rows: list[Certificate], now: datetime) -> dict[str, StandardFacts]:
    """Per standard: valid if any certificate is valid now (with the most days left), else the newest one's status."""
    found: dict[str, StandardFacts] = {}
    for standard in {row.standard for row in rows}:
        mine = [row for row in rows if row.standard == standard]
        valid = [row for row in mine if is_valid(row, now)]
        if valid:
            days = max((row.valid_until - now).days for row in valid)
            found[standard] = StandardFacts("valid", days)
            continue
        newest = mine[-1]
        status = effective_status(newest, now)
        pending = status is CertificateStatus.ACTIVE  # active but not yet valid
        found[standard] = StandardFacts("pending" if pending else status.value, -1)
    return found
