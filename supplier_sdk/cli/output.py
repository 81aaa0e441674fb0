"""How the newer ``supplier-sdk`` groups print: one JSON document with ``--json``, else plain lines.

Example:
    >>> emit({"answer": "yes"}, as_json=True, lines=["answer: yes"])
    {"answer": "yes"}
    >>> emit({"answer": "yes"}, as_json=False, lines=["answer: yes"])
    answer: yes
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


def as_data(value: Any) -> Any:
    """``value`` as JSON-ready data: models dumped in JSON mode, lists and dicts item by item.

    Example:
        >>> as_data([{"a": 1}])
        [{'a': 1}]
    """
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [as_data(item) for item in value]
    if isinstance(value, dict):
        return {key: as_data(item) for key, item in value.items()}
    return value


def emit(value: Any, *, as_json: bool, lines: Iterable[str]) -> None:
    """Print ``value`` as one JSON document (``as_json``), or ``lines`` one per line.

    Example: ``emit(agreement, as_json=as_json, lines=[f"{agreement.id} accepted"])``
    """
    if as_json:
        typer.echo(json.dumps(as_data(value)))
        return
    for line in lines:
        typer.echo(line)


@contextmanager
def transfer_progress(
    description: str, *, as_json: bool, console: Console | None = None
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for a room transfer, as a ``(done, total)`` callback; ``None`` (no bar) with
    ``--json`` or when stderr is not a terminal, so scripts and logs get no control characters.

    Example::

        with transfer_progress("uploading log.csv", as_json=False) as progress:
            rooms.upload(room_id, "log.csv", progress=progress)
    """
    out = console or Console(stderr=True)
    if as_json or not out.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


__all__ = ["as_data", "emit", "transfer_progress"]
