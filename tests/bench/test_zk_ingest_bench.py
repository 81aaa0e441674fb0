"""Proven KPI reports accepted by a real hub over HTTP: one POST each vs one ``POST /v1/kpi-reports:batch``.

Run on demand (not part of the suite; SQLite unless HUB_TEST_DATABASE_URL names a PostgreSQL server):

    pytest tests/bench/test_zk_ingest_bench.py -s -p no:cacheprovider --override-ini addopts=

Each report carries a CPK proof over 125 values in 25 subgroups of 5 (pooled sigma), made
before the clock starts (proving is the supplier's cost). HUB_BENCH_REPORTS (default 16) sets how many.
Printed: the hub's verification alone (in process), then end to end per report, single vs batch.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from protocol.models.kpi import KpiReportPayload
from protocol.zk.attestation import Attestation, verify_attestation, verify_attestations
from supplier_sdk.attest import attest_report
from supplier_sdk.reports import build_capability_report
from tests.supplier_sdk.test_client_support import Network, Reporting, past_weeks, running_network

pytestmark = pytest.mark.bench

REPORTS = int(os.environ.get("HUB_BENCH_REPORTS", "16"))
TERMS = {"kpis": [{"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"}]}


def _proven(network: Network, reporting: Reporting) -> list[KpiReportPayload]:
    hub = network.client(reporting.supplier)
    rng = np.random.default_rng(5)
    payloads = []
    for week in past_weeks(REPORTS):
        values = np.round(rng.normal(25.0, 0.003, 125), 3)
        payload = build_capability_report(
            agreement=reporting.agreement, characteristic="DIA-01", period=week, kpi="cpk", values=values,
            subgroup_size=5,
        )  # fmt: skip
        context = hub.kpi_reports.attestation_context(
            reporting.agreement.id, kpi="cpk", period=week, characteristic="DIA-01"
        )
        payloads.append(
            attest_report(
                payload, agreement=reporting.agreement, context=context, values=values, subgroup_size=5
            )
        )
    return payloads


def test_proven_ingest_single_vs_batch(tmp_path: Path) -> None:
    with running_network(tmp_path, "zk_bench") as network:
        single, batched = network.reporting(**TERMS), network.reporting(**TERMS)
        started = time.perf_counter()
        one_by_one, together = _proven(network, single), _proven(network, batched)
        proving = (time.perf_counter() - started) / (2 * REPORTS)

        attestations = [Attestation.model_validate(p.proof) for p in one_by_one]
        started = time.perf_counter()
        for attestation in attestations:
            verify_attestation(attestation)
        verify_each = (time.perf_counter() - started) / REPORTS
        started = time.perf_counter()
        assert verify_attestations(attestations) == [None] * REPORTS
        verify_batch = (time.perf_counter() - started) / REPORTS

        hub = network.client(single.supplier)
        hub.request("GET", "/v1/organizations/me")  # token and connection warm
        started = time.perf_counter()
        for payload in one_by_one:
            assert hub.kpi_reports.submit(payload).proven
        posts = (time.perf_counter() - started) / REPORTS

        hub = network.client(batched.supplier)
        hub.request("GET", "/v1/organizations/me")
        started = time.perf_counter()
        results = hub.kpi_reports.submit_batch(
            [(payload, f"bench-{i}") for i, payload in enumerate(together)]
        )
        batch = (time.perf_counter() - started) / REPORTS
        assert [r.status for r in results] == [201] * REPORTS

    size = sum(len(str(p.proof)) for p in one_by_one) / REPORTS
    print(
        f"\nKPI-ZK ingest, {REPORTS} CPK reports (125 values, 25 subgroups), {network.base_url}:"
        f"\n  prove (SDK)                       {proving * 1000:8.0f} ms per report"
        f"\n  verify alone, one by one          {verify_each * 1000:8.1f} ms per proof"
        f"\n  verify alone, as one batch        {verify_batch * 1000:8.1f} ms per proof"
        f"\n  POST /v1/kpi-reports, one each    {posts * 1000:8.1f} ms per report ({1 / posts:.1f}/s)"
        f"\n  POST /v1/kpi-reports:batch        {batch * 1000:8.1f} ms per report ({1 / batch:.1f}/s)"
        f"\n  proof JSON                        {size / 1024:8.1f} KiB"
    )
