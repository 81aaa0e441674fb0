"""attest_report proves MTBF in the form and at the confidence the agreement's term fixes (else the default)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from protocol.models.agreements import Agreement
from protocol.models.kpi import KpiClaim, KpiReportPayload
from protocol.zk.attestation import Attestation, verify_attestation
from supplier_sdk.attest import attest_report, load_context
from supplier_sdk.kpi import KpiInputError

CONTEXT = load_context({"period": "2026-W48"}, kpi="mtbf")


def agreement(**term: str) -> Agreement:
    return Agreement.model_validate(
        {
            "id": str(uuid.uuid4()),
            "oem_id": str(uuid.uuid4()),
            "supplier_id": str(uuid.uuid4()),
            "title": "Pump reliability",
            "parts": [{"part_number": "P-1", "name": "Pump"}],
            "characteristics": [{"code": "D", "part_number": "P-1", "unit": "mm", "lsl": "1", "usl": "2"}],
            "kpis": [{"kpi": "mtbf", "threshold": "5000", "disclosure": "threshold", **term}],
            "valid_from": date(2026, 1, 1).isoformat(),
            "status": "active",
            "created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        }
    )


def proven(terms: dict[str, str], *, failures: int) -> Attestation:
    ag = agreement(**terms)
    payload = KpiReportPayload(
        supplier_id=ag.supplier_id,
        oem_id=ag.oem_id,
        agreement_id=ag.id,
        part_number="P-1",
        characteristic=None,
        period="2026-W48",
        kpi="mtbf",
        claim=KpiClaim(meets=True, threshold="5000"),
        sdk_version="test",
    )
    out = attest_report(payload, agreement=ag, context=CONTEXT, hours="200000", failures=failures)
    assert out.proof is not None
    attestation = Attestation.model_validate(out.proof)
    verify_attestation(attestation, expected=CONTEXT)
    return attestation


@pytest.mark.parametrize(
    ("terms", "failures", "form", "confidence"),
    [
        ({}, 2, "point", ""),  # defaults: the point estimate
        ({}, 0, "chi2_lower", "0.6"),  # no failure: the 60 % bound the claim uses
        ({"mtbf_proof_form": "point"}, 0, "point", ""),
        ({"mtbf_proof_form": "chi2_lower"}, 2, "chi2_lower", "0.6"),
        ({"mtbf_proof_form": "chi2_lower", "confidence": "0.9"}, 2, "chi2_lower", "0.9"),
        ({"mtbf_proof_form": "chi2_lower", "confidence": "0.95"}, 0, "chi2_lower", "0.95"),
    ],
)
def test_the_agreement_fixes_the_form_and_confidence(
    terms: dict[str, str], failures: int, form: str, confidence: str
) -> None:
    public: dict[str, Any] = proven(terms, failures=failures).public
    assert (public["form"], public["confidence"]) == (form, confidence)


def test_mtbf_needs_hours_and_failures() -> None:
    ag = agreement()
    payload = KpiReportPayload(
        supplier_id=ag.supplier_id,
        oem_id=ag.oem_id,
        agreement_id=ag.id,
        part_number="P-1",
        period="2026-W48",
        kpi="mtbf",
        claim=KpiClaim(meets=True, threshold="5000"),
        sdk_version="test",
    )
    with pytest.raises(KpiInputError):
        attest_report(payload, agreement=ag, context=CONTEXT, hours=None, failures=None)
