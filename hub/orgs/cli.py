"""`hub org four-eyes --org NAME on|off`: whether an organization's rule changes wait for a second person."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.orgs import settings
from hub.people.cli import ACTOR, OrgOption, cli_session, console, fail, find_org


def four_eyes(
    org: OrgOption,
    state: Annotated[str, typer.Argument(help="on | off", metavar="on|off")],
) -> None:
    """Turn four-eyes on or off: with it on, activating or changing an active rule needs a second person."""
    if state not in ("on", "off"):
        raise fail(f"say on or off, not '{state}'")
    with cli_session() as session:
        found = find_org(session, org)
        settings.set_four_eyes(session, actor=ACTOR, actor_org_id=None, org_id=found.id, on=state == "on")
        name = found.name
    console.print(f"four-eyes {state} for {name}")
