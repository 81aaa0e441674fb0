"""Benchmark: KPI-ZK v1 prove / verify time and proof size per statement and backend; batch vs singles.

Statements: CPK overall sigma (Ppk, n = 125), CPK pooled sigma (25 subgroups of 5), MTBF point form, MTBF
chi-square form. Backends: every available one; the reference backend (py-ecc, one multiplication per MSM term)
is the plain baseline, timed on verification (and one proof) only because it is slow. Targets: verifying one
CPK proof ≤ 150 ms on the default backend, ≤ 25 ms with arkworks; a batch of 100 in ≤ 40 % of 100 singles.
Run on demand:

    pytest tests/bench/test_zk_bench.py -s -p no:cacheprovider --override-ini addopts=

Figures are the best of a few runs (the machine is shared); nothing is asserted about time.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest

from protocol.encoding import b64url_decode
from protocol.zk.attestation import (
    Attestation,
    prove_cpk_at_least,
    prove_mtbf_at_least,
    verify_attestation,
    verify_attestations,
)
from protocol.zk.group import GroupBackend, available_backends, default_backend, get_backend
from tests.protocol.zk.proof_cases import CONTEXT, MTBF_CONTEXT


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def values(seed: int, n: int = 125) -> list[Decimal]:
    rnd = random.Random(seed)
    return [Decimal(f"{rnd.gauss(10.0, 0.02):.3f}") for _ in range(n)]


def prove(statement: str, backend: GroupBackend, seed: int = 1) -> Attestation:
    if statement.startswith("cpk"):
        return prove_cpk_at_least(
            values(seed),
            lsl=Decimal("9.9"),
            usl=Decimal("10.1"),
            resolution=Decimal("0.001"),
            threshold=Decimal("1.33"),
            subgroups=[5] * 25 if statement == "cpk pooled" else None,
            context=CONTEXT,
            backend=backend,
        )
    point = statement == "mtbf point"
    return prove_mtbf_at_least(
        hours=Decimal(400_000 + seed),
        failures=2,
        threshold=Decimal(50_000),
        form="point" if point else "chi2_lower",
        confidence=None if point else Decimal("0.9"),
        context=MTBF_CONTEXT,
        backend=backend,
    )


def raw_size(att: Attestation) -> int:
    """Bytes of points and scalars (commitments + proof), without JSON and base64url overhead."""
    total = sum(len(b64url_decode(v)) for v in att.commitments.values())

    def walk(node: object) -> int:
        if isinstance(node, dict):
            return sum(walk(v) for v in node.values())
        if isinstance(node, list):
            return sum(walk(v) for v in node)
        return len(b64url_decode(node)) if isinstance(node, str) else 0

    return total + walk(att.proof)


STATEMENTS = ("cpk overall", "cpk pooled", "mtbf point", "mtbf chi2")


@pytest.mark.bench
def test_prove_verify_and_size_per_statement_and_backend() -> None:
    default = default_backend()
    print(f"\nKPI-ZK v1 (default backend: {default.name})")
    print(f"{'statement':<12} {'backend':<10} {'prove ms':>9} {'verify ms':>10} {'json B':>7} {'raw B':>6}")
    verify_ms: dict[tuple[str, str], float] = {}
    for name in available_backends():
        group = get_backend(name)
        for statement in STATEMENTS:
            if name == "reference" and statement not in {"cpk overall", "mtbf point"}:
                att = prove(statement, default)  # proofs are backend-neutral bytes
                prove_s = float("nan")
            else:
                start = time.perf_counter()
                att = prove(statement, group)
                prove_s = time.perf_counter() - start
            verify_attestation(att, backend=group)  # warm the generator cache
            verify_s = best_of(
                1 if name == "reference" else 5, partial(verify_attestation, att, backend=group)
            )
            verify_ms[(statement, name)] = verify_s * 1e3
            print(
                f"{statement:<12} {name:<10} {prove_s * 1e3:9.0f} {verify_s * 1e3:10.1f} "
                f"{len(att.model_dump_json()):7d} {raw_size(att):6d}"
            )
    if "reference" in available_backends():
        for name in available_backends():
            if name == "reference":
                continue
            for statement in STATEMENTS:
                ratio = verify_ms[(statement, "reference")] / verify_ms[(statement, name)]
                print(f"plain py-ecc / {name} verify, {statement}: {ratio:.0f}x")


@pytest.mark.bench
@pytest.mark.parametrize("backend", [name for name in available_backends() if name != "reference"])
@pytest.mark.parametrize("statement", ["cpk overall", "mtbf chi2"])
def test_batch_of_100_against_100_singles(statement: str, backend: str) -> None:
    group = get_backend(backend)
    distinct = [prove(statement, group, seed) for seed in range(10)]
    atts = distinct * 10  # 100 attestations; the batch weights are random, so repeats cost the same
    assert verify_attestations(atts, backend=group) == [None] * 100
    batch = best_of(3, lambda: verify_attestations(atts, backend=group))

    def singles_run() -> None:
        for att in atts:
            verify_attestation(att, backend=group)

    singles = best_of(1, singles_run)
    print(
        f"\n{statement}, {group.name}: batch of 100 {batch * 1e3:.0f} ms, 100 singles {singles * 1e3:.0f} ms, "
        f"ratio {batch / singles:.0%} (target ≤ 40 %), {batch * 10:.1f} ms per proof in the batch"
    )


class VariableTime:
    """A backend whose secret operations are its variable-time ones: how the prover ran before the ladder."""

    def __init__(self, inner: GroupBackend) -> None:
        self.inner = inner
        self.name = f"{inner.name} (variable-time)"

    def __getattr__(self, attribute: str) -> object:
        return getattr(self.inner, attribute)

    def mul_secret(self, p: object, k: int) -> object:
        return self.inner.mul(p, k)

    def msm_secret(self, points: list[object], scalars: list[int]) -> object:
        return self.inner.msm(points, scalars)


@pytest.mark.bench
@pytest.mark.parametrize("name", [name for name in available_backends() if name != "reference"])
def test_prove_with_the_constant_time_ladder_against_variable_time(name: str) -> None:
    """Prove time before (secrets through ``mul``/``msm``) and after (``mul_secret``/``msm_secret``), same run."""
    group = get_backend(name)
    before_group = VariableTime(group)
    print(f"\nprove, {name}: variable-time before -> constant-time ladder after (best of 3)")
    for statement in STATEMENTS:
        prove(statement, group)  # warm the generator caches
        before = best_of(3, partial(prove, statement, before_group))  # type: ignore[arg-type]
        after = best_of(3, partial(prove, statement, group))
        print(
            f"  {statement:<12} {before * 1e3:7.0f} ms -> {after * 1e3:7.0f} ms ({after / before:.2f}x)"
            f"   load average {os.getloadavg()[0]:.1f}"
        )
