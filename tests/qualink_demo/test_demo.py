"""`hub demo` end to end: a real hub on a free port, driven over HTTP by the demo's actors."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from qualink_demo import run_demo


@pytest.mark.e2e
def test_the_demo_runs_to_the_end() -> None:
    out = io.StringIO()

    status = run_demo(Console(file=out, width=120), keep_running=False)

    text = out.getvalue()
    assert status == 0, text
    assert "demo finished" in text
    assert "demo failed" not in text
    assert "audit chain intact" in text
    assert "meets 1.33: proven" in text and "hub refuses: ProofContextMismatch" in text
    assert "meets 1.33: proven from measurements by Nordic Metrology AB" in text
    assert "hub refuses: ProofCommitmentMismatch" in text
