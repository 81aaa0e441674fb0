"""Chapter 3: rules act on results. The OEM switches on the standard rule (after a dry run), Voltara's CPK
drifts below 1.33 for three weeks, its tier falls from A to B and purchasing is told why; four good weeks
later the tier is restored."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from qualink_demo.actors import DemoFailure
from qualink_demo.kpis import CHAPTER_WEEKS, cpk_table, report_weeks, story_weeks
from qualink_demo.story import Story


def _standings(story: Story, title: str) -> dict[str, Any]:
    names = {s.org_id: s.name for s in story.suppliers}
    table = Table("supplier", "tier", "status", "last change", title=title)
    found = {}
    for standing in story.oem.call("GET", "/v1/standings", quiet=True)["items"]:
        name = names[standing["supplier_id"]]
        found[name] = standing
        detail = story.oem.call("GET", f"/v1/standings/{standing['supplier_id']}", quiet=True)
        last = detail["history"][0]["reason"] if detail["history"] else "—"
        table.add_row(name, standing["tier"], standing["status"], last)
    story.console.print(table)
    return found


def run(story: Story) -> None:
    story.chapter(
        "3 · Rules act on results",
        "The OEM states as data what results do to a supplier's standing: CPK below 1.33 for 3 consecutive\n"
        "weeks → lower the delivery-priority tier by one and notify purchasing; 4 good weeks restore it.",
    )
    oem, voltara = story.oem, story.suppliers[1]
    template = next(  # the three-bad-periods rule; the early-warning template looks ahead instead
        t for t in oem.call("GET", "/v1/rules/templates") if t["pattern"].get("consecutive") == 3
    )
    rule = oem.call("POST", "/v1/rules", json={**template, "status": "draft"}, expect=201)
    oem.say(
        f"drafts [italic]{rule['name']}[/italic]: condition [bold]{rule['condition']}[/bold], pattern {rule['pattern']}"
    )
    dry = oem.call("POST", f"/v1/rules/{rule['id']}/dry-run", json={})
    oem.say(
        f"dry-runs it over {dry['evaluated']} stored weekly results: {len(dry['changes'])} standing change(s)"
    )
    active = oem.call("PUT", f"/v1/rules/{rule['id']}", json={**template, "status": "active"})
    oem.say(f"switches it on → version {active['version']} (version 1 stays in the history)")

    weeks = story_weeks()
    drift = weeks[CHAPTER_WEEKS : CHAPTER_WEEKS + 3]
    story.console.print(
        f"  [dim]weeks {drift[0]} to {drift[-1]}: every supplier keeps reporting; Voltara's process drifts[/dim]"
    )
    report_weeks(story, drift, narrate={voltara.name})
    standings = _standings(story, "Delivery-priority standings after the drift")
    if standings.get(voltara.name, {}).get("tier") != "B":
        raise DemoFailure("Voltara was not downgraded to tier B after three weeks below 1.33")

    [note] = oem.call("GET", "/v1/inbox?role=purchasing")["items"]
    oem.say(f"purchasing's inbox: [bold]{note['title']}[/bold]")
    for cause in note["body"]["rules"][0]["causes"]:
        story.console.print(
            f"      · {cause['period']}: CPK {cause['value']} (report {cause['report_id'][:8]}…)"
        )
    seen = voltara.call("GET", "/v1/standings")["items"]
    reason = voltara.call("GET", f"/v1/standings/{voltara.org_id}?oem_id={oem.org_id}")["history"][0][
        "reason"
    ]
    voltara.say(
        f"sees its own standing at Aurora: tier {seen[0]['tier']} — because [italic]{reason}[/italic]"
    )

    recovery = weeks[CHAPTER_WEEKS + 3 :]
    story.console.print(
        f"  [dim]weeks {recovery[0]} to {recovery[-1]}: Voltara fixes its winding process[/dim]"
    )
    report_weeks(story, recovery, narrate={voltara.name})
    cpk_table(story, weeks[CHAPTER_WEEKS:], "CPK per week while the rule was on")
    standings = _standings(story, "Standings after four good weeks")
    if standings[voltara.name]["tier"] != "A":
        raise DemoFailure("Voltara's tier was not restored after four good weeks")
