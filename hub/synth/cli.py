"""`hub synth reports`: build a synthetic network and let it report for some weeks, then say what it cost."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from hub.config import get_settings
from hub.db import make_engine, make_session_factory
from hub.synth import measure, network, reports
from hub.synth.shape import Shape

console = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _start(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter("--start is an ISO 8601 date or date-time, e.g. 2026-01-05") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def synth_reports(
    scale: Annotated[
        float,
        typer.Option(
            help="Of 10 OEMs x 10,000 suppliers x 100 characteristics: scales the suppliers per OEM"
        ),
    ] = 0.01,
    weeks: Annotated[int, typer.Option(min=1, help="Weeks of reports, from --start on")] = 1,
    seed: Annotated[int, typer.Option(help="Same seed, same keys, values and nonces")] = 1,
    start: Annotated[
        str | None, typer.Option(help="A day in the first reported week (ISO 8601); default today")
    ] = None,
    oems: Annotated[int | None, typer.Option(min=1, help="Override: OEMs")] = None,
    suppliers: Annotated[int | None, typer.Option(min=1, help="Override: suppliers per OEM")] = None,
    characteristics: Annotated[
        int | None, typer.Option(min=1, help="Override: characteristics an agreement")
    ] = None,
    webhook: Annotated[
        bool, typer.Option(help="A webhook per OEM, so events fan out into deliveries")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as one JSON object")] = False,
) -> None:
    """Reports and events at a chosen scale, through the hub's own services; prints rates, rows and bytes."""
    try:
        shape = Shape.at_scale(
            scale, weeks=weeks, oems=oems, suppliers_per_oem=suppliers, characteristics=characteristics
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    first = _start(start)
    settings = get_settings()
    engine = make_engine(settings)
    try:
        factory = make_session_factory(engine)
        began = time.perf_counter()
        valid_from = reports.week(first, 0)[0].start.date()
        built = network.build(
            factory, shape=shape, seed=seed, valid_from=valid_from, webhook=webhook, progress=err.print
        )
        build_seconds = time.perf_counter() - began
        from hub.auth.tokens import TokenKeys
        from hub.kpis.attestation import Binding

        keys = TokenKeys(settings.signing_key(), issuer=settings.issuer)
        binding = Binding(hub=settings.issuer, nonce_key=settings.attestation_key())
        backends = measure.BackendCpu(engine)
        totals = reports.run(
            factory, network=built, start=first, binding=binding, keys=keys, progress=err.print
        )
        backend_cpu = backends.since_start()
        sizes = measure.tables(engine)
    finally:
        engine.dispose()
    figures = _figures(shape, seed, first, build_seconds, totals, backend_cpu, sizes)
    if as_json:
        console.print(json.dumps(figures))
    else:
        _say(figures)


def _figures(
    shape: Shape,
    seed: int,
    start: datetime,
    build_seconds: float,
    totals: reports.Totals,
    backend_cpu: float | None,
    sizes: list[measure.TableSize],
) -> dict[str, Any]:
    stored = max(1, totals.reports)
    return {
        "shape": {
            "oems": shape.oems,
            "suppliers_per_oem": shape.suppliers_per_oem,
            "characteristics": shape.characteristics,
            "weeks": shape.weeks,
            "fraction_of_full": shape.fraction_of_full,
        },
        "seed": seed,
        "start": start.isoformat(),
        "digest": totals.digest.hexdigest(),
        "reports": totals.reports,
        "refused": totals.refused,
        "events": totals.events,
        "sealed": totals.sealed,
        "build_seconds": round(build_seconds, 2),
        "sign_seconds": round(totals.sign_seconds, 2),
        "store_seconds": round(totals.store_seconds, 2),
        "reports_per_second": round(totals.reports / totals.store_seconds, 1)
        if totals.store_seconds
        else None,
        "sequence_seconds": round(totals.sequence_seconds, 2),
        "events_per_second": round(totals.events / totals.sequence_seconds, 1)
        if totals.sequence_seconds
        else None,
        "seal_seconds": round(totals.seal_seconds, 2),
        "hub_cpu_ms_per_report": round(totals.store_cpu / stored * 1000, 3),
        "database_cpu_ms_per_report": None if backend_cpu is None else round(backend_cpu / stored * 1000, 3),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "tables": [
            {"table": s.name, "rows": s.rows, "bytes": s.total_bytes, "index_bytes": s.index_bytes}
            for s in sizes
        ],
    }


def _say(figures: dict[str, Any]) -> None:
    shape = figures["shape"]
    console.print(
        f"{shape['oems']} OEMs x {shape['suppliers_per_oem']} suppliers x {shape['characteristics']} characteristics"
        f" x {shape['weeks']} weeks ({shape['fraction_of_full']:g} of full scale), seed {figures['seed']},"
        f" from {figures['start']}; digest {figures['digest']}"
    )
    console.print(
        f"network built in {figures['build_seconds']} s; reports signed in {figures['sign_seconds']} s;"
        f" {figures['reports']} stored ({figures['refused']} refused) in {figures['store_seconds']} s ="
        f" {figures['reports_per_second']} reports/s; hub CPU {figures['hub_cpu_ms_per_report']} ms/report,"
        f" database CPU {figures['database_cpu_ms_per_report']} ms/report"
    )
    console.print(
        f"{figures['events']} events numbered and fanned out in {figures['sequence_seconds']} s ="
        f" {figures['events_per_second']} events/s; {figures['sealed']} audit entries sealed in"
        f" {figures['seal_seconds']} s; load average {figures['load_average']}"
    )
    for row in figures["tables"]:
        size = "" if row["bytes"] is None else f"  {row['bytes']:>14,} B ({row['index_bytes']:,} B indexes)"
        per = "" if row["bytes"] is None else f"  {row['bytes'] / row['rows']:,.0f} B/row"
        console.print(f"  {row['table']:<28} {row['rows']:>10,} rows{size}{per}")
