"""Rules that read certificates: CEL functions over the certificates a supplier shared with the OEM.

| function | type | meaning |
|---|---|---|
| ``certificate_valid("IATF 16949")`` | bool | a certificate of that standard is active and within its validity now |
| ``days_to_expiry("IATF 16949")`` | int | whole days until the longest-valid one expires; -1 when none is valid |
| ``certificate_status("IATF 16949")`` | string | ``valid``, else the newest one's ``suspended``, ``withdrawn``, ``expired`` or ``pending`` (not yet valid); ``none`` when none is shared |

The argument must be a string literal naming a standard of :data:`protocol.credentials.STANDARDS`, checked on
save. A condition that calls them is a **certificate rule**: it is judged per supplier, not per period — on each
event of a certificate shared with the OEM and in the daily sweep — and fires when it starts to hold (a
withdrawn certificate fires it once). It reads no series function; the period variables hold a neutral period
(``met`` true, ``missing`` false), so a certificate rule should not read them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from hub.certificates.facts import NO_CERTIFICATE, StandardFacts
from protocol.credentials import STANDARDS

FUNCTIONS = ("certificate_valid", "days_to_expiry", "certificate_status")
_NAME = re.compile(r"\b(certificate_valid|days_to_expiry|certificate_status)\b")
_CALL = re.compile(r'\b(certificate_valid|days_to_expiry|certificate_status)\s*\(\s*"([^"\\]*)"\s*\)')

NEUTRAL_PERIOD: dict[str, Any] = {
    "kpi": "",
    "met": True,
    "missing": False,
    "has_value": False,
    "value": 0.0,
    "threshold": 0.0,
    "part": "",
    "characteristic": "",
    "period": "",
}


class CertificateCallError(ValueError):
    """A certificate function called wrongly; ``offset`` is where in the condition."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def calls(expression: str) -> list[tuple[str, str]]:
    """Each certificate function call in ``expression`` (name, standard); raises CertificateCallError."""
    found = [(m.group(1), m.group(2), m.start()) for m in _CALL.finditer(expression)]
    well_formed = {offset for _, _, offset in found}
    for match in _NAME.finditer(expression):
        if match.start() not in well_formed:
            raise CertificateCallError(
                f'{match.group(1)} takes one standard as a string literal, e.g. {match.group(1)}("IATF 16949")',
                match.start(),
            )
    for name, standard, offset in found:
        if standard not in STANDARDS:
            raise CertificateCallError(
                f"{name}: unknown standard {standard!r}; known: {', '.join(STANDARDS)}", offset
            )
    return [(name, standard) for name, standard, _ in found]


def reads_certificates(expression: str) -> bool:
    return bool(_NAME.search(expression))


def bound(facts: Mapping[str, StandardFacts]) -> dict[str, Callable[..., Any]]:
    """The certificate functions over one supplier's facts (per standard)."""

    def of(standard: str) -> StandardFacts:
        return facts.get(str(standard), NO_CERTIFICATE)

    return {
        "certificate_valid": lambda standard: of(standard).status == "valid",
        "days_to_expiry": lambda standard: of(standard).days_to_expiry,
        "certificate_status": lambda standard: of(standard).status,
    }


SAMPLE_FACTS: list[dict[str, StandardFacts]] = [
    {},
    {standard: StandardFacts("valid", 400) for standard in STANDARDS},
    {standard: StandardFacts("withdrawn", -1) for standard in STANDARDS},
]
"""Facts a certificate rule's condition must give a bool for before it is saved."""
