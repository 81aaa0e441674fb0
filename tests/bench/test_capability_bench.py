"""Benchmark: capability() on 100,000 values in subgroups of 5 (pooled sigma); the budget is 0.5 s.

Run on demand (tests/bench is excluded from the default run):

    pytest tests/bench/test_capability_bench.py -p no:cacheprovider --override-ini addopts=
"""

from __future__ import annotations

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from supplier_sdk.kpi import capability

BUDGET_SECONDS = 0.5


@pytest.mark.bench
def test_capability_100k_values_pooled(benchmark: BenchmarkFixture) -> None:
    values = np.random.default_rng(2026).normal(25.0, 0.005, 100_000)
    result = benchmark(capability, values, lsl=24.98, usl=25.02, target=25.0, subgroup_size=5, sigma="pooled")
    assert result.n == 100_000 and result.subgroups == 20_000 and result.dof_within == 80_000
    assert benchmark.stats is not None
    assert benchmark.stats.stats.median < BUDGET_SECONDS  # median: robust to a busy shared machine
