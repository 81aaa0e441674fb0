"""Laboratories and certification bodies: accreditations, a lab's part of an agreement, signed measurements.

An OEM names, per characteristic or MTBF term of an agreement, an accredited lab (an organization of kind
``lab``) whose measurements a KPI-ZK proof must come from (tier T2). The lab measures a sample, commits to the
same aggregates KPI-ZK uses and signs a :class:`LabMeasurement` (envelope type :data:`LAB_MEASUREMENT_TYPE`);
the openings of its commitments go to the supplier sealed to the supplier's X25519 key
(:class:`SealedOpenings`), which the hub stores and cannot read. The supplier then proves CPK ≥ t (or
MTBF ≥ M) over exactly the commitments the lab signed (:mod:`protocol.zk.lab`).

Example:
    >>> from datetime import date
    >>> a = AccreditationCreate(scheme="ISO/IEC 17025", number="D-PL-12345-01", scope="dimensional metrology",
    ...                   valid_from=date(2024, 1, 1), valid_until=date(2029, 1, 1))
    >>> a.covers(date(2026, 11, 30)), a.covers(date(2030, 1, 1))
    (True, False)
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, field_validator, model_validator

from protocol.models.common import CODE_PATTERN, KpiName, WireDecimal, WireModel
from protocol.periods import PeriodStr
from protocol.signing import SignedEnvelope

LAB_MEASUREMENT_TYPE = "lab-measurement"
"""The signed-envelope ``type`` of a lab's measurement attestation.

Example:
    >>> LAB_MEASUREMENT_TYPE
    'lab-measurement'
"""

LAB_MEASUREMENT_VERSION = "QX-LAB/1"
"""The version of the :class:`LabMeasurement` payload.

Example:
    >>> LAB_MEASUREMENT_VERSION
    'QX-LAB/1'
"""

_B64_POINT = r"^[A-Za-z0-9_-]{64}$"  # a 48-byte compressed G1 point, base64url without padding
_B64_KEY = r"^[A-Za-z0-9_-]{43}$"  # 32 bytes, base64url without padding


class AccreditationCreate(WireModel):
    """An accreditation the network's operator records for a lab: scheme, number, scope and validity.

    Example:
        >>> AccreditationCreate(scheme="ISO/IEC 17025", number="17025-001", scope="CMM", valid_from="2025-01-01",
        ...                     valid_until="2027-01-01").scheme
        'ISO/IEC 17025'
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scheme": "ISO/IEC 17025",
                    "number": "D-PL-17025-01",
                    "scope": "dimensional metrology (CMM); endurance testing",
                    "valid_from": "2025-01-01",
                    "valid_until": "2027-12-31",
                }
            ]
        }
    )

    scheme: str = Field(min_length=1, max_length=100)
    number: str = Field(min_length=1, max_length=100)
    scope: str = Field(min_length=1, max_length=1000)
    valid_from: date
    valid_until: date

    @model_validator(mode="after")
    def _ordered(self) -> AccreditationCreate:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        return self

    def covers(self, day: date) -> bool:
        """True when ``day`` lies within the validity (both ends included).

        Example:
            >>> AccreditationCreate(scheme="s", number="n", scope="x", valid_from="2025-01-01",
            ...                     valid_until="2025-12-31").covers(date(2025, 12, 31))
            True
        """
        return self.valid_from <= day <= self.valid_until


class Accreditation(AccreditationCreate):
    """A recorded accreditation of a lab.

    Example:
        >>> import uuid
        >>> Accreditation(id=uuid.UUID(int=1), lab_id=uuid.UUID(int=2), scheme="s", number="n", scope="x",
        ...               valid_from="2025-01-01", valid_until="2026-01-01",
        ...               recorded_at="2025-01-01T00:00:00Z").number
        'n'
    """

    id: UUID
    lab_id: UUID
    recorded_at: datetime


class LabTermRef(WireModel):
    """One term of an agreement a lab is named for: a characteristic (its limits and resolution, which the lab
    needs to scale its measurements) or the MTBF term of a part.

    Example:
        >>> LabTermRef(kind="mtbf", part_number="A-1").characteristic is None
        True
    """

    kind: Literal["characteristic", "mtbf"]
    part_number: str = Field(pattern=CODE_PATTERN)
    characteristic: str | None = Field(default=None, pattern=CODE_PATTERN)
    unit: str | None = None
    lsl: WireDecimal | None = None
    usl: WireDecimal | None = None
    resolution: WireDecimal | None = None


class LabAssignment(WireModel):
    """What a lab sees of an agreement it is named in: the parties, the period, validity and its own terms —
    never a threshold, a KPI value, a standing or genealogy.

    ``status`` is the lab's own answer (``proposed`` until it accepts or declines); ``agreement_status`` the
    agreement's (the supplier's acceptance).

    Example:
        >>> import uuid
        >>> LabAssignment(agreement_id=uuid.UUID(int=1), oem_id=uuid.UUID(int=2), supplier_id=uuid.UUID(int=3),
        ...               lab_id=uuid.UUID(int=4), title="t", period="week", valid_from="2026-01-01",
        ...               agreement_status="active", status="proposed", terms=[]).status
        'proposed'
    """

    agreement_id: UUID
    oem_id: UUID
    supplier_id: UUID
    lab_id: UUID
    title: str
    period: str
    valid_from: date
    valid_until: date | None = None
    agreement_status: str
    status: Literal["proposed", "accepted", "declined"]
    decided_at: datetime | None = None
    terms: list[LabTermRef]


class SupplierKey(WireModel):
    """The supplier's X25519 key the lab seals the openings to (the hub lists it; it cannot use it).

    Example:
        >>> SupplierKey(key_id="k", public_key="A" * 43).key_id
        'k'
    """

    key_id: str
    public_key: str = Field(pattern=_B64_KEY)


class LabMeasurementContext(WireModel):
    """What a lab binds one measurement to: this hub, the supplier, agreement, part, characteristic, KPI,
    period and the hub's nonce for that period (the same nonce the supplier's proof is bound to), and the
    characteristic's limits; plus the supplier's X25519 key for the openings.

    Example:
        >>> import uuid
        >>> LabMeasurementContext(hub="h", lab_id=uuid.UUID(int=1), supplier_id=uuid.UUID(int=2),
        ...                       agreement_id=uuid.UUID(int=3), part_number="A", kpi="mtbf", period="2026-11",
        ...                       nonce="n").characteristic
        ''
    """

    hub: str
    lab_id: UUID
    supplier_id: UUID
    agreement_id: UUID
    part_number: str
    characteristic: str = ""
    kpi: KpiName
    period: PeriodStr
    nonce: str
    lsl: WireDecimal | None = None
    usl: WireDecimal | None = None
    resolution: WireDecimal | None = None
    supplier_key: SupplierKey | None = None


class LabMeasurement(WireModel):
    """The payload of a lab's signed measurement attestation (envelope type :data:`LAB_MEASUREMENT_TYPE`).

    ``commitments`` are Pedersen commitments (base64url G1 points) to the aggregates KPI-ZK commits to: for
    ``cpk_at_least`` S1, S2 and S1sq (overall sigma) or P, S1, S2 and T (pooled, the subgroup layout in
    ``inputs``); for ``mtbf_at_least`` T (test hours in units of ``resolution``) and r (failures). ``inputs``
    holds the statement's data inputs the lab fixed: ``n``, ``sigma``, ``subgroups``, ``lsl``, ``usl``,
    ``resolution`` (CPK; canonical decimal texts as the proof writes them) or ``resolution`` (MTBF).
    ``lab_public_key`` is the raw Ed25519 key the envelope is signed with (its thumbprint is the envelope's
    ``key_id``), so a proof file can be checked offline; the hub checks it is an active key of ``lab_id``.

    Example:
        >>> import uuid
        >>> m = LabMeasurement(lab_id=uuid.UUID(int=1), lab_public_key="A" * 43, hub="h",
        ...                    supplier_id=uuid.UUID(int=2), agreement_id=uuid.UUID(int=3), part_number="A-1",
        ...                    kpi="mtbf", period="2026-11", nonce="n", lots=["L1"], measured_on="2026-11-20",
        ...                    method="IEC 60068-2 endurance", instrument="rig 4", statement="mtbf_at_least",
        ...                    inputs={"resolution": "0.001"}, commitments={})
        >>> m.version, m.characteristic
        ('QX-LAB/1', '')
    """

    version: Literal["QX-LAB/1"] = "QX-LAB/1"
    lab_id: UUID
    lab_public_key: str = Field(pattern=_B64_KEY)
    hub: str = Field(min_length=1, max_length=500)
    supplier_id: UUID
    agreement_id: UUID
    part_number: str = Field(pattern=CODE_PATTERN)
    characteristic: str = Field(default="", max_length=64)
    kpi: KpiName
    period: PeriodStr
    nonce: str = Field(min_length=1, max_length=128)
    lots: list[str] = Field(min_length=1, max_length=100)
    measured_on: date
    method: str = Field(min_length=1, max_length=200)
    instrument: str = Field(min_length=1, max_length=200)
    statement: Literal["cpk_at_least", "mtbf_at_least"]
    inputs: dict[str, int | str]
    commitments: dict[str, str] = Field(max_length=8)

    @field_validator("commitments")
    @classmethod
    def _points(cls, value: dict[str, str]) -> dict[str, str]:
        for name, point in value.items():
            if not re.fullmatch(_B64_POINT, point):
                raise ValueError(f"commitment {name} is not a base64url 48-byte point")
        return value

    @field_validator("lots")
    @classmethod
    def _lots(cls, value: list[str]) -> list[str]:
        for lot in value:
            if not re.fullmatch(CODE_PATTERN, lot):
                raise ValueError(f"lot {lot!r} is not a lot code")
        return value


class SealedOpenings(WireModel):
    """The openings of a measurement's commitments, encrypted for the supplier: a random data key wraps the
    openings (AES-256-GCM, the rooms' chunked format), the data key is wrapped to the supplier's X25519 key
    (``X25519-HKDF-SHA256-AES256GCM``, as room data keys are), bound to the agreement and ``measurement_id``.

    Example:
        >>> import uuid
        >>> SealedOpenings(measurement_id=uuid.UUID(int=1), recipient_key_id="k", ephemeral_public_key="A" * 43,
        ...                wrapped_key="A" * 64, ciphertext="AA").algorithm
        'X25519-HKDF-SHA256-AES256GCM'
    """

    measurement_id: UUID
    recipient_key_id: str = Field(min_length=1, max_length=64)
    ephemeral_public_key: str = Field(pattern=_B64_KEY)
    wrapped_key: str = Field(pattern=r"^[A-Za-z0-9_-]{64}$")
    algorithm: Literal["X25519-HKDF-SHA256-AES256GCM"] = "X25519-HKDF-SHA256-AES256GCM"
    ciphertext: str = Field(min_length=2, max_length=2_000_000, pattern=r"^[A-Za-z0-9_-]+$")


# A reliability lab's measurement as the SDK signs and seals it (throwaway Ed25519 and X25519 keys; ids as in
# the other examples), for the API's examples.
_LAB_MEASUREMENT_EXAMPLE: dict[str, Any] = {
    "envelope": {
        "type": "lab-measurement",
        "key_id": "1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y",
        "signed_at": "2026-12-07T13:16:14.338622Z",
        "nonce": "0wd3y3SI5ZEu4nIfI7pxnw",
        "payload": {
            "agreement_id": "2c7d9e1f-3a4b-4c5d-8e6f-708192a3b4c5",
            "characteristic": "",
            "commitments": {
                "T": "rb-fcs903GgLiI0-r7MzcAY391o2XthlR7rv2BzobrUuz-4B50XKT_obFrxxwE0b",
                "r": "oMYbl6XGM7zbu4QgpTMU1RNMuNHB9lS-RFyYkeMlWXPPLfxtD3B9G5osQCr9ke9B",
            },
            "hub": "https://hub.example",
            "inputs": {"resolution": "0.001"},
            "instrument": "rig 4",
            "kpi": "mtbf",
            "lab_id": "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "lab_public_key": "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg",
            "lots": ["L-9"],
            "measured_on": "2026-11-20",
            "method": "IEC 60068-2-6 endurance",
            "nonce": "AAECAwQFBgcICQoLDA0ODw",
            "part_number": "SH-4410",
            "period": "2026-W47",
            "statement": "mtbf_at_least",
            "supplier_id": "6f1e2d3c-4b5a-4e69-9788-a1b2c3d4e5f6",
            "version": "QX-LAB/1",
        },
        "signature": "hOXV_T6dVUwDNDlXvA5rvJ--19HSH4CRFYgbYsmWMjhEcLpNGn0QkRqWEJWEAcvp9qn63KrJ1Azp6JK8wPV5Aw",
    },
    "sealed_openings": {
        "measurement_id": "0193a7c0-0000-7000-8000-00000000004d",
        "recipient_key_id": "enc-1",
        "ephemeral_public_key": "iucL6AtEtAPIAaWj4OgEIxAPc7EmiQQQ0RWXvGilSWY",
        "wrapped_key": "bCccCCSYwz5Cqb4IQ7xGcJFxEOB4GpDNYd0mS_Cps8YWC3WPDMKXpdILivsyMzG6",
        "algorithm": "X25519-HKDF-SHA256-AES256GCM",
        "ciphertext": "UVhSRAEAEAAAjXPedZ6-IeSywMfDsOox4_gbQhVCXHa1j7ZqRwZfz14Ju6-SdOIBBWd6wdDT9JuL2ZbPf3w58EhP9AH3t6bhIZRZTr7k-5-etaspDPBmi_YFeyrt4vTNg8oMlvHS7RCd2P-18CTUCI5fOf0sSkib1N2_CeF1teQthXpyr_MoMmAex_nxC9r3OKycslACyGgzxBKQQ17BKdzh3Ki8q29b_-TVHlY2A6QPHb3WK-PV7uEdJ3AOrxD6hl3vFmRdznYPb36feDMTV5vxEJcTHtWHAc-8NZvTTyqxATyeLbfDrI6O8ntX-rT3bxvaCTAMFPVbuzS0GhfFtAsUXyEU5gVivuxBP5mozK0rc7yl-ZcsDFfpJ32P0WSEWZNlNCpWYPXQGFpEOx4B9iXJTU1Ql7ImwnYtSVmG37F2z2EUHg8JGhqjYj3yFA",
    },
}


class LabMeasurementSubmit(WireModel):
    """The body of ``POST /v1/lab/measurements``: the signed attestation and the sealed openings.

    Example:
        >>> LabMeasurementSubmit.model_fields["sealed_openings"].is_required()
        True
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_LAB_MEASUREMENT_EXAMPLE]})

    envelope: SignedEnvelope
    sealed_openings: SealedOpenings


class LabMeasurementRecord(WireModel):
    """A lab measurement as the hub keeps it: for the supplier (with its sealed openings) and the lab that
    issued it. ``digest`` is what a T2 proof names in its public input ``lab_attestation``.

    Example:
        >>> LabMeasurementRecord.model_fields["digest"].is_required()
        True
    """

    id: UUID
    lab_id: UUID
    lab_name: str
    supplier_id: UUID
    agreement_id: UUID
    part_number: str
    characteristic: str
    kpi: KpiName
    period: str
    measured_on: date
    digest: str
    model_config = ConfigDict(json_schema_extra={"examples": [_LAB_MEASUREMENT_EXAMPLE]})

    envelope: SignedEnvelope
    sealed_openings: SealedOpenings
    received_at: datetime


class LabProvenance(WireModel):
    """Where the measurements behind a T2 proof came from, as a KPI report's reader sees it (no value).

    Example:
        >>> import uuid
        >>> LabProvenance(lab_id=uuid.UUID(int=1), lab_name="Metrology AB", measured_on="2026-11-20").lab_name
        'Metrology AB'
    """

    lab_id: UUID
    lab_name: str
    measured_on: date


__all__ = [
    "LAB_MEASUREMENT_TYPE",
    "LAB_MEASUREMENT_VERSION",
    "Accreditation",
    "AccreditationCreate",
    "LabAssignment",
    "LabMeasurement",
    "LabMeasurementContext",
    "LabMeasurementRecord",
    "LabMeasurementSubmit",
    "LabProvenance",
    "LabTermRef",
    "SealedOpenings",
    "SupplierKey",
]
