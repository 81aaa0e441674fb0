"""supplier_sdk.attest and `supplier-sdk attest cpk|mtbf`, `supplier-sdk verify`: offline proofs, exit statuses,
and proof files that never hold a measurement."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from protocol.zk.attestation import verify_attestation
from supplier_sdk.attest import (
    OFFLINE_CONTEXT,
    ProofInvalid,
    WitnessDoesNotMeet,
    attest_capability,
    load_context,
    read_proof,
    subgroup_sizes,
    to_resolution,
    verify_file,
)
from supplier_sdk.cli import app

runner = CliRunner()
VALUES = np.round(np.random.default_rng(11).normal(25.0, 0.003, 40), 3)
POOR = np.round(np.random.default_rng(12).normal(25.01, 0.006, 40), 3)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "dia.csv"
    path.write_text("lot,diameter\n" + "".join(f"L{i // 5},{v:.3f}\n" for i, v in enumerate(VALUES)))
    return path


def _cpk_args(data: Path, out: Path, *extra: str, threshold: str = "1.33") -> list[str]:
    return [
        "attest", "cpk", "--data", str(data), "--column", "diameter", "--lsl", "24.98", "--usl", "25.02",
        "--resolution", "0.001", "--threshold", threshold, "--out", str(out), *extra,
    ]  # fmt: skip


def test_attest_cpk_writes_a_proof_that_verify_accepts(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "proof.json"
    context = tmp_path / "ctx.json"
    context.write_text(json.dumps({"hub": "https://hub.example", "period": "2026-W48", "nonce": "n0nce-123"}))

    made = runner.invoke(app, _cpk_args(data, out, "--subgroup-column", "lot", "--context", str(context)))

    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("proved CPK ≥ 1.33 over 40 values")
    proof = read_proof(out)
    assert proof.statement == "cpk_at_least" and proof.context().hub == "https://hub.example"
    assert proof.context().nonce == "n0nce-123" and proof.context().supplier == OFFLINE_CONTEXT["supplier"]
    checked = runner.invoke(app, ["verify", str(out)])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith("valid: cpk_at_least threshold 1.33")


def _leaves(node: object) -> list[object]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    return [node]


def _as_decimal(leaf: object) -> Decimal | None:
    try:
        return Decimal(str(leaf))
    except ArithmeticError:
        return None


def test_a_proof_file_never_contains_a_measurement(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "proof.json"
    assert runner.invoke(app, _cpk_args(data, out, "--subgroup-size", "5")).exit_code == 0
    proof = json.loads(out.read_text())
    assert set(proof) == {"version", "statement", "public", "commitments", "proof"}
    numbers = {d for leaf in _leaves(proof) if (d := _as_decimal(leaf)) is not None}
    measured = to_resolution(VALUES, Decimal("0.001"))
    scaled = [int((v - Decimal("24.98")) / Decimal("0.001")) for v in measured]
    # Measurements, the committed aggregates S1, S2, S1² and the subgroup sums: none is written anywhere.
    secrets = {
        *measured,
        Decimal(sum(scaled)),
        Decimal(sum(y * y for y in scaled)),
        Decimal(sum(scaled) ** 2),
    }
    secrets |= {Decimal(sum(scaled[i : i + 5])) for i in range(0, len(scaled), 5)}
    assert not numbers & secrets, numbers & secrets
    # The public inputs are the statement's and the context's, nothing else (small integers there are widths).
    statement = {
        "n",
        "lsl",
        "usl",
        "resolution",
        "threshold",
        "threshold_p",
        "threshold_d",
        "sigma",
        "subgroups",
    }
    context = {"hub", "supplier", "key_id", "agreement", "characteristic", "period", "kpi", "nonce"}
    widths = {name: value for name, value in proof["public"].items() if name.startswith("bits_")}
    assert set(proof["public"]) - set(widths) == statement | context
    assert all(isinstance(value, int) and 0 < value < 512 for value in widths.values())  # range-proof widths
    assert all(isinstance(v, str) and len(v) == 64 for v in proof["commitments"].values())  # 48-byte points


def test_data_that_do_not_meet_the_threshold_exit_2_and_write_nothing(tmp_path: Path) -> None:
    poor = tmp_path / "poor.csv"
    poor.write_text("".join(f"{v:.3f}\n" for v in POOR))
    out = tmp_path / "proof.json"
    args = ["attest", "cpk", "--data", str(poor), "--lsl", "24.98", "--usl", "25.02", "--resolution", "0.001",
            "--threshold", "1.33", "--out", str(out)]  # fmt: skip

    result = runner.invoke(app, args)

    assert result.exit_code == 2
    assert result.stderr.startswith("error: the data do not meet the threshold CPK ≥ 1.33")
    assert result.stderr.count("\n") == 1 and not out.exists()


def test_attest_mtbf_point_and_chi2_forms(tmp_path: Path) -> None:
    point = tmp_path / "point.json"
    made = runner.invoke(
        app,
        [
            "attest",
            "mtbf",
            "--hours",
            "120000",
            "--failures",
            "1",
            "--threshold",
            "50000",
            "--out",
            str(point),
        ],
    )
    assert made.exit_code == 0, made.output
    assert read_proof(point).statement == "mtbf_at_least"
    chi2 = tmp_path / "chi2.json"
    made = runner.invoke(
        app,
        ["attest", "mtbf", "--hours", "120000", "--failures", "0", "--threshold", "50000", "--form", "chi2-lower",
         "--confidence", "0.6", "--out", str(chi2)],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["verify", str(chi2)]).exit_code == 0
    short = runner.invoke(
        app,
        ["attest", "mtbf", "--hours", "1000", "--failures", "1", "--threshold", "50000", "--out", str(point)],
    )
    assert short.exit_code == 2 and "do not meet the threshold MTBF ≥ 50000" in short.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hours", "-5", "--failures", "1", "--threshold", "10"], "--hours must be a positive"),
        (["--hours", "100", "--failures", "-1", "--threshold", "10"], "--failures must be 0 or more"),
        (["--hours", "100", "--failures", "1", "--threshold", "x"], "--threshold must be a decimal"),
        (
            ["--hours", "100", "--failures", "1", "--threshold", "10", "--form", "chi2-lower"],
            "needs --confidence",
        ),
        (
            ["--hours", "100", "--failures", "1", "--threshold", "10", "--confidence", "0.9"],
            "belongs to --form",
        ),
    ],
)
def test_bad_mtbf_options_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["attest", "mtbf", *args, "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1


def test_bad_cpk_options_and_contexts_exit_2(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    both = runner.invoke(app, _cpk_args(data, out, "--subgroup-size", "5", "--subgroup-column", "lot"))
    assert both.exit_code == 2 and "either --subgroup-size or --subgroup-column" in both.stderr
    bad = tmp_path / "ctx.json"
    bad.write_text(json.dumps({"planet": "mars"}))
    assert (
        "unknown binding context field(s): planet"
        in runner.invoke(app, _cpk_args(data, out, "--context", str(bad))).stderr
    )
    bad.write_text("[1]")
    assert runner.invoke(app, _cpk_args(data, out, "--context", str(bad))).exit_code == 2
    res = runner.invoke(app, [*_cpk_args(data, out)[:-2], "--out", str(out), "--resolution", "0"])
    assert res.exit_code == 2 and not out.exists()
    off_grid = [a if a != "24.98" else "24.9805" for a in _cpk_args(data, out)]  # LSL off the resolution
    res = runner.invoke(app, off_grid)
    assert res.exit_code == 2 and res.stderr.startswith("error: ") and res.stderr.count("\n") == 1
    assert not out.exists()


def test_verify_exit_1_names_the_failed_check(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "proof.json"
    assert runner.invoke(app, _cpk_args(data, out, "--subgroup-size", "5")).exit_code == 0
    proof = json.loads(out.read_text())

    proof["public"]["threshold"] = "1.00"  # claim a different threshold with the same proof
    out.write_text(json.dumps(proof))
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 1 and result.stdout.startswith("invalid: ")

    out.write_text(json.dumps({"version": "KPI-ZK/1"}))
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 1 and result.stdout.startswith("invalid: format: ")

    missing = runner.invoke(app, ["verify", str(tmp_path / "absent.json")])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: cannot read")


def test_library_functions(tmp_path: Path) -> None:
    assert subgroup_sizes(10, subgroup_size=5) == [5, 5]
    assert subgroup_sizes(3, subgroup_labels=["a", "b", "c"]) is None  # individual values: overall sigma
    context = load_context({"period": "2026-W48"}, kpi="cpk", characteristic="DIA-01")
    assert (context.period, context.kpi, context.characteristic) == ("2026-W48", "cpk", "DIA-01")
    with pytest.raises(ValueError, match="binding context"):
        load_context({"period": 5}, kpi="cpk")
    proof = attest_capability(
        VALUES, lsl=Decimal("24.98"), usl=Decimal("25.02"), resolution=Decimal("0.001"),
        threshold=Decimal("1.33"), context=context, subgroup_size=5,
    )  # fmt: skip
    assert verify_file(proof) is proof
    verify_attestation(proof, expected=context)
    with pytest.raises(ProofInvalid):
        verify_attestation(proof, expected=context.model_copy(update={"period": "2026-W49"}))
    with pytest.raises(WitnessDoesNotMeet):
        attest_capability(
            POOR, lsl=Decimal("24.98"), usl=Decimal("25.02"), resolution=Decimal("0.001"),
            threshold=Decimal("1.33"), context=context,
        )  # fmt: skip
