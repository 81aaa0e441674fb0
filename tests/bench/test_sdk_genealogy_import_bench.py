"""Benchmark: ``client.genealogy.import_file`` streaming a large NDJSON file (default 200,000 lots, ~34 MB) to a
real hub, the client in a process of its own so its peak RSS is its own: rows per second end to end, and the
client's peak RSS before and after (equal when the body streams in bounded memory).

Run on demand (tests/bench is excluded from the default run), on PostgreSQL for meaningful figures:

    HUB_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/qualink_bench \\
        pytest tests/bench/test_sdk_genealogy_import_bench.py -s -p no:cacheprovider --override-ini addopts=

``SDK_IMPORT_BENCH_ROWS`` changes the number of lots.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.models.common import OrgKind
from tests.supplier_sdk.test_client_support import running_network

ROWS = int(os.environ.get("SDK_IMPORT_BENCH_ROWS", "200000"))

CLIENT = """
import json, resource, sys, time
from supplier_sdk.config import load_config
url, client_id, key_file, path = sys.argv[1:5]
client = load_config(hub=url, client_id=client_id, key_file=key_file, environ={}).client()
client.organizations.me()  # token and connection first
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
report = client.genealogy.import_file(path)
seconds = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": report.rows, "accepted": report.accepted, "rejected": report.rejected,
                  "seconds": seconds, "rss_before_kib": before, "rss_after_kib": after}))
"""


def write_lots(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write(
            json.dumps(
                {"type": "part_type", "manufacturer_part_id": "CAP-100", "name_at_manufacturer": "cap"}
            )
        )
        out.write("\n")
        for n in range(rows):
            record = {
                "type": "batch",
                "batch_id": f"B{n:07d}",
                "manufacturer_part_id": "CAP-100",
                "site": "CAP-1",
                "quantity": 50,
                "unit": "pcs",
                "production_date": "2026-11-02T06:00:00Z",
            }
            out.write(json.dumps(record) + "\n")


@pytest.mark.bench
def test_sdk_streams_a_large_import_in_bounded_memory(tmp_path: Path) -> None:
    lots = tmp_path / "lots.ndjson"
    write_lots(lots, ROWS)
    with running_network(tmp_path, "sdk_import_bench") as network:
        party = network.register(OrgKind.SUPPLIER, "Capacitor maker")
        key = party.write_key(tmp_path)
        done = subprocess.run(
            [sys.executable, "-c", CLIENT, network.base_url, party.client_id, str(key), str(lots)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
    figures = json.loads(done.stdout)
    size_mb = lots.stat().st_size / 1e6
    print(
        f"\nSDK import of {size_mb:.1f} MB: {figures['rows']} rows in {figures['seconds']:.1f} s = "
        f"{figures['rows'] / figures['seconds']:,.0f} rows/s; client peak RSS "
        f"{figures['rss_before_kib'] / 1024:.1f} MiB before, {figures['rss_after_kib'] / 1024:.1f} MiB after"
    )
    assert (figures["accepted"], figures["rejected"]) == (ROWS + 1, 0)
    # Bounded memory: the client's peak RSS grows by far less than the file it sent.
    assert (figures["rss_after_kib"] - figures["rss_before_kib"]) * 1024 < lots.stat().st_size / 4
