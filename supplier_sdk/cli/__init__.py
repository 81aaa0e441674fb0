"""The ``supplier-sdk`` command line: one Typer sub-app per command group.

Each group lives in its own module of this package and exposes a ``typer.Typer`` named ``app``. To add
a group (``report``, ``outbox``, ``attest``, ...), write ``supplier_sdk/cli/<group>.py`` with its ``app``,
import the module here and add one ``(name, module.app)`` entry to :data:`COMMAND_GROUPS`. Options that
more than one command takes are declared once, in :mod:`supplier_sdk.cli.options`; a command that talks to the
hub takes ``--hub``/``--client-id``/``--key-file`` and its error-to-exit-status mapping from
:mod:`supplier_sdk.cli.connection` (``with_hub_connection``, ``HubConnection.client()``).

``supplier-sdk --profile NAME <command> …`` (or ``QUALINK_PROFILE``) takes the hub, client and key files from a
named profile of the config file (:mod:`supplier_sdk.cli.profiles`).

Exit status: 0 on success, 2 for any input or usage problem, which is reported as one line on stderr
(``error: ...``) and never as a traceback.

Example:
    >>> from typer.testing import CliRunner
    >>> args = ["kpi", "demo-test", "--mtbf", "1000", "--confidence", "0.9", "--json"]
    >>> result = CliRunner().invoke(app, args)
    >>> result.exit_code, result.stdout.strip()
    (0, '{"test_hours": 2302.5850929940457, "mtbf": 1000.0, "confidence": 0.9, "failures": 0}')
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

from supplier_sdk.cli import (
    agent,
    agreements,
    attest,
    certificate,
    genealogy,
    keys,
    kpi,
    lab,
    notifications,
    outbox,
    profiles,
    report,
    room,
    standing,
    webhooks,
)

app = typer.Typer(
    name="supplier-sdk",
    help="Qualink supplier SDK: compute quality KPIs from your own data; raw data never leaves this machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command groups, in the order `supplier-sdk --help` lists them: (command name, the group's Typer app).
COMMAND_GROUPS: tuple[tuple[str, typer.Typer], ...] = (
    ("kpi", kpi.app),
    ("report", report.app),
    ("outbox", outbox.app),
    ("room", room.app),
    ("attest", attest.app),
    ("lab", lab.app),
    ("certificate", certificate.app),
    ("genealogy", genealogy.app),
    ("notifications", notifications.app),
    ("containment", notifications.containment_app),
    ("agreements", agreements.app),
    ("keys", keys.app),
    ("webhooks", webhooks.app),
    ("profiles", profiles.app),
    ("agent", agent.app),
)
for _name, _group in COMMAND_GROUPS:
    app.add_typer(_group, name=_name)
# Single commands at the top level: `supplier-sdk verify PROOF.json`, `supplier-sdk trace LOT...`.
app.command("verify")(attest.verify_command)
app.command("trace")(genealogy.trace_command)
app.command("standing")(standing.standing_command)


@app.callback()
def choose_profile(profile: profiles.ProfileOption = None) -> None:
    """Qualink supplier SDK: compute quality KPIs from your own data; raw data never leaves this machine."""
    profiles.select_profile(profile)


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``supplier-sdk`` (the console script); usage errors become one ``error:`` line and exit status 2.

    Args:
        argv: the arguments after the program name; ``None`` reads ``sys.argv``.

    Example:
        ``supplier-sdk kpi mtbf --hours 10000 --failures 2 --json`` is ``main(["kpi", "mtbf", "--hours",
        "10000", "--failures", "2", "--json"])``; it prints the JSON result and exits with status 0.
    """
    try:
        status = app(
            args=None if argv is None else list(argv), prog_name="supplier-sdk", standalone_mode=False
        )
    except (typer.TyperException, click.ClickException) as exc:
        # Typer ≥ 0.24 raises its own vendored click exceptions, older Typer raises click's: both have
        # exit_code and format_message. "No arguments" is reported as an error whose message is the help text.
        if type(exc).__name__ == "NoArgsIsHelpError":
            typer.echo(exc.format_message(), err=True)
        else:
            typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    sys.exit(status if isinstance(status, int) else 0)


__all__ = ["COMMAND_GROUPS", "app", "main"]
