"""Report builders: the claim agrees with the KPI math and the agreement, and what the agreement lacks is refused."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
import pytest

from protocol.errors import InvalidPeriod
from protocol.models.agreements import Agreement
from protocol.models.common import KpiName
from protocol.models.kpi import round_kpi_value
from supplier_sdk.errors import AgreementMismatch
from supplier_sdk.kpi import KpiInputError, capability, mtbf
from supplier_sdk.reports import (
    ZERO_FAILURE_CONFIDENCE,
    build_capability_report,
    build_mtbf_report,
    build_mtbf_value,
    build_ppm_report,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
VALUES = np.round(np.random.default_rng(42).normal(25.0, 0.004, 60), 4)


def make_agreement(**overrides: Any) -> Agreement:
    data: dict[str, Any] = {
        "id": uuid.UUID(int=3),
        "oem_id": uuid.UUID(int=2),
        "supplier_id": uuid.UUID(int=1),
        "status": "active",
        "title": "Shafts",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "valid_from": date(2026, 1, 1),
        "period": "week",
        "parts": [{"part_number": "SH-1"}, {"part_number": "SH-2"}],
        "characteristics": [
            {"code": "DIA-01", "part_number": "SH-1", "unit": "mm", "lsl": "24.98", "usl": "25.02"},
            {"code": "LEN-02", "part_number": "SH-2", "unit": "mm", "usl": "100.5"},
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": "value"},
            {"kpi": "ppk", "threshold": "1.33", "disclosure": "threshold"},
            {"kpi": "ppm", "threshold": "50", "disclosure": "value+proof"},
            {"kpi": "mtbf", "threshold": "5000", "disclosure": "value"},
        ],
    }
    data.update(overrides)
    return Agreement.model_validate(data)


AGREEMENT = make_agreement()


def cpk(**kw: Any) -> Any:
    args: dict[str, Any] = {
        "agreement": AGREEMENT,
        "characteristic": "DIA-01",
        "period": "2026-W47",
        "kpi": "cpk",
        "values": VALUES,
        "sdk_version": "t",
        "now": NOW,
    }
    return build_capability_report(**{**args, **kw})


def test_a_cpk_payload_carries_the_agreement_part_and_the_computed_claim() -> None:
    payload = cpk(subgroup_size=5)
    expected = capability(VALUES, lsl=24.98, usl=25.02, subgroup_size=5)

    assert (payload.supplier_id, payload.oem_id, payload.agreement_id) == (
        AGREEMENT.supplier_id,
        AGREEMENT.oem_id,
        AGREEMENT.id,
    )
    assert (payload.part_number, payload.characteristic, payload.period, payload.kpi) == (
        "SH-1",
        "DIA-01",
        "2026-W47",
        KpiName.CPK,
    )
    assert payload.claim.value == round_kpi_value(Decimal(expected.cpk), rounding=ROUND_FLOOR)
    assert payload.claim.threshold == Decimal("1.33")
    assert payload.claim.meets is (expected.cpk >= 1.33)
    assert (payload.claim.sample_size, payload.claim.subgroups) == (60, 12)
    assert payload.sdk_version == "t" and payload.proof is None and payload.commitments == []


def test_individual_values_default_to_the_moving_range_sigma() -> None:
    payload = cpk()
    expected = capability(VALUES, lsl=24.98, usl=25.02, sigma="mr")

    assert payload.claim.value == round_kpi_value(Decimal(expected.cpk), rounding=ROUND_FLOOR)
    assert payload.claim.subgroups == 60


def test_subgroup_labels_and_a_chosen_sigma_reach_the_math() -> None:
    labels = [f"L{i // 6}" for i in range(60)]
    payload = cpk(subgroup_labels=labels, sigma="rbar")
    expected = capability(VALUES, lsl=24.98, usl=25.02, subgroup_labels=labels, sigma="rbar")

    assert payload.claim.value == round_kpi_value(Decimal(expected.cpk), rounding=ROUND_FLOOR)
    assert payload.claim.subgroups == 10


def test_the_value_is_rounded_down_so_that_it_never_flatters_the_supplier() -> None:
    exact = capability(VALUES, lsl=24.98, usl=25.02).cpk
    claimed = cpk().claim.value

    assert claimed <= Decimal(exact) < claimed + Decimal("0.0001")


@pytest.mark.parametrize(("offset", "meets"), [(Decimal(0), True), (Decimal("0.0001"), False)])
def test_meets_is_judged_on_the_claimed_value_at_the_threshold_boundary(offset: Decimal, meets: bool) -> None:
    claimed = cpk().claim.value
    threshold = claimed + offset
    agreement = make_agreement(kpis=[{"kpi": "cpk", "threshold": str(threshold), "disclosure": "value"}])

    claim = cpk(agreement=agreement).claim

    assert claim.value == claimed and claim.meets is meets


def test_threshold_disclosure_keeps_the_value_on_this_machine() -> None:
    payload = cpk(kpi="ppk")
    expected = capability(VALUES, lsl=24.98, usl=25.02)

    assert payload.claim.value is None
    assert payload.claim.meets is (expected.ppk >= 1.33)
    assert "value" not in {k for k, v in payload.model_dump()["claim"].items() if v is not None}


def test_a_one_sided_characteristic_works() -> None:
    values = np.random.default_rng(1).normal(100.0, 0.05, 40)
    payload = cpk(characteristic="LEN-02", values=values)

    assert payload.part_number == "SH-2"
    expected = capability(values, lsl=None, usl=100.5)
    assert payload.claim.value == round_kpi_value(Decimal(expected.cpu), rounding=ROUND_FLOOR)


def test_ppm_is_the_overall_normal_total_rounded_up() -> None:
    shifted = VALUES + 0.012  # close to the USL: a visible PPM
    payload = build_ppm_report(
        agreement=AGREEMENT, characteristic="DIA-01", period="2026-W47", values=shifted, now=NOW
    )
    total = capability(shifted, lsl=24.98, usl=25.02).ppm["overall"]["total"]

    assert total is not None and total > 50
    assert payload.kpi is KpiName.PPM and payload.characteristic == "DIA-01"
    assert payload.claim.value == round_kpi_value(Decimal(total), rounding=ROUND_CEILING)
    assert payload.claim.value >= Decimal(total)
    assert payload.claim.meets is False  # PPM must stay at or below 50
    assert payload.claim.sample_size == 60 and payload.claim.subgroups is None


def test_a_low_ppm_meets_its_ceiling() -> None:
    payload = build_ppm_report(
        agreement=AGREEMENT, characteristic="DIA-01", period="2026-W47", values=VALUES, now=NOW
    )

    assert payload.claim.value is not None and payload.claim.value <= Decimal(50)
    assert payload.claim.meets is True


def test_mtbf_with_failures_claims_the_point_estimate() -> None:
    payload = build_mtbf_report(
        agreement=AGREEMENT, period="2026-W47", hours=12_000, failures=2, part_number="SH-1", now=NOW
    )

    assert payload.kpi is KpiName.MTBF and payload.characteristic is None and payload.part_number == "SH-1"
    assert payload.claim.value == Decimal("6000.0000") and payload.claim.meets is True
    assert payload.claim.sample_size is None


def test_mtbf_without_failures_claims_the_60_percent_lower_bound() -> None:
    payload = build_mtbf_report(
        agreement=AGREEMENT, period="2026-W47", hours=4000, failures=0, part_number="SH-1", now=NOW
    )
    bound = mtbf(4000, 0, confidence=0.6).lower

    assert ZERO_FAILURE_CONFIDENCE == 0.6
    assert math.isclose(bound, 4000 / math.log(2.5))
    assert payload.claim.value == round_kpi_value(Decimal(bound), rounding=ROUND_FLOOR)
    assert payload.claim.meets is False  # 4365 h of clean testing do not show 5000 h


def test_mtbf_claims_rank_fewer_failures_higher() -> None:
    assert build_mtbf_value(1000, 0) > build_mtbf_value(1000, 1) > build_mtbf_value(1000, 2)


def test_mtbf_needs_a_part_when_the_agreement_has_several() -> None:
    with pytest.raises(AgreementMismatch, match="several parts"):
        build_mtbf_report(agreement=AGREEMENT, period="2026-W47", hours=1000, failures=1, now=NOW)
    with pytest.raises(AgreementMismatch, match="no part 'XX-9'"):
        build_mtbf_report(
            agreement=AGREEMENT, period="2026-W47", hours=1000, failures=1, part_number="XX-9", now=NOW
        )

    single = make_agreement(
        parts=[{"part_number": "SH-1"}], characteristics=AGREEMENT.model_dump()["characteristics"][:1]
    )
    assert (
        build_mtbf_report(agreement=single, period="2026-W47", hours=1000, failures=1, now=NOW).part_number
        == "SH-1"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"characteristic": "BORE-9"}, "has no characteristic 'BORE-9' (it has: DIA-01, LEN-02)"),
        (
            {"agreement": make_agreement(kpis=[{"kpi": "ppk", "threshold": "1"}])},
            "does not ask for cpk (it asks for: ppk)",
        ),
        ({"period": "2026-11"}, "reports per week, but 2026-11 is a month"),
        ({"period": "2026-W49"}, "period 2026-W49 has not started yet"),
        ({"period": "2025-W40"}, "outside the agreement's validity (2026-01-01 to open-ended)"),
        (
            {"agreement": make_agreement(valid_until=date(2026, 6, 30)), "period": "2026-W30"},
            "(2026-01-01 to 2026-06-30)",
        ),
        ({"agreement": make_agreement(status="proposed")}, "is proposed, not active"),
        ({"kpi": "mtbf"}, "mtbf is not a capability index"),
    ],
)
def test_what_the_agreement_does_not_cover_is_refused_with_a_clear_message(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(AgreementMismatch) as caught:
        cpk(**kwargs)

    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_ppm_and_mtbf_need_their_kpi_in_the_agreement() -> None:
    only_cpk = make_agreement(kpis=[{"kpi": "cpk", "threshold": "1.33"}])
    with pytest.raises(AgreementMismatch, match="does not ask for ppm"):
        build_ppm_report(
            agreement=only_cpk, characteristic="DIA-01", period="2026-W47", values=VALUES, now=NOW
        )
    with pytest.raises(AgreementMismatch, match="does not ask for mtbf"):
        build_mtbf_report(
            agreement=only_cpk, period="2026-W47", hours=1, failures=0, part_number="SH-1", now=NOW
        )


def test_bad_data_and_bad_periods_are_value_errors_naming_the_problem() -> None:
    with pytest.raises(KpiInputError, match="zero variation"):
        cpk(values=[25.0] * 10)
    with pytest.raises(KpiInputError, match="do not split into subgroups of 7"):
        cpk(subgroup_size=7)
    with pytest.raises(InvalidPeriod):
        cpk(period="2026-W54")
    with pytest.raises(KpiInputError, match="failures"):
        build_mtbf_report(
            agreement=AGREEMENT, period="2026-W47", hours=100, failures=-1, part_number="SH-1", now=NOW
        )


def test_the_default_sdk_version_is_the_installed_one() -> None:
    from supplier_sdk.client import SDK_VERSION

    assert (
        cpk(sdk_version=SDK_VERSION).sdk_version
        == build_capability_report(
            agreement=AGREEMENT, characteristic="DIA-01", period="2026-W47", kpi="cpk", values=VALUES, now=NOW
        ).sdk_version
    )
