"""How the newer ``supplier-sdk`` groups print: one JSON document with ``--json``, else plain lines.

Example:
    >>> emit({"answer": "yes"}, as_json=True, lines=["answer: yes"])
    {"answer": "yes"}
    >>> emit({"answer": "yes"}, as_json=False, lines=["answer: yes"])
    answer: yes
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import typer
from pydantic import BaseModel


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


__all__ = ["as_data", "emit"]
