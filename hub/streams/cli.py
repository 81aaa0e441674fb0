"""`hub bridge nats|kafka add|list|remove|run`: organizations' opt-ins to NATS JetStream or Kafka, and the bridges.

``run`` publishes until SIGTERM or SIGINT; it keeps its cursor per organization in the hub database, so any number
of restarts (or a replica started beside it) continue where JetStream last acknowledged."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from hub.people.cli import ACTOR, OrgOption, cli_session, cli_settings, fail, find_org
from hub.streams import opt_ins, service, topics
from hub.streams.service import Opt
from protocol.models.common import WireModel

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
    from hub.models import NatsStream

    _print_opt_ins(
        _opt_ins(NatsStream, service.as_wire),
        as_json=as_json,
        columns=("subjects", "stream"),
        cells=lambda row: [f"{row['subject_prefix']}.>", row["stream"]],
    )


@nats_app.command("remove")
def nats_remove(org: OrgOption) -> None:
    """Opt an organization out: nothing more is published for it (its JetStream stream stays)."""
    _opt_out(service.NATS, org)


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

    from hub.streams.bridge import NatsBridge

    _run(
        lambda factory, issuer: NatsBridge(
            factory, servers=nats_url, issuer=issuer, user=user, password=password
        ),
        nats_url,
        once=once,
        interval=interval,
        refusals=(((OSError, NatsError), f"cannot reach NATS at {nats_url}: "),),
    )


def _opt_ins(table: Opt, as_wire: Callable[[Any], WireModel]) -> list[dict[str, Any]]:
    """Every organization opted in to the platform of ``table``, as its wire model with the organization's name."""
    from hub.models import Organization

    with cli_session() as session:
        rows = []
        for stream in service.opted_in(session, table):
            wire = as_wire(stream).model_dump(mode="json")
            org = session.get_one(Organization, stream.organization_id)
            rows.append({"organization": org.name, "organization_id": str(org.id), **wire})
    return rows


def _print_opt_ins(
    rows: list[dict[str, Any]],
    *,
    as_json: bool,
    columns: tuple[str, ...],
    cells: Callable[[dict[str, Any]], list[str]],
) -> None:
    """JSON, or a table: the organization, the platform's ``columns`` (``cells``), the cursor."""
    from rich.table import Table

    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("organization", *columns, "position", "published")
    for row in rows:
        table.add_row(
            row["organization"], *cells(row), str(row["position"]), (row["published_at"] or "")[:19]
        )
    console.print(table)


def _opt_out(platform: opt_ins.Platform, org: str) -> None:
    with cli_session() as session:
        opt_ins.remove(session, platform, org_id=find_org(session, org).id, actor=ACTOR, actor_org_id=None)
    console.print("opted out")


def _run(
    make_bridge: Callable[[Any, str], Bridge],
    where: str,
    *,
    once: bool,
    interval: float,
    refusals: tuple[tuple[tuple[type[Exception], ...], str], ...],
) -> None:
    """Serve one bridge on the hub database; an error of ``refusals`` ends the command with its words first."""
    from hub.db import make_engine, make_session_factory

    settings = cli_settings()
    engine = make_engine(settings)
    try:
        bridge = make_bridge(make_session_factory(engine), settings.issuer)
        published = asyncio.run(_serve(bridge, where, once=once, interval=interval))
    except Exception as exc:
        words = next((words for kinds, words in refusals if isinstance(exc, kinds)), None)
        if words is None:
            raise
        raise fail(f"{words}{exc}") from exc
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
    from hub.models import KafkaStream

    _print_opt_ins(
        _opt_ins(KafkaStream, topics.as_wire),
        as_json=as_json,
        columns=("topic",),
        cells=lambda row: [row["topic"]],
    )


@kafka_app.command("remove")
def kafka_remove(org: OrgOption) -> None:
    """Opt an organization out: nothing more is published for it (its topic stays)."""
    _opt_out(topics.KAFKA, org)


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

    from hub.streams.bridge import KafkaBridge

    extra: dict[str, str] = {}
    for item in config or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise fail(f"--config {escape(item)}: expected KEY=VALUE")
        extra[key.strip()] = value.strip()
    _run(
        lambda factory, issuer: KafkaBridge(
            factory, bootstrap=bootstrap, issuer=issuer, partitions=partitions, config=extra
        ),
        bootstrap,
        once=once,
        interval=interval,
        refusals=(((ValueError,), "--config: "), ((KafkaException,), f"cannot reach Kafka at {bootstrap}: ")),
    )
