"""Chapter: proven from a lab's measurements (KPI-ZK tier T2). The operator records an accredited lab; the OEM
names it for a characteristic; the lab measures a sample, commits to its aggregates and signs them, sealing the
openings to the supplier; the supplier proves CPK ≥ 1.33 over exactly those commitments; the OEM reads "meets
1.33: proven from measurements by <lab>, <date>" and no value. A proof over the supplier's own numbers, claimed
as the lab's, is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
from rich.table import Table

from protocol.models.kpi import KpiClaim, KpiReportPayload
from protocol.zk.attestation import prove_from_openings
from protocol.zk.lab import measurement_digest
from protocol.zk.pedersen import Opening
from protocol.zk.statements.cpk import CpkStatement
from qualink_demo.actors import Actor, DemoFailure
from qualink_demo.foundation import onboard
from qualink_demo.kpis import story_weeks
from qualink_demo.story import Story
from supplier_sdk import Client
from supplier_sdk.errors import InvalidRequest
from supplier_sdk.lab import attach_lab, measure_capability, prove_from_lab

CODE, PART = "JRN-03", "SH-4410"
LSL, USL = "9.950", "10.050"


def _agreement(story: Story, supplier: Actor, lab: Actor) -> str:
    terms = {
        "supplier_id": supplier.org_id,
        "title": "Drive shaft journal diameter, measured by an accredited lab",
        "parts": [{"part_number": PART, "name": "Drive shaft"}],
        "characteristics": [
            {
                "code": CODE,
                "part_number": PART,
                "name": "Journal diameter",
                "unit": "mm",
                "lsl": LSL,
                "usl": USL,
                "resolution": "0.001",
                "lab_id": lab.org_id,
            }
        ],
        "kpis": [{"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"}],
        "period": "week",
        "valid_from": date(date.today().year, 1, 1).isoformat(),
    }
    proposed = story.oem.call("POST", "/v1/agreements", json=terms, expect=201)
    story.oem.say(
        f"names [bold]{lab.name}[/bold] for {CODE}: the proof must come from the lab's measurements"
    )
    supplier.call("POST", f"/v1/agreements/{proposed['id']}/accept", json={"reason": "agreed"})
    supplier.say("accepts its part")
    lab.call("POST", f"/v1/lab/assignments/{proposed['id']}/accept")
    lab.say("accepts its part: it sees the parties, period and limits — no threshold, no KPI value")
    return str(proposed["id"])


def run(story: Story) -> None:
    story.chapter(
        "4b · Proven from a lab's measurements (KPI-ZK T2)",
        "An accredited lab measures the supplier's parts, commits to the aggregates and signs them; the openings\n"
        "go to the supplier sealed to its key (the hub relays them, cannot read them). The supplier proves\n"
        "CPK ≥ 1.33 over exactly the lab's commitments; the OEM learns who measured and when — not the value.",
    )
    today = datetime.now(UTC).date()
    lab = Actor("Nordic Metrology AB", "lab", story.console, story.base_url)
    story.extras["lab"] = lab
    onboard(story, lab)
    lab.register_keys()
    accreditation = {"scheme": "ISO/IEC 17025", "number": "SWEDAC 1234", "scope": "dimensional metrology",
                     "valid_from": (today - timedelta(days=300)).isoformat(),
                     "valid_until": (today + timedelta(days=700)).isoformat()}  # fmt: skip
    story.operator.call("POST", f"/v1/labs/{lab.org_id}/accreditations", json=accreditation, expect=201)
    story.operator.say(f"records {lab.name}'s accreditation: ISO/IEC 17025, SWEDAC 1234")
    supplier = story.suppliers[0]
    agreement_id = _agreement(story, supplier, lab)
    week = str(story_weeks()[-1])

    with Client(base_url=lab.base_url, client_id=lab.client_id, private_key=lab.signing_key) as lab_hub:
        context = lab_hub.lab.measurement_context(
            agreement_id, kpi="cpk", part_number=PART, period=week, characteristic=CODE
        )
        values = np.round(np.random.default_rng(7).normal(10.0, 0.1 / (6 * 1.7), 125), 3)
        measured_on = today - timedelta(days=1)
        envelope, openings = measure_capability(
            values, context=context, lab_key=lab.signing_key, lots=["L-2026-117"], measured_on=measured_on,
            method="ISO 10360-2 CMM, 3 readings", instrument="Contura CMM-2 (cal. 2026-06)",
            subgroup_size=5,
        )  # fmt: skip
        record = lab_hub.lab.issue(envelope, openings, context=context)
        lab.say(
            f"measures 125 shafts of lot L-2026-117, signs {len(record.envelope.payload['commitments'])} "
            f"commitments and seals the openings to {supplier.name} → digest [dim]{record.digest[:12]}…[/dim]"
        )

    with Client(
        base_url=supplier.base_url,
        client_id=supplier.client_id,
        private_key=supplier.signing_key,
        encryption_key=supplier.encryption_key,
    ) as hub:
        [mine] = hub.lab.measurements(agreement_id=agreement_id, period=week)
        opened = hub.lab.openings(mine)
        binding = hub.kpi_reports.attestation_context(
            agreement_id, kpi="cpk", period=week, characteristic=CODE
        )
        proof = prove_from_lab(mine.envelope, opened, threshold=Decimal("1.33"), context=binding)
        supplier.say(
            "opens the sealed openings with its X25519 key and proves CPK ≥ 1.33 over the lab's commitments"
        )
        base = KpiReportPayload(
            supplier_id=supplier.org_id, oem_id=story.oem.org_id, agreement_id=agreement_id, part_number=PART,
            characteristic=CODE, period=week, kpi="cpk",
            claim=KpiClaim(meets=True, threshold="1.33", sample_size=125), sdk_version="demo",
        )  # fmt: skip
        _own_numbers(supplier, hub, base, binding, mine.envelope)
        report = hub.kpi_reports.submit(attach_lab(base, proof, mine.envelope))

    with Client(
        base_url=story.oem.base_url, client_id=story.oem.client_id, private_key=story.oem.signing_key
    ) as o:
        seen = o.kpi_reports.get(report.id)
    if seen.value is not None or seen.proven_by is None or seen.proven_by.lab_name != lab.name:
        raise DemoFailure(f"the OEM should see a value-free 'proven by {lab.name}', saw {seen}")
    verdict = f"meets {seen.threshold}: proven from measurements by {seen.proven_by.lab_name}, {seen.proven_by.measured_on}"
    table = Table("supplier", "characteristic", "week", "CPK", "verdict", title="What the OEM sees")
    table.add_row(supplier.name, CODE, week, "[dim]not disclosed[/dim]", f"[green]{verdict}[/green]")
    story.console.print(table)
    story.oem.say(f"reads [bold]{verdict}[/bold]")
    lab.close()


def _own_numbers(
    supplier: Actor, hub: Client, base: KpiReportPayload, binding: object, envelope: object
) -> None:
    """The supplier's own, better numbers, committed by itself and passed off as the lab's: refused by name."""
    ys = [int(v) for v in np.round(np.random.default_rng(1).normal(50, 3, 125))]
    statement = CpkStatement(n=125, lsl=Decimal(LSL), usl=Decimal(USL), resolution=Decimal("0.001"),
                             threshold=Decimal("1.33"), subgroups=(5,) * 25)  # fmt: skip
    own = prove_from_openings(
        statement,
        {name: Opening.fresh(v) for name, v in statement.witness(ys).items()},
        vectors=statement.vector_openings(ys),
        context=binding,  # type: ignore[arg-type]
        lab=measurement_digest(envelope),  # type: ignore[arg-type]
    )
    try:
        hub.kpi_reports.submit(attach_lab(base, own, envelope))  # type: ignore[arg-type]
    except InvalidRequest as exc:
        supplier.say(
            f"tries its own numbers under the lab's name → hub refuses: [yellow]{exc.error}[/yellow]"
        )
        return
    raise DemoFailure("the hub accepted a proof over the supplier's own commitments as the lab's")


__all__ = ["run"]
