"""Shared material for the T2 (lab-attested) proof tests: a lab key, a target, and cached measurements/proofs."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.signing import SignedEnvelope, load_private_key
from protocol.zk.attestation import Attestation, BindingContext
from protocol.zk.lab import (
    LabOpenings,
    MeasurementTarget,
    measure_cpk,
    measure_mtbf,
)
from protocol.zk.lab_prove import prove_cpk_from_lab, prove_mtbf_from_lab
from tests.protocol.zk.proof_cases import LSL, RESOLUTION, USL, capable_values

LAB_ID = uuid.UUID("0190f000-0000-7000-8000-00000000a001")
LAB_KEY: Ed25519PrivateKey = load_private_key(bytes(range(32)))
CONTEXT = BindingContext(
    hub="hub.example",
    supplier=str(uuid.UUID("0190f000-0000-7000-8000-00000000b002")),
    key_id="key-2026",
    agreement=str(uuid.UUID("0190f000-0000-7000-8000-00000000c003")),
    characteristic="bore-diameter",
    period="2026-W48",
    kpi="cpk",
    nonce="b1f3c0",
)
MTBF_CONTEXT = CONTEXT.model_copy(update={"kpi": "mtbf", "characteristic": "", "period": "2026-11"})
MEASURED_ON = date(2026, 11, 27)


def target(context: BindingContext = CONTEXT) -> MeasurementTarget:
    return MeasurementTarget.for_context(context, lab_id=LAB_ID, part_number="SH-1")


def cpk_measurement(pooled: bool = False, seed: int = 1) -> tuple[SignedEnvelope, LabOpenings]:
    return _cpk_measurement(pooled, seed)  # one cache key however the arguments are passed


@cache
def _cpk_measurement(pooled: bool, seed: int) -> tuple[SignedEnvelope, LabOpenings]:
    return measure_cpk(
        capable_values(seed=seed, sd=0.015),
        target=target(),
        lsl=LSL,
        usl=USL,
        resolution=RESOLUTION,
        subgroups=[5] * 12 if pooled else None,
        lots=["L-2026-117", "L-2026-118"],
        measured_on=MEASURED_ON,
        method="ISO 10360-2 CMM",
        instrument="Zeiss Contura #2",
        lab_key=LAB_KEY,
    )


def cpk_lab_proof(pooled: bool = False, seed: int = 1) -> Attestation:
    return _cpk_lab_proof(pooled, seed)


@cache
def _cpk_lab_proof(pooled: bool, seed: int) -> Attestation:
    envelope, openings = cpk_measurement(pooled, seed)
    return prove_cpk_from_lab(envelope, openings, threshold=Decimal("1.33"), context=CONTEXT)


@cache
def mtbf_measurement() -> tuple[SignedEnvelope, LabOpenings]:
    return measure_mtbf(
        hours=Decimal("400000.5"),
        failures=2,
        target=target(MTBF_CONTEXT),
        lots=["L-9"],
        measured_on=MEASURED_ON,
        method="IEC 60068-2-6 endurance",
        instrument="shaker rig 4",
        lab_key=LAB_KEY,
    )


@cache
def mtbf_lab_proof(form: str = "point") -> Attestation:
    envelope, openings = mtbf_measurement()
    return prove_mtbf_from_lab(
        envelope,
        openings,
        threshold=Decimal("50000"),
        context=MTBF_CONTEXT,
        form="chi2_lower" if form == "chi2_lower" else "point",
        confidence=Decimal("0.9") if form == "chi2_lower" else None,
    )
