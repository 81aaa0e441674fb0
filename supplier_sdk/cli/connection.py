"""The hub connection of ``supplier-sdk`` commands that talk to the hub (genealogy, trace, notifications,
containment): one configured :class:`~supplier_sdk.client.Client`, errors turned into exit statuses.

Exit status: 0 done; 2 bad input or a hub refusal (one ``error:`` line naming the hub's error and the invalid
fields); 1 the hub could not be reached.

Example::

    with connected(hub=None, client_id=None, key_file=None) as client:
        print(client.organization().name)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console

from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.report import not_sent
from supplier_sdk.client import Client
from supplier_sdk.config import load_config
from supplier_sdk.errors import ConfigError, HubError, HubUnreachable


def parse_id(value: str, what: str) -> uuid.UUID:
    """``value`` as a UUID, or exit 2 naming ``what``.

    Example:
        >>> parse_id("00000000-0000-0000-0000-00000000000f", "ACTION").int
        15
    """
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{what} must be an id (a UUID), not {value!r}")


def refusal(error: HubError) -> str:
    """One line for a hub refusal: its message and, for invalid input, the fields it names.

    Example:
        >>> from protocol.models.errors import FieldError
        >>> refusal(HubError(http_status=422, error="InvalidInput", detail="bad", fields=[FieldError(loc="body.title", msg="too long")]))
        'InvalidInput: bad (HTTP 422) [body.title: too long]'
    """
    fields = "; ".join(f"{field.loc}: {field.msg}" for field in error.fields)
    return f"{error} [{fields}]" if fields else str(error)


@contextmanager
def connected(*, hub: str | None, client_id: str | None, key_file: Path | None) -> Iterator[Client]:
    """The configured client; a configuration problem or hub refusal exits 2, an unreachable hub 1.

    Example::

        with connected(hub="https://hub.example", client_id="qlc_…", key_file=Path("org.pem")) as client:
            client.trace(["LOT-7"])
    """
    try:
        client = load_config(hub=hub, client_id=client_id, key_file=key_file).client()
    except ConfigError as exc:
        fail(str(exc))
    try:
        with client:
            yield client
    except ConfigError as exc:
        fail(str(exc))
    except HubError as exc:
        fail(refusal(exc))
    except HubUnreachable as exc:
        not_sent(str(exc))
    except ValueError as exc:  # local validation of what the command would send (pydantic)
        fail(invalid(exc))


def invalid(exc: ValueError) -> str:
    """One line for a local validation error: the first invalid field and why.

    Example:
        >>> from pydantic import ValidationError
        >>> from protocol.models.containment import ContainmentClose
        >>> try:
        ...     ContainmentClose(result="")
        ... except ValidationError as exc:
        ...     print(invalid(exc))
        result: String should have at least 1 character
    """
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    return " ".join(str(exc).split())


def console(*, stderr: bool = False) -> Console:
    """A rich console for tables: the terminal's width, or 160 columns when the output is not a terminal.

    Example:
        >>> console().width >= 80
        True
    """
    out = Console(stderr=stderr)
    if not out.is_terminal:
        out = Console(stderr=stderr, width=160, highlight=False)
    return out


def amount(quantity: Decimal, unit: str) -> str:
    """A quantity with its unit, without the trailing zeros of the hub's four decimal places.

    Example:
        >>> amount(Decimal("300.0000"), "pcs"), amount(Decimal("12.5000"), "kg"), amount(Decimal("1E+2"), "m")
        ('300 pcs', '12.5 kg', '100 m')
    """
    return f"{quantity.normalize():f} {unit}"


def echo_json(text: str) -> None:
    """Print one JSON document on stdout.

    Example:
        >>> echo_json('{"answer": "yes"}')
        {"answer": "yes"}
    """
    typer.echo(text)


__all__ = ["amount", "connected", "console", "echo_json", "invalid", "parse_id", "refusal"]
