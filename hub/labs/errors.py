"""Why a lab's measurement, or a KPI report's proof over one (tier T2), is refused.

In the order the hub checks a T2 proof, after the T1 checks of :mod:`hub.kpis.attestation` (each its own name,
its detail naming the failed check and field): ``LabAttestationRequired`` / ``MalformedLabAttestation``,
``LabNotNamed``, ``LabNotAccepted``, ``InvalidLabSignature`` / ``LabKeyRevoked``, ``LabAccreditationExpired``,
``LabAttestationMismatch`` (naming the field), then ``ProofCommitmentMismatch`` (the proof's commitments are
not the lab's) and finally the proof itself (``InvalidProof``).
"""

from __future__ import annotations

from hub.errors import Conflict, InvalidInput


class LabAttestationRequired(InvalidInput):
    """The agreement names a lab for this term, and the proof does not come with the lab's measurement."""


class MalformedLabAttestation(InvalidInput):
    """``lab_attestation`` is not a lab-measurement envelope with a QX-LAB/1 payload."""


class LabNotNamed(InvalidInput):
    """The lab that signed the measurement is not the lab the agreement names for the term (or none is named)."""


class LabNotAccepted(InvalidInput):
    """The lab named in the agreement has not accepted its part of it."""


class InvalidLabSignature(InvalidInput):
    """The measurement is not signed by a signing key of the lab, or the signature does not verify."""


class LabKeyRevoked(InvalidInput):
    """The lab's key that signed the measurement is revoked (or was retired before it signed)."""


class LabAccreditationExpired(InvalidInput):
    """No recorded accreditation of the lab covers the measurement date."""


class LabAttestationMismatch(InvalidInput):
    """A bound field of the measurement (hub, supplier, agreement, part, characteristic, KPI, period, nonce, the
    data inputs, or the digest the proof names) is not the report's."""


class DuplicateLabMeasurement(Conflict):
    """The same signed measurement was submitted before."""


class NoEncryptionKey(InvalidInput):
    """The supplier has no active X25519 key to seal the openings to, or the openings name another key."""
