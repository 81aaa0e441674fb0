"""`hub genealogy import FILE` and `hub synth genealogy`: the operator's bulk paths, straight to the database.

The import runs the same code as ``POST /v1/genealogy:import`` (one transaction, one audit entry); without
``--org`` each record names its organization (``organization`` records create missing ones), which is how a
synthetic network written with ``hub synth genealogy --out`` is loaded."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from hub.config import get_settings
from hub.db import make_engine, make_session_factory

genealogy_app = typer.Typer(
    help="Genealogy: lots, serial parts, links, shipments, inventory.", no_args_is_help=True
)
synth_app = typer.Typer(help="Synthetic data for tests, demos and benchmarks.", no_args_is_help=True)

console = Console()
err = Console(stderr=True)
CHUNK = 1024 * 1024
_SUFFIXES = {".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv", ".json": "catenax"}


def _chunks(handle: IO[bytes], advance: Any) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        advance(len(chunk))
        yield chunk


@genealogy_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    org: Annotated[
        uuid.UUID | None,
        typer.Option(help="Import as this organization (default: each record names its own)"),
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="ndjson | csv | catenax (default: from the file name)")
    ] = None,
    record_type: Annotated[
        str | None, typer.Option("--type", help="CSV: the record type of every row")
    ] = None,
    show_rejections: Annotated[int, typer.Option(help="List at most this many rejected rows")] = 20,
) -> None:
    """Import an NDJSON, CSV or Catena-X JSON file, with a progress bar; prints the report."""
    from hub.errors import HubError
    from hub.genealogy import service

    chosen = format or _SUFFIXES.get(file.suffix.lower())
    if chosen not in ("ndjson", "csv", "catenax"):
        err.print("[red]error:[/red] give --format ndjson|csv|catenax")
        raise typer.Exit(2)
    engine = make_engine(get_settings())
    try:
        with (
            Progress(
                TextColumn("[bold]import[/bold]"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TextColumn("{task.fields[rows]} rows"),
                TimeRemainingColumn(),
                console=err,
            ) as progress,
            file.open("rb") as handle,
            make_session_factory(engine).begin() as session,
        ):
            task = progress.add_task("import", total=file.stat().st_size, rows=0)
            report = service.import_genealogy(
                session,
                caller=None,
                organization_id=org,
                chunks=_chunks(handle, lambda n: progress.advance(task, n)),
                format=chosen,  # type: ignore[arg-type]
                record_type=record_type,  # type: ignore[arg-type]
                progress=lambda rows: progress.update(task, rows=rows),
            )
    except HubError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    rate = report.rows / report.seconds if report.seconds else 0.0
    console.print(
        f"{report.rows} rows in {report.seconds:.1f} s ({rate:,.0f} rows/s): {report.accepted} accepted, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.rejected} rejected, "
        f"{report.links_resolved} waiting links resolved"
    )
    for row in report.rejections[:show_rejections]:
        console.print(f"  line {row.line}: {row.type or '?'} {row.field or ''}: {row.reason}")
    if report.rejected:
        raise typer.Exit(1)


@synth_app.command("genealogy")
def synth_genealogy(
    lots: Annotated[int, typer.Option(min=8, help="Assets (lots and vehicles) in all")] = 10_000,
    tiers: Annotated[int, typer.Option(min=2, max=8, help="Tiers including the OEM")] = 4,
    seed: Annotated[int, typer.Option(help="Same seed, same network")] = 1,
    out: Annotated[Path | None, typer.Option(help="Write an NDJSON import file here")] = None,
    database: Annotated[
        bool, typer.Option("--database", help="Write into the database (COPY on PostgreSQL)")
    ] = False,
) -> None:
    """A multi-tier network: component lots fanned into modules, assemblies and vehicles, shipped to plants."""
    from hub.genealogy import synth

    if (out is None) == (not database):
        err.print("[red]error:[/red] give exactly one of --out FILE and --database")
        raise typer.Exit(2)
    try:
        if out is not None:
            with out.open("w", encoding="utf-8") as handle:
                counts = synth.write_ndjson(handle, lots=lots, tiers=tiers, seed=seed)
            console.print(f"wrote {sum(counts.values())} records to {out}: {json.dumps(counts)}")
            return
        engine = make_engine(get_settings())
        try:
            network = synth.build_synthetic_network(
                engine, lots=lots, tiers=tiers, seed=seed, progress=lambda t, n: err.print(f"{t}: {n}")
            )
        finally:
            engine.dispose()
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"built in {network.seconds:.1f} s: {json.dumps(network.counts)}")
    console.print(
        f"hot lot {network.hot_lot_local_id} ({network.hot_lot_id}) of the capacitor supplier: "
        f"{network.hot_lot_descendants} descendants; a vehicle: {network.vehicle_id}"
    )
