"""`hub bridge nats|kafka add|list|remove|run`: organizations' opt-ins to NATS JetStream or Kafka, and the bridges.

``run`` publishes until SIGTERM or SIGINT; it keeps its cursor per organization in the hub database, so any number
of restarts (or a replica started beside it) continue where JetStream last acknowledged."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from hub.people.cli import ACTOR, OrgOption, cli_session, cli_settings, fail, find_org
from hub.streams import service, topics

if TYPE_CHECKING:
    from hub.streams.bridge import Bridge

bridge_app = typer.Typer(
    help="Bridges of organizations' event streams to stream platforms.", no_args_is_help=True
)
nats_app = typer.Typer(
    help="NATS JetStream: each opted-in organization's events as CloudEvents under its subject prefix.",
    no_args_is_help=True,
)
kafka_app = typer.Typer(
    help="Kafka: each opted-in organization's events as CloudEvents to its topic, keyed by series or case.",
    no_args_is_help=True,
)
bridge_app.add_typer(nats_app, name="nats")
bridge_app.add_typer(kafka_app, name="kafka")
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
    bridge = NatsBridge(factory, servers=nats_url, issuer=settings.issuer, user=user, password=password)
    try:
        published = asyncio.run(_serve(bridge, nats_url, once=once, interval=interval))
    except (OSError, NatsError) as exc:
        raise fail(f"cannot reach NATS at {nats_url}: {exc}") from exc
    finally:
        engine.dispose()
    if once:
        console.print(f"published {published}")


async def _serve(bridge: Bridge, where: str, *, once: bool, interval: float) -> int:
    """One backlog (``once``) or rounds until SIGTERM/SIGINT; the same for every platform."""
    async with bridge:
        if once:
            return await bridge.publish_once()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        console.print(f"bridging to {escape(where)}", highlight=False)
        await bridge.run(stop, interval_seconds=interval)
        return 0


# -- Kafka ------------------------------------------------------------------------------------------------------

Bootstrap = Annotated[
    str,
    typer.Option(
        "--bootstrap", envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers, host:port,…"
    ),
]


@kafka_app.command("add")
def kafka_add(
    org: OrgOption,
    topic: Annotated[str, typer.Option("--topic", help="The topic its events go to, e.g. qualink.aurora")],
) -> None:
    """Opt an organization in (or move it to another topic; its cursor stays)."""
    with cli_session() as session:
        org_id = find_org(session, org).id
        _stream, created = topics.put_topic(
            session, org_id=org_id, topic=topic, actor=ACTOR, actor_org_id=None
        )
    word = "opted in" if created else "set"
    console.print(f"{word}: topic {escape(topic)}", soft_wrap=True, highlight=False)


@kafka_app.command("list")
def kafka_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")] = False,
) -> None:
    """Every organization opted in to Kafka with its topic and cursor."""
    from rich.table import Table

    from hub.models import KafkaStream, Organization

    with cli_session() as session:
        rows = []
        for stream in service.opted_in(session, KafkaStream):
            wire = topics.as_wire(stream).model_dump(mode="json")
            org = session.get_one(Organization, stream.organization_id)
            rows.append({"organization": org.name, "organization_id": str(org.id), **wire})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("organization", "topic", "position", "published")
    for row in rows:
        table.add_row(
            row["organization"], row["topic"], str(row["position"]), (row["published_at"] or "")[:19]
        )
    console.print(table)


@kafka_app.command("remove")
def kafka_remove(org: OrgOption) -> None:
    """Opt an organization out: nothing more is published for it (its topic stays)."""
    with cli_session() as session:
        topics.remove_topic(session, org_id=find_org(session, org).id, actor=ACTOR, actor_org_id=None)
    console.print("opted out")


@kafka_app.command("run")
def kafka_run(
    bootstrap: Bootstrap = "127.0.0.1:9092",
    partitions: Annotated[
        int, typer.Option("--partitions", min=1, help="Partitions of a topic the bridge creates")
    ] = 1,
    config: Annotated[
        list[str] | None,
        typer.Option("--config", help="A librdkafka producer setting KEY=VALUE (TLS, SASL…); repeatable"),
    ] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between rounds")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Publish the backlog once and exit")] = False,
) -> None:
    """Publish opted-in organizations' events to Kafka (idempotent producer, acks=all) until stopped."""
    try:
        from confluent_kafka import KafkaException
    except ImportError:
        raise fail(
            escape("the Kafka bridge needs its client library: pip install 'qualink[kafka]'")
        ) from None

    from hub.db import make_engine, make_session_factory
    from hub.streams.bridge import KafkaBridge

    extra: dict[str, str] = {}
    for item in config or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise fail(f"--config {escape(item)}: expected KEY=VALUE")
        extra[key.strip()] = value.strip()
    settings = cli_settings()
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    try:
        bridge = KafkaBridge(
            factory, bootstrap=bootstrap, issuer=settings.issuer, partitions=partitions, config=extra
        )
        published = asyncio.run(_serve(bridge, bootstrap, once=once, interval=interval))
    except ValueError as exc:
        raise fail(f"--config: {exc}") from exc
    except KafkaException as exc:
        raise fail(f"cannot reach Kafka at {bootstrap}: {exc}") from exc
    finally:
        engine.dispose()
    if once:
        console.print(f"published {published}")
