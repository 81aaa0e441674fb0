"""`hub demo`: a real hub on a temporary SQLite file, driven over HTTP, chapter by chapter.

Each chapter is a module with ``run(story)``; later capabilities add theirs to ``CHAPTERS``. The demo drives the
hub the way its users do, through the SDK, so it lives beside the hub, not in it (the hub never imports the SDK):
`hub demo` finds it through the ``qualink.hub_commands`` entry point (:mod:`qualink_demo.cli`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console

from hub.local import LocalHub
from qualink_demo import events, foundation, kpis, labs, rooms, rules, trace, zk
from qualink_demo.actors import Actor, DemoFailure
from qualink_demo.story import Story

CHAPTERS: list[Callable[[Story], None]] = [
    foundation.run,
    kpis.run,
    events.subscribe,
    rules.run,
    events.report,
    zk.run,
    labs.run,
    trace.run,
    rooms.run,
]


def _bootstrap_operator(hub: LocalHub, console: Console) -> Actor:
    """What `hub org create` and `hub client create` do on the operator's own machine."""
    from hub.db import make_engine, make_session_factory
    from hub.orgs import service
    from protocol.models.common import OrgKind
    from protocol.models.orgs import OrganizationCreate
    from supplier_sdk.auth import public_jwk

    operator = Actor("Qualink Operations", "operator", console, hub.base_url)
    engine = make_engine(hub.settings)
    with make_session_factory(engine)() as session, session.begin():
        org = service.create_organization(
            session, actor="cli:operator", data=OrganizationCreate(name=operator.name, kind=OrgKind.OPERATOR)
        )
        client, _ = service.create_client(
            session,
            actor="cli:operator",
            actor_org_id=None,
            org_id=org.id,
            name="operator console",
            scopes=None,
            public_jwk=public_jwk(operator.signing_key),
        )
        operator.org_id, operator.client_id = str(org.id), client.client_id
    engine.dispose()
    console.print(
        f"  [dim]$ hub org create --kind operator; hub client create --public-key …  → {operator.client_id}[/dim]"
    )
    return operator


def _closing(story: Story) -> None:
    story.chapter("Epilogue · The record", "The operator verifies the tamper-evident audit chain.")
    result = story.operator.call("POST", "/v1/audit/verify")
    state = "[green]intact[/green]" if result["ok"] else f"[red]broken: {result['reason']}[/red]"
    story.operator.say(
        f"audit chain {state}: {result['entries']} entries, {result['checkpoints']} signed checkpoint(s)"
    )
    if not result["ok"]:
        raise DemoFailure("the audit chain did not verify")


def run_demo(console: Console, *, keep_running: bool = False) -> int:
    started = time.perf_counter()
    console.rule("[bold]Qualink demo[/bold]")
    with LocalHub() as hub:
        console.print(
            f"  hub running at [link={hub.base_url}/docs]{hub.base_url}[/link] on a temporary SQLite file"
        )
        story = Story(
            console=console,
            base_url=hub.base_url,
            operator=_bootstrap_operator(hub, console),
            oem=Actor("Aurora Motors AG", "oem", console, hub.base_url),
            suppliers=[Actor(spec[0], "supplier", console, hub.base_url) for spec in foundation.SUPPLIERS],
        )
        try:
            for chapter in CHAPTERS:
                chapter(story)
            _closing(story)
        except DemoFailure as exc:
            console.print(f"[red bold]demo failed:[/red bold] {exc}")
            return 1
        finally:
            story.close()
        console.rule(f"[bold green]demo finished in {time.perf_counter() - started:.1f} s[/bold green]")
        if keep_running:
            from qualink_demo.people import create_people, print_sign_ins

            actors = [story.operator, story.oem, *story.suppliers]
            print_sign_ins(console, hub.base_url, create_people(hub, actors))
            console.print(f"  the hub keeps running at {hub.base_url}/docs — press Ctrl+C to stop")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    return 0
