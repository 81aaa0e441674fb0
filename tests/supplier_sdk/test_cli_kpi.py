"""`supplier-sdk kpi ...`: exit codes, the JSON contract and one-line errors, checked against the library."""

from __future__ import annotations

import doctest
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from supplier_sdk.cli import app, main
from supplier_sdk.kpi import capability, demonstration_test_hours, mtbf, read_measurements

runner = CliRunner()

CAPABILITY_KEYS = {"n", "subgroups", "mean", "sigma_within", "sigma_overall", "cp", "cpk", "cpl", "cpu", "pp",
                   "ppk", "ppl", "ppu", "cpm", "ci", "ppm"}  # fmt: skip


@pytest.fixture
def lots_csv(tmp_path: Path) -> Path:
    """30 diameters in 6 lots of 5, with a lot column and an unrelated operator column."""
    values = np.round(np.random.default_rng(11).normal(25.0, 0.006, 30), 4)
    lines = ["lot,diameter,operator"] + [f"L{i // 5},{v},op{i % 2}" for i, v in enumerate(values)]
    path = tmp_path / "lots.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def plain_csv(tmp_path: Path) -> Path:
    path = tmp_path / "plain.csv"
    path.write_text(
        "\n".join(str(v) for v in np.round(np.random.default_rng(5).normal(10, 0.1, 40), 3)) + "\n"
    )
    return path


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def test_capability_json_matches_the_library_with_a_subgroup_column(lots_csv: Path) -> None:
    payload = run_json(
        "kpi", "capability", "--data", str(lots_csv), "--lsl", "24.98", "--usl", "25.02",
        "--target", "25.0", "--subgroup-column", "lot", "--column", "diameter",
    )  # fmt: skip
    m = read_measurements(lots_csv, column="diameter", subgroup_column="lot")
    expected = capability(m.values, lsl=24.98, usl=25.02, target=25.0, subgroup_labels=m.labels).to_dict()
    assert set(payload) >= CAPABILITY_KEYS
    assert payload == expected
    assert payload["subgroups"] == 6 and payload["sigma_method"] == "pooled"
    ci = payload["ci"]
    assert isinstance(ci, dict) and all(len(ci[k]) == 2 for k in ("cp", "cpk", "pp", "ppk"))
    ppm = payload["ppm"]
    assert isinstance(ppm, dict)
    for kind in ("within", "overall"):
        assert set(ppm[kind]) == {"below", "above", "total"}


def test_capability_with_fixed_subgroups_sigma_and_confidence(lots_csv: Path) -> None:
    payload = run_json(
        "kpi", "capability", "--data", str(lots_csv), "--lsl", "24.98", "--usl", "25.02",
        "--subgroup-size", "5", "--column", "diameter", "--sigma", "rbar", "--confidence", "0.9",
    )  # fmt: skip
    values = read_measurements(lots_csv, column="diameter").values
    expected = capability(values, lsl=24.98, usl=25.02, subgroup_size=5, sigma="rbar", confidence=0.9)
    assert payload["sigma_method"] == "rbar" and payload["cpm"] is None
    assert payload["cpk"] == expected.cpk
    assert payload["ci"] == {k: list(v) if v else None for k, v in expected.ci.items()}


def test_capability_headerless_file_is_individuals(plain_csv: Path) -> None:
    payload = run_json("kpi", "capability", "--data", str(plain_csv), "--lsl", "9.6", "--usl", "10.4")
    expected = capability(read_measurements(plain_csv).values, lsl=9.6, usl=10.4)
    assert payload["sigma_method"] == "mr" and payload["n"] == 40 and payload["subgroups"] == 40
    assert payload["pp"] == expected.pp


def test_capability_one_sided_gives_null_for_two_limit_indices(plain_csv: Path) -> None:
    payload = run_json("kpi", "capability", "--data", str(plain_csv), "--usl", "10.4")
    assert payload["cp"] is None and payload["pp"] is None and payload["cpl"] is None
    assert payload["cpk"] == payload["cpu"]
    ci, ppm = payload["ci"], payload["ppm"]
    assert isinstance(ci, dict) and isinstance(ppm, dict)
    assert ci["cp"] is None and len(ci["cpk"]) == 2
    assert ppm["within"]["below"] is None and ppm["within"]["total"] == ppm["within"]["above"]


def test_capability_table_output(lots_csv: Path) -> None:
    result = runner.invoke(
        app, ["kpi", "capability", "--data", str(lots_csv), "--lsl", "24.98", "--usl", "25.02",
              "--subgroup-column", "lot", "--column", "diameter"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    m = read_measurements(lots_csv, column="diameter", subgroup_column="lot")
    expected = capability(m.values, lsl=24.98, usl=25.02, subgroup_labels=m.labels)
    for text in ("Cpk", "Ppk", "PPM", "sigma within (pooled)", f"{expected.cpk:.4f}", f"{expected.pp:.4f}"):
        assert text in result.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, [], "data file not found"),
        ("", [], "data file is empty"),
        ("x\n1\n2\nabc\n", [], "line 4, column 'x': 'abc' is not a number"),
        ("lot,x\nA,1\nA,2\nB,3\n", ["--subgroup-column", "lot"], "subgroup 2 (label 'B') has 1 value"),
        ("1\n2\n3\n4\n5\n", ["--subgroup-size", "2"], "the last subgroup would hold 1 value"),
        ("1\n2\n3\n", ["--subgroup-size", "3", "--subgroup-column", "lot"], "not both"),
        ("1\n2\n3\n", ["--lsl", "5"], "--lsl (5) must be below --usl (4)"),
        ("2\n2\n2\n", [], "all 3 values are equal"),
    ],
)
def test_capability_input_errors_exit_2_with_one_line(
    tmp_path: Path, content: str | None, extra: list[str], message: str
) -> None:
    data = str(tmp_path / "missing.csv") if content is None else write(tmp_path, content)
    args = ["kpi", "capability", "--data", data, "--usl", "4", *extra]
    if "--lsl" not in extra:
        args += ["--lsl", "0"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_capability_needs_a_limit(plain_csv: Path) -> None:
    result = runner.invoke(app, ["kpi", "capability", "--data", str(plain_csv)])
    assert result.exit_code == 2 and "at least one specification limit" in result.stderr


def test_mtbf_json_matches_the_library() -> None:
    payload = run_json("kpi", "mtbf", "--hours", "10000", "--failures", "2", "--confidence", "0.9")
    assert payload == mtbf(total_hours=10_000, failures=2, confidence=0.9).to_dict()
    assert payload["mtbf"] == 5000.0 and payload["upper"] is None
    assert payload["lower"] == pytest.approx(20_000 / 10.645, rel=1e-4)


def test_mtbf_two_sided_failure_terminated() -> None:
    payload = run_json(
        "kpi", "mtbf", "--hours", "8000", "--failures", "3", "--test", "failure", "--sided", "two",
        "--confidence", "0.8",
    )  # fmt: skip
    expected = mtbf(total_hours=8000, failures=3, confidence=0.8, test="failure", sided="two")
    assert (payload["lower"], payload["upper"]) == (expected.lower, expected.upper)


def test_mtbf_zero_failures_prints_null_estimate() -> None:
    payload = run_json("kpi", "mtbf", "--hours", "5000", "--failures", "0", "--sided", "two")
    assert payload["mtbf"] is None and payload["upper"] is None and isinstance(payload["lower"], float)


def test_mtbf_table_and_errors() -> None:
    table = runner.invoke(app, ["kpi", "mtbf", "--hours", "10000", "--failures", "2"])
    assert table.exit_code == 0 and "1878.9" in table.stdout and "5000.0" in table.stdout
    bad = runner.invoke(app, ["kpi", "mtbf", "--hours", "100", "--failures", "0", "--test", "failure"])
    assert bad.exit_code == 2
    assert bad.stderr == "error: a failure-terminated test ends at a failure: failures must be at least 1\n"


def test_demo_test_json_and_table() -> None:
    payload = run_json("kpi", "demo-test", "--mtbf", "1000", "--confidence", "0.9", "--failures", "1")
    assert payload["test_hours"] == demonstration_test_hours(1000.0, 0.9, 1)
    assert payload["test_hours"] == pytest.approx(1000 * 7.779 / 2, rel=1e-4)
    table = runner.invoke(app, ["kpi", "demo-test", "--mtbf", "1000", "--confidence", "0.9"])
    assert table.exit_code == 0 and "2302.6" in table.stdout
    bad = runner.invoke(app, ["kpi", "demo-test", "--mtbf", "-5", "--confidence", "0.9"])
    assert bad.exit_code == 2 and "MTBF must be a positive number of hours" in bad.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kpi", "capability", "--data", "x.csv", "--lsl", "abc"], "Invalid value for '--lsl'"),
        (["kpi", "capability", "--lsl", "1"], "Missing option '--data'"),
        (
            ["kpi", "capability", "--data", "x.csv", "--lsl", "1", "--sigma", "median"],
            "'median' is not one of",
        ),
        (["kpi", "mtbf", "--hours", "10", "--failures", "1.5"], "Invalid value for '--failures'"),
    ],
)
def test_main_turns_usage_errors_into_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ") and message in captured.err


def test_console_entry_point_end_to_end(tmp_path: Path) -> None:
    data = write(tmp_path, "d\n1.0\n1.2\n0.9\n1.1\n")
    ok = subprocess.run(
        [sys.executable, "-m", "supplier_sdk.cli", "kpi", "capability", "--data", data, "--lsl", "0",
         "--usl", "2", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["n"] == 4
    bad = subprocess.run(
        [sys.executable, "-m", "supplier_sdk.cli", "kpi", "capability", "--data", data, "--lsl", "3",
         "--usl", "2"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "error: --lsl (3) must be below --usl (2)\n"


@pytest.mark.parametrize("name", ["supplier_sdk.cli", "supplier_sdk.cli.kpi"])
def test_docstring_examples_hold(name: str) -> None:
    failures, attempted = doctest.testmod(importlib.import_module(name))
    assert attempted > 0 and failures == 0
