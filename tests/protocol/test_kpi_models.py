"""KPI report wire models: strict decimals, field rules, and the signed round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from protocol import PROTOCOL_ID
from protocol.encoding import b64url_encode, canonical_bytes
from protocol.models import agreements
from protocol.models.common import CODE_PATTERN, DisclosureMode, KpiName
from protocol.models.kpi import (
    KPI_REPORT_TYPE,
    POINT_BYTES,
    KpiClaim,
    KpiReport,
    KpiReportPayload,
    KpiReportSubmit,
    round_kpi_value,
)
from protocol.models.pages import Page
from protocol.signing import generate_signing_key, sign_envelope, verify_envelope

POINT = b64url_encode(b"\xc0" + bytes(POINT_BYTES - 1))


def claim(**overrides: Any) -> dict[str, Any]:
    return {
        "meets": True,
        "value": "1.4567",
        "threshold": "1.33",
        "sample_size": 125,
        "subgroups": 25,
    } | overrides


def payload(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "supplier_id": str(UUID(int=1)),
        "oem_id": str(UUID(int=2)),
        "agreement_id": str(UUID(int=3)),
        "part_number": "A-100",
        "characteristic": "DIA-01",
        "period": "2026-W48",
        "kpi": "cpk",
        "claim": claim(),
        "commitments": [POINT, POINT],
        "sdk_version": "qualink-sdk/0.1.0",
    }
    return base | overrides


def errors_of(caught: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple[int | str, ...], str]]:
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


# --- KpiClaim ---------------------------------------------------------------------------------------


def test_claim_keeps_decimals_exactly_and_dumps_them_as_strings() -> None:
    parsed = KpiClaim.model_validate(claim(value="1.3300", threshold=2))
    assert parsed.value == Decimal("1.3300")
    assert str(parsed.value) == "1.3300"
    assert parsed.model_dump(mode="json")["value"] == "1.3300"
    assert parsed.model_dump(mode="json")["threshold"] == "2"
    assert KpiClaim.model_validate(claim(value=None)).value is None
    assert KpiClaim.model_validate(claim(value="-0.5000")).value == Decimal("-0.5")  # a CPK can be negative


@pytest.mark.parametrize(
    "bad", ["NaN", "nan", "Infinity", "-inf", "sNaN", Decimal("NaN"), Decimal("-Infinity")]
)
@pytest.mark.parametrize("field", ["value", "threshold"])
def test_nan_and_infinity_are_refused_naming_the_field(bad: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KpiClaim.model_validate(claim(**{field: bad}))
    [(loc, msg)] = errors_of(caught)
    assert loc == (field,)
    assert f"{field} must be a finite decimal" in msg


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (1.4567, "not a binary float"),
        (True, "not a boolean"),
        ("1e3", "plain decimal string"),
        (" 1.5", "plain decimal string"),
        ("1,5", "plain decimal string"),
        ("+1.5", "plain decimal string"),
        ("", "plain decimal string"),
        ([1], "not list"),
    ],
)
def test_values_must_be_plain_decimal_strings_or_integers(bad: Any, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KpiClaim.model_validate(claim(value=bad))
    [(loc, msg)] = errors_of(caught)
    assert loc == ("value",)
    assert fragment in msg


def test_value_carries_at_most_four_decimal_places() -> None:
    assert KpiClaim.model_validate(claim(value="1.2345")).value == Decimal("1.2345")
    for bad in ["1.23456", "1.00000", Decimal("0.00001")]:
        with pytest.raises(ValidationError, match="more than 4 decimal places"):
            KpiClaim.model_validate(claim(value=bad))


def test_round_kpi_value() -> None:
    assert round_kpi_value(Decimal("1.23455")) == Decimal("1.2346")  # half to even: 5 rounds to the even 6
    assert round_kpi_value(Decimal("1.23445")) == Decimal("1.2344")
    assert round_kpi_value(Decimal("1.23445"), rounding=ROUND_HALF_UP) == Decimal("1.2345")
    assert round_kpi_value("123456789012345678901234567890.123456") == Decimal(
        "123456789012345678901234567890.1235"
    )
    assert KpiClaim.model_validate(claim(value=round_kpi_value(Decimal(2) / 3))).value == Decimal("0.6667")
    with pytest.raises(ValueError, match="finite"):
        round_kpi_value("NaN")


@pytest.mark.parametrize(
    ("overrides", "loc", "fragment"),
    [
        ({"threshold": "-1"}, (), "must not be negative"),
        ({"sample_size": 1}, ("sample_size",), "greater than or equal to 2"),
        ({"sample_size": "125"}, ("sample_size",), "valid integer"),
        ({"sample_size": 125.0}, ("sample_size",), "valid integer"),
        ({"subgroups": 0}, ("subgroups",), "greater than or equal to 1"),
        ({"subgroups": 200, "sample_size": 100}, (), "outnumber"),
        ({"meets": "true"}, ("meets",), "valid boolean"),
        ({"meets": 1}, ("meets",), "valid boolean"),
        ({"extra": 1}, ("extra",), "Extra inputs"),
    ],
)
def test_claim_field_rules(overrides: dict[str, Any], loc: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KpiClaim.model_validate(claim(**overrides))
    [(found_loc, msg)] = errors_of(caught)
    assert fragment in msg
    if loc:
        assert found_loc == loc


def test_threshold_is_required_and_counts_are_optional() -> None:
    with pytest.raises(ValidationError, match="threshold"):
        KpiClaim.model_validate({"meets": True})
    bare = KpiClaim.model_validate({"meets": False, "threshold": "5000"})
    assert (bare.value, bare.sample_size, bare.subgroups) == (None, None, None)


# --- KpiReportPayload -------------------------------------------------------------------------------


def test_payload_parses_and_defaults() -> None:
    parsed = KpiReportPayload.model_validate(payload())
    assert parsed.protocol == PROTOCOL_ID
    assert parsed.kpi is KpiName.CPK
    assert parsed.supplier_id == UUID(int=1)
    assert parsed.proof is None
    assert parsed.hub_nonce is None
    without_commitments = payload()
    del without_commitments["commitments"]
    assert KpiReportPayload.model_validate(without_commitments).commitments == []


def test_payload_json_form_is_canonicalizable_and_round_trips() -> None:
    parsed = KpiReportPayload.model_validate(payload(proof={"v": 1, "a": [POINT]}, hub_nonce="n0nce-123"))
    wire = parsed.model_dump(mode="json")
    assert wire["claim"]["value"] == "1.4567"
    assert wire["protocol"] == "QX/1"
    canonical_bytes(wire)  # no floats, nothing unserializable
    assert KpiReportPayload.model_validate_json(json.dumps(wire)) == parsed


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"protocol": "QX/2"}, "QX/1"),
        ({"period": "2021-W53"}, "2021 has 52 weeks"),
        ({"period": "2026-13"}, "month must be 01 to 12"),
        ({"period": " 2026-11"}, "pattern"),
        ({"kpi": "cp"}, "cpk"),
        ({"part_number": ""}, "pattern"),
        ({"part_number": "A 100"}, "pattern"),
        ({"characteristic": "-x"}, "pattern"),
        ({"characteristic": None}, "characteristic is required for cpk"),
        ({"kpi": "ppk", "characteristic": None}, "characteristic is required for ppk"),
        ({"supplier_id": "not-a-uuid"}, "UUID"),
        ({"commitments": ["AA=="]}, "commitments[0] is not base64url"),
        (
            {"commitments": [POINT, b64url_encode(bytes(32))]},
            "commitments[1] must be a 48-byte point, got 32",
        ),
        ({"hub_nonce": "short"}, "pattern"),
        ({"hub_nonce": "has space in it"}, "pattern"),
        ({"sdk_version": ""}, "pattern"),
        ({"sdk_version": "1.0 beta"}, "pattern"),
        ({"claim": claim(value=1.5)}, "not a binary float"),
        ({"unknown": True}, "Extra inputs"),
    ],
)
def test_payload_rules(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KpiReportPayload.model_validate(payload(**overrides))
    assert fragment in str(caught.value)


def test_part_level_kpis_need_no_characteristic() -> None:
    for kpi in ("mtbf", "ppm"):
        parsed = KpiReportPayload.model_validate(
            payload(kpi=kpi, characteristic=None, claim=claim(value=None))
        )
        assert parsed.characteristic is None
    assert "characteristic" not in KpiReportPayload.model_json_schema()["required"]


def test_code_pattern_matches_the_agreements_one() -> None:
    # agreements.py keeps its own private copy of the pattern; both must accept the same part numbers.
    assert agreements._CODE == CODE_PATTERN


# --- signed round trip and submission ---------------------------------------------------------------


def test_signed_kpi_report_round_trip() -> None:
    key = generate_signing_key()
    report = KpiReportPayload.model_validate(payload())
    envelope = sign_envelope(report, type=KPI_REPORT_TYPE, private_key=key)
    body = json.loads(KpiReportSubmit(envelope=envelope).model_dump_json())
    submitted = KpiReportSubmit.model_validate(body)
    verify_envelope(submitted.envelope, key.public_key(), expected_type=KPI_REPORT_TYPE)
    assert submitted.report_payload() == report


def test_submission_refuses_other_envelope_types_and_float_payloads() -> None:
    key = generate_signing_key()
    other = sign_envelope(payload(), type="dataset", private_key=key)
    with pytest.raises(ValidationError, match="envelope type must be 'kpi-report'"):
        KpiReportSubmit(envelope=other)
    body = json.loads(
        KpiReportSubmit(
            envelope=sign_envelope(payload(), type="kpi-report", private_key=key)
        ).model_dump_json()
    )
    body["envelope"]["payload"]["claim"]["value"] = 1.4567
    with pytest.raises(ValidationError, match=r"\$\.claim\.value: binary floats"):
        KpiReportSubmit.model_validate(body)


def test_submission_payload_errors_name_the_field() -> None:
    envelope = sign_envelope(payload(period="2026-W5"), type="kpi-report", private_key=generate_signing_key())
    with pytest.raises(ValidationError) as caught:
        KpiReportSubmit(envelope=envelope).report_payload()
    assert [error["loc"] for error in caught.value.errors()] == [("period",)]


# --- KpiReport and Page -----------------------------------------------------------------------------


def report_row(**overrides: Any) -> dict[str, Any]:
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    return {
        "id": uuid4(),
        "supplier_id": uuid4(),
        "oem_id": uuid4(),
        "agreement_id": uuid4(),
        "part_number": "A-100",
        "characteristic": None,
        "period": "2026-11",
        "kpi": KpiName.MTBF,
        "meets": True,
        "value": Decimal("5230.5"),
        "threshold": Decimal("5000"),
        "disclosure": DisclosureMode.VALUE,
        "key_id": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
        "signed_at": at,
        "received_at": at,
        "has_proof": False,
    } | overrides


def test_kpi_report_read_model() -> None:
    report = KpiReport.model_validate(report_row())
    wire = report.model_dump(mode="json")
    assert wire["value"] == "5230.5"
    assert wire["disclosure"] == "value"
    hidden = KpiReport.model_validate(report_row(value=None, disclosure="threshold"))
    assert hidden.model_dump(mode="json")["value"] is None
    with pytest.raises(ValidationError):
        KpiReport.model_validate(report_row(period="2026-W54"))
    with pytest.raises(ValidationError, match="Extra inputs"):
        KpiReport.model_validate(report_row(commitments=[]))


def test_page_of_reports() -> None:
    page = Page[KpiReport](items=[KpiReport.model_validate(report_row())], next_cursor="c2")
    wire = json.loads(page.model_dump_json())
    assert wire["next_cursor"] == "c2"
    assert Page[KpiReport].model_validate(wire) == page
    assert Page[KpiReport](items=[]).next_cursor is None
    with pytest.raises(ValidationError):
        Page[KpiReport].model_validate({"items": [{"id": "x"}]})
    with pytest.raises(ValidationError):
        Page[KpiReport](items=[], next_cursor="")
