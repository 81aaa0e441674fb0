"""``supplier-sdk webhooks``: your organization's webhook subscriptions and their deliveries.

    webhooks list                              webhooks show WEBHOOK
    webhooks create URL [--event TYPE]...      the signing secret is printed this once: store it
    webhooks delete WEBHOOK                    disable it: nothing more is sent there
    webhooks rotate-secret WEBHOOK [--overlap-seconds N]   a new secret, printed once
    webhooks deliveries WEBHOOK [--status pending|delivered|dead]
    webhooks replay WEBHOOK DELIVERY           send a delivery again

The hub has no endpoint that sends a test event; ``replay`` sends a real delivery again. Every command takes
``--hub``, ``--client-id``, ``--key-file`` (or ``QUALINK_*``, or a profile) and ``--json``; needs
``webhooks:admin``. Exit status: 0 done; 2 bad input or a hub refusal; 1 the hub could not be reached.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["webhooks", "delete", "nope", "--hub", "http://127.0.0.1:9"])
    >>> result.exit_code, result.stderr
    (2, "error: WEBHOOK must be an id (a UUID), not 'nope'\\n")
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from protocol.models import webhooks as wire
from supplier_sdk.cli.connection import HubConnection, parse_id, with_hub_connection
from supplier_sdk.cli.options import JsonOption
from supplier_sdk.cli.output import emit

app = typer.Typer(
    help="Webhook subscriptions: create, list, delete, rotate the secret, deliveries.", no_args_is_help=True
)


class DeliveryState(StrEnum):
    """The delivery states ``--status`` filters by.

    Example:
        >>> [state.value for state in DeliveryState]
        ['pending', 'delivered', 'dead']
    """

    pending = "pending"
    delivered = "delivered"
    dead = "dead"


WebhookArgument = Annotated[str, typer.Argument(metavar="WEBHOOK", help="The webhook's id.")]


def _line(webhook: wire.Webhook) -> str:
    state = "disabled" if webhook.disabled_at else "active"
    events = ",".join(webhook.event_types) or "*"
    return f"{webhook.id}  {state:8}  {webhook.url}  {events}"


def _secret_lines(made: wire.WebhookWithSecret) -> list[str]:
    return [_line(made.webhook), f"secret: {made.secret}", "store the secret now: it is not shown again"]


@app.command("list")
@with_hub_connection()
def list_command(as_json: JsonOption = False, *, connection: HubConnection) -> None:
    """Every subscription of your organization, disabled ones included.

    Example: ``supplier-sdk webhooks list``
    """
    with connection.client() as client:
        found = client.webhooks.list()
    emit(found, as_json=as_json, lines=[_line(w) for w in found] or ["no webhooks"])


@app.command("show")
@with_hub_connection()
def show_command(webhook: WebhookArgument, as_json: JsonOption = False, *, connection: HubConnection) -> None:
    """One subscription.

    Example: ``supplier-sdk webhooks show WEBHOOK --json``
    """
    webhook_id = parse_id(webhook, "WEBHOOK")
    with connection.client() as client:
        found = client.webhooks.get(webhook_id)
    emit(found, as_json=as_json, lines=[_line(found)])


@app.command("create")
@with_hub_connection()
def create_command(
    url: Annotated[str, typer.Argument(help="The https URL that receives the POSTs.")],
    event: Annotated[
        list[str] | None, typer.Option("--event", help="An event type to send (repeat; default all).")
    ] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Subscribe URL to your organization's events; the signing secret is printed this once.

    Example: ``supplier-sdk webhooks create https://mes.example/qualink --event standing.changed``
    """
    with connection.client() as client:
        made = client.webhooks.create(url=url, event_types=event or [])
    emit(made, as_json=as_json, lines=_secret_lines(made))


@app.command("delete")
@with_hub_connection()
def delete_command(
    webhook: WebhookArgument, as_json: JsonOption = False, *, connection: HubConnection
) -> None:
    """Disable a subscription: nothing more is sent to it (its deliveries stay listed).

    Example: ``supplier-sdk webhooks delete WEBHOOK``
    """
    webhook_id = parse_id(webhook, "WEBHOOK")
    with connection.client() as client:
        client.webhooks.delete(webhook_id)
        found = client.webhooks.get(webhook_id)
    emit(found, as_json=as_json, lines=[f"{found.id} disabled"])


@app.command("rotate-secret")
@with_hub_connection()
def rotate_secret_command(
    webhook: WebhookArgument,
    overlap_seconds: Annotated[
        int, typer.Option("--overlap-seconds", help="How long the old secret keeps signing too.", min=0)
    ] = 86400,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """A new signing secret, printed this once; the previous one signs too for --overlap-seconds.

    Example: ``supplier-sdk webhooks rotate-secret WEBHOOK --overlap-seconds 3600``
    """
    webhook_id = parse_id(webhook, "WEBHOOK")
    with connection.client() as client:
        made = client.webhooks.rotate_secret(webhook_id, overlap_seconds=overlap_seconds)
    emit(made, as_json=as_json, lines=_secret_lines(made))


def _delivery_line(delivery: wire.WebhookDelivery) -> str:
    answer = delivery.last_status_code or delivery.last_error or "-"
    return (
        f"{delivery.id}  {delivery.status:9}  {delivery.event_type:28}  attempts {delivery.attempts}  "
        f"last {answer}  {delivery.created_at.isoformat()}"
    )


@app.command("deliveries")
@with_hub_connection()
def deliveries_command(
    webhook: WebhookArgument,
    status: Annotated[DeliveryState | None, typer.Option("--status", help="Only this status.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """A subscription's deliveries, newest first, with attempts and the last answer.

    Example: ``supplier-sdk webhooks deliveries WEBHOOK --status dead``
    """
    webhook_id = parse_id(webhook, "WEBHOOK")
    with connection.client() as client:
        found = client.webhooks.deliveries(webhook_id, status=None if status is None else status.value)
    emit(found, as_json=as_json, lines=[_delivery_line(d) for d in found] or ["no deliveries"])


@app.command("replay")
@with_hub_connection()
def replay_command(
    webhook: WebhookArgument,
    delivery: Annotated[str, typer.Argument(metavar="DELIVERY", help="The delivery's id.")],
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Send a dead or delivered delivery again, from a fresh retry schedule.

    Example: ``supplier-sdk webhooks replay WEBHOOK DELIVERY``
    """
    webhook_id, delivery_id = parse_id(webhook, "WEBHOOK"), parse_id(delivery, "DELIVERY")
    with connection.client() as client:
        done = client.webhooks.replay(webhook_id, delivery_id)
    emit(done, as_json=as_json, lines=[_delivery_line(done)])


__all__ = [
    "DeliveryState",
    "app",
    "create_command",
    "delete_command",
    "deliveries_command",
    "list_command",
    "replay_command",
    "rotate_secret_command",
    "show_command",
]
