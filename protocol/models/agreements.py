"""Supply agreements: what a supplier reports to an OEM, how often, against which thresholds, how openly."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StrictInt, model_validator

from protocol.models.common import (
    AgreementStatus,
    Comparator,
    DisclosureMode,
    KpiName,
    PeriodKind,
    StoredDecimal,
    WireDecimal,
    WireModel,
)

_CODE = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"


class PartRef(WireModel):
    """A part number covered by an agreement (the customer's part id; the supplier's may differ).

    Example:
        >>> PartRef(part_number="A-100", name="Shaft").part_number
        'A-100'
    """

    part_number: str = Field(pattern=_CODE)
    name: str = Field(default="", max_length=200)
    supplier_part_number: str | None = Field(default=None, pattern=_CODE)


class Characteristic(WireModel):
    """A measured characteristic of a part with its specification limits, in stated units.

    Limits are decimals (strings on the wire), never binary floats. ``resolution`` is the measurement
    resolution in the same unit; zero-knowledge proofs scale values by it.

    Example:
        >>> c = Characteristic(code="DIA-01", part_number="A-100", unit="mm", lsl="9.95", usl="10.05")
        >>> c.usl - c.lsl
        Decimal('0.10')
    """

    code: str = Field(pattern=_CODE)
    part_number: str = Field(pattern=_CODE)
    name: str = Field(default="", max_length=200)
    unit: str = Field(min_length=1, max_length=20)
    lsl: WireDecimal | None = None
    usl: WireDecimal | None = None
    target: WireDecimal | None = None
    resolution: WireDecimal = Decimal("0.001")
    lab_id: UUID | None = None
    """The accredited lab whose measurements a KPI-ZK proof for this characteristic must come from (tier T2)."""

    @model_validator(mode="after")
    def _limits_make_sense(self) -> Characteristic:
        for name in ("lsl", "usl", "target", "resolution"):
            value = getattr(self, name)
            if value is not None and not value.is_finite():
                raise ValueError(f"{name} must be a finite decimal")
        if self.lsl is None and self.usl is None:
            raise ValueError("a characteristic needs at least one specification limit (lsl or usl)")
        if self.lsl is not None and self.usl is not None and self.lsl >= self.usl:
            raise ValueError("lsl must be below usl")
        if self.resolution <= 0:
            raise ValueError("resolution must be positive")
        return self


MtbfProofForm = Literal["point", "chi2_lower"]
"""How a KPI-ZK MTBF proof reads the test: ``"point"`` (T ≥ M·max(r, 1)) or ``"chi2_lower"`` (the chi-square
lower bound 2T/χ²(C; 2r+2) ≥ M at confidence C).

Example:
    >>> KpiTerm(kpi=KpiName.MTBF, threshold="50000", mtbf_proof_form="point").mtbf_proof_form
    'point'
"""


class KpiTerm(WireModel):
    """One KPI the supplier must report, the threshold it must meet, and what the OEM may see of it.

    For MTBF the OEM may fix how a KPI-ZK proof reads the test: ``mtbf_proof_form`` (``"point"`` or
    ``"chi2_lower"``) and, for ``"chi2_lower"``, ``confidence`` (a decimal in [0.5, 1)). The hub then accepts
    only proofs with that form and confidence. Left unset, the hub accepts the point form, or the chi-square
    form at a confidence of at least 0.6 (a prover-chosen low confidence would make the bound trivially high).

    Example:
        >>> KpiTerm(kpi=KpiName.CPK, threshold="1.33", disclosure=DisclosureMode.THRESHOLD).comparator
        <Comparator.AT_LEAST: '>='>
        >>> KpiTerm(kpi=KpiName.MTBF, threshold="50000", mtbf_proof_form="chi2_lower", confidence="0.9").confidence
        Decimal('0.9')
    """

    kpi: KpiName
    threshold: StoredDecimal  # copied into each period's outcome, a NUMERIC(20, 4) column
    disclosure: DisclosureMode = DisclosureMode.VALUE
    comparator: Comparator | None = None
    mtbf_proof_form: MtbfProofForm | None = None
    confidence: WireDecimal | None = None
    lab_id: UUID | None = None
    """MTBF: the accredited reliability lab whose test a KPI-ZK proof must come from (tier T2)."""

    @model_validator(mode="after")
    def _default_direction(self) -> KpiTerm:
        if not self.threshold.is_finite() or self.threshold < 0:
            raise ValueError("threshold must be a finite, non-negative decimal")
        natural = Comparator.AT_MOST if self.kpi is KpiName.PPM else Comparator.AT_LEAST
        if self.comparator is None:
            self.comparator = natural
        elif self.comparator is not natural:
            raise ValueError(f"{self.kpi.value} is good when {natural.value} its threshold")
        if self.kpi is not KpiName.MTBF and (self.mtbf_proof_form is not None or self.confidence is not None):
            raise ValueError("mtbf_proof_form and confidence are terms of the mtbf KPI only")
        if self.kpi is not KpiName.MTBF and self.lab_id is not None:
            raise ValueError("a lab is named on the characteristic for cpk/ppk, on the term only for mtbf")
        if self.confidence is not None:
            if self.mtbf_proof_form != "chi2_lower":
                raise ValueError("confidence is fixed only with mtbf_proof_form 'chi2_lower'")
            if not self.confidence.is_finite() or not Decimal("0.5") <= self.confidence < 1:
                raise ValueError("confidence must be a decimal in [0.5, 1)")
        return self


class AgreementCreate(WireModel):
    """What an OEM proposes to a supplier. It takes effect only when the supplier accepts it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "supplier_id": "6f1e2d3c-4b5a-4e69-9788-a1b2c3d4e5f6",
                    "title": "Drive shaft quality agreement",
                    "parts": [{"part_number": "SH-4410", "name": "Drive shaft"}],
                    "characteristics": [
                        {
                            "code": "DIA-01",
                            "part_number": "SH-4410",
                            "unit": "mm",
                            "lsl": "24.980",
                            "usl": "25.020",
                        }
                    ],
                    "kpis": [{"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"}],
                    "period": "week",
                    "valid_from": "2026-01-01",
                }
            ]
        }
    )

    supplier_id: UUID
    title: str = Field(min_length=1, max_length=200)
    parts: list[PartRef] = Field(min_length=1, max_length=500)
    characteristics: list[Characteristic] = Field(min_length=1, max_length=2000)
    kpis: list[KpiTerm] = Field(min_length=1, max_length=20)
    period: PeriodKind = PeriodKind.WEEK
    valid_from: date
    valid_until: date | None = None
    report_due_days: StrictInt = Field(default=7, ge=0, le=90)

    @model_validator(mode="after")
    def _consistent(self) -> AgreementCreate:
        parts = {p.part_number for p in self.parts}
        if len(parts) != len(self.parts):
            raise ValueError("parts: each part number may appear once")
        codes = [c.code for c in self.characteristics]
        if len(set(codes)) != len(codes):
            raise ValueError("characteristics: each code may appear once")
        for c in self.characteristics:
            if c.part_number not in parts:
                raise ValueError(
                    f"characteristics: {c.code} names part {c.part_number}, which is not in parts"
                )
        kpis = [k.kpi for k in self.kpis]
        if len(set(kpis)) != len(kpis):
            raise ValueError("kpis: each KPI may appear once")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        return self


class Agreement(AgreementCreate):
    """A supply agreement as the hub keeps it."""

    # The examples of the request it extends do not describe this answer.
    model_config = ConfigDict(json_schema_extra=None)

    id: UUID
    oem_id: UUID
    status: AgreementStatus
    created_at: datetime
    accepted_at: datetime | None = None


class AgreementDecision(WireModel):
    """A supplier's answer to a proposed agreement, with an optional reason."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "terms agreed in the Q4 supplier review"}]}
    )

    reason: str = Field(default="", max_length=1000)


__all__ = [
    "Agreement",
    "AgreementCreate",
    "AgreementDecision",
    "Characteristic",
    "KpiTerm",
    "MtbfProofForm",
    "PartRef",
]
