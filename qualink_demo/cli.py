"""`hub demo`, offered to the hub's command line through the ``qualink.hub_commands`` entry point.

Importing this module is cheap (typer and rich only): the hub's CLI loads it on every start to list the command,
and the demo itself (hub, SDK, uvicorn) is imported only when the command runs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console


def demo(
    keep_running: Annotated[
        bool, typer.Option(help="Leave the hub running afterwards to explore /docs")
    ] = False,
) -> None:
    """Start a real hub on a temporary SQLite file and drive it over HTTP the way its users would."""
    from qualink_demo import run_demo

    raise typer.Exit(run_demo(Console(), keep_running=keep_running))
