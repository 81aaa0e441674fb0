"""The operator's command line: `hub serve`, `hub worker`, `hub db upgrade`, `hub config check`, `hub org create`,
`hub client create`, `hub audit verify`, `hub retention` (and `hub demo`, from qualink_demo). Every command that
writes is one transaction, audited like an API call. A database that cannot be reached or has no schema is one line
on stderr and exit 2."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from hub.config import DEVELOPMENT_WARNING, Settings, UnknownSetting, get_settings
from hub.genealogy.cli import genealogy_app, synth_app
from hub.orgs.cli import four_eyes
from hub.people.cli import user_app
from hub.retention.cli import retention_app
from hub.sso.cli import sso_app
from hub.streams.cli import bridge_app
from hub.synth.cli import synth_reports

err = Console(stderr=True)


def _say_error(message: str) -> None:
    # soft_wrap: one line however narrow the terminal (scripts and log collectors read it whole).
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)


class _OneLineDatabaseErrors(TyperGroup):
    """Every command, including those of other modules: a database that cannot be reached or has no schema is
    one line and exit 2, not a traceback of a few hundred lines."""

    def invoke(self, ctx: Any) -> Any:  # click.Context, vendored by typer under a private name
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            from hub.db import make_engine
            from hub.readiness import explain_database_error

            settings = _settings()
            engine = make_engine(settings)
            try:
                _say_error(explain_database_error(exc, engine, settings))
            finally:
                engine.dispose()
            raise typer.Exit(2) from exc


app = typer.Typer(
    name="hub",
    help="Qualink hub: serve the API and operate it.",
    no_args_is_help=True,
    cls=_OneLineDatabaseErrors,
    # A traceback's local variables would print settings, database URLs with passwords, keys.
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
org_app = typer.Typer(help="Organizations in the network.", no_args_is_help=True)
client_app = typer.Typer(help="API clients (OAuth 2.0 client credentials).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
config_app = typer.Typer(help="The hub's configuration (HUB_* environment variables).", no_args_is_help=True)
rules_app = typer.Typer(help="Rules and supplier standing.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
org_app.command("four-eyes")(four_eyes)
app.add_typer(client_app, name="client")
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")
app.add_typer(rules_app, name="rules")
notifications_app = typer.Typer(help="Quality notifications and escalation.", no_args_is_help=True)
app.add_typer(notifications_app, name="notifications")
app.add_typer(genealogy_app, name="genealogy")
app.add_typer(synth_app, name="synth")
synth_app.command("reports")(synth_reports)
app.add_typer(user_app, name="user")
app.add_typer(sso_app, name="sso")
app.add_typer(bridge_app, name="bridge")
app.add_typer(retention_app, name="retention")

console = Console()
OPERATOR_ACTOR = "cli:operator"


def _settings() -> Settings:
    try:
        return get_settings()
    except UnknownSetting as exc:
        err.print(f"[red]configuration error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from exc
    except ValidationError as exc:
        message = escape(str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
        err.print(f"[red]configuration error:[/red] {message}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from exc


def _warn_if_development(settings: Settings) -> None:
    if settings.environment == "development":
        err.print(f"[bold red]{escape(DEVELOPMENT_WARNING)}[/bold red]", soft_wrap=True, highlight=False)


@contextmanager
def _session() -> Iterator[Session]:
    from hub.db import make_engine, make_session_factory

    engine = make_engine(_settings())
    try:
        with make_session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def _fail(message: str) -> typer.Exit:
    _say_error(message)
    return typer.Exit(2)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    migrate: Annotated[
        bool | None, typer.Option(help="Upgrade the schema first (default: only in development mode)")
    ] = None,
) -> None:
    """Run the hub (uvicorn). Stateless: run as many as you like against one PostgreSQL."""
    import uvicorn

    from hub.config import follow_served_address

    settings = _settings()
    if settings.environment == "development" and not settings.issuer_is_set:
        # Tokens and client assertions name the issuer: on another port the default would refuse every SDK.
        settings = follow_served_address(host, port)
    if migrate if migrate is not None else settings.environment == "development":
        db_upgrade()
    _say_database_problem(settings)
    console.print(
        f"hub listening on http://{host}:{port} ({workers} worker(s)), {settings.environment} mode, "
        f"issuer {settings.issuer}",
        soft_wrap=True,
        highlight=False,
    )
    _warn_if_development(settings)
    uvicorn.run(
        "hub.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="warning",
        # uvicorn's HTTP/1.1 protocol plus header and body read deadlines (HUB_HEADER_TIMEOUT_SECONDS, ...).
        http="hub.serving:GuardedHttpProtocol",
    )


def _say_database_problem(settings: Settings) -> None:
    """Serving starts anyway (/readyz says 503 until it is fixed), but the operator hears why, once."""
    from hub.db import make_engine
    from hub.readiness import database_problem

    engine = make_engine(settings)
    try:
        problem = database_problem(engine, settings)
    finally:
        engine.dispose()
    if problem:
        err.print(f"[yellow]warning:[/yellow] {escape(problem)}", soft_wrap=True, highlight=False)


@app.command()
def worker(
    health_port: Annotated[
        int | None, typer.Option(help="Answer GET /healthz and /readyz on this port (orchestrator probes)")
    ] = None,
    health_host: Annotated[str, typer.Option(help="Address the probe listens on")] = "0.0.0.0",  # noqa: S104
) -> None:
    """Deliver webhooks and number events without serving the API, until SIGTERM or Ctrl-C.

    It also runs the retention job (monthly partitions made ahead, expired data dropped; `hub retention`).

    Every `hub serve` does this too; start workers to deliver more per second. On PostgreSQL any number of
    workers and servers share the deliveries (SKIP LOCKED); on SQLite run one, and set
    HUB_WEBHOOK_DISPATCH_INTERVAL_SECONDS=0 on `hub serve` then. With --health-port, /healthz says the loops
    run and /readyz that their last rounds succeeded (503 with the reason otherwise)."""
    import asyncio
    import gc
    import signal

    from hub.auth.tokens import TokenKeys
    from hub.db import make_engine, make_session_factory
    from hub.events.sequencer import sequence_once
    from hub.events.wakeups import DELIVERIES_DUE, EVENTS_PUBLISHED, listen
    from hub.jobs import PeriodicJob
    from hub.mail.job import mail_sender
    from hub.observability import configure_logging
    from hub.retention.job import retention_job
    from hub.webhooks.dispatcher import Dispatcher
    from hub.worker_probe import LoopState, serve_probe

    settings = _settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)
    _say_database_problem(settings)
    _warn_if_development(settings)
    keys = TokenKeys(settings.signing_key(), issuer=settings.issuer, previous=settings.previous_public_keys())

    async def run() -> None:
        engine = make_engine(settings)
        factory = make_session_factory(engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        # A worker exists to dispatch: "0 = off" is for `hub serve`, so here it means the default pace.
        interval = settings.webhook_dispatch_interval_seconds or 0.25
        dispatcher = Dispatcher(
            factory,
            interval_seconds=interval,
            batch=settings.webhook_dispatch_batch,
            allow_internal=settings.environment == "development",
        )
        sequencer = PeriodicJob(
            "events-sequencer",
            settings.events_sequence_interval_seconds or 0.2,
            lambda: sequence_once(factory, dispatcher=dispatcher),
            then=lambda _numbered: dispatcher.wake(),
        )
        dispatcher.start()
        sequencer.start()
        mail_jobs = mail_sender(factory, settings)
        # Partitions made ahead and data past retention dropped (hub.retention): a worker's job, not a request's.
        mail_jobs.append(retention_job(factory, keys, settings))
        for job in mail_jobs:
            job.start()
        loops = [
            LoopState("webhook-dispatcher", lambda: dispatcher.running, lambda: dispatcher.backoff.failure),
            LoopState("events-sequencer", lambda: sequencer.running, lambda: sequencer.backoff.failure),
        ]
        probe = await serve_probe(health_host, health_port, loops) if health_port else None
        if probe is not None:
            console.print(f"worker probe on http://{health_host}:{health_port}/healthz and /readyz")
        # The hub's commits wake this worker at once (PostgreSQL); on SQLite it polls.
        listener = listen(
            settings.listener_database_url,
            {EVENTS_PUBLISHED: sequencer.wake, DELIVERIES_DUE: dispatcher.wake},
        )
        gc.collect()
        gc.freeze()  # start-up's objects live as long as the worker: spare every full collection walking them
        console.print(
            f"worker running in {settings.environment} mode: webhook dispatcher and event sequencer "
            "(Ctrl-C to stop)",
            soft_wrap=True,
        )
        try:
            await stop.wait()
        finally:
            if probe is not None:
                probe.close()
            if listener is not None:
                listener.stop()
            await dispatcher.stop()
            await sequencer.stop()
            for job in mail_jobs:
                await job.stop()
            engine.dispose()
        console.print("worker stopped")

    asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Bring the schema to the newest migration (the only way a schema is made)."""
    from hub import migrate
    from hub.db import make_engine

    engine = make_engine(_settings())
    try:
        migrate.upgrade(engine, revision)
        console.print(f"schema at [bold]{migrate.current_revision(engine)}[/bold]")
    finally:
        engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Print the schema's revision and the code's head."""
    from hub import migrate
    from hub.db import make_engine

    engine = make_engine(_settings())
    try:
        console.print(f"database: {migrate.current_revision(engine)}  code head: {migrate.head_revision()}")
    finally:
        engine.dispose()


@config_app.command("check")
def config_check() -> None:
    """Check the environment without starting anything: settings, keys, the database and its schema.

    Prints one line per check; exits 1 when any check fails."""
    from hub.readiness import check_configuration

    marks = {"ok": "[green]ok[/green]  ", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}
    findings = check_configuration()
    for finding in findings:
        console.print(f"{marks[finding.level]} {escape(finding.text)}", soft_wrap=True, highlight=False)
    if any(finding.level == "fail" for finding in findings):
        raise typer.Exit(1)


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Option(help="Organization name, unique in the network")],
    kind: Annotated[str, typer.Option(help="oem | supplier | lab | operator")],
) -> None:
    """Register an organization; prints its id."""
    from hub.errors import HubError
    from hub.orgs import service
    from protocol.models.orgs import OrganizationCreate

    try:
        data = OrganizationCreate.model_validate({"name": name, "kind": kind})
    except ValidationError as exc:
        raise _fail(f"{exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from exc
    try:
        with _session() as session:
            org = service.create_organization(session, actor=OPERATOR_ACTOR, data=data)
            org_id = org.id
    except HubError as exc:
        raise _fail(exc.detail) from exc
    console.print(str(org_id))


@org_app.command("list")
def org_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")] = False,
) -> None:
    """List every organization."""
    from rich.table import Table

    from hub.models import Organization

    with _session() as session:
        rows = [
            {"id": str(o.id), "name": o.name, "kind": o.kind, "created_at": o.created_at.isoformat()}
            for o in session.scalars(select(Organization).order_by(Organization.name))
        ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("name", "kind", "created", "id")
    table.columns[3].no_wrap = True  # ids are for copying: never cut one
    for row in rows:
        table.add_row(row["name"], row["kind"], row["created_at"][:19], row["id"])
    console.print(table)


def _find_org(session: Session, ref: str) -> uuid.UUID:
    from hub.models import Organization

    try:
        org_id = uuid.UUID(ref)
        query = select(Organization.id).where(Organization.id == org_id)
    except ValueError:
        query = select(Organization.id).where(Organization.name == ref)
    found = session.scalar(query)
    if found is None:
        raise _fail(f"no organization '{ref}'")
    return found


def _read_public_jwk(path: Path) -> dict[str, Any]:
    from protocol.errors import InvalidKey
    from protocol.jwk import public_jwk
    from protocol.signing import load_private_key

    text = path.read_text()
    if text.lstrip().startswith("{"):
        loaded: dict[str, Any] = json.loads(text)
        return {k: loaded[k] for k in ("kty", "crv", "x") if k in loaded}
    if "PUBLIC KEY" in text:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise _fail("the public key must be Ed25519")
        return public_jwk(key)
    try:
        return public_jwk(load_private_key(text))
    except InvalidKey as exc:
        raise _fail(f"{path}: {exc}") from exc


@client_app.command("create")
def client_create(
    org: Annotated[str, typer.Option(help="Organization id or name")],
    name: Annotated[str, typer.Option(help="What the client is, e.g. 'MES connector'")],
    scopes: Annotated[
        str | None, typer.Option(help="Space-separated scopes (default: all the kind may hold)")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="Ed25519 public key (PEM or JWK) for private_key_jwt; else a secret client"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create an API client. A secret client's secret is printed once and never again."""
    from hub.errors import HubError
    from hub.orgs import service

    jwk = _read_public_jwk(public_key) if public_key else None
    try:
        with _session() as session:
            org_id = _find_org(session, org)
            client, secret = service.create_client(
                session,
                actor=OPERATOR_ACTOR,
                actor_org_id=None,
                org_id=org_id,
                name=name,
                scopes=scopes.split() if scopes else None,
                public_jwk=jwk,
            )
            result = {
                "client_id": client.client_id,
                "auth_method": client.auth_method,
                "scopes": client.scopes,
            }
    except HubError as exc:
        raise _fail(exc.detail) from exc
    if secret:
        result["client_secret"] = secret
    if as_json:
        console.print_json(json.dumps(result))
        return
    console.print(f"client_id: [bold]{result['client_id']}[/bold]  ({result['auth_method']})")
    console.print(f"scopes: {result['scopes']}")
    if secret:
        console.print(f"client_secret: [bold]{secret}[/bold]  (shown once; store it now)")


@audit_app.command("verify")
def audit_verify() -> None:
    """Seal pending entries, recompute the whole chain and every checkpoint; exit 1 naming the first break."""
    from hub.audit import service
    from hub.auth.tokens import TokenKeys

    settings = _settings()
    keys = TokenKeys(settings.signing_key(), issuer=settings.issuer, previous=settings.previous_public_keys())
    with _session() as session:
        sealed = service.seal(
            session, signing_key=keys.private_key, key_id=keys.key_id, issuer=settings.issuer
        )
        result = service.verify(session, public_keys=keys.public_keys, issuer=settings.issuer)
    if result.ok:
        console.print(
            f"[green]audit chain intact[/green]: {result.entries} entries ({sealed} sealed now), "
            f"{result.checkpoints} signed checkpoints"
            + (
                f", {result.dropped} older entries dropped by retention under signed checkpoints"
                if result.dropped
                else ""
            )
        )
        return
    where = f"entry seq={result.first_broken_seq} id={result.first_broken_id}"
    err.print(f"[red]audit chain broken[/red] at {where}: {result.reason}")
    raise typer.Exit(1)


@rules_app.command("sweep")
def rules_sweep() -> None:
    """Mark every period past its due date without a report as missing (not met), and run the rules on it.

    Every `hub serve` does this every minute on its own; run it by hand after downtime or from cron."""
    from hub.models.base import utcnow
    from hub.rules.sweep import sweep

    with _session() as session:
        marked = sweep(session, now=utcnow())
    console.print(f"marked {marked} missing period(s)")


@notifications_app.command("sweep")
def notifications_sweep() -> None:
    """Escalate every notification still unanswered past its target date (severity one step up, both told).

    Every `hub serve` does this every minute on its own; run it by hand after downtime or from cron."""
    from hub.models.base import utcnow
    from hub.notifications.escalation import escalate

    total = 0
    while True:
        with _session() as session:
            escalated = escalate(session, now=utcnow())
        total += escalated
        if escalated == 0:
            break
    console.print(f"escalated {total} notification(s)")


COMMANDS_GROUP = "qualink.hub_commands"


def add_installed_commands(app: typer.Typer) -> None:
    """The commands that installed packages offer the hub, through the entry-point group ``qualink.hub_commands``.

    `hub demo` is one: the demo drives the hub through the SDK, so it lives in its own package (qualink_demo) and
    the hub never imports it, nor the SDK. A name the hub already has stays the hub's; a command that cannot be
    loaded is one line on stderr and the others still work."""
    from importlib.metadata import entry_points

    taken = {group.name for group in app.registered_groups}
    taken |= {
        command.name or getattr(command.callback, "__name__", "").replace("_", "-")
        for command in app.registered_commands
    }
    for entry in entry_points(group=COMMANDS_GROUP):
        if entry.name in taken:
            continue
        try:
            command = entry.load()
        except Exception as exc:  # a broken plugin must not take the operator's CLI down with it
            _say_error(f"'hub {entry.name}' ({entry.value}) could not be loaded: {exc}")
            continue
        app.command(entry.name)(command)
        taken.add(entry.name)


add_installed_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
