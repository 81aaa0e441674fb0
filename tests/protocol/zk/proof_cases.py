"""Shared material for the proof tests: a binding context, sample data and cached attestations."""

from __future__ import annotations

import random
from decimal import Decimal
from functools import cache

import py_ecc  # noqa: F401  # importing py-ecc raises the recursion limit; do it before hypothesis runs

from protocol.zk.attestation import Attestation, BindingContext, prove_cpk_at_least, prove_mtbf_at_least

CONTEXT = BindingContext(
    hub="hub.example",
    supplier="supplier-7",
    key_id="key-2026",
    agreement="agreement-42",
    characteristic="bore-diameter",
    period="2026-W48",
    kpi="cpk",
    nonce="b1f3c0",
)
MTBF_CONTEXT = CONTEXT.model_copy(update={"kpi": "mtbf", "characteristic": ""})
LSL, USL, RESOLUTION = Decimal("9.900"), Decimal("10.100"), Decimal("0.001")


def capable_values(n: int = 60, *, seed: int = 1, sd: float = 0.02, mean: float = 10.0) -> list[Decimal]:
    """n measurements from a normal process, rounded to the resolution (Ppk ≈ 0.1/(3·sd))."""
    rnd = random.Random(seed)
    return [Decimal(f"{rnd.gauss(mean, sd):.3f}") for _ in range(n)]


@cache
def cpk_attestation(pooled: bool = False) -> Attestation:
    return prove_cpk_at_least(
        capable_values(),
        lsl=LSL,
        usl=USL,
        resolution=RESOLUTION,
        threshold=Decimal("1.33"),
        subgroups=[5] * 12 if pooled else None,
        context=CONTEXT,
    )


@cache
def mtbf_attestation(form: str = "chi2_lower") -> Attestation:
    return prove_mtbf_at_least(
        hours=Decimal("400000.5"),
        failures=2,
        threshold=Decimal("50000"),
        form="chi2_lower" if form == "chi2_lower" else "point",
        confidence=Decimal("0.9") if form == "chi2_lower" else None,
        context=MTBF_CONTEXT,
    )
