"""``supplier-sdk standing [--oem ID]``: your standing at each OEM, with every change and every cause.

For each OEM: the tier (A best, D worst) and status (approved, probation, blocked), then each change, newest
first, with the rule and rule version that made it, its reason, and each cause as the hub gives it (the
period, the KPI report, the value or the missing period behind it). ``--json`` prints the hub's standings as
they are, history included. Needs ``standings:read``.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["standing", "--oem", "x", "--hub", "http://127.0.0.1:9"])
    >>> result.exit_code, result.stderr
    (2, "error: --oem must be an id (a UUID), not 'x'\\n")
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from protocol.models.rules import Standing, StandingChange
from supplier_sdk.cli.connection import HubConnection, parse_id, with_hub_connection
from supplier_sdk.cli.options import JsonOption
from supplier_sdk.cli.output import emit


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_value(item) for item in value)
    if isinstance(value, dict):
        return "{" + " ".join(f"{key}={_value(item)}" for key, item in value.items()) + "}"
    return str(value)


def cause_line(cause: dict[str, Any]) -> str:
    """One cause as ``key=value`` pairs, in the hub's order.

    Example:
        >>> cause_line({"period": "2026-W47", "kpi": "cpk", "value": "1.12", "meets": False})
        'period=2026-W47 kpi=cpk value=1.12 meets=False'
    """
    return " ".join(f"{key}={_value(value)}" for key, value in cause.items())


def _change_lines(change: StandingChange) -> list[str]:
    rule = "no rule" if change.rule_id is None else f"rule {change.rule_id} v{change.rule_version}"
    head = (
        f"  {change.at.isoformat()}  {change.from_tier.value}/{change.from_status.value} -> "
        f"{change.to_tier.value}/{change.to_status.value}  {rule}: {change.reason}"
    )
    return [head, *(f"      cause: {cause_line(cause)}" for cause in change.causes)]


def standing_lines(standing: Standing) -> list[str]:
    """A standing and its history as text lines.

    Example: ``print("\\n".join(standing_lines(hub.standings.at(oem_id))))``
    """
    lines = [
        f"at OEM {standing.oem_id}: tier {standing.tier.value}, {standing.status.value} "
        f"(since {standing.updated_at.isoformat()})"
    ]
    for change in standing.history:
        lines.extend(_change_lines(change))
    if not standing.history:
        lines.append("  no changes yet")
    return lines


@with_hub_connection()
def standing_command(
    oem: Annotated[str | None, typer.Option("--oem", help="Only your standing at this OEM.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Your standing at each OEM with every change's rule, version, reason and causes.

    Example: ``supplier-sdk standing --json``
    """
    oem_id = None if oem is None else parse_id(oem, "--oem")
    with connection.client() as client:
        found = client.standings.mine(oem_id=oem_id)
    lines = [line for standing in found for line in standing_lines(standing)]
    emit(found, as_json=as_json, lines=lines or ["no standings yet"])


__all__ = ["cause_line", "standing_command", "standing_lines"]
