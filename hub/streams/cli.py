"""`hub bridge nats add|list|remove|run`: organizations' opt-ins to NATS JetStream, and the bridge process.

``run`` publishes until SIGTERM or SIGINT; it keeps its cursor per organization in the hub database, so any number
of restarts (or a replica started beside it) continue where JetStream last acknowledged."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from hub.people.cli import ACTOR, OrgOption, cli_session, cli_settings, fail, find_org
from hub.streams import service

bridge_app = typer.Typer(
    help="Bridges of organizations' event streams to stream platforms.", no_args_is_help=True
)
nats_app = typer.Typer(
    help="NATS JetStream: each opted-in organization's events as CloudEvents under its subject prefix.",
    no_args_is_help=True,
)
bridge_app.add_typer(nats_app, name="nats")
console = Console()

NatsUrl = Annotated[str, typer.Option("--nats-url", envvar="NATS_URL", help="The NATS server")]


@nats_app.command("add")
def nats_add(
    org: OrgOption,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Subjects are PREFIX.<event type>, e.g. qualink.aurora")
    ],
) -> None:
    """Opt an organization in (or change its prefix; its cursor stays)."""
    with cli_session() as session:
        org_id = find_org(session, org).id
        stream, created = service.put_stream(
            session, org_id=org_id, prefix=prefix, actor=ACTOR, actor_org_id=None
        )
        name = service.stream_name(stream.organization_id)
    word = "opted in" if created else "set"
    console.print(f"{word}: {escape(prefix)}.> in stream {name}", soft_wrap=True, highlight=False)


@nats_app.command("list")
def nats_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")] = False,
) -> None:
    """Every opted-in organization with its prefix, stream and cursor."""
    from rich.table import Table

    from hub.models import Organization

    with cli_session() as session:
        rows = []
        for stream in service.opted_in(session):
            wire = service.as_wire(stream).model_dump(mode="json")
            org = session.get_one(Organization, stream.organization_id)
            rows.append({"organization": org.name, "organization_id": str(org.id), **wire})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("organization", "subjects", "stream", "position", "published")
    for row in rows:
        table.add_row(
            row["organization"],
            f"{row['subject_prefix']}.>",
            row["stream"],
            str(row["position"]),
            (row["published_at"] or "")[:19],
        )
    console.print(table)


@nats_app.command("remove")
def nats_remove(org: OrgOption) -> None:
    """Opt an organization out: nothing more is published for it (its JetStream stream stays)."""
    with cli_session() as session:
        service.remove_stream(session, org_id=find_org(session, org).id, actor=ACTOR, actor_org_id=None)
    console.print("opted out")


@nats_app.command("run")
def nats_run(
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
    user: Annotated[
        str | None, typer.Option("--user", envvar="NATS_USER", help="The bridge's NATS user")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", envvar="NATS_PASSWORD", help="Its password")
    ] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between rounds")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Publish the backlog once and exit")] = False,
) -> None:
    """Publish opted-in organizations' events to JetStream until stopped."""
    try:
        from nats.errors import Error as NatsError
    except ImportError:
        raise fail(escape("the NATS bridge needs its client library: pip install 'qualink[nats]'")) from None

    from hub.db import make_engine, make_session_factory
    from hub.streams.bridge import NatsBridge

    settings = cli_settings()
    engine = make_engine(settings)
    factory = make_session_factory(engine)

    async def main() -> int:
        bridge = NatsBridge(factory, servers=nats_url, issuer=settings.issuer, user=user, password=password)
        async with bridge:
            if once:
                return await bridge.publish_once()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            console.print(f"bridging to {escape(nats_url)}", highlight=False)
            await bridge.run(stop, interval_seconds=interval)
            return 0

    try:
        published = asyncio.run(main())
    except (OSError, NatsError) as exc:
        raise fail(f"cannot reach NATS at {nats_url}: {exc}") from exc
    finally:
        engine.dispose()
    if once:
        console.print(f"published {published}")
