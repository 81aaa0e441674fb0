"""Enumerations and small value types shared by every QX/1 wire model."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """Base of every QX/1 model: unknown fields are refused, values are validated on assignment.

    Example:
        >>> class Ping(WireModel):
        ...     text: str
        >>> Ping(text="hi").text
        'hi'
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class OrgKind(StrEnum):
    """What an organization is in the network."""

    OEM = "oem"
    SUPPLIER = "supplier"
    LAB = "lab"
    OPERATOR = "operator"


class KpiName(StrEnum):
    """Quality KPIs a supply agreement can ask for."""

    CPK = "cpk"
    PPK = "ppk"
    MTBF = "mtbf"
    PPM = "ppm"


class DisclosureMode(StrEnum):
    """How much of a KPI value the OEM may see.

    ``threshold``: only "meets / does not meet" (proven in zero knowledge); ``value``: the value, bound to a
    commitment; ``value+proof``: the value and a proof that it meets the threshold.
    """

    THRESHOLD = "threshold"
    VALUE = "value"
    VALUE_AND_PROOF = "value+proof"


class PeriodKind(StrEnum):
    """Reporting period granularity: an ISO week (``2026-W48``) or a calendar month (``2026-11``)."""

    WEEK = "week"
    MONTH = "month"


class Comparator(StrEnum):
    """Direction in which a KPI is good: at least the threshold (CPK, MTBF) or at most (PPM)."""

    AT_LEAST = ">="
    AT_MOST = "<="


class KeyUse(StrEnum):
    """What an organization key is for: signing (Ed25519) or key wrapping (X25519)."""

    SIGNING = "sig"
    ENCRYPTION = "enc"


class KeyStatus(StrEnum):
    """Life cycle of an organization key. A retired key still verifies old signatures; a revoked one never."""

    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


class AgreementStatus(StrEnum):
    """A supply agreement is proposed by the OEM and takes effect only once the supplier accepts it."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    TERMINATED = "terminated"


class ClientAuthMethod(StrEnum):
    """How an API client authenticates at the token endpoint (RFC 7591 names)."""

    PRIVATE_KEY_JWT = "private_key_jwt"
    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name, not a secret


__all__ = [
    "AgreementStatus",
    "ClientAuthMethod",
    "Comparator",
    "DisclosureMode",
    "KeyStatus",
    "KeyUse",
    "KpiName",
    "OrgKind",
    "PeriodKind",
    "WireModel",
]
