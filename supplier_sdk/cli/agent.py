"""``supplier-sdk agent run|check|status``: the unattended agent (see :mod:`supplier_sdk.agent`).

- ``agent run --config agent.toml`` keeps running, reporting each period at its close; ``--once`` does one pass
  and exits (status 0, or 1 when a mapping failed). SIGTERM (and Ctrl-C) finish the mapping under way and stop.
- ``agent check --config agent.toml`` is a dry run: per mapping the period, the row count, the KPI and what
  would be sent (the value or only "meets", a proof or not); nothing is sent, no state is written.
- ``agent status --config agent.toml`` prints the status file: health and each mapping's last run.

Log lines are JSON on stderr. Hub, client id, key file and outbox come from the file's ``[hub]`` table, else the
``QUALINK_*`` environment (:mod:`supplier_sdk.config`).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from supplier_sdk.agent.config import AgentConfig, load_agent_config
from supplier_sdk.agent.runner import Agent, Outcome
from supplier_sdk.agent.status import read_json
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import JsonOption
from supplier_sdk.config import load_config
from supplier_sdk.errors import ConfigError

app = typer.Typer(
    help="The unattended agent: report every mapping at its period's close.", no_args_is_help=True
)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", help="The agent's TOML configuration (see deploy/agent/agent.example.toml)."),
]
_DEFAULT_CONFIG = Path("/etc/qualink/agent.toml")


def _config(path: Path) -> AgentConfig:
    try:
        return load_agent_config(path)
    except ConfigError as exc:
        fail(str(exc))


def _agent(config: AgentConfig) -> Agent:
    hub = config.hub
    try:
        settings = load_config(
            hub=hub.get("url"),
            client_id=hub.get("client_id"),
            key_file=hub.get("key_file"),
            outbox=hub.get("outbox"),
        )
        return Agent(config, client=settings.client(), outbox=settings.outbox())
    except (ConfigError, ValueError) as exc:
        fail(str(exc))


@app.command("run")
def run_command(
    config: ConfigOption = _DEFAULT_CONFIG,
    once: Annotated[bool, typer.Option("--once", help="One pass over the mappings, then exit.")] = False,
) -> None:
    """Report every mapping's closed periods, now and at each period's close, until stopped.

    Example: supplier-sdk agent run --config /etc/qualink/agent.toml
    """
    agent = _agent(_config(config))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        if once:
            outcomes = agent.run_pass(stop)
            agent.log(
                "agent.pass", outcomes=len(outcomes), failed=sum(o.outcome == "failed" for o in outcomes)
            )
            sys.exit(1 if any(o.outcome == "failed" for o in outcomes) else 0)
        agent.run_forever(stop)
    finally:
        agent.close()
        agent.client.close()


def _describe(outcome: Outcome) -> str:
    if outcome.outcome == "failed":
        return f"{outcome.mapping}: {outcome.period or '-'}: NOT SENT: {outcome.reason}"
    sends = f"value {outcome.sent_value}" if outcome.sent_value is not None else "only meets"
    verdict = "meets" if outcome.meets else "does NOT meet"
    figure = "-" if outcome.figure is None else f"{outcome.figure:.4f}"
    proof = "with proof" if outcome.proof else "no proof"
    if outcome.late:
        proof += f"; LATE: the report was due by {outcome.due}"
    return (
        f"{outcome.mapping}: {outcome.period}: {outcome.rows} rows, {outcome.kpi} {figure} ({verdict}); "
        f"would send {sends}={str(outcome.meets).lower()}, {proof}"
    )


@app.command("check")
def check_command(config: ConfigOption = _DEFAULT_CONFIG, as_json: JsonOption = False) -> None:
    """Dry run: per mapping, the period, rows, KPI and what would be sent; nothing is sent.

    Example: supplier-sdk agent check --config agent.toml
    """
    agent = _agent(_config(config))
    try:
        outcomes = agent.run_pass(send=False)
    finally:
        agent.close()
        agent.client.close()
    for outcome in outcomes:
        typer.echo(json.dumps(outcome.as_dict()) if as_json else _describe(outcome))
    sys.exit(1 if any(o.outcome == "failed" for o in outcomes) else 0)


@app.command("status")
def status_command(
    config: ConfigOption = _DEFAULT_CONFIG,
    as_json: JsonOption = False,
    max_age: Annotated[
        float | None,
        typer.Option("--max-age", help="Exit 1 when the status is older than this many seconds, or stopped."),
    ] = None,
) -> None:
    """The agent's health and each mapping's last run, from its status file (exit 1 if stale with --max-age).

    Example: supplier-sdk agent status --config agent.toml --max-age 900
    """
    settings = _config(config)
    try:
        status: dict[str, Any] | None = read_json(settings.status_file)
    except ValueError as exc:
        fail(str(exc))
    if status is None:
        fail(f"no status file {settings.status_file} yet: the agent has not run")
    if as_json:
        typer.echo(json.dumps(status))
    else:
        _print_status(status)
    if max_age is not None and _stale(status, max_age):
        typer.echo(
            f"error: the agent is {status.get('health')} or its status is older than {max_age:g} s", err=True
        )
        sys.exit(1)


def _print_status(status: dict[str, Any]) -> None:
    typer.echo(
        f"health: {status.get('health')} (updated {status.get('updated_at')}, pid {status.get('pid')})"
    )
    for name, last in sorted(status.get("mappings", {}).items()):
        reason = f": {last['reason']}" if last.get("reason") else ""
        typer.echo(f"{name}: {last.get('period') or '-'} {last.get('outcome')}{reason}")


def _stale(status: dict[str, Any], max_age: float) -> bool:
    try:
        updated = datetime.fromisoformat(str(status.get("updated_at")))
    except ValueError:
        return True
    return status.get("health") == "stopped" or (datetime.now(UTC) - updated).total_seconds() > max_age


__all__ = ["app", "check_command", "run_command", "status_command"]
