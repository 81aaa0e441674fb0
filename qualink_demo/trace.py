"""Chapter 5: one bad capacitor lot. Voltara finds low withstand voltage in a capacitor lot that went into Helix's
inverters and Aurora's vehicles. Its alert places holds on every affected bin at once and opens one containment
action per affected plant; Aurora sees which of its vehicle models are affected, and its Wolfsburg plant
acknowledges and closes its action. Voltara follows the containment in counts: whose plants hold the stock beyond
its direct customer is not its to know."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.table import Table

from qualink_demo.actors import Actor, DemoFailure
from qualink_demo.foundation import onboard
from qualink_demo.kpis import client_for
from qualink_demo.story import Story

LOT = "CP-LOT-0815"
GOOD_LOT = "CP-LOT-0816"
MODELS = {"e-Volt 2026": 5, "e-Cargo 2026": 3}


def _import(actor: Actor, records: list[dict[str, Any]]) -> None:
    body = "\n".join(json.dumps(record) for record in records)
    response = actor.http.post(
        "/v1/genealogy:import",
        content=body.encode(),
        headers={"Authorization": f"Bearer {actor.token()}", "Content-Type": "application/x-ndjson"},
    )
    report = response.json()
    if response.status_code != 200 or report.get("rejected"):
        raise DemoFailure(f"{actor.name}'s genealogy import failed: {response.text}")
    accepted = report["accepted"]
    noun = "record" if accepted == 1 else "records"
    actor.say(f"imports its genealogy: {accepted} {noun} ([dim]POST /v1/genealogy:import[/dim])")


def _genealogy(story: Story, helix: Actor) -> None:
    """Voltara's capacitor lots go into Helix's inverter lots, which go into Aurora's vehicles at two plants."""
    voltara, aurora = story.suppliers[1], story.oem
    aurora_plants = [
        {"type": "plant", "code": "AUR-WOB", "name": "Wolfsburg assembly"},
        {"type": "plant", "code": "AUR-ZWI", "name": "Zwickau assembly"},
    ]
    _import(aurora, aurora_plants)
    _import(helix, [{"type": "plant", "code": "HLX-1", "name": "Helix Graz"}])
    capacitor = {"manufacturer_part_id": "CP-220", "quantity": 10000, "unit": "pcs"}
    _import(
        voltara,
        [
            {
                "type": "part_type",
                "manufacturer_part_id": "CP-220",
                "name_at_manufacturer": "Film capacitor 220µF",
            },
            {"type": "plant", "code": "VOL-1", "name": "Voltara Brno"},
            {"type": "batch", "batch_id": LOT, **capacitor},
            {"type": "batch", "batch_id": GOOD_LOT, **capacitor},
            {
                "type": "inventory",
                "asset": f"batch/{LOT}",
                "plant": "VOL-1",
                "location": "FG-03",
                "quantity": 4000,
                "unit": "pcs",
            },
            *(
                {
                    "type": "shipment",
                    "asset": f"batch/{lot}",
                    "delivery_note": f"DN-{lot}",
                    "customer_organization_id": helix.org_id,
                    "plant": "HLX-1",
                    "shipped_on": "2026-11-02",
                    "quantity": 6000,
                    "unit": "pcs",
                }
                for lot in (LOT, GOOD_LOT)
            ),
        ],
    )
    inverters = {
        "INV-2611-A": (LOT, "AUR-WOB"),
        "INV-2611-B": (LOT, "AUR-ZWI"),
        "INV-2612-C": (GOOD_LOT, "AUR-WOB"),
    }
    records: list[dict[str, Any]] = [
        {"type": "part_type", "manufacturer_part_id": "INV-400", "name_at_manufacturer": "Traction inverter"}
    ]
    for lot, (capacitor_lot, plant) in inverters.items():
        records += [
            {
                "type": "batch",
                "batch_id": lot,
                "manufacturer_part_id": "INV-400",
                "quantity": 200,
                "unit": "pcs",
            },
            {
                "type": "link",
                "parent": f"batch/{lot}",
                "child": f"{voltara.org_id}/batch/{capacitor_lot}",
                "quantity": 24,
                "unit": "pcs",
            },
            {
                "type": "shipment",
                "asset": f"batch/{lot}",
                "delivery_note": f"DN-{lot}",
                "customer_organization_id": aurora.org_id,
                "plant": plant,
                "shipped_on": "2026-11-09",
                "quantity": 120,
                "unit": "pcs",
            },
        ]
    records += [
        {
            "type": "inventory",
            "asset": f"{voltara.org_id}/batch/{LOT}",
            "plant": "HLX-1",
            "location": "R-12",
            "quantity": 2400,
            "unit": "pcs",
        },
        {
            "type": "inventory",
            "asset": "batch/INV-2611-A",
            "plant": "HLX-1",
            "location": "FG-1",
            "quantity": 80,
            "unit": "pcs",
        },
    ]
    _import(helix, records)
    records = [{"type": "part_type", "manufacturer_part_id": "AUR-EV", "name_at_manufacturer": "Vehicle"}]
    number = 0
    for model, count in MODELS.items():
        for _ in range(count):
            number += 1
            lot = "INV-2611-A" if number % 2 else "INV-2611-B"
            vin = f"WAUR2026{number:07d}"
            records += [
                {
                    "type": "serial_part",
                    "part_instance_id": vin,
                    "manufacturer_part_id": "AUR-EV",
                    "model": model,
                },
                {
                    "type": "link",
                    "parent": f"serial/{vin}",
                    "child": f"{helix.org_id}/batch/{lot}",
                    "quantity": 1,
                    "unit": "pcs",
                },
                {
                    "type": "inventory",
                    "asset": f"serial/{vin}",
                    "plant": "AUR-WOB",
                    "location": "YARD-2",
                    "quantity": 1,
                    "unit": "pcs",
                },
            ]
    records.append(
        {
            "type": "serial_part",
            "part_instance_id": "WAUR20269999999",
            "manufacturer_part_id": "AUR-EV",
            "model": "e-Volt 2026",
        }
    )
    records.append(
        {
            "type": "link",
            "parent": "serial/WAUR20269999999",
            "child": f"{helix.org_id}/batch/INV-2612-C",
            "quantity": 1,
            "unit": "pcs",
        }
    )
    for lot, plant, bin_, quantity in (
        ("INV-2611-A", "AUR-WOB", "LINE-3", 12),
        ("INV-2611-B", "AUR-ZWI", "LINE-1", 30),
        ("INV-2612-C", "AUR-WOB", "LINE-3", 40),
    ):
        records.append(
            {
                "type": "inventory",
                "asset": f"{helix.org_id}/batch/{lot}",
                "plant": plant,
                "location": bin_,
                "quantity": quantity,
                "unit": "pcs",
            }
        )
    _import(aurora, records)


def _actions_table(actor: Actor, actions: list[dict[str, Any]]) -> Table:
    table = Table(
        "plant",
        "action",
        "held",
        "positions",
        "due",
        "status",
        "owner",
        title=f"{actor.name}: containment actions",
    )
    for action in actions:
        table.add_row(
            action["plant_code"],
            action["kind"],
            f"{action['quantity']} {action['unit']}",
            str(action["positions"]),
            (action["due_date"] or "—")[:10],
            action["status"],
            action["owner"] or "—",
        )
    return table


def run(story: Story) -> None:
    story.chapter(
        "5 · One bad capacitor lot",
        "Voltara finds low withstand voltage in capacitor lot CP-LOT-0815. It went into Helix's inverters and from\n"
        "there into Aurora's vehicles. One alert: holds on every affected bin at once, one containment action per plant.",
    )
    helix = Actor("Helix Inverter Systems GmbH", "supplier", story.console, story.base_url)
    story.suppliers.append(helix)  # closed with the others at the end
    onboard(story, helix)
    _genealogy(story, helix)
    voltara, aurora = story.suppliers[1], story.oem

    traced = voltara.call("POST", "/v1/trace", json={"roots": [{"local_id": LOT}], "direction": "forward"})
    hidden = traced["undisclosed"]
    voltara.say(
        f"traces {LOT} forward: {traced['affected_batches']} lots and {traced['affected_serials']} vehicles downstream; "
        f"beyond its direct customer it sees counts only ({hidden['organizations']} organization, "
        f"{hidden['models']} vehicle models, {hidden['plants']} plants)"
    )
    root = next(node["asset_id"] for node in traced["nodes"] if node["root"])
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    alert = voltara.call(
        "POST",
        "/v1/quality-notifications",
        json={
            "type": "ALERT",
            "title": f"{LOT}: withstand voltage 380 V instead of 450 V",
            "description": "Hipot test of retained samples failed; dielectric film below specification.",
            "severity": "CRITICAL",
            "target_date": due,
            "affected_asset_ids": [root],
            "containment": {"kind": "hold", "due_date": due},
        },
        expect=201,
    )
    sent = voltara.call(
        "POST", f"/v1/quality-notifications/{alert['id']}/send", json={"reason": "stop using this lot"}
    )
    progress = sent["containment"]
    held = ", ".join(f"{h['quantity']} {h['unit']}" for h in progress["held"])
    voltara.say(
        f"raises a [bold red]CRITICAL[/bold red] alert to Helix and sends it: {progress['affected_assets']} affected assets, "
        f"{progress['holds_active']} bins on hold ({held}) at {progress['plants']} plants, "
        f"{progress['actions_open']} containment actions opened"
    )

    aurora_actions = aurora.call("GET", "/v1/containment-actions")["items"]
    story.console.print(_actions_table(aurora, aurora_actions))
    story.console.print(_actions_table(helix, helix.call("GET", "/v1/containment-actions")["items"]))
    if {a["plant_code"] for a in aurora_actions} != {"AUR-WOB", "AUR-ZWI"}:
        raise DemoFailure("Aurora's two plants did not both get a containment action")

    wolfsburg = next(a for a in aurora_actions if a["plant_code"] == "AUR-WOB")
    detail = aurora.call("GET", f"/v1/containment-actions/{wolfsburg['id']}", quiet=True)
    bins = Table("bin", "lot / vehicle", "held", title="Held at Wolfsburg (AUR-WOB)")
    for hold in detail["holds"]:
        bins.add_row(hold["location"], hold["local_id"], f"{hold['quantity']} {hold['unit']}")
    story.console.print(bins)

    inverter_lots = sorted(
        {
            h["local_id"]
            for a in aurora_actions
            for h in aurora.call("GET", f"/v1/containment-actions/{a['id']}", quiet=True)["holds"]
            if h["local_id"].startswith("INV-")
        }
    )
    roots = [{"local_id": lot, "organization_id": helix.org_id} for lot in inverter_lots]
    own = aurora.call("POST", "/v1/trace", json={"roots": roots, "direction": "forward"})
    models = Table("vehicle model", "vehicles affected", title="Aurora: affected vehicle models")
    for group in own["by_model"]:
        models.add_row(group["model"], str(group["serials"]))
    story.console.print(models)
    if {g["model"]: g["serials"] for g in own["by_model"]} != MODELS:
        raise DemoFailure(f"unexpected affected models: {own['by_model']}")

    aurora.call(
        "POST",
        f"/v1/containment-actions/{wolfsburg['id']}/acknowledge",
        json={"owner": "M. Brandt, quality Wolfsburg"},
    )
    aurora.say("Wolfsburg acknowledges its action; M. Brandt owns it")
    closed = aurora.call(
        "POST",
        f"/v1/containment-actions/{wolfsburg['id']}/close",
        json={"result": "12 inverters sorted out at line 3; 8 vehicles in yard 2 kept on hold for rework"},
    )
    aurora.say(f"Wolfsburg closes it: [italic]{closed['result']}[/italic]")
    helix.call("POST", f"/v1/quality-notifications/{alert['id']}/acknowledge", quiet=True)
    helix.call(
        "POST",
        f"/v1/quality-notifications/{alert['id']}/accept",
        json={"reason": "INV-2611-A/B fail hipot at end of line"},
        quiet=True,
    )
    helix.say("acknowledges and [green]accepts[/green] the alert: its inverter lots fail hipot too")

    seen = voltara.call("GET", f"/v1/quality-notifications/{alert['id']}")
    progress = seen["containment"]
    voltara.say(
        f"follows the containment: alert {seen['status']}, actions {progress['actions_closed']} closed / "
        f"{progress['actions_acknowledged']} acknowledged / {progress['actions_open']} open — no plant names"
    )
    if progress["actions_closed"] != 1 or aurora.org_id in json.dumps(seen):
        raise DemoFailure("the alert's progress is wrong or names a third party")
    events: list[Any] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(events) < 3:  # the sequencer numbers events just after commit
        with client_for(aurora) as hub:
            events = list(
                hub.events.follow(types=["containment_action.opened", "containment_action.closed"], once=True)
            )
        time.sleep(0.05)
    aurora.say(
        f"reads the same actions back as events (webhooks get them too): {', '.join(e.type for e in events)}"
    )
