"""``supplier-sdk genealogy import`` and ``supplier-sdk trace``: upload your genealogy, trace your lots.

Commands::

    genealogy import FILE [--format ndjson|csv|catenax] [--type batch|serial_part|...] [--strict] [--json]
    trace ROOT... [--backward] [--depth N] [--as-of ISO] [--json]

``genealogy import`` streams the file with a progress bar (bytes sent, on stderr when it is a terminal) and prints the report: counts
per record type and every rejected row (line, type, field, reason). Rejected rows do not stop an import: the
rest is kept, the command prints ``warning: N rows rejected`` on stderr and exits 0 — or, with ``--strict``, exits
3 (:data:`EXIT_REJECTED`) so a pipeline notices. ``trace`` takes lots as local ids of your own lots (``LOT-7``),
``batch/LOT-7`` or ``serial/VIN-1``, ``<org id>/batch/LOT-7``, catenaXIds (``urn:uuid:…``) or asset ids, and prints
the answer (yes / no / unknown) and tables of what was affected, by organization, part, model, plant and bin,
with the undisclosed counts.

Every command takes ``--hub``, ``--client-id`` and ``--key-file`` (or ``QUALINK_*``). Exit status: 0 done; 2 bad
input or a hub refusal (one ``error:`` line); 1 the hub could not be reached; 3 rows rejected under ``--strict``.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["trace", "a/b/c/d", "--hub", "http://127.0.0.1:9"])
    >>> result.exit_code, result.stderr.startswith("error: 'a/b/c/d' is not an asset id")
    (2, True)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from protocol.models.genealogy import ImportReport
from protocol.models.trace import TraceResult
from supplier_sdk.cli.connection import (
    HubConnection,
    amount,
    console,
    echo_json,
    invalid,
    with_hub_connection,
)
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import JsonOption
from supplier_sdk.genealogy import import_format
from supplier_sdk.trace import trace_request

app = typer.Typer(
    name="genealogy",
    help="Upload your genealogy: part types, plants, lots, serial parts, links, shipments, inventory.",
    no_args_is_help=True,
)

EXIT_REJECTED = 3
"""Exit status of ``genealogy import --strict`` when the hub rejected rows (the other rows are kept).

Example:
    >>> EXIT_REJECTED
    3
"""


def print_report(report: ImportReport) -> None:
    """The import report as a table of counts per record type, then the rejected rows.

    Example::

        print_report(hub.genealogy.import_file("lots.ndjson"))
    """
    out = console()
    out.print(
        f"{report.rows} rows ({report.format}): {report.accepted} accepted, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected} rejected; {report.links_resolved} links resolved "
        f"in {report.seconds:.1f} s"
    )
    table = Table("type", "accepted", "updated", "unchanged", "rejected")
    for name, counts in sorted(report.by_type.items()):
        table.add_row(
            name, *(str(n) for n in (counts.accepted, counts.updated, counts.unchanged, counts.rejected))
        )
    out.print(table)
    if report.rejections:
        rejected = Table("line", "type", "field", "reason", title="rejected rows")
        for row in report.rejections:
            rejected.add_row(str(row.line), row.type or "", row.field or "", row.reason)
        out.print(rejected)
    if report.rejected > len(report.rejections):
        out.print(f"… {report.rejected - len(report.rejections)} more rejected rows not listed")


@app.command("import")
@with_hub_connection()
def import_command(
    file: Annotated[Path, typer.Argument(help="NDJSON, CSV or Catena-X JSON file.", show_default=False)],
    format: Annotated[
        str | None, typer.Option("--format", help="ndjson, csv or catenax; default from the extension.")
    ] = None,
    record_type: Annotated[
        str | None, typer.Option("--type", help="CSV only: the record type of every row (e.g. batch).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 3 if any row was rejected.")] = False,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Stream a genealogy file to the hub and print its report.

    Example: ``supplier-sdk genealogy import lots.csv --type batch``
    """
    try:
        chosen = import_format(file, format)
    except ValueError as exc:
        fail(str(exc))
    if not file.is_file():
        fail(f"no such file: {file}")
    size = file.stat().st_size
    bar_console = console(stderr=True)
    with (
        connection.client() as client,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=bar_console,
            transient=True,
            disable=as_json or not bar_console.is_terminal,
        ) as progress,
    ):
        task = progress.add_task(f"importing {file.name}", total=size)
        report = client.genealogy.import_file(
            file,
            format=chosen,
            record_type=record_type,
            on_progress=lambda sent: progress.update(task, completed=sent),
        )
    if as_json:
        echo_json(report.model_dump_json())
    else:
        print_report(report)
    if report.rejected:
        typer.echo(f"warning: {report.rejected} rows rejected, the other rows were kept", err=True)
        if strict:
            raise typer.Exit(code=EXIT_REJECTED)


_TraceTable = tuple[str, tuple[str, ...], list[tuple[str, ...]]]


def _trace_tables(result: TraceResult) -> list[_TraceTable]:
    """The group tables of a trace that has such groups, in print order: (title, columns, rows).

    A group is shown even when it yields no rows (a plant without quantities still gets its header).
    """
    groups: list[_TraceTable] = [
        (
            "by organization",
            ("organization", "lots", "serial parts"),
            [(org.name, str(org.batches), str(org.serials)) for org in result.by_organization],
        ),
        (
            "by part",
            ("part", "customer part", "name", "assets"),
            [
                (part.manufacturer_part_id, part.customer_part_id or "", part.name, str(part.assets))
                for part in result.by_part
            ],
        ),
        (
            "by model",
            ("model", "serial parts"),
            [(model.model, str(model.serials)) for model in result.by_model],
        ),
        (
            "by plant",
            ("plant", "name", "positions", "in stock", "held", "shipped"),
            [
                (
                    plant.code,
                    plant.name,
                    str(plant.positions),
                    amount(q.quantity, q.unit),
                    amount(q.held, q.unit),
                    amount(q.shipped, q.unit),
                )
                for plant in result.by_plant
                for q in plant.quantities
            ],
        ),
        (
            "by location",
            ("plant", "bin", "positions", "in stock", "held"),
            [
                (
                    spot.code,
                    spot.location,
                    str(spot.positions),
                    amount(spot.quantity, spot.unit),
                    amount(spot.held, spot.unit),
                )
                for spot in result.by_location
            ],
        ),
    ]
    present = (result.by_organization, result.by_part, result.by_model, result.by_plant, result.by_location)
    return [group for group, items in zip(groups, present, strict=True) if items]


def print_trace(result: TraceResult) -> None:
    """The trace's answer, counts and group tables (what is undisclosed only as counts).

    Example::

        print_trace(hub.trace.forward(["LOT-7"]))
    """
    out = console()
    reasons = f" (cut short: {', '.join(result.incomplete_reasons)})" if result.incomplete_reasons else ""
    out.print(f"answer: {result.answer}{reasons}")
    out.print(
        f"{result.direction}, depth {result.depth}"
        + (f", as of {result.as_of.isoformat()}" if result.as_of else "")
        + f": {result.affected_batches} lots, {result.affected_serials} serial parts affected"
    )
    for title, columns, rows in _trace_tables(result):
        table = Table(*columns, title=title)
        for row in rows:
            table.add_row(*row)
        out.print(table)
    hidden = result.undisclosed
    if any(hidden.model_dump().values()):
        out.print(
            f"undisclosed: {hidden.batches} lots, {hidden.serials} serial parts at {hidden.organizations} "
            f"organizations; {hidden.part_types} part types, {hidden.models} models, {hidden.plants} plants, "
            f"{hidden.positions} inventory positions"
        )
    if result.truncated:
        out.print("(the node list is truncated; the counts are complete)")


@with_hub_connection()
def trace_command(
    roots: Annotated[
        list[str],
        typer.Argument(
            help="Lots or serial parts: LOT-7, serial/VIN-1, ORG_ID/batch/LOT-7, urn:uuid:…, or an asset id.",
            show_default=False,
        ),
    ],
    backward: Annotated[
        bool, typer.Option("--backward", help="Trace up the chain (what went into them).")
    ] = False,
    depth: Annotated[
        int | None, typer.Option("--depth", min=1, max=100, help="Link levels, 1 to 100 (default 100).")
    ] = None,
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", help="Trace the genealogy as known then (ISO, UTC).")
    ] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Trace lots forward (what contains them) or backward, and print the answer yes / no / unknown.

    Example: ``supplier-sdk trace CAP-L00012345 --depth 10``
    """
    moment = None if as_of is None else (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    try:
        body = trace_request(
            roots, direction="backward" if backward else "forward", depth=depth, as_of=moment
        )
    except ValueError as exc:
        fail(invalid(exc))
    with connection.client() as client:
        result = client.trace.run(body.roots, direction=body.direction, depth=body.depth, as_of=body.as_of)
    if as_json:
        echo_json(result.model_dump_json())
    else:
        print_trace(result)


__all__ = ["EXIT_REJECTED", "app", "print_report", "print_trace", "trace_command"]
