"""KPI-ZK proven and verified on the default backend (arkworks) and on the fallback (fast), each checked by the other:
the fallback stays tested although CI installs arkworks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from protocol.zk.attestation import prove_cpk_at_least, prove_mtbf_at_least, verify_attestation
from protocol.zk.errors import ProofInvalid
from protocol.zk.group import available_backends, get_backend
from tests.protocol.zk.proof_cases import CONTEXT, LSL, MTBF_CONTEXT, RESOLUTION, USL, capable_values

BACKENDS = [
    pytest.param(
        "arkworks", marks=pytest.mark.skipif("arkworks" not in available_backends(), reason="no wheel")
    ),
    "fast",
]


def _other(name: str) -> str:
    return "fast" if name == "arkworks" or "arkworks" not in available_backends() else "arkworks"


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("pooled", [False, True], ids=["overall", "pooled"])
def test_cpk_proven_on_each_backend_verifies_on_both(name: str, pooled: bool) -> None:
    att = prove_cpk_at_least(
        capable_values(),
        lsl=LSL,
        usl=USL,
        resolution=RESOLUTION,
        threshold=Decimal("1.33"),
        subgroups=[5] * 12 if pooled else None,
        context=CONTEXT,
        backend=get_backend(name),
    )
    verify_attestation(att, expected=CONTEXT, backend=get_backend(name))
    verify_attestation(att, expected=CONTEXT, backend=get_backend(_other(name)))


@pytest.mark.parametrize("name", BACKENDS)
def test_mtbf_proven_on_each_backend_verifies_on_both_and_a_changed_threshold_fails(name: str) -> None:
    att = prove_mtbf_at_least(
        hours=Decimal("400000.5"),
        failures=2,
        threshold=Decimal("50000"),
        form="point",
        confidence=None,
        context=MTBF_CONTEXT,
        backend=get_backend(name),
    )
    verify_attestation(att, backend=get_backend(name))
    verify_attestation(att, backend=get_backend(_other(name)))
    forged = att.model_copy(update={"public": {**att.public, "threshold": "60000"}})
    with pytest.raises(ProofInvalid):
        verify_attestation(forged, backend=get_backend(name))
