"""KPI reports: what a supplier signs and submits for one KPI of one part (characteristic) and period.

The supplier builds a :class:`KpiReportPayload`, signs it into a :class:`~protocol.signing.SignedEnvelope`
of type :data:`KPI_REPORT_TYPE` and posts it as a :class:`KpiReportSubmit`; the hub answers reads with
:class:`KpiReport`. Values are decimals (strings on the wire), never binary floats. Whether the claim's
value agrees with ``meets`` and with the agreement's threshold is the hub's check, not the model's.

Example:
    >>> from uuid import UUID
    >>> payload = KpiReportPayload(
    ...     supplier_id=UUID(int=1), oem_id=UUID(int=2), agreement_id=UUID(int=3),
    ...     part_number="A-100", characteristic="DIA-01", period="2026-W48", kpi="cpk",
    ...     claim=KpiClaim(meets=True, value="1.4567", threshold="1.33", sample_size=125),
    ...     sdk_version="0.1.0")
    >>> payload.model_dump(mode="json")["claim"]
    {'meets': True, 'value': '1.4567', 'threshold': '1.33', 'sample_size': 125, 'subgroups': None}
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

from protocol.encoding import b64url_decode
from protocol.models.common import (
    CODE_PATTERN,
    MAX_INT32,
    DisclosureMode,
    KpiName,
    StoredDecimal,
    WireModel,
)
from protocol.models.labs import LabProvenance
from protocol.periods import PeriodStr
from protocol.signing import SignedEnvelope

KPI_REPORT_TYPE = "kpi-report"
"""The envelope ``type`` of a signed KPI report.

Example:
    >>> KPI_REPORT_TYPE
    'kpi-report'
"""

KPI_VALUE_PLACES = 4
"""Most decimal places a claimed KPI value may carry (use :func:`round_kpi_value`).

Example:
    >>> KpiClaim(meets=True, value="1.23456", threshold="1.33")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for KpiClaim
    ...
"""

POINT_BYTES = 48
"""Length of a compressed BLS12-381 G1 point: every commitment is one, base64url encoded.

Example:
    >>> len(b64url_decode("wA" + "A" * 62))
    48
"""

MAX_COMMITMENTS = 4096
"""Most commitments one report may carry (T2/T3 tiers commit every measurement).

Example:
    >>> MAX_COMMITMENTS
    4096
"""

_CAPABILITY_KPIS = frozenset({KpiName.CPK, KpiName.PPK})


def round_kpi_value(value: Decimal | int | str, *, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round a computed KPI value to :data:`KPI_VALUE_PLACES` places (half to even unless told otherwise).

    Example:
        >>> round_kpi_value(Decimal("1.456749")), round_kpi_value("2.00005"), round_kpi_value(3)
        (Decimal('1.4567'), Decimal('2.0000'), Decimal('3.0000'))
    """
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"a KPI value must be finite, not {value!r}")
    with localcontext() as context:
        context.prec = max(28, number.adjusted() + KPI_VALUE_PLACES + 2)
        return number.quantize(Decimal(1).scaleb(-KPI_VALUE_PLACES), rounding=rounding)


class KpiClaim(WireModel):
    """What the supplier claims for one KPI: whether it meets the threshold, and (if disclosed) the value.

    ``value`` is ``None`` when the disclosure mode hides it and carries at most four decimal places;
    ``threshold`` is the agreement's threshold; ``sample_size`` (at least 2) and ``subgroups`` describe the
    data behind a capability index. Booleans and integers are strict (``"true"`` or ``2.0`` are refused).

    Example:
        >>> KpiClaim(meets=False, value="1.2100", threshold="1.33", sample_size=50, subgroups=10).value
        Decimal('1.2100')
    """

    meets: StrictBool
    value: StoredDecimal | None = None
    threshold: StoredDecimal
    sample_size: StrictInt | None = Field(default=None, ge=2, le=MAX_INT32)
    subgroups: StrictInt | None = Field(default=None, ge=1, le=MAX_INT32)

    @field_validator("value")
    @classmethod
    def _places(cls, value: Decimal | None) -> Decimal | None:
        exponent = None if value is None else value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -KPI_VALUE_PLACES:
            raise ValueError(f"value carries more than {KPI_VALUE_PLACES} decimal places; round it first")
        return value

    @field_validator("threshold")
    @classmethod
    def _non_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("threshold must not be negative")
        return value

    @model_validator(mode="after")
    def _subgroups_fit(self) -> KpiClaim:
        if self.subgroups is not None and self.sample_size is not None and self.subgroups > self.sample_size:
            raise ValueError("subgroups cannot outnumber the samples (sample_size)")
        return self


class KpiReportPayload(WireModel):
    """The signed content of a KPI report (envelope type ``kpi-report``).

    ``characteristic`` names the measured characteristic for capability KPIs (CPK, PPK, required there) and
    is ``None`` for part-level KPIs such as MTBF. ``commitments`` are Pedersen commitments (48-byte BLS12-381
    G1 points, base64url) and ``proof`` the KPI-ZK proof, whose typed model comes with the ZK work;
    ``hub_nonce`` is the nonce the hub issued for this report, when it asked for one. ``lab_attestation`` is
    the lab's signed measurement a tier-T2 proof is made over (:mod:`protocol.zk.lab`), when the agreement
    names a lab for the characteristic or MTBF term.

    Example:
        >>> from uuid import UUID
        >>> KpiReportPayload(
        ...     supplier_id=UUID(int=1), oem_id=UUID(int=2), agreement_id=UUID(int=3), part_number="A-100",
        ...     period="2026-11", kpi="mtbf", claim=KpiClaim(meets=True, threshold="5000"),
        ...     sdk_version="0.1.0",
        ... ).characteristic is None
        True
    """

    protocol: Literal["QX/1"] = "QX/1"
    supplier_id: UUID
    oem_id: UUID
    agreement_id: UUID
    part_number: str = Field(pattern=CODE_PATTERN)
    characteristic: str | None = Field(default=None, pattern=CODE_PATTERN)
    period: PeriodStr
    kpi: KpiName
    claim: KpiClaim
    commitments: list[str] = Field(default_factory=list, max_length=MAX_COMMITMENTS)
    proof: dict[str, Any] | None = None
    hub_nonce: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._~-]{8,128}$")
    lab_attestation: SignedEnvelope | None = None
    sdk_version: str = Field(pattern=r"^[\x21-\x7e]{1,64}$")

    @field_validator("commitments")
    @classmethod
    def _points(cls, value: list[str]) -> list[str]:
        for index, text in enumerate(value):
            try:
                size = len(b64url_decode(text))
            except ValueError as exc:
                raise ValueError(f"commitments[{index}] is not base64url: {exc}") from exc
            if size != POINT_BYTES:
                raise ValueError(f"commitments[{index}] must be a {POINT_BYTES}-byte point, got {size} bytes")
        return value

    @model_validator(mode="after")
    def _characteristic_for_capability(self) -> KpiReportPayload:
        if self.kpi in _CAPABILITY_KPIS and self.characteristic is None:
            raise ValueError(f"characteristic is required for {self.kpi.value}")
        return self


# A KPI report as the SDK signs it (a throwaway key; ids as in the other examples), for the API's examples.
_KPI_REPORT_EXAMPLE: dict[str, Any] = {
    "type": "kpi-report",
    "key_id": "1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y",
    "signed_at": "2026-11-23T08:30:00Z",
    "nonce": "AAECAwQFBgcICQoLDA0ODw",
    "payload": {
        "agreement_id": "2c7d9e1f-3a4b-4c5d-8e6f-708192a3b4c5",
        "characteristic": "DIA-01",
        "claim": {"meets": True, "sample_size": 125, "subgroups": 25, "threshold": "1.33", "value": "1.4100"},
        "commitments": [],
        "kpi": "cpk",
        "oem_id": "0b9a3c1e-5d2f-4a67-8e10-3f4b5c6d7e81",
        "part_number": "SH-4410",
        "period": "2026-W47",
        "protocol": "QX/1",
        "sdk_version": "qualink-sdk/0.1.0",
        "supplier_id": "6f1e2d3c-4b5a-4e69-9788-a1b2c3d4e5f6",
    },
    "signature": "77XXnraZcw9VEcdaG82m8KmYTLcfaGauewJ67Ppw24K0NzdOmt0vxNHlTZT7fK6zsj7Lw9gZjwJkLyENZBWFAw",
}


class KpiReportSubmit(WireModel):
    """The body of ``POST`` a KPI report: the signed envelope, whose type must be ``kpi-report``.

    Example:
        >>> from protocol.signing import generate_signing_key, sign_envelope
        >>> envelope = sign_envelope({"n": 1}, type="ping", private_key=generate_signing_key())
        >>> KpiReportSubmit(envelope=envelope)
        Traceback (most recent call last):
        ...
        pydantic_core._pydantic_core.ValidationError: 1 validation error for KpiReportSubmit
        envelope
          Value error, envelope type must be 'kpi-report', not 'ping' ...
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"envelope": _KPI_REPORT_EXAMPLE}]})

    envelope: SignedEnvelope

    @field_validator("envelope")
    @classmethod
    def _kpi_report(cls, value: SignedEnvelope) -> SignedEnvelope:
        if value.type != KPI_REPORT_TYPE:
            raise ValueError(f"envelope type must be {KPI_REPORT_TYPE!r}, not {value.type!r}")
        return value

    def report_payload(self) -> KpiReportPayload:
        """Parse the envelope's payload as a :class:`KpiReportPayload` (raises ``ValidationError``).

        Check the signature over ``envelope`` itself (:func:`~protocol.signing.verify_envelope`): the
        parsed model is a reading of the signed JSON, not the bytes that were signed.

        Example:
            >>> from uuid import UUID
            >>> from protocol.signing import generate_signing_key, sign_envelope
            >>> payload = KpiReportPayload(
            ...     supplier_id=UUID(int=1), oem_id=UUID(int=2), agreement_id=UUID(int=3), part_number="A-1",
            ...     period="2026-11", kpi="ppm", claim=KpiClaim(meets=True, threshold="50"),
            ...     sdk_version="0.1")
            >>> envelope = sign_envelope(payload, type="kpi-report", private_key=generate_signing_key())
            >>> KpiReportSubmit(envelope=envelope).report_payload() == payload
            True
        """
        return KpiReportPayload.model_validate(self.envelope.payload)


class KpiReport(WireModel):
    """An accepted KPI report as the hub returns it to a reader.

    ``value`` is ``None`` when the agreement's disclosure mode hides it from the reader; ``key_id`` and
    ``signed_at`` come from the supplier's envelope, ``received_at`` is when the hub accepted it.

    Example:
        >>> from uuid import UUID
        >>> from datetime import UTC
        >>> at = datetime(2026, 12, 1, tzinfo=UTC)
        >>> report = KpiReport(
        ...     id=UUID(int=9), supplier_id=UUID(int=1), oem_id=UUID(int=2), agreement_id=UUID(int=3),
        ...     part_number="A-100", characteristic="DIA-01", period="2026-W48", kpi="cpk", meets=True,
        ...     value=None, threshold="1.33", disclosure="threshold", key_id="k1", signed_at=at,
        ...     received_at=at, has_proof=True, proven=True)
        >>> report.model_dump(mode="json")["value"] is None, report.proven
        (True, True)
    """

    id: UUID
    supplier_id: UUID
    oem_id: UUID
    agreement_id: UUID
    part_number: str
    characteristic: str | None
    period: PeriodStr
    kpi: KpiName
    meets: bool
    value: Decimal | None
    threshold: Decimal
    disclosure: DisclosureMode
    key_id: str
    signed_at: datetime
    received_at: datetime
    has_proof: bool
    proven: bool = False
    proven_by: LabProvenance | None = None


MAX_BATCH = 100
"""Most reports one ``POST /v1/kpi-reports:batch`` may carry.

Example:
    >>> MAX_BATCH
    100
"""


class KpiReportBatchItem(KpiReportSubmit):
    """One report of a batch: its signed envelope and the ``Idempotency-Key`` a single POST would carry.

    Example:
        >>> KpiReportBatchItem.model_fields["idempotency_key"].is_required()
        False
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"envelope": _KPI_REPORT_EXAMPLE, "idempotency_key": "SH-4410.DIA-01.cpk.2026-W47"}]
        }
    )

    idempotency_key: str | None = Field(default=None, pattern=r"^[\x21-\x7e]{1,200}$")


class KpiReportBatch(WireModel):
    """The body of ``POST /v1/kpi-reports:batch``: up to :data:`MAX_BATCH` reports, judged one by one.

    The hub verifies the batch's KPI-ZK proofs together (one multi-scalar multiplication with random weights)
    and stores each report that passes, as a single POST would; one report's refusal never affects another's.

    Example:
        >>> KpiReportBatch(items=[])
        Traceback (most recent call last):
        ...
        pydantic_core._pydantic_core.ValidationError: 1 validation error for KpiReportBatch
        ...
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"envelope": _KPI_REPORT_EXAMPLE, "idempotency_key": "SH-4410.DIA-01.cpk.2026-W47"}
                    ]
                }
            ]
        }
    )

    items: list[KpiReportBatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class KpiReportBatchResult(WireModel):
    """What became of one report of a batch: ``status`` is the HTTP status a single POST would have had.

    ``report`` is set for 201 (stored now, or ``replayed`` from an earlier request with the same key);
    ``error`` and ``detail`` name the refusal otherwise (``check`` the failed KPI-ZK check, if any).

    Example:
        >>> KpiReportBatchResult(index=0, status=422, error="ProofThresholdMismatch", detail="...").report is None
        True
    """

    index: int
    status: int
    report: KpiReport | None = None
    replayed: bool = False
    error: str | None = None
    detail: str | None = None
    check: str | None = None


class KpiReportBatchResults(WireModel):
    """The answer to a batch: one result per item, in the order sent.

    Example:
        >>> KpiReportBatchResults(results=[]).results
        []
    """

    results: list[KpiReportBatchResult]


__all__ = [
    "KPI_REPORT_TYPE",
    "KPI_VALUE_PLACES",
    "MAX_BATCH",
    "MAX_COMMITMENTS",
    "POINT_BYTES",
    "KpiClaim",
    "KpiReport",
    "KpiReportBatch",
    "KpiReportBatchItem",
    "KpiReportBatchResult",
    "KpiReportBatchResults",
    "KpiReportPayload",
    "KpiReportSubmit",
    "round_kpi_value",
]
