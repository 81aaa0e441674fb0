"""Wire models take JSON's own types: pydantic's lax mode would read ``false`` as ``0``, ``"3"`` as ``3`` and a number
as a time (seconds since 1970); each of those is a mistake on the wire and is refused, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from protocol.models.rooms import Dataset, DatasetCreate
from protocol.models.rules import STANDARD_RULE_TEMPLATE, DryRunRequest, RuleCreate
from protocol.models.trace import TraceRequest
from protocol.models.webhooks import SecretRotate


def _example(model: type[BaseModel]) -> dict[str, Any]:
    return dict(model.model_json_schema()["examples"][0])


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (SecretRotate, "overlap_seconds", False),
        (SecretRotate, "overlap_seconds", "3600"),
        (DryRunRequest, "since", 0),
        (DryRunRequest, "since", 1.5e9),
        (TraceRequest, "depth", True),
        (TraceRequest, "depth", "5"),
        (DatasetCreate, "chunk_size", "1048576"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused(model: type[BaseModel], field: str, value: Any) -> None:
    body = {**_example(model), field: value}
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    assert refused.value.errors()[0]["loc"][0] == field


def test_values_of_the_right_json_types_still_pass() -> None:
    assert SecretRotate.model_validate({"overlap_seconds": 3600}).overlap_seconds == 3600
    assert DryRunRequest.model_validate({"since": "2026-09-01T00:00:00Z"}).since is not None
    assert RuleCreate.model_validate(STANDARD_RULE_TEMPLATE).pattern.consecutive == 3
    assert "plaintext_size" in Dataset.model_fields


def test_an_envelope_signed_at_a_number_is_refused() -> None:
    from protocol.models.kpi import KpiReportSubmit

    example = _example(KpiReportSubmit)
    example["envelope"] = {**example["envelope"], "signed_at": 1_764_000_000}
    with pytest.raises(ValidationError, match="RFC 3339"):
        KpiReportSubmit.model_validate(example)
