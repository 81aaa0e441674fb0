"""Benchmark: KPI-ZK tier T2 (lab-attested) against T1 on the same backend, in the same run.

- Verify a T2 CPK proof (the lab's signature, the binding to its measurement, then the unchanged proof
  equations) against verifying a T1 CPK proof over the same 125 values: target T2 ≤ 1.2 times T1.
- Issue a lab measurement attestation for 125 values (scale, aggregate, commit, sign): target ≤ 0.5 s on the
  default backend.

Run on demand:

    pytest tests/bench/test_lab_bench.py -s -p no:cacheprovider --override-ini addopts=

Figures are the best of a few runs (the machine is shared; the load average is printed); nothing about time is
asserted, only that the proofs verify.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest

from protocol.zk.attestation import prove_cpk_at_least, verify_attestation
from protocol.zk.group import available_backends, default_backend, get_backend
from protocol.zk.lab import measure_cpk, verify_lab_proof
from protocol.zk.lab_prove import prove_cpk_from_lab
from tests.bench.test_zk_bench import best_of, values
from tests.protocol.zk.lab_cases import CONTEXT, LAB_KEY, target

pytestmark = pytest.mark.bench

LSL, USL, RESOLUTION = Decimal("9.9"), Decimal("10.1"), Decimal("0.001")


def issue(backend: object, seed: int = 1) -> tuple[object, object]:
    return measure_cpk(
        values(seed),
        target=target(CONTEXT),
        lsl=LSL,
        usl=USL,
        resolution=RESOLUTION,
        subgroups=None,
        lots=["L-1"],
        measured_on=date(2026, 11, 27),
        method="CMM",
        instrument="CMM-2",
        lab_key=LAB_KEY,
        backend=backend,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("name", sorted(available_backends()))
def test_t2_verify_against_t1_and_issuing(name: str) -> None:
    backend = get_backend(name)
    runs = 2 if name == "reference" else 7
    t1 = prove_cpk_at_least(
        values(1), lsl=LSL, usl=USL, resolution=RESOLUTION, threshold=Decimal("1.33"), subgroups=None,
        context=CONTEXT, backend=backend,
    )  # fmt: skip
    envelope, openings = issue(backend)
    t2 = prove_cpk_from_lab(envelope, openings, threshold=Decimal("1.33"), context=CONTEXT, backend=backend)  # type: ignore[arg-type]
    verify_attestation(t1, backend=backend)
    verify_lab_proof(t2, envelope, backend=backend)  # type: ignore[arg-type]
    t1_verify = best_of(runs, lambda: verify_attestation(t1, backend=backend))
    t2_verify = best_of(runs, lambda: verify_lab_proof(t2, envelope, backend=backend))  # type: ignore[arg-type]
    issuing = best_of(max(2, runs // 2), lambda: issue(backend))
    default = " (default)" if name == default_backend().name else ""
    load = os.getloadavg()
    print(
        f"\n{name}{default}: verify T1 CPK {t1_verify * 1000:.1f} ms, T2 CPK {t2_verify * 1000:.1f} ms "
        f"(ratio {t2_verify / t1_verify:.3f}, target ≤ 1.2); issue attestation for 125 values "
        f"{issuing * 1000:.1f} ms (target ≤ 500 ms); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
