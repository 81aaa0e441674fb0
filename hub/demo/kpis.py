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

from hub.demo.actors import Actor, DemoFailure
from hub.demo.story import Story
from protocol.models.agreements import Agreement
from protocol.models.common import PeriodKind
from protocol.periods import Period, period_containing
from supplier_sdk import Client
from supplier_sdk.errors import ConflictError
from supplier_sdk.kpi import capability, read_measurements
from supplier_sdk.reports import build_capability_report

WEEKS = 4
# Process capability each supplier actually runs at, week by week (oldest first): Voltara drifts.
TRUE_CPK = {
    "Kessler Präzision GmbH": [1.72, 1.68, 1.75, 1.70],
    "Voltara Capacitors s.r.o.": [1.58, 1.27, 1.22, 1.15],
    "Lindqvist Castings AB": [1.52, 1.55, 1.49, 1.58],
}


def _measurements(agreement: Agreement, cpk: float, rng: np.random.Generator, path: Path) -> Path:
    """125 measurements in 25 subgroups of 5, centred, with the spread that gives ``cpk``."""
    c = agreement.characteristics[0]
    assert c.lsl is not None and c.usl is not None
    lsl, usl = float(c.lsl), float(c.usl)
    values = rng.normal((lsl + usl) / 2, (usl - lsl) / (6 * cpk), size=125)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["subgroup", "value"])
        for index, value in enumerate(values):
            writer.writerow([index // 5 + 1, f"{value:.4f}"])
    return path


def client_for(actor: Actor) -> Client:
    return Client(base_url=actor.base_url, client_id=actor.client_id, private_key=actor.signing_key)


def _weeks() -> list[Period]:
    last = period_containing(datetime.now(UTC), PeriodKind.WEEK).previous()
    weeks = [last]
    for _ in range(WEEKS - 1):
        weeks.append(weeks[-1].previous())
    return list(reversed(weeks))


def run(story: Story) -> None:
    story.chapter(
        "2 · Suppliers report quality",
        "Each supplier computes CPK from its own measurements with supplier-sdk, signs one report per week\n"
        "and sends only the claim. The raw data never leaves the supplier.",
    )
    rng = np.random.default_rng(2026)
    weeks = _weeks()
    workdir = Path(tempfile.mkdtemp(prefix="qualink-supplier-"))
    for supplier in story.suppliers:
        with client_for(supplier) as hub:
            [agreement] = hub.agreements(status="active")
            code = agreement.characteristics[0].code
            for week, cpk in zip(weeks, TRUE_CPK[supplier.name], strict=True):
                data = _measurements(agreement, cpk, rng, workdir / f"{supplier.org_id}-{week}.csv")
                measured = read_measurements(data, column="value", subgroup_column="subgroup")
                result = capability(
                    measured.values,
                    lsl=float(agreement.characteristics[0].lsl or 0),
                    usl=float(agreement.characteristics[0].usl or 0),
                    subgroup_labels=measured.labels,
                )
                payload = build_capability_report(
                    agreement=agreement,
                    characteristic=code,
                    period=str(week),
                    kpi="cpk",
                    values=measured.values,
                    subgroup_labels=measured.labels,
                )
                report = hub.submit_report(payload)
                mark = "[green]meets[/green]" if report.meets else "[red]below 1.33[/red]"
                supplier.say(
                    f"{week}: {result.n} values in {result.subgroups} subgroups → CPK {result.cpk:.2f} "
                    f"(Cp {result.cp:.2f}, pooled sigma) → signed report sent, {mark}"
                )
            _show_idempotency(supplier, hub, agreement, code, weeks[-1], workdir)

    table = Table(
        "supplier", *[str(w) for w in weeks], title="What the OEM sees: CPK per week (threshold 1.33)"
    )
    with client_for(story.oem) as oem_hub:
        seen = list(oem_hub.reports(kpi="cpk"))
    for supplier in story.suppliers:
        by_week = {r.period: r for r in seen if str(r.supplier_id) == supplier.org_id}
        cells = []
        for week in weeks:
            r = by_week.get(str(week))
            if r is None:
                cells.append("—")
            else:
                colour = "green" if r.meets else "red"
                cells.append(
                    f"[{colour}]{r.value if r.value is not None else ('meets' if r.meets else 'below')}[/{colour}]"
                )
        table.add_row(supplier.name, *cells)
    story.console.print(table)
    if len(seen) != WEEKS * len(story.suppliers):
        raise DemoFailure(f"the OEM sees {len(seen)} reports, expected {WEEKS * len(story.suppliers)}")
    story.oem.say(f"reads {len(seen)} signed reports; it never received a single measurement")


def _show_idempotency(
    supplier: Actor, hub: Client, agreement: Agreement, code: str, week: Period, workdir: Path
) -> None:
    """A second report for a week already reported is refused: one accepted report per period."""
    if supplier.name != "Kessler Präzision GmbH":
        return
    c = agreement.characteristics[0]
    centre = float((c.lsl or Decimal(0)) + (c.usl or Decimal(0))) / 2
    values = centre + np.linspace(-0.001, 0.001, 20)
    payload = build_capability_report(
        agreement=agreement, characteristic=code, period=str(week), kpi="cpk", values=values, subgroup_size=5
    )
    try:
        hub.submit_report(payload)
    except ConflictError as exc:
        supplier.say(
            f"tries to report {week} again with nicer numbers → hub refuses: [yellow]{exc.error}[/yellow]"
        )
        return
    raise DemoFailure("the hub accepted a second report for the same week")
