"""Certificates on the wire: a certifier issues a signed credential, a supplier shares it, an OEM reads it.

The certificate itself is a W3C Verifiable Credential secured with ``eddsa-jcs-2022``
(:mod:`protocol.credentials`); the hub checks its proof over the canonical bytes, stores it as signed, and keeps
beside it what the credential cannot say: its status (``active``, ``suspended``, ``withdrawn``; a certificate past
``valid_until`` reads ``expired``), who it is shared with, and when the status changed.

Example:
    >>> CertificateStatus("suspended").value
    'suspended'
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ConfigDict, Field

from protocol.credentials import AuditResult, CertificateClaims, Standard, add_proof, credential_for, did_key
from protocol.models.common import WireModel

# An example certificate for the API's documentation, signed by the all-zero test key (never a real issuer).
_EXAMPLE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))
_EXAMPLE_CREDENTIAL = add_proof(
    credential_for(
        CertificateClaims(
            standard="IATF 16949",
            number="IATF-0412345",
            scope="machining and assembly of brake calipers",
            supplier_id=UUID("0193a0c4-0000-7000-8000-000000000042"),
            site_id="plant-gy",
            site_name="Győr plant",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=datetime(2029, 1, 1, tzinfo=UTC),
        ),
        issuer=did_key(_EXAMPLE_KEY),
        credential_id=UUID("0193a0c4-0000-7000-8000-0000000000c1"),
    ),
    _EXAMPLE_KEY,
    created=datetime(2026, 1, 2, tzinfo=UTC),
)

CERTIFICATE_EVENT_TYPES = (
    "certificate.issued",
    "certificate.shared",
    "certificate.unshared",
    "certificate.suspended",
    "certificate.reinstated",
    "certificate.withdrawn",
    "certificate.expiring",
)
"""Events about a certificate; the payload is the :class:`Certificate` as the recipient reads it (without the
credential). The certifier and the supplier learn every change, and so does each OEM it is shared with.

Example:
    >>> "certificate.withdrawn" in CERTIFICATE_EVENT_TYPES
    True
"""


class CertificateStatus(StrEnum):
    """What the certifier says of a certificate now; ``expired`` is read from ``valid_until``, never set.

    Example:
        >>> [s.value for s in CertificateStatus]
        ['active', 'suspended', 'withdrawn', 'expired']
    """

    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class CertificateIssue(WireModel):
    """The request a certifier sends: the credential with its proof by one of the certifier's signing keys.

    Example:
        >>> CertificateIssue(credential={"type": ["VerifiableCredential"]}).credential["type"]
        ['VerifiableCredential']
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"credential": _EXAMPLE_CREDENTIAL}]})

    credential: dict[str, Any]


class CertificateShare(WireModel):
    """Which customer (an OEM) a supplier shares a certificate with, or stops sharing it with.

    Example:
        >>> CertificateShare(oem_id=UUID(int=1)).oem_id.int
        1
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"oem_id": "0193a0c4-0000-7000-8000-0000000000e1"}]}
    )

    oem_id: UUID


class CertificateStatusChange(WireModel):
    """Why a certifier suspends, reinstates or withdraws a certificate (shown to every entitled party).

    Example:
        >>> CertificateStatusChange(reason="surveillance audit missed").reason
        'surveillance audit missed'
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "surveillance audit not held in time"}]}
    )

    reason: str = Field(default="", max_length=1000)


class Certificate(WireModel):
    """A certificate as the hub keeps it. ``shared_with`` is shown to the supplier and the certifier only; an OEM
    reads ``[]``. ``credential`` is the signed credential, to be verified offline by anyone.

    Example:
        >>> sorted(Certificate.model_fields)[:4]
        ['audit_result', 'certificate_id', 'certifier_id', 'certifier_name']
    """

    certificate_id: UUID
    credential_id: str
    certifier_id: UUID
    certifier_name: str
    supplier_id: UUID
    standard: Standard
    number: str
    scope: str
    site_id: str
    site_name: str
    valid_from: datetime
    valid_until: datetime
    audit_result: AuditResult | None = None
    status: CertificateStatus
    status_reason: str = ""
    status_changed_at: datetime
    issued_at: datetime
    shared_with: list[UUID] = Field(default_factory=list)
    credential: dict[str, Any] | None = None


CertificateAction = Literal["suspend", "reinstate", "withdraw"]
"""A certifier's status change of a certificate.

Example:
    >>> from typing import get_args
    >>> get_args(CertificateAction)
    ('suspend', 'reinstate', 'withdraw')
"""

__all__ = [
    "CERTIFICATE_EVENT_TYPES",
    "Certificate",
    "CertificateAction",
    "CertificateIssue",
    "CertificateShare",
    "CertificateStatus",
    "CertificateStatusChange",
]
