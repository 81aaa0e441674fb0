"""``supplier-sdk --profile NAME …`` and ``supplier-sdk profiles list``: the named profiles of the config file.

``--profile`` goes before the command (``supplier-sdk --profile borealis agreements list``) and selects a
``[profiles.NAME]`` table of the config file (:mod:`supplier_sdk.profiles`); ``QUALINK_PROFILE`` does the same.
A name the file does not have ends any command with status 2 and the names it does have.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> env = {"QUALINK_CONFIG": "/nonexistent/config.toml"}
    >>> result = CliRunner().invoke(cli, ["profiles", "list", "--json"], env=env)
    >>> result.exit_code, result.stdout.strip()
    (0, '{"config_file": "/nonexistent/config.toml", "default_profile": null, "profiles": []}')
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Annotated

import typer

from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import JsonOption
from supplier_sdk.config import profile_book
from supplier_sdk.errors import ConfigError

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile", help="Named profile of the config file (env QUALINK_PROFILE).", show_default=False
    ),
]
"""``--profile NAME``: which profile of the config file to use.

Example: ``profile: ProfileOption = None``
"""

_selected: ContextVar[str | None] = ContextVar("supplier_sdk_profile", default=None)

app = typer.Typer(help="Named profiles of the config file (~/.qualink/config.toml or QUALINK_CONFIG).")


def select_profile(name: str | None) -> None:
    """Remember the ``--profile`` given before the command (``None``: none given) for this run.

    Example:
        >>> select_profile("aurora"); selected_profile()
        'aurora'
        >>> select_profile(None)
    """
    _selected.set(name.strip() if name and name.strip() else None)


def selected_profile() -> str | None:
    """The ``--profile`` of this run, or ``None`` (then ``QUALINK_PROFILE`` or the file's default counts).

    Example:
        >>> select_profile(None); selected_profile() is None
        True
    """
    return _selected.get()


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """The profiles of the config file, with the hub and client each selects (* marks the default).

    Example: ``supplier-sdk profiles list``
    """
    try:
        book = profile_book()
    except ConfigError as exc:
        fail(str(exc))
    if as_json:
        rows = [
            {
                "name": p.name,
                "hub_url": p.hub_url,
                "client_id": p.client_id,
                "key_file": None if p.key_file is None else str(p.key_file),
                "enc_key_file": None if p.enc_key_file is None else str(p.enc_key_file),
                "outbox": None if p.outbox is None else str(p.outbox),
            }
            for p in (book.profiles[name] for name in book.names())
        ]
        document = {"config_file": str(book.path), "default_profile": book.default, "profiles": rows}
        typer.echo(json.dumps(document))
        return
    if not book.profiles:
        typer.echo(f"no profiles ({book.path} has none)")
    for name in book.names():
        profile = book.profiles[name]
        mark = "*" if name == book.default else " "
        typer.echo(f"{mark} {name:16} {profile.hub_url or '-':40} {profile.client_id or '-'}")


__all__ = ["ProfileOption", "app", "list_command", "select_profile", "selected_profile"]
