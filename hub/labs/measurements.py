"""A lab's signed measurements: the checks both their issuing and a T2 proof over one run, and their store.

:func:`check_measurement` runs, in order, each its own error (:mod:`hub.labs.errors`): the lab is the one the
agreement names for the term (``LabNotNamed``) and it accepted its part (``LabNotAccepted``); the envelope is
signed by an active signing key of that lab (``InvalidLabSignature``, ``LabKeyRevoked``); an accreditation of
the lab covers the measurement date (``LabAccreditationExpired``); and the bound fields are the ones expected
(``LabAttestationMismatch`` naming the field). The hub stores the sealed openings and never reads them.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.agreements import service as agreements
from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.errors import Conflict, Forbidden, NotFound
from hub.kpis import attestation as kpi_attestation
from hub.labs import errors, naming
from hub.labs import service as labs
from hub.models import LabMeasurement, Organization, OrgKey, SupplyAgreement
from hub.models.base import uuid7
from hub.pagination import keyset, page_of
from protocol.encoding import b64url_decode
from protocol.errors import SignatureInvalid
from protocol.models import labs as wire
from protocol.models.common import AgreementStatus, KpiName
from protocol.signing import SignedEnvelope, verify_envelope
from protocol.zk.errors import ProofInvalid
from protocol.zk.lab import measurement_digest, read_measurement


def parse(envelope: SignedEnvelope, *, loc: str) -> wire.LabMeasurement:
    try:
        return read_measurement(envelope)
    except ProofInvalid as exc:
        raise errors.MalformedLabAttestation(str(exc), loc=loc) from exc


@dataclass(frozen=True)
class Expected:
    """What a measurement must be bound to (the report's or the lab's request's fields)."""

    hub: str
    supplier_id: uuid.UUID
    agreement_id: uuid.UUID
    part_number: str
    characteristic: str
    kpi: KpiName
    period: str
    nonce: str


def _check_key(
    session: Session, envelope: SignedEnvelope, measurement: wire.LabMeasurement, loc: str
) -> None:
    key = session.get(OrgKey, envelope.key_id)
    if key is None or key.organization_id != measurement.lab_id or key.use != "sig":
        raise errors.InvalidLabSignature(
            f"key {envelope.key_id} is not a signing key of the lab", loc=f"{loc}.key_id"
        )
    if key.status == "revoked":
        raise errors.LabKeyRevoked(f"the lab's key {key.key_id} is revoked", loc=f"{loc}.key_id")
    if key.status == "retired" and key.retired_at is not None and envelope.signed_at >= key.retired_at:
        raise errors.LabKeyRevoked(
            f"the lab's key {key.key_id} was retired before it signed this measurement", loc=f"{loc}.key_id"
        )
    carried = b64url_decode(measurement.lab_public_key)
    if not hmac.compare_digest(carried, key.public_key):
        raise errors.InvalidLabSignature(
            "lab_public_key is not the lab's registered key", loc=f"{loc}.payload.lab_public_key"
        )
    try:
        verify_envelope(envelope, key.public_key, expected_type=wire.LAB_MEASUREMENT_TYPE)
    except SignatureInvalid as exc:
        raise errors.InvalidLabSignature(f"signature check failed: {exc}", loc=f"{loc}.signature") from exc


def check_measurement(
    session: Session,
    *,
    envelope: SignedEnvelope,
    measurement: wire.LabMeasurement,
    named_lab: uuid.UUID | None,
    expected: Expected,
    loc: str,
) -> None:
    """The checks of the module docstring, in order; ``named_lab`` is the lab the agreement names for the term."""
    if named_lab is None or named_lab != measurement.lab_id:
        raise errors.LabNotNamed(
            "the agreement names no lab for this term"
            if named_lab is None
            else "the measurement is signed by another lab than the agreement names for this term",
            loc=f"{loc}.payload.lab_id",
        )
    named = labs.named_lab(session, agreement_id=expected.agreement_id, lab_id=named_lab)
    if named is None or named.status != "accepted":
        raise errors.LabNotAccepted(
            "the lab has not accepted its part of the agreement", loc=f"{loc}.payload.lab_id"
        )
    _check_key(session, envelope, measurement, loc)
    if naming.accredited_on(session, lab_id=measurement.lab_id, day=measurement.measured_on) is None:
        raise errors.LabAccreditationExpired(
            f"accreditation check failed: the lab is not accredited on {measurement.measured_on}",
            loc=f"{loc}.payload.measured_on",
        )
    found = {
        "hub": measurement.hub,
        "supplier_id": str(measurement.supplier_id),
        "agreement_id": str(measurement.agreement_id),
        "part_number": measurement.part_number,
        "characteristic": measurement.characteristic,
        "kpi": measurement.kpi.value,
        "period": measurement.period,
        "nonce": measurement.nonce,
    }
    wanted = {
        "hub": expected.hub,
        "supplier_id": str(expected.supplier_id),
        "agreement_id": str(expected.agreement_id),
        "part_number": expected.part_number,
        "characteristic": expected.characteristic,
        "kpi": expected.kpi.value,
        "period": expected.period,
        "nonce": expected.nonce,
    }
    for field, value in found.items():
        if not hmac.compare_digest(value.encode(), wanted[field].encode()):
            raise errors.LabAttestationMismatch(
                f"lab attestation check failed: it is bound to another {field}", loc=f"{loc}.payload.{field}"
            )


def keep(
    session: Session,
    *,
    envelope: SignedEnvelope,
    measurement: wire.LabMeasurement,
    sealed: wire.SealedOpenings | None,
    now: datetime,
    measurement_id: uuid.UUID | None = None,
) -> LabMeasurement:
    """Store a checked measurement (once: the digest is unique); a report's measurement the lab handed over
    outside the hub is stored when the report arrives, without sealed openings."""
    digest = measurement_digest(envelope)
    stored = session.scalar(select(LabMeasurement).where(LabMeasurement.digest == digest))
    if stored is not None:
        return stored
    row = LabMeasurement(
        id=measurement_id or uuid7(),
        lab_id=measurement.lab_id,
        supplier_id=measurement.supplier_id,
        agreement_id=measurement.agreement_id,
        part_number=measurement.part_number,
        characteristic=measurement.characteristic,
        kpi=measurement.kpi.value,
        period=measurement.period,
        measured_on=measurement.measured_on,
        digest=digest,
        envelope=envelope.model_dump(mode="json"),
        sealed_openings=None if sealed is None else sealed.model_dump(mode="json"),
        received_at=now,
    )
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the same measurement, concurrently
        raise errors.DuplicateLabMeasurement("this measurement was submitted already") from exc
    return row


def submit(
    session: Session,
    *,
    caller: Caller,
    data: wire.LabMeasurementSubmit,
    binding: kpi_attestation.Binding,
    now: datetime,
) -> LabMeasurement:
    """A lab issues a measurement to the supplier through the hub: checked as a T2 proof will check it, the
    openings stored sealed to the supplier's X25519 key, the issue recorded in the audit chain."""
    loc = "body.envelope"
    measurement = parse(data.envelope, loc=f"{loc}.payload")
    if measurement.lab_id != caller.org_id:
        raise Forbidden("a lab issues measurements under its own lab_id")
    agreement = session.get(SupplyAgreement, measurement.agreement_id)
    if agreement is None or labs.named_lab(session, agreement_id=agreement.id, lab_id=caller.org_id) is None:
        raise NotFound("agreement not found")
    if agreement.status != AgreementStatus.ACTIVE.value:
        raise Conflict(f"agreement is {agreement.status}, not active")
    terms = agreements.terms_of(session, agreement)
    characteristic = measurement.characteristic if measurement.kpi is not KpiName.MTBF else ""
    nonce = kpi_attestation.nonce_for(
        binding,
        supplier_id=agreement.supplier_id,
        agreement_id=agreement.id,
        characteristic=characteristic,
        kpi=measurement.kpi,
        period=measurement.period,
    )
    check_measurement(
        session,
        envelope=data.envelope,
        measurement=measurement,
        named_lab=naming.term_lab(terms, kpi=measurement.kpi, characteristic=measurement.characteristic),
        expected=Expected(
            hub=binding.hub,
            supplier_id=agreement.supplier_id,
            agreement_id=agreement.id,
            part_number=measurement.part_number,
            characteristic=characteristic,
            kpi=measurement.kpi,
            period=measurement.period,
            nonce=nonce,
        ),
        loc=loc,
    )
    key = labs.supplier_encryption_key(session, agreement.supplier_id)
    if key is None or key.key_id != data.sealed_openings.recipient_key_id:
        raise errors.NoEncryptionKey(
            "the openings are sealed to the supplier's active X25519 key only",
            loc="body.sealed_openings.recipient_key_id",
        )
    digest = measurement_digest(data.envelope)
    if session.scalar(select(LabMeasurement.id).where(LabMeasurement.digest == digest)) is not None:
        raise errors.DuplicateLabMeasurement("this measurement was submitted already")
    row = keep(
        session,
        envelope=data.envelope,
        measurement=measurement,
        sealed=data.sealed_openings,
        now=now,
        measurement_id=data.sealed_openings.measurement_id,
    )
    audit.record_for(
        session,
        caller,
        action="lab_measurement.issued",
        subject_type="lab_measurement",
        subject_id=row.id,
        data={
            "digest": digest,
            "agreement_id": str(agreement.id),
            "supplier_id": str(agreement.supplier_id),
            "kpi": row.kpi,
            "period": row.period,
            "measured_on": row.measured_on.isoformat(),
        },
    )
    return row


def _visible(caller: Caller) -> Select[LabMeasurement]:
    """The supplier it is addressed to and the lab that issued it read a measurement issued through the hub;
    nobody else (one handed over outside the hub is kept only as a report's evidence)."""
    return select(LabMeasurement).where(
        or_(LabMeasurement.supplier_id == caller.org_id, LabMeasurement.lab_id == caller.org_id),
        LabMeasurement.sealed_openings.is_not(None),
    )


def get(session: Session, *, caller: Caller, measurement_id: uuid.UUID) -> LabMeasurement:
    row = session.scalar(_visible(caller).where(LabMeasurement.id == measurement_id))
    if row is None:
        raise NotFound("lab measurement not found")
    return row


def list_for(
    session: Session,
    *,
    caller: Caller,
    agreement_id: uuid.UUID | None,
    period: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[LabMeasurement], str | None]:
    """The measurements the caller may read, in id order (the lab chooses the id its openings are sealed to)."""
    query = _visible(caller)
    if agreement_id is not None:
        query = query.where(LabMeasurement.agreement_id == agreement_id)
    if period is not None:
        query = query.where(LabMeasurement.period == period)
    rows = list(session.scalars(keyset(query, LabMeasurement.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda row: row.id)


def as_wire(session: Session, row: LabMeasurement) -> wire.LabMeasurementRecord:
    lab = session.get(Organization, row.lab_id)
    assert row.sealed_openings is not None
    return wire.LabMeasurementRecord(
        id=row.id,
        lab_id=row.lab_id,
        lab_name=lab.name if lab is not None else "",
        supplier_id=row.supplier_id,
        agreement_id=row.agreement_id,
        part_number=row.part_number,
        characteristic=row.characteristic,
        kpi=KpiName(row.kpi),
        period=row.period,
        measured_on=row.measured_on,
        digest=row.digest,
        envelope=SignedEnvelope.model_validate(row.envelope),
        sealed_openings=wire.SealedOpenings.model_validate(row.sealed_openings),
        received_at=row.received_at,
    )
