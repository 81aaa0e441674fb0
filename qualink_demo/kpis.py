"""Chapter 2: suppliers report quality. Each computes CPK from its own measurements, which never leave it,
signs a report per week and sends only that; the OEM reads what its agreements entitle it to."""

from __future__ import annotations

import csv
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
from rich.table import Table

from protocol.models.agreements import Agreement
from protocol.models.common import PeriodKind
from protocol.periods import Period, period_containing
from qualink_demo.actors import Actor, DemoFailure
from qualink_demo.story import Story
from supplier_sdk import Client
from supplier_sdk.errors import ConflictError
from supplier_sdk.kpi import capability, read_measurements
from supplier_sdk.reports import build_capability_report

STORY_WEEKS = 11
CHAPTER_WEEKS = 4
# The capability each supplier really runs at, week by week (oldest first), over the whole story:
# Voltara drifts below 1.33 for three weeks in chapter 3, then recovers.
TRUE_CPK = {
    "Kessler Präzision GmbH": [1.72, 1.68, 1.75, 1.70, 1.66, 1.73, 1.69, 1.71, 1.74, 1.70, 1.72],
    "Voltara Capacitors s.r.o.": [1.62, 1.58, 1.55, 1.50, 1.24, 1.18, 1.12, 1.48, 1.55, 1.60, 1.58],
    "Lindqvist Castings AB": [1.52, 1.55, 1.58, 1.56, 1.60, 1.57, 1.55, 1.59, 1.58, 1.61, 1.57],
}


def story_weeks() -> list[Period]:
    """The demo's weeks, oldest first, ending last week (reports are for periods that have ended)."""
    weeks = [period_containing(datetime.now(UTC), PeriodKind.WEEK).previous()]
    while len(weeks) < STORY_WEEKS:
        weeks.append(weeks[-1].previous())
    return list(reversed(weeks))


def client_for(actor: Actor) -> Client:
    return Client(base_url=actor.base_url, client_id=actor.client_id, private_key=actor.signing_key)


def _measurements(agreement: Agreement, cpk: float, rng: np.random.Generator, path: Path) -> Path:
    """125 measurements in 25 subgroups of 5, centred, with the spread that gives ``cpk``."""
    c = agreement.characteristics[0]
    lsl, usl = float(c.lsl or 0), float(c.usl or 0)
    values = rng.normal((lsl + usl) / 2, (usl - lsl) / (6 * cpk), size=125)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["subgroup", "value"])
        for index, value in enumerate(values):
            writer.writerow([index // 5 + 1, f"{value:.4f}"])
    return path


def report_week(
    supplier: Actor,
    hub: Client,
    agreement: Agreement,
    week: Period,
    cpk: float,
    workdir: Path,
    *,
    narrate: bool,
) -> bool:
    """What a supplier's quality engineer does each week: measure, compute CPK locally, sign, send the claim."""
    data = _measurements(agreement, cpk, supplier.rng, workdir / f"{supplier.org_id}-{week}.csv")
    measured = read_measurements(data, column="value", subgroup_column="subgroup")
    c = agreement.characteristics[0]
    result = capability(
        measured.values, lsl=float(c.lsl or 0), usl=float(c.usl or 0), subgroup_labels=measured.labels
    )
    payload = build_capability_report(
        agreement=agreement,
        characteristic=c.code,
        period=str(week),
        kpi="cpk",
        values=measured.values,
        subgroup_labels=measured.labels,
    )
    report = hub.kpi_reports.submit(payload)
    if narrate:
        mark = "[green]meets[/green]" if report.meets else "[red]below 1.33[/red]"
        supplier.say(
            f"{week}: {result.n} values in {result.subgroups} subgroups → CPK {result.cpk:.2f} "
            f"(Cp {result.cp:.2f}, pooled sigma) → signed report sent, {mark}"
        )
    return report.meets


def report_weeks(story: Story, weeks: list[Period], *, narrate: set[str] | None = None) -> None:
    """Every supplier reports the given weeks; ``narrate`` names whose steps are told (default: everyone's)."""
    workdir = Path(tempfile.mkdtemp(prefix="qualink-supplier-"))
    all_weeks = story_weeks()
    for supplier in story.suppliers:
        told = narrate is None or supplier.name in narrate
        with client_for(supplier) as hub:
            [agreement] = hub.agreements.list(status="active")
            for week in weeks:
                cpk = TRUE_CPK[supplier.name][all_weeks.index(week)]
                report_week(supplier, hub, agreement, week, cpk, workdir, narrate=told)


def cpk_table(story: Story, weeks: list[Period], title: str) -> int:
    table = Table("supplier", *[f"W{w.number:02d}" for w in weeks], title=title)
    with client_for(story.oem) as oem_hub:
        seen = list(oem_hub.kpi_reports.list(kpi="cpk", period_from=str(weeks[0]), period_to=str(weeks[-1])))
    for supplier in story.suppliers:
        by_week = {r.period: r for r in seen if str(r.supplier_id) == supplier.org_id}
        cells = []
        for week in weeks:
            r = by_week.get(str(week))
            colour = "green" if r and r.meets else "red"
            value = "—" if r is None or r.value is None else f"{float(r.value):.2f}"
            cells.append(f"[{colour}]{value}[/{colour}]")
        table.add_row(supplier.name.split()[0], *cells)
    story.console.print(table)
    return len(seen)


def run(story: Story) -> None:
    story.chapter(
        "2 · Suppliers report quality",
        "Each supplier computes CPK from its own measurements with supplier-sdk, signs one report per week\n"
        "and sends only the claim. The raw data never leaves the supplier.",
    )
    weeks = story_weeks()[:CHAPTER_WEEKS]
    report_weeks(story, weeks)
    kessler = story.suppliers[0]
    with client_for(kessler) as hub:
        [agreement] = hub.agreements.list(status="active")
        _refuse_a_second_report(kessler, hub, agreement, weeks[-1])
    seen = cpk_table(story, weeks, "What the OEM sees: CPK per week (threshold 1.33)")
    if seen != CHAPTER_WEEKS * len(story.suppliers):
        raise DemoFailure(f"the OEM sees {seen} reports, expected {CHAPTER_WEEKS * len(story.suppliers)}")
    story.oem.say(f"reads {seen} signed reports; it never received a single measurement")


def _refuse_a_second_report(supplier: Actor, hub: Client, agreement: Agreement, week: Period) -> None:
    """One accepted report per period: a supplier cannot replace a bad week with nicer numbers."""
    c = agreement.characteristics[0]
    centre = float((c.lsl or Decimal(0)) + (c.usl or Decimal(0))) / 2
    values = centre + np.linspace(-0.001, 0.001, 20)
    payload = build_capability_report(
        agreement=agreement,
        characteristic=c.code,
        period=str(week),
        kpi="cpk",
        values=values,
        subgroup_size=5,
    )
    try:
        hub.kpi_reports.submit(payload)
    except ConflictError as exc:
        supplier.say(
            f"tries to report {week} again with nicer numbers → hub refuses: [yellow]{exc.error}[/yellow]"
        )
        return
    raise DemoFailure("the hub accepted a second report for the same week")
