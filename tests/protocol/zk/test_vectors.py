"""Known-valid KPI-ZK v1 attestations keep verifying (format, transcript and generators are frozen)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from protocol.zk.attestation import Attestation, parse_statement, verify_attestation, verify_attestations
from protocol.zk.errors import ProofInvalid
from tests.protocol.zk.proof_cases import CONTEXT, MTBF_CONTEXT

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "attestations.json").read_text(encoding="utf-8")
)["attestations"]


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_checked_in_attestations_verify(name: str) -> None:
    att = Attestation.model_validate(VECTORS[name])
    expected = CONTEXT if att.statement == "cpk_at_least" else MTBF_CONTEXT
    verify_attestation(att, expected=expected)
    statement = parse_statement(att)
    assert statement.threshold in {Decimal("1.33"), Decimal(50000)}


def test_checked_in_attestations_verify_as_one_batch_and_not_for_another_nonce() -> None:
    atts = [Attestation.model_validate(VECTORS[name]) for name in sorted(VECTORS)]
    assert verify_attestations(atts) == [None] * len(atts)
    moved = atts[0].model_copy(update={"public": {**atts[0].public, "nonce": "fresh-nonce"}})
    with pytest.raises(ProofInvalid):
        verify_attestation(moved)
