"""``supplier-sdk outbox``: see and send the KPI reports queued while the hub was unreachable.

Commands::

    outbox list  [--json] [--outbox FILE]
    outbox flush [--json] [--outbox FILE] [--hub URL] [--client-id ID] [--key-file FILE]
    outbox retry ID [--outbox FILE]     queue a refused report again (after fixing what it was refused for)
    outbox drop ID [--outbox FILE]      remove a refused report for good

``list`` shows the queued reports and those the hub refused for good (with its reason). ``flush`` sends the
queue, each report re-signed now under its original Idempotency-Key (see :mod:`supplier_sdk.outbox`).

``retry`` and ``drop`` take the number ``list`` shows for a refused report; an unknown one exits with 2.

Exit status of ``flush``: **0** when every queued report was sent (or the outbox was empty); **2** when the
hub refused at least one (they are listed, and kept under "rejected" in ``outbox list``); **1** when the flush
stopped early (hub unreachable, credentials refused) and reports remain queued. Configuration problems exit
with 2 and one ``error:`` line.

Example:
    >>> import tempfile
    >>> from typer.testing import CliRunner
    >>> box = f"{tempfile.mkdtemp()}/outbox.db"
    >>> from supplier_sdk.cli import app as cli
    >>> CliRunner().invoke(cli, ["outbox", "list", "--json", "--outbox", box]).stdout
    '{"pending": [], "rejected": []}\\n'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from supplier_sdk.cli.kpi import EXIT_INPUT_ERROR
from supplier_sdk.cli.options import ClientIdOption, HubOption, JsonOption, KeyFileOption, OutboxOption
from supplier_sdk.cli.report import EXIT_NOT_SENT, open_client, open_outbox, resolve_config
from supplier_sdk.outbox import FlushResult, OutboxEntry, RejectedEntry

app = typer.Typer(
    name="outbox",
    help="List and send the KPI reports queued while the hub was unreachable.",
    no_args_is_help=True,
)


def _what(entry: OutboxEntry | RejectedEntry) -> str:
    payload = entry.payload
    if payload is None:
        return "(unreadable)"
    return f"{payload.kpi.value} {payload.characteristic or payload.part_number} {payload.period}"


def _table(title: str, headings: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> Table:
    table = Table(title=title, title_justify="left")
    for heading in headings:
        table.add_column(heading)
    for row in rows:
        table.add_row(*row)
    return table


def _pending_table(entries: list[OutboxEntry]) -> Table:
    rows = (
        (
            str(entry.id),
            _what(entry),
            str(entry.payload.agreement_id),
            f"{entry.queued_at:%Y-%m-%d %H:%M:%S}",
            str(entry.attempts),
            entry.last_error or "",
        )
        for entry in entries
    )
    headings = ("#", "report", "agreement", "queued at", "attempts", "last error")
    return _table(f"Queued reports ({len(entries)})", headings, rows)


def _rejected_table(entries: list[RejectedEntry]) -> Table:
    rows = (
        (
            str(entry.id),
            _what(entry),
            f"{entry.rejected_at:%Y-%m-%d %H:%M:%S}",
            entry.error,
            entry.detail,
            entry.request_id or "",
        )
        for entry in entries
    )
    headings = ("#", "report", "refused at", "error", "detail", "request")
    return _table(f"Refused by the hub ({len(entries)})", headings, rows)


@app.command("list")
def list_command(as_json: JsonOption = False, outbox: OutboxOption = None) -> None:
    """Show the queued reports and those the hub refused for good.

    Example: supplier-sdk outbox list --json
    """
    box = open_outbox(resolve_config(hub=None, client_id=None, key_file=None, outbox=outbox))
    pending, rejected = box.pending(), box.rejected()
    if as_json:
        body = {"pending": [e.summary() for e in pending], "rejected": [e.summary() for e in rejected]}
        typer.echo(json.dumps(body))
        return
    if not pending and not rejected:
        typer.echo(f"the outbox {box.path} is empty")
        return
    console = Console()
    console.print(_pending_table(pending))
    if rejected:
        console.print(_rejected_table(rejected))


def _flush_json(result: FlushResult) -> dict[str, Any]:
    return {
        "sent": result.sent,
        "replayed": result.replayed,
        "failed": result.failed,
        "remaining": result.remaining,
        "stopped": result.stopped,
        "reports": [report.model_dump(mode="json") for report in result.reports],
        "rejected": [entry.summary() for entry in result.rejections],
    }


@app.command("flush")
def flush_command(
    as_json: JsonOption = False,
    outbox: OutboxOption = None,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Send the queued reports, each re-signed now under its original idempotency key.

    Example: supplier-sdk outbox flush
    """
    config = resolve_config(hub=hub, client_id=client_id, key_file=key_file, outbox=outbox)
    box = open_outbox(config)
    if not box.pending():
        result = FlushResult(sent=0, failed=0, remaining=0)
    else:
        with open_client(config) as client:
            result = box.flush(client.kpi_reports)
    if as_json:
        typer.echo(json.dumps(_flush_json(result)))
    else:
        replayed = f" ({result.replayed} the hub already had)" if result.replayed else ""
        typer.echo(f"sent {result.sent}{replayed}, refused {result.failed}, still queued {result.remaining}")
        for entry in result.rejections:
            request = f", request {entry.request_id}" if entry.request_id else ""
            typer.echo(f"refused: {_what(entry)}: {entry.error}: {entry.detail} (entry {entry.id}{request})")
        if result.stopped:
            typer.echo(f"stopped: {result.stopped}")
    if result.failed:
        raise typer.Exit(code=EXIT_INPUT_ERROR)
    if result.stopped:
        raise typer.Exit(code=EXIT_NOT_SENT)


def _refused_entry_or_exit(action: Callable[[int], object], entry_id: int) -> object:
    try:
        return action(entry_id)
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(code=EXIT_INPUT_ERROR) from None
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=EXIT_INPUT_ERROR) from None


@app.command("retry")
def retry_command(
    entry_id: Annotated[
        int, typer.Argument(metavar="ID", help="The refused report's number in `outbox list`")
    ],
    outbox: OutboxOption = None,
) -> None:
    """Queue a refused report again, under its Idempotency-Key, for the next flush.

    Example: supplier-sdk outbox retry 3 && supplier-sdk outbox flush
    """
    box = open_outbox(resolve_config(hub=None, client_id=None, key_file=None, outbox=outbox))
    entry = _refused_entry_or_exit(box.retry, entry_id)
    assert isinstance(entry, OutboxEntry)
    typer.echo(f"queued again: {_what(entry)} (entry {entry.id}); send it with `supplier-sdk outbox flush`")


@app.command("drop")
def drop_command(
    entry_id: Annotated[
        int, typer.Argument(metavar="ID", help="The refused report's number in `outbox list`")
    ],
    outbox: OutboxOption = None,
) -> None:
    """Remove a refused report from the outbox for good.

    Example: supplier-sdk outbox drop 3
    """
    box = open_outbox(resolve_config(hub=None, client_id=None, key_file=None, outbox=outbox))
    entry = _refused_entry_or_exit(box.drop, entry_id)
    assert isinstance(entry, RejectedEntry)
    typer.echo(f"dropped: {_what(entry)} (entry {entry.id}, refused as {entry.error})")


__all__ = ["app", "drop_command", "flush_command", "list_command", "retry_command"]
