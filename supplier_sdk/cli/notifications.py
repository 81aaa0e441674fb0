"""``supplier-sdk notifications`` and ``supplier-sdk containment``: answer investigations, raise alerts, contain.

Commands::

    notifications list [--type INVESTIGATION|ALERT] [--status S] [--role sender|receiver]
    notifications show ID
    notifications create --type T --title T --asset ASSET_ID... [--severity S] [--description D]
                         [--target-date ISO] [--receiver ORG_ID]... [--containment hold|sort|...] [--due-date ISO]
                         [--send]
    notifications send|receive|acknowledge|cancel ID [--reason R]
    notifications accept|decline|close ID --reason R
    notifications forward ID --asset ASSET_ID... [--receiver ORG_ID]... [--reason R]
    containment list [--status open|acknowledged|closed] [--notification ID]
    containment show ID            containment acknowledge ID --owner NAME        containment close ID --result R

Every command takes ``--hub``, ``--client-id``, ``--key-file`` (or ``QUALINK_*``) and ``--json``. Exit status: 0
done; 2 bad input or a hub refusal (one ``error:`` line: another organization's notification or action is
``NotFound``, the other party's transition ``InsufficientScope``/``Forbidden``, a state that does not allow it
``Conflict``); 1 the hub could not be reached.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["containment", "show", "nope", "--hub", "http://127.0.0.1:9"])
    >>> result.exit_code, result.stderr
    (2, "error: ACTION must be an id (a UUID), not 'nope'\\n")
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

import typer

from protocol.models import containment as cwire
from protocol.models import notifications as wire
from supplier_sdk.cli.connection import HubConnection, amount, echo_json, parse_id, with_hub_connection
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import JsonOption

app = typer.Typer(
    name="notifications",
    help="Quality notifications: answer investigations, raise and follow alerts.",
    no_args_is_help=True,
)
containment_app = typer.Typer(
    name="containment",
    help="Containment actions at your plants: acknowledge and close them.",
    no_args_is_help=True,
)

Shown = TypeVar("Shown", wire.QualityNotification, cwire.ContainmentAction)

IdArgument = Annotated[str, typer.Argument(help="The notification's id.", show_default=False)]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why (kept in the notification's history).")
]
NeededReason = Annotated[str, typer.Option("--reason", help="Why (required).", show_default=False)]
AssetOption = Annotated[
    list[str], typer.Option("--asset", help="Affected asset id (repeat).", show_default=False)
]
ReceiverOption = Annotated[
    list[str] | None, typer.Option("--receiver", help="Receiving organization id (repeat).")
]


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else (moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def notification_line(item: wire.QualityNotification) -> str:
    """One line per notification: id, type, status, severity, your role, title.

    Example::

        for item in hub.notifications.list():
            print(notification_line(item))
    """
    return f"{item.id}  {item.type.value:13}  {item.status.value:12}  {item.severity.value:16}  {item.role:8}  {item.title}"


def notification_text(item: wire.QualityNotification) -> str:
    """A notification in full: its line, affected assets, case children, containment progress and messages.

    Example::

        print(notification_text(hub.notifications.get(notification_id)))
    """
    lines = [notification_line(item)]
    if item.description:
        lines.append(f"  {item.description}")
    lines.append(
        f"  sender {item.sender_id}" + (f", receiver {item.receiver_id}" if item.receiver_id else "")
    )
    if item.target_date:
        lines.append(f"  target date {item.target_date.isoformat()}")
    lines.append(f"  affected assets: {', '.join(str(asset) for asset in item.affected_asset_ids)}")
    for child in item.children or []:
        lines.append(f"  child {child.id} → {child.receiver_id}: {child.status.value}")
    if item.containment is not None:
        c = item.containment
        held = ", ".join(amount(q.quantity, q.unit) for q in c.held) or "nothing"
        lines.append(
            f"  containment ({c.kind.value}): {c.plants} plants, actions {c.actions_open} open / "
            f"{c.actions_acknowledged} acknowledged / {c.actions_closed} closed; {c.holds_active} holds, {held} held"
        )
    for message in item.messages:
        reason = f": {message.reason}" if message.reason else ""
        lines.append(
            f"  {message.created_at.isoformat()}  {message.status.value:12}  {message.event}{reason}"
        )
    return "\n".join(lines)


def _show(item: Shown, as_json: bool, text: Callable[[Shown], str]) -> None:
    if as_json:
        echo_json(item.model_dump_json())
    else:
        typer.echo(text(item))


def _show_all(items: Iterable[Shown], as_json: bool, line: Callable[[Shown], str]) -> None:
    if as_json:
        echo_json(json.dumps([item.model_dump(mode="json") for item in items]))
    else:
        for item in items:  # printed page by page as they arrive
            typer.echo(line(item))


def _ids(values: Iterable[str] | None, what: str) -> list[str]:
    return [str(parse_id(value, what)) for value in values or []]


@app.command("list")
@with_hub_connection()
def list_command(
    type: Annotated[wire.NotificationType | None, typer.Option("--type")] = None,
    status: Annotated[wire.NotificationStatus | None, typer.Option("--status")] = None,
    role: Annotated[str | None, typer.Option("--role", help="sender or receiver.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """The notifications your organization sent or received.

    Example: ``supplier-sdk notifications list --role receiver --status SENT``
    """
    if role not in (None, "sender", "receiver"):
        fail(f"--role must be sender or receiver, not {role!r}")
    side: Literal["sender", "receiver"] | None = role  # type: ignore[assignment]
    with connection.client() as client:
        _show_all(client.notifications.list(type=type, status=status, role=side), as_json, notification_line)


@app.command("show")
@with_hub_connection()
def show_command(
    notification: IdArgument,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """One notification with its messages.

    Example: ``supplier-sdk notifications show 0193…``
    """
    nid = parse_id(notification, "NOTIFICATION")
    with connection.client() as client:
        item = client.notifications.get(nid)
    _show(item, as_json, notification_text)


@app.command("create")
@with_hub_connection()
def create_command(
    type: Annotated[wire.NotificationType, typer.Option("--type", help="INVESTIGATION or ALERT.")],
    title: Annotated[str, typer.Option("--title")],
    asset: AssetOption,
    severity: Annotated[wire.Severity, typer.Option("--severity")] = wire.Severity.MINOR,
    description: Annotated[str, typer.Option("--description")] = "",
    target_date: Annotated[datetime | None, typer.Option("--target-date", help="ISO time (UTC).")] = None,
    receiver: ReceiverOption = None,
    containment: Annotated[
        cwire.ContainmentKind | None, typer.Option("--containment", help="Alert: the action plants get.")
    ] = None,
    due_date: Annotated[
        datetime | None, typer.Option("--due-date", help="Containment due date (UTC).")
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="Send it at once.")] = False,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Create an investigation (to your suppliers) or an alert (to your customers).

    Example: ``supplier-sdk notifications create --type ALERT --title "38 V" --asset 0193… --containment sort --send``
    """
    assets = _ids(asset, "--asset")
    receivers = _ids(receiver, "--receiver") if receiver else None
    if due_date is not None and containment is None:
        fail("--due-date goes with --containment")
    request = None if containment is None else {"kind": containment.value, "due_date": _aware(due_date)}
    with connection.client() as client:
        item = client.notifications.create(
            type=type,
            title=title,
            affected_asset_ids=assets,
            description=description,
            severity=severity,
            target_date=_aware(target_date),
            receiver_ids=receivers,
            containment=request,
        )
        if send:
            item = client.notifications.send(item.id)
    _show(item, as_json, notification_text)


def _move(
    name: str,
    notification: str,
    reason: str | None,
    *,
    required: bool,
    as_json: bool,
    connection: HubConnection,
) -> None:
    nid = parse_id(notification, "NOTIFICATION")
    if required and not (reason or "").strip():
        fail("--reason must not be empty")
    with connection.client() as client:
        item = getattr(client.notifications, name)(nid, reason=reason)
    _show(item, as_json, notification_text)


def _with_optional_reason(name: str) -> Callable[..., None]:
    def command(
        notification: IdArgument,
        reason: ReasonOption = None,
        as_json: JsonOption = False,
        *,
        connection: HubConnection,
    ) -> None:
        _move(name, notification, reason, required=False, as_json=as_json, connection=connection)

    return command


def _with_reason(name: str) -> Callable[..., None]:
    def command(
        notification: IdArgument,
        reason: NeededReason,
        as_json: JsonOption = False,
        *,
        connection: HubConnection,
    ) -> None:
        _move(name, notification, reason, required=True, as_json=as_json, connection=connection)

    return command


# The notification's state transitions that take only its id and a reason: (command and Notifications method,
# help summary, the factory whose --reason is optional or required). Accepting, declining and closing must say why.
_TRANSITIONS: tuple[tuple[str, str, Callable[[str], Callable[..., None]]], ...] = (
    (
        "send",
        "Send (sender): CREATED → SENT; an alert places holds and opens containment actions.",
        _with_optional_reason,
    ),
    ("receive", "Confirm receipt (receiver): SENT → RECEIVED.", _with_optional_reason),
    ("acknowledge", "Acknowledge (receiver): → ACKNOWLEDGED.", _with_optional_reason),
    ("cancel", "Withdraw (sender) before the receiver acknowledges.", _with_optional_reason),
    ("accept", "Accept, issue confirmed (receiver): ACKNOWLEDGED → ACCEPTED.", _with_reason),
    ("decline", "Decline, no issue found (receiver): ACKNOWLEDGED → DECLINED.", _with_reason),
    ("close", "Close (sender only); an alert's holds are released.", _with_reason),
)
for _name, _summary, _factory in _TRANSITIONS:
    _command = _factory(_name)
    _command.__doc__ = f"{_summary}\n\nExample: ``supplier-sdk notifications {_name} ID --reason '…'``"
    app.command(_name)(with_hub_connection()(_command))


@app.command("forward")
@with_hub_connection()
def forward_command(
    notification: IdArgument,
    asset: AssetOption,
    receiver: ReceiverOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Forward a received investigation to your own supplier(s), naming their lots.

    Example: ``supplier-sdk notifications forward 0193… --asset 0194… --reason "capacitor lot suspected"``
    """
    nid = parse_id(notification, "NOTIFICATION")
    assets = _ids(asset, "--asset")
    receivers = _ids(receiver, "--receiver") if receiver else None
    with connection.client() as client:
        item = client.notifications.forward(
            nid, affected_asset_ids=assets, receiver_ids=receivers, reason=reason
        )
    _show(item, as_json, notification_text)


# -- containment ---------------------------------------------------------------------------------------------------


def action_line(action: cwire.ContainmentAction) -> str:
    """One line per containment action: id, plant, kind, status, quantity held, alert.

    Example::

        for action in hub.containment.list():
            print(action_line(action))
    """
    return (
        f"{action.id}  {action.plant_code:10}  {action.kind.value:13}  {action.status.value:12}  "
        f"{amount(action.quantity, action.unit)}  {action.alert_title}"
    )


def action_text(action: cwire.ContainmentAction) -> str:
    """An action in full: its line, owner, result, due date and held bins.

    Example::

        print(action_text(hub.containment.get(action_id)))
    """
    lines = [action_line(action), f"  alert {action.notification_id} ({action.severity})"]
    if action.due_date:
        lines.append(f"  due {action.due_date.isoformat()}")
    if action.owner:
        lines.append(f"  owner {action.owner}")
    if action.result:
        lines.append(f"  result {action.result}")
    for hold in action.holds or []:
        released = f" (released {hold.released_at.isoformat()})" if hold.released_at else ""
        lines.append(
            f"  hold {hold.local_id} bin {hold.location}: {amount(hold.quantity, hold.unit)}{released}"
        )
    return "\n".join(lines)


ActionArgument = Annotated[str, typer.Argument(help="The containment action's id.", show_default=False)]


@containment_app.command("list")
@with_hub_connection()
def containment_list_command(
    status: Annotated[cwire.ContainmentStatus | None, typer.Option("--status")] = None,
    notification: Annotated[str | None, typer.Option("--notification", help="Only this alert's.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """The containment actions at your organization's plants.

    Example: ``supplier-sdk containment list --status open``
    """
    alert = None if notification is None else parse_id(notification, "--notification")
    with connection.client() as client:
        _show_all(client.containment.list(status=status, notification_id=alert), as_json, action_line)


@containment_app.command("show")
@with_hub_connection()
def containment_show_command(
    action: ActionArgument,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """One action with the bins it holds.

    Example: ``supplier-sdk containment show 0193…``
    """
    aid = parse_id(action, "ACTION")
    with connection.client() as client:
        item = client.containment.get(aid)
    _show(item, as_json, action_text)


@containment_app.command("acknowledge")
@with_hub_connection()
def containment_acknowledge_command(
    action: ActionArgument,
    owner: Annotated[
        str, typer.Option("--owner", help="Who owns the action at the plant.", show_default=False)
    ],
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Acknowledge an action, naming its owner.

    Example: ``supplier-sdk containment acknowledge 0193… --owner "Jana Novak"``
    """
    aid = parse_id(action, "ACTION")
    with connection.client() as client:
        item = client.containment.acknowledge(aid, owner=owner)
    _show(item, as_json, action_text)


@containment_app.command("close")
@with_hub_connection()
def containment_close_command(
    action: ActionArgument,
    result: Annotated[str, typer.Option("--result", help="What was done.", show_default=False)],
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Close an acknowledged action with its result.

    Example: ``supplier-sdk containment close 0193… --result "350 pcs sorted, 12 scrapped"``
    """
    aid = parse_id(action, "ACTION")
    with connection.client() as client:
        item = client.containment.close(aid, result=result)
    _show(item, as_json, action_text)


__all__ = [
    "action_line",
    "action_text",
    "app",
    "containment_app",
    "notification_line",
    "notification_text",
]
