"""``supplier-sdk kpi``: capability, MTBF and demonstration-test figures computed from local data.

Commands (other tools script against these names and JSON keys):

- ``kpi capability --data FILE --lsl X --usl Y [--target T] [--subgroup-size N | --subgroup-column NAME]
  [--column NAME] [--sigma pooled|rbar|sbar|mr] [--confidence 0.95] [--json]``
- ``kpi mtbf --hours T --failures R [--test time|failure] [--confidence C] [--sided one|two] [--json]``
- ``kpi demo-test --mtbf M --confidence C [--failures R] [--json]``

With ``--json`` each prints one JSON object (``null`` where a figure does not exist); without it, rich tables.
Any input problem exits with status 2 and one ``error: ...`` line on stderr.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from supplier_sdk.cli.options import (
    ColumnOption,
    JsonOption,
    SigmaMethodOption,
    SubgroupColumnOption,
    SubgroupSizeOption,
)
from supplier_sdk.kpi import (
    CapabilityResult,
    KpiInputError,
    MtbfResult,
    capability,
    demonstration_test_hours,
    mtbf,
    read_measurements,
)

app = typer.Typer(
    name="kpi",
    help="Compute capability (Cp, Cpk, Pp, Ppk, Cpm, PPM) and MTBF figures from your own data, offline.",
    no_args_is_help=True,
)

EXIT_INPUT_ERROR = 2


class TestOption(StrEnum):
    """How a life test was terminated (``--test``)."""

    time = "time"
    failure = "failure"


class SidedOption(StrEnum):
    """One-sided lower bound or two-sided interval (``--sided``)."""

    one = "one"
    two = "two"


def fail(message: str) -> NoReturn:
    """Print ``error: <message>`` as one line on stderr and exit with status 2.

    Args:
        message: what is wrong, in one line.

    Example:
        >>> try:
        ...     fail("LSL (5) must be below USL (4)")  # stderr: error: LSL (5) must be below USL (4)
        ... except typer.Exit as stop:
        ...     print(stop.exit_code)
        2
    """
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code=EXIT_INPUT_ERROR)


def _print_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, allow_nan=False))


def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _capability_tables(result: CapabilityResult) -> list[Table]:
    level = f"{result.confidence:.0%}"
    indices = Table(title="Process capability", title_justify="left")
    for heading in ("index", "value", f"{level} CI low", f"{level} CI high"):
        indices.add_column(heading, justify="left" if heading == "index" else "right")
    rows = (("Cp", "cp"), ("Cpk", "cpk"), ("CPL", "cpl"), ("CPU", "cpu"),
            ("Pp", "pp"), ("Ppk", "ppk"), ("PPL", "ppl"), ("PPU", "ppu"), ("Cpm", "cpm"))  # fmt: skip
    for label, key in rows:
        interval = result.ci.get(key)
        low, high = interval if interval is not None else (None, None)
        indices.add_row(label, _fmt(getattr(result, key)), _fmt(low), _fmt(high))

    data = Table(title="Data", title_justify="left", show_header=False)
    data.add_column("name")
    data.add_column("value", justify="right")
    data.add_row("values (n)", str(result.n))
    data.add_row("subgroups", str(result.subgroups))
    data.add_row("mean", _fmt(result.mean, 6))
    data.add_row(f"sigma within ({result.sigma_method})", _fmt(result.sigma_within, 6))
    data.add_row("sigma overall", _fmt(result.sigma_overall, 6))
    for name, limit in (("LSL", result.lsl), ("USL", result.usl), ("target", result.target)):
        data.add_row(name, "n/a" if limit is None else f"{limit:g}")

    ppm = Table(title="PPM outside specification", title_justify="left")
    for heading in ("", "below LSL", "above USL", "total"):
        ppm.add_column(heading, justify="left" if not heading else "right")
    for kind in ("within", "overall", "observed"):
        sides = result.ppm[kind]
        ppm.add_row(kind, _fmt(sides["below"], 2), _fmt(sides["above"], 2), _fmt(sides["total"], 2))
    return [indices, data, ppm]


@app.command("capability")
def capability_command(
    data: Annotated[Path, typer.Option("--data", help="CSV file: a header row, or one value per line.")],
    lsl: Annotated[float | None, typer.Option("--lsl", help="Lower specification limit.")] = None,
    usl: Annotated[float | None, typer.Option("--usl", help="Upper specification limit.")] = None,
    target: Annotated[float | None, typer.Option("--target", help="Target value (enables Cpm).")] = None,
    subgroup_size: SubgroupSizeOption = None,
    subgroup_column: SubgroupColumnOption = None,
    column: ColumnOption = None,
    sigma: SigmaMethodOption = None,
    confidence: Annotated[float, typer.Option("--confidence", help="Two-sided CI level.")] = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Cp, Cpk, Pp, Ppk, Cpm with confidence intervals and expected PPM for one characteristic."""
    if subgroup_size is not None and subgroup_column is not None:
        fail("give either --subgroup-size or --subgroup-column, not both")
    if lsl is None and usl is None:
        fail("give at least one specification limit: --lsl, --usl or both")
    if lsl is not None and usl is not None and lsl >= usl:
        fail(f"--lsl ({lsl:g}) must be below --usl ({usl:g})")
    try:
        measurements = read_measurements(data, column=column, subgroup_column=subgroup_column)
        result = capability(
            measurements.values,
            lsl=lsl,
            usl=usl,
            target=target,
            subgroup_size=subgroup_size,
            subgroup_labels=measurements.labels,
            sigma=None if sigma is None else sigma.value,
            confidence=confidence,
        )
    except KpiInputError as exc:
        fail(str(exc))
    if as_json:
        _print_json(result.to_dict())
        return
    console = Console()
    for table in _capability_tables(result):
        console.print(table)


@app.command("mtbf")
def mtbf_command(
    hours: Annotated[float, typer.Option("--hours", help="Total accumulated test hours T.")],
    failures: Annotated[int, typer.Option("--failures", help="Failures observed r.")],
    test: Annotated[
        TestOption, typer.Option("--test", help="time-terminated (2r+2 df) or failure-terminated (2r df).")
    ] = TestOption.time,
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence level C.")] = 0.90,
    sided: Annotated[
        SidedOption, typer.Option("--sided", help="one: lower bound only; two: two-sided interval.")
    ] = SidedOption.one,
    as_json: JsonOption = False,
) -> None:
    """Exponential MTBF point estimate and chi-square confidence bound(s) from a life test."""
    try:
        result: MtbfResult = mtbf(
            total_hours=hours, failures=failures, confidence=confidence, test=test.value, sided=sided.value
        )
    except KpiInputError as exc:
        fail(str(exc))
    if as_json:
        _print_json(result.to_dict())
        return
    table = Table(title=f"MTBF ({result.test}-terminated, {result.sided}-sided, C = {result.confidence:g})")
    table.add_column("figure")
    table.add_column("hours", justify="right")
    table.add_row("MTBF (T/r)", _fmt(result.mtbf, 1))
    table.add_row("lower bound", _fmt(result.lower, 1))
    table.add_row("upper bound", _fmt(result.upper, 1))
    Console().print(table)


@app.command("demo-test")
def demo_test_command(
    mtbf_goal: Annotated[float, typer.Option("--mtbf", help="MTBF to demonstrate, hours.")],
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence level C.")],
    failures: Annotated[int, typer.Option("--failures", help="Failures allowed during the test.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Total test hours needed to demonstrate an MTBF at a confidence level (time-terminated test)."""
    try:
        hours = demonstration_test_hours(mtbf_goal, confidence, failures)
    except KpiInputError as exc:
        fail(str(exc))
    payload = {"test_hours": hours, "mtbf": mtbf_goal, "confidence": confidence, "failures": failures}
    if as_json:
        _print_json(payload)
        return
    table = Table(title="Demonstration test", show_header=False)
    table.add_column("name")
    table.add_column("value", justify="right")
    table.add_row("MTBF to demonstrate", f"{mtbf_goal:g} h")
    table.add_row("confidence", f"{confidence:g}")
    table.add_row("failures allowed", str(failures))
    table.add_row("total test hours", _fmt(hours, 1))
    Console().print(table)


__all__ = ["app", "capability_command", "demo_test_command", "fail", "mtbf_command"]
