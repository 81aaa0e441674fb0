"""Certificates: a certifier issues signed credentials for supplier sites and manages their status; the supplier
shares each with the customers it chooses; an OEM reads only what is shared with it.

A certificate is visible to its certifier, its supplier and the OEMs it is shared with, and to nobody else (a 404,
as if it did not exist). A certifier reads its own certificates and nothing of the supplier besides them. Every
change is an event for the certifier, the supplier and each OEM the certificate is shared with, and the OEMs'
certificate rules are evaluated on it (:mod:`hub.rules.certificate_rules`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.certificates import errors
from hub.certificates.facts import effective_status
from hub.errors import InvalidInput, NotFound
from hub.events import service as events
from hub.models import Certificate, CertificateShare, Organization, OrgKey
from hub.pagination import keyset, page_of
from hub.rules import certificate_rules
from protocol import credentials as vc
from protocol.models import certificates as wire
from protocol.models.common import KeyUse, OrgKind
from protocol.signing import key_id_for


def _signing_key(session: Session, *, caller: Caller, public_key: bytes) -> OrgKey:
    key = session.get(OrgKey, key_id_for(public_key))
    if key is None or key.organization_id != caller.org_id or key.use != KeyUse.SIGNING.value:
        raise errors.InvalidCredential(
            "the proof is not by a signing key registered for your organization", check="verificationMethod"
        )
    if key.status != "active":
        raise errors.InvalidCredential(f"the signing key is {key.status}", check="verificationMethod")
    return key


def issue(session: Session, *, caller: Caller, data: wire.CertificateIssue, now: datetime) -> Certificate:
    """Verify the certifier's credential (its proof over the canonical bytes, by one of the certifier's active
    signing keys, for a supplier organization) and store it as signed."""
    try:
        signer = vc.verify_proof(data.credential)
        key = _signing_key(session, caller=caller, public_key=signer)
        claims = vc.verify_credential(data.credential, signer)
        created = vc.issued_at(data.credential)
    except vc.CredentialInvalid as exc:
        raise errors.InvalidCredential(str(exc), check=exc.check) from exc
    supplier = session.get(Organization, claims.supplier_id)
    if supplier is None or supplier.kind != OrgKind.SUPPLIER.value:
        raise errors.InvalidCredential(
            "credentialSubject.id names no supplier organization", check="credential"
        )
    credential_id = str(data.credential.get("id", ""))
    if not credential_id or len(credential_id) > 200:
        raise errors.InvalidCredential(
            "the credential needs an id (at most 200 characters)", check="credential"
        )
    taken = select(Certificate.id).where(
        ((Certificate.certifier_id == caller.org_id) & (Certificate.number == claims.number))
        | (Certificate.credential_id == credential_id)
    )
    if session.scalar(taken) is not None:
        raise errors.DuplicateCertificate(
            f"certificate {claims.number} (or credential {credential_id}) exists"
        )
    row = Certificate(
        certifier_id=caller.org_id,
        supplier_id=claims.supplier_id,
        key_id=key.key_id,
        credential_id=credential_id,
        standard=claims.standard,
        number=claims.number,
        scope=claims.scope,
        site_id=claims.site_id,
        site_name=claims.site_name,
        valid_from=claims.valid_from,
        valid_until=claims.valid_until,
        audit_score=claims.audit_result.score if claims.audit_result else None,
        audit_grade=claims.audit_result.grade if claims.audit_result else None,
        credential=data.credential,
        status=wire.CertificateStatus.ACTIVE.value,
        status_changed_at=now,
        issued_at=created,
    )
    session.add(row)
    session.flush()
    _record(session, caller, row, "certificate.issued", {"number": row.number, "standard": row.standard})
    _publish(session, row, "certificate.issued", now=now)
    return row


def _visible(session: Session, *, caller: Caller, certificate_id: uuid.UUID) -> Certificate:
    row = session.get(Certificate, certificate_id)
    if row is None:
        raise NotFound("certificate not found")
    if caller.org_id in (row.certifier_id, row.supplier_id) or caller.org_id in _shares(session, row):
        return row
    raise NotFound("certificate not found")


def get(session: Session, *, caller: Caller, certificate_id: uuid.UUID) -> Certificate:
    return _visible(session, caller=caller, certificate_id=certificate_id)


def list_for(
    session: Session, *, caller: Caller, supplier_id: uuid.UUID | None, cursor: str | None, limit: int
) -> tuple[list[Certificate], str | None]:
    """The certificates the caller issued (certifier), holds (supplier) or was shared (OEM), oldest first."""
    query = select(Certificate)
    if caller.org_kind is OrgKind.CERTIFIER:
        query = query.where(Certificate.certifier_id == caller.org_id)
    elif caller.org_kind is OrgKind.SUPPLIER:
        query = query.where(Certificate.supplier_id == caller.org_id)
    else:
        shared = exists().where(
            CertificateShare.certificate_id == Certificate.id, CertificateShare.oem_id == caller.org_id
        )
        query = query.where(shared)
    if supplier_id is not None:
        query = query.where(Certificate.supplier_id == supplier_id)
    rows = list(session.scalars(keyset(query, Certificate.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda row: row.id)


def _shares(session: Session, row: Certificate) -> list[uuid.UUID]:
    query = (
        select(CertificateShare.oem_id)
        .where(CertificateShare.certificate_id == row.id)
        .order_by(CertificateShare.shared_at, CertificateShare.id)
    )
    return list(session.scalars(query))


def share(
    session: Session,
    *,
    caller: Caller,
    certificate_id: uuid.UUID,
    oem_id: uuid.UUID,
    shared: bool,
    now: datetime,
) -> Certificate:
    """The supplier shares a certificate with a customer (or stops sharing it); repeating either changes nothing."""
    row = session.get(Certificate, certificate_id)
    if row is None or row.supplier_id != caller.org_id:
        raise NotFound("certificate not found")
    oem = session.get(Organization, oem_id)
    if oem is None or oem.kind != OrgKind.OEM.value:
        raise InvalidInput("oem_id names no OEM organization", loc="body.oem_id")
    existing = session.scalar(
        select(CertificateShare).where(
            CertificateShare.certificate_id == row.id, CertificateShare.oem_id == oem_id
        )
    )
    if shared and existing is None:
        session.add(CertificateShare(certificate_id=row.id, oem_id=oem_id, shared_at=now))
        session.flush()
        _changed(session, caller, row, "certificate.shared", now=now, extra={"oem_id": oem_id})
    elif not shared and existing is not None:
        session.delete(existing)
        session.flush()
        _changed(session, caller, row, "certificate.unshared", now=now, extra={"oem_id": oem_id})
        certificate_rules.evaluate(session, oem_id=oem_id, supplier_id=row.supplier_id, now=now)
    return row


_TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "suspend": ({"active"}, "suspended"),
    "reinstate": ({"suspended"}, "active"),
    "withdraw": ({"active", "suspended"}, "withdrawn"),
}


def change_status(
    session: Session,
    *,
    caller: Caller,
    certificate_id: uuid.UUID,
    action: wire.CertificateAction,
    reason: str,
    now: datetime,
) -> Certificate:
    """The certifier suspends, reinstates or withdraws its certificate; every entitled party learns of it."""
    row = session.get(Certificate, certificate_id, with_for_update=True)
    if row is None or row.certifier_id != caller.org_id:
        raise NotFound("certificate not found")
    allowed, target = _TRANSITIONS[action]
    current = effective_status(row, now).value
    if current not in allowed:
        raise errors.CertificateStatusConflict(f"a {current} certificate cannot be {action}ed")
    row.status, row.status_reason, row.status_changed_at = target, reason, now
    event = {"suspend": "certificate.suspended", "reinstate": "certificate.reinstated"}.get(
        action, "certificate.withdrawn"
    )
    _changed(session, caller, row, event, now=now, extra={"reason": reason})
    return row


def _changed(
    session: Session, caller: Caller, row: Certificate, event: str, *, now: datetime, extra: dict[str, Any]
) -> None:
    data = {key: str(value) for key, value in extra.items()}
    _record(session, caller, row, event, data)
    _publish(session, row, event, now=now, also=[uuid.UUID(data["oem_id"])] if "oem_id" in data else [])
    if event != "certificate.unshared":
        for oem_id in _shares(session, row):
            certificate_rules.evaluate(session, oem_id=oem_id, supplier_id=row.supplier_id, now=now)


def _record(session: Session, caller: Caller, row: Certificate, action: str, data: dict[str, Any]) -> None:
    audit.record_for(session, caller, action=action, subject_type="certificate", subject_id=row.id, data=data)


def _publish(
    session: Session, row: Certificate, event: str, *, now: datetime, also: list[uuid.UUID] | None = None
) -> None:
    shares = _shares(session, row)
    views: dict[uuid.UUID, dict[str, Any]] = {}
    for org_id in (row.certifier_id, row.supplier_id):
        views[org_id] = as_wire(session, row, viewer=org_id, now=now, shares=shares).model_dump(mode="json")
    for org_id in [*shares, *(also or [])]:
        views[org_id] = as_wire(session, row, viewer=org_id, now=now, shares=shares).model_dump(mode="json")
    for view in views.values():
        view.pop("credential", None)
    events.publish(session, type=event, subject_id=row.id, views=views)


def announce_expiring(session: Session, *, within_days: int, now: datetime) -> int:
    """Tell every entitled party, once, of each valid certificate that expires within ``within_days``."""
    query = select(Certificate).where(
        Certificate.status == wire.CertificateStatus.ACTIVE.value,
        Certificate.expiring_announced_at.is_(None),
        Certificate.valid_until > now,
        Certificate.valid_until <= now + timedelta(days=within_days),
    )
    announced = 0
    for row in session.scalars(query):
        row.expiring_announced_at = now
        _publish(session, row, "certificate.expiring", now=now)
        announced += 1
    return announced


def as_wire(
    session: Session,
    row: Certificate,
    *,
    viewer: uuid.UUID,
    now: datetime,
    shares: list[uuid.UUID] | None = None,
) -> wire.Certificate:
    certifier = session.get(Organization, row.certifier_id)
    owner = viewer in (row.certifier_id, row.supplier_id)
    audit_result = None if row.audit_score is None else {"score": row.audit_score, "grade": row.audit_grade}
    return wire.Certificate.model_validate(
        {
            "certificate_id": row.id,
            "credential_id": row.credential_id,
            "certifier_id": row.certifier_id,
            "certifier_name": certifier.name if certifier else "",
            "supplier_id": row.supplier_id,
            "standard": row.standard,
            "number": row.number,
            "scope": row.scope,
            "site_id": row.site_id,
            "site_name": row.site_name,
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "audit_result": audit_result,
            "status": effective_status(row, now),
            "status_reason": row.status_reason,
            "status_changed_at": row.status_changed_at,
            "issued_at": row.issued_at,
            "shared_with": (shares if shares is not None else _shares(session, row)) if owner else [],
            "credential": row.credential,
        }
    )
