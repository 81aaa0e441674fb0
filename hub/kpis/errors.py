"""Why a KPI report is refused; each name is what the supplier's SDK maps back to a typed error."""

from __future__ import annotations

from typing import Any

from hub.errors import Conflict, InvalidInput
from hub.idempotency import IdempotencyKeyInFlight as IdempotencyKeyInFlight  # a refused report's name too


class InvalidSignature(InvalidInput):
    pass


class StaleSignature(InvalidInput):
    pass


class UnknownKey(InvalidInput):
    pass


class RevokedKey(InvalidInput):
    pass


class ProofRequired(InvalidInput):
    pass


# KPI-ZK proofs, in the order the hub checks them (each names the failed check in its detail and field).


class MalformedProof(InvalidInput):
    """``proof`` is not a KPI-ZK/1 attestation (wrong shape, unknown version or statement)."""


class ProofNotExpected(InvalidInput):
    """A proof the claim cannot use: for a KPI without a KPI-ZK statement, or with a 'does not meet' claim."""


class ProofStatementMismatch(InvalidInput):
    """The attestation proves another statement than the report's KPI needs (cpk → cpk_at_least, ...)."""


class ProofThresholdMismatch(InvalidInput):
    """The attestation's public threshold is not the agreement's: the hub fixes t, the supplier cannot."""


class ProofPublicInputMismatch(InvalidInput):
    """A public input other than the threshold (LSL, USL, resolution, n) differs from the agreement or claim."""


class ProofContextMismatch(InvalidInput):
    """The attestation is bound to another hub, supplier, key, agreement, characteristic, period, KPI or nonce."""


class ProofCommitmentMismatch(InvalidInput):
    """The report's ``commitments`` are not the attestation's."""


class InvalidProof(InvalidInput):
    """The proof does not verify; the detail names the cryptographic check that failed."""

    def __init__(self, detail: str, *, check: str, loc: str | None = None) -> None:
        super().__init__(detail, loc=loc)
        self.check = check

    def body(self) -> dict[str, Any]:
        return {**super().body(), "check": self.check}


class NoSigningKey(InvalidInput):
    """An attestation context was asked for before the supplier registered a signing key."""


class DuplicateReport(Conflict):
    pass


class ReplayedNonce(Conflict):
    pass
