"""Tier T2 on KPI ingest: a proof over a lab's signed measurement, checked after the T1 checks and before the
proof's equations (the order of :mod:`hub.labs.errors`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from hub.agreements.service import AgreementTerms
from hub.kpis import errors as kpi_errors
from hub.labs import errors, measurements, naming
from hub.models import Organization
from protocol.models import kpi as kpi_wire
from protocol.models import labs as wire
from protocol.signing import SignedEnvelope
from protocol.zk.attestation import Attestation, BindingContext
from protocol.zk.errors import ProofInvalid
from protocol.zk.lab import LabBindingMismatch, LabCommitmentMismatch, check_lab_binding, measurement_digest

_LOC = "body.envelope.payload.lab_attestation"
_PROOF_LOC = "body.envelope.payload.proof"


@dataclass(frozen=True)
class LabEvidence:
    """The lab measurement a report's proof was made over, checked; what the report then records."""

    envelope: SignedEnvelope
    measurement: wire.LabMeasurement
    lab_name: str


def check(
    session: Session,
    *,
    payload: kpi_wire.KpiReportPayload,
    terms: AgreementTerms,
    attestation: Attestation | None,
    expected: BindingContext | None,
) -> LabEvidence | None:
    """``None`` for a T1 report (the term names no lab, or the report has no proof); the checked evidence of a
    T2 one. A proof for a term that names a lab must be made over that lab's measurement."""
    named = naming.term_lab(terms, kpi=payload.kpi, characteristic=payload.characteristic)
    envelope = payload.lab_attestation
    if envelope is None:
        if named is not None and attestation is not None:
            raise errors.LabAttestationRequired(
                "the agreement names a lab for this term: prove from the lab's measurement (lab_attestation)",
                loc=_LOC,
            )
        return None
    if attestation is None or expected is None:
        raise errors.MalformedLabAttestation("a lab attestation comes with the proof made over it", loc=_LOC)
    measurement = measurements.parse(envelope, loc=f"{_LOC}.payload")
    measurements.check_measurement(
        session,
        envelope=envelope,
        measurement=measurement,
        named_lab=named,
        expected=measurements.Expected(
            hub=expected.hub,
            supplier_id=payload.supplier_id,
            agreement_id=payload.agreement_id,
            part_number=payload.part_number,
            characteristic=payload.characteristic or "",
            kpi=payload.kpi,
            period=expected.period,
            nonce=expected.nonce,
        ),
        loc=_LOC,
    )
    try:
        check_lab_binding(attestation, envelope)
    except LabCommitmentMismatch as exc:
        raise kpi_errors.ProofCommitmentMismatch(
            f"commitments check failed: {exc}", loc=f"{_PROOF_LOC}.commitments.{exc.name}"
        ) from exc
    except LabBindingMismatch as exc:
        raise errors.LabAttestationMismatch(
            f"lab attestation check failed: {exc}", loc=f"{_PROOF_LOC}.public.{exc.field}"
        ) from exc
    except ProofInvalid as exc:
        raise errors.MalformedLabAttestation(str(exc), loc=_LOC) from exc
    lab = session.get(Organization, measurement.lab_id)
    return LabEvidence(envelope=envelope, measurement=measurement, lab_name=lab.name if lab else "")


def digest_of(evidence: LabEvidence) -> str:
    return measurement_digest(evidence.envelope)
