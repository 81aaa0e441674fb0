"""`hub demo` reaches the demo through the ``qualink.hub_commands`` entry point: the hub never imports it."""

from __future__ import annotations

from importlib.metadata import entry_points

import typer
from typer.testing import CliRunner

from hub.cli import COMMANDS_GROUP, add_installed_commands, app


def test_the_installed_distribution_offers_hub_demo() -> None:
    offered = {entry.name: entry.value for entry in entry_points(group=COMMANDS_GROUP)}

    assert offered.get("demo") == "qualink_demo.cli:demo"


def test_hub_demo_is_a_command_of_the_hub_cli() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])

    assert result.exit_code == 0, result.output
    assert "--keep-running" in result.output
    assert "drive it over HTTP" in result.output


def test_a_command_the_hub_has_stays_the_hubs_and_none_is_added_twice() -> None:
    other = typer.Typer()

    @other.command("demo")
    def own() -> None:
        """the hub's own"""

    add_installed_commands(other)
    add_installed_commands(other)

    assert [command.callback for command in other.registered_commands] == [own]
