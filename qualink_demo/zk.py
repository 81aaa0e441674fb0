"""Chapter: proven, not revealed. Lindqvist agrees to report a confidential characteristic under ``threshold``
disclosure: it proves CPK ≥ 1.33 in zero knowledge (KPI-ZK v1) and the OEM learns "meets 1.33: proven", never
the value nor a measurement. The same proof sent for another week is refused."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
from rich.table import Table

from protocol.encoding import canonical_bytes
from protocol.models.agreements import Agreement
from protocol.models.kpi import KpiReportPayload
from qualink_demo.actors import Actor, DemoFailure
from qualink_demo.kpis import client_for, story_weeks
from qualink_demo.story import Story
from supplier_sdk import Client
from supplier_sdk.attest import attest_report
from supplier_sdk.errors import InvalidRequest
from supplier_sdk.reports import build_capability_report

CODE, PART = "WALL-05", "HS-7700"


def _propose(story: Story, supplier: Actor) -> Agreement:
    terms = {
        "supplier_id": supplier.org_id,
        "title": "Compressor housing wall thickness (confidential process)",
        "parts": [{"part_number": PART, "name": "Compressor housing"}],
        "characteristics": [
            {
                "code": CODE,
                "part_number": PART,
                "name": "Wall thickness",
                "unit": "mm",
                "lsl": "3.80",
                "usl": "4.20",
                "resolution": "0.001",
            }
        ],
        "kpis": [{"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"}],
        "period": "week",
        "valid_from": date(date.today().year, 1, 1).isoformat(),
    }
    proposed = story.oem.call("POST", "/v1/agreements", json=terms, expect=201)
    story.oem.say(
        f"proposes [italic]{proposed['title']}[/italic]: CPK ≥ 1.33 weekly, disclosure [bold]threshold[/bold]"
    )
    accepted = supplier.call("POST", f"/v1/agreements/{proposed['id']}/accept", json={"reason": "agreed"})
    supplier.say("accepts: it will prove the threshold, and keep its capability figure to itself")
    return Agreement.model_validate(accepted)


def run(story: Story) -> None:
    story.chapter(
        "4 · Proven, not revealed (KPI-ZK)",
        "Under 'threshold' disclosure the OEM learns only whether CPK meets 1.33. The supplier commits to its\n"
        "aggregates and proves the inequality in zero knowledge (Pedersen commitments, Bulletproofs, BLS12-381);\n"
        "the hub verifies the proof against the agreement's threshold and its own per-period nonce.",
    )
    supplier = story.suppliers[2]
    agreement = _propose(story, supplier)
    week, before = story_weeks()[-1], story_weeks()[-2]
    values = np.round(np.random.default_rng(48).normal(4.0, 0.4 / (6 * 1.62), 125), 3)
    with client_for(supplier) as hub:
        payload = build_capability_report(
            agreement=agreement,
            characteristic=CODE,
            period=str(week),
            kpi="cpk",
            values=values,
            subgroup_size=5,
        )
        context = hub.kpi_reports.attestation_context(
            agreement.id, kpi="cpk", period=str(week), characteristic=CODE
        )
        supplier.say(
            f"asks the hub for {week}'s attestation context → nonce [dim]{context.nonce[:12]}…[/dim]"
        )
        started = time.perf_counter()
        proven = attest_report(payload, agreement=agreement, context=context, values=values, subgroup_size=5)
        took = time.perf_counter() - started
        size = len(canonical_bytes(proven.proof))
        supplier.say(
            f"{week}: 125 values in 25 subgroups, proves CPK ≥ 1.33 locally in {took:.2f} s "
            f"({size / 1024:.1f} KiB proof, {len(proven.commitments)} commitments, no value in it)"
        )
        report = hub.kpi_reports.submit(proven)
        supplier.say(f"sends the claim with its proof → hub verifies and stores it: proven={report.proven}")
        _replay(supplier, hub, proven, str(before))

    with client_for(story.oem) as oem_hub:
        seen = oem_hub.kpi_reports.get(report.id)
    if seen.value is not None or not (seen.meets and seen.proven):
        raise DemoFailure(f"the OEM should see a proven 'meets' without a value, saw {seen}")
    table = Table("supplier", "characteristic", "week", "CPK", "verdict", title="What the OEM sees")
    verdict = f"[green]meets {seen.threshold}: proven[/green]"
    table.add_row(supplier.name, CODE, str(week), "[dim]not disclosed[/dim]", verdict)
    story.console.print(table)
    story.oem.say(f"reads [bold]meets {seen.threshold}: proven[/bold] — and never the value or a measurement")


def _replay(supplier: Actor, hub: Client, proven: KpiReportPayload, week: str) -> None:
    """A proof is bound to its period: sending last week's proof for another week is refused by name."""
    try:
        hub.kpi_reports.submit(proven.model_copy(update={"period": week}))
    except InvalidRequest as exc:
        supplier.say(f"re-sends the same proof for {week} → hub refuses: [yellow]{exc.error}[/yellow]")
        return
    raise DemoFailure("the hub accepted a proof made for another week")


__all__ = ["run"]
