"""Chapter 1: the network forms. The operator onboards an OEM and three suppliers; the OEM proposes supply
agreements; the suppliers accept them."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.table import Table

from qualink_demo.actors import Actor
from qualink_demo.story import Story
from supplier_sdk.auth import public_jwk

SUPPLIERS = [
    (
        "Kessler Präzision GmbH",
        "SH-4410",
        "Drive shaft",
        "DIA-01",
        "Bearing seat diameter",
        "mm",
        "24.980",
        "25.020",
    ),
    (
        "Voltara Capacitors s.r.o.",
        "CP-220",
        "Film capacitor 220µF",
        "CAP-01",
        "Capacitance",
        "uF",
        "209",
        "231",
    ),
    (
        "Lindqvist Castings AB",
        "HS-7700",
        "Compressor housing",
        "BORE-02",
        "Bore diameter",
        "mm",
        "71.950",
        "72.050",
    ),
]


def onboard(story: Story, actor: Actor) -> None:
    org = story.operator.call(
        "POST", "/v1/organizations", json={"name": actor.name, "kind": actor.kind}, expect=201, quiet=True
    )
    actor.org_id = org["id"]
    created = story.operator.call(
        "POST",
        f"/v1/organizations/{actor.org_id}/clients",
        json={"name": f"{actor.name} integration", "public_jwk": public_jwk(actor.signing_key)},
        expect=201,
        quiet=True,
    )
    actor.client_id = created["client"]["client_id"]
    story.operator.say(f"onboarded [bold]{actor.name}[/bold] ({actor.kind}) with client {actor.client_id}")


def agreement_terms(supplier: Actor, spec: tuple[str, ...]) -> dict[str, Any]:
    _, part, part_name, code, char_name, unit, lsl, usl = spec
    return {
        "supplier_id": supplier.org_id,
        "title": f"{part_name} quality agreement",
        "parts": [{"part_number": part, "name": part_name}],
        "characteristics": [
            {"code": code, "part_number": part, "name": char_name, "unit": unit, "lsl": lsl, "usl": usl}
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": "value"},
            {"kpi": "ppm", "threshold": "100", "disclosure": "value"},
        ],
        "period": "week",
        "valid_from": date(date.today().year, 1, 1).isoformat(),
        "report_due_days": 7,
    }


def run(story: Story) -> None:
    story.chapter(
        "1 · The network forms", "An operator onboards an OEM and three suppliers; agreements are signed."
    )
    for actor in [story.oem, *story.suppliers]:
        onboard(story, actor)
    for actor in [story.oem, *story.suppliers]:
        actor.register_keys()

    for supplier, spec in zip(story.suppliers, SUPPLIERS, strict=True):
        agreement = story.oem.call("POST", "/v1/agreements", json=agreement_terms(supplier, spec), expect=201)
        story.agreements[supplier.name] = agreement
        story.oem.say(f"proposed [italic]{agreement['title']}[/italic] to {supplier.name}: CPK ≥ 1.33 weekly")

    for supplier in story.suppliers:
        proposed = supplier.call("GET", "/v1/agreements?status=proposed")["items"]
        for agreement in proposed:
            accepted = supplier.call(
                "POST", f"/v1/agreements/{agreement['id']}/accept", json={"reason": "agreed"}
            )
            story.agreements[supplier.name] = accepted
            supplier.say(f"accepted the agreement → status [green]{accepted['status']}[/green]")

    table = Table("supplier", "part", "characteristic", "limits", "KPIs", "status", title="Supply agreements")
    for supplier in story.suppliers:
        a = story.agreements[supplier.name]
        c = a["characteristics"][0]
        kpis = ", ".join(f"{k['kpi']} {k['comparator']} {k['threshold']}" for k in a["kpis"])
        table.add_row(
            supplier.name,
            a["parts"][0]["part_number"],
            c["code"],
            f"{c['lsl']}…{c['usl']} {c['unit']}",
            kpis,
            a["status"],
        )
    story.console.print(table)

    outsider = story.suppliers[1]
    other_agreement = story.agreements[story.suppliers[0].name]["id"]
    outsider.call("GET", f"/v1/agreements/{other_agreement}", expect=404)
    outsider.say("cannot see another supplier's agreement: [yellow]404[/yellow], as if it did not exist")
