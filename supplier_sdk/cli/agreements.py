"""``supplier-sdk agreements``: the supply agreements your organization is party to, and your answer to one.

    agreements list [--status proposed|active|declined|terminated]
    agreements show AGREEMENT
    agreements accept AGREEMENT [--reason TEXT]
    agreements decline AGREEMENT --reason TEXT

Every command takes ``--hub``, ``--client-id``, ``--key-file`` (or ``QUALINK_*``, or a profile) and ``--json``.
Exit status: 0 done; 2 bad input or a hub refusal, an agreement that is not yours reads
``error: agreement … not found …``; 1 the hub could not be reached.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["agreements", "show", "nope", "--hub", "http://127.0.0.1:9"])
    >>> result.exit_code, result.stderr
    (2, "error: AGREEMENT must be an id (a UUID), not 'nope'\\n")
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

import typer

from protocol.models.agreements import Agreement
from protocol.models.common import AgreementStatus
from supplier_sdk.cli.connection import HubConnection, parse_id, with_hub_connection
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import JsonOption
from supplier_sdk.cli.output import emit
from supplier_sdk.client import Client
from supplier_sdk.errors import NotFound

app = typer.Typer(
    help="Supply agreements: list, show, accept or decline a proposed one.", no_args_is_help=True
)

AgreementArgument = Annotated[str, typer.Argument(metavar="AGREEMENT", help="The agreement's id.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why; the OEM sees it.")]


def _one(
    connection: HubConnection, agreement: str, act: Callable[[Client, uuid.UUID], Agreement]
) -> Agreement:
    agreement_id = parse_id(agreement, "AGREEMENT")
    with connection.client() as client:
        try:
            return act(client, agreement_id)
        except NotFound:
            fail(f"agreement {agreement_id} not found (it does not exist or is not your organization's)")


def _line(agreement: Agreement) -> str:
    return f"{agreement.id}  {agreement.status.value:10}  {agreement.period.value:7}  {agreement.title}"


def _details(agreement: Agreement) -> list[str]:
    lines = [
        f"agreement {agreement.id}: {agreement.title}",
        f"status:   {agreement.status.value}",
        f"oem:      {agreement.oem_id}",
        f"supplier: {agreement.supplier_id}",
        f"valid:    {agreement.valid_from} to {agreement.valid_until or 'open end'}",
        f"reports:  every {agreement.period.value}, due {agreement.report_due_days} days after it ends",
        "parts:    " + ", ".join(part.part_number for part in agreement.parts),
    ]
    for term in agreement.kpis:
        lines.append(f"kpi:      {term.kpi} threshold {term.threshold} ({term.disclosure.value})")
    for feature in agreement.characteristics:
        lines.append(
            f"characteristic: {feature.code} on {feature.part_number} [{feature.lsl}, {feature.usl}] {feature.unit}"
        )
    return lines


@app.command("list")
@with_hub_connection()
def list_command(
    status: Annotated[AgreementStatus | None, typer.Option("--status", help="Only this status.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """The agreements your organization is party to, oldest first.

    Example: ``supplier-sdk agreements list --status proposed``
    """
    with connection.client() as client:
        found = client.agreements.list(status=status)
    emit(found, as_json=as_json, lines=[_line(a) for a in found] or ["no agreements"])


@app.command("show")
@with_hub_connection()
def show_command(
    agreement: AgreementArgument, as_json: JsonOption = False, *, connection: HubConnection
) -> None:
    """One agreement with its parts, KPI terms and characteristics.

    Example: ``supplier-sdk agreements show 01937c5e-…``
    """
    found = _one(connection, agreement, lambda client, agreement_id: client.agreements.get(agreement_id))
    emit(found, as_json=as_json, lines=_details(found))


@app.command("accept")
@with_hub_connection()
def accept_command(
    agreement: AgreementArgument,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Accept a proposed agreement named to your organization: it becomes active.

    Example: ``supplier-sdk agreements accept 01937c5e-… --reason "terms agreed in the Q4 review"``
    """
    done = _one(
        connection,
        agreement,
        lambda client, agreement_id: client.agreements.accept(agreement_id, reason=reason),
    )
    emit(done, as_json=as_json, lines=[f"{done.id} {done.status.value}"])


@app.command("decline")
@with_hub_connection()
def decline_command(
    agreement: AgreementArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why you decline; the OEM sees it.")],
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Decline a proposed agreement named to your organization, saying why.

    Example: ``supplier-sdk agreements decline 01937c5e-… --reason "capacity booked until Q3"``
    """
    if not reason.strip():
        fail("--reason must say why the agreement is declined")
    done = _one(
        connection,
        agreement,
        lambda client, agreement_id: client.agreements.decline(agreement_id, reason=reason),
    )
    emit(done, as_json=as_json, lines=[f"{done.id} {done.status.value}"])


__all__ = ["accept_command", "app", "decline_command", "list_command", "show_command"]
