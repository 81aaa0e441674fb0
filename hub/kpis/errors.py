"""Why a KPI report is refused; each name is what the supplier's SDK maps back to a typed error."""

from __future__ import annotations

from hub.errors import Conflict, InvalidInput


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


class DuplicateReport(Conflict):
    pass


class ReplayedNonce(Conflict):
    pass


class IdempotencyKeyInFlight(Conflict):
    """Another request with the same Idempotency-Key has not finished: the one case a client should retry."""
