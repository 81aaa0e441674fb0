"""The hub connection of every ``supplier-sdk`` command that talks to the hub (room, genealogy, trace,
notifications, containment): its options declared once, one configured :class:`~supplier_sdk.client.Client`,
errors turned into exit statuses the same way for every command.

Exit status: 0 done; 2 bad input or a hub refusal (one ``error:`` line naming the hub's error and the invalid
fields); 1 the hub could not be reached.

Example::

    @app.command("show")
    @with_hub_connection()
    def show_command(notification: str, *, connection: HubConnection) -> None:
        with connection.client() as client:
            print(client.notifications.get(parse_id(notification, "NOTIFICATION")).title)
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import ClientIdOption, EncKeyFileOption, HubOption, KeyFileOption
from supplier_sdk.cli.profiles import selected_profile
from supplier_sdk.cli.report import not_sent
from supplier_sdk.client import Client
from supplier_sdk.config import SdkConfig, load_config
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


@dataclass(frozen=True)
class HubConnection:
    """The ``--hub``, ``--client-id``, ``--key-file`` and ``--enc-key-file`` a command was given (``None``: unset).

    Example:
        >>> HubConnection(hub="https://hub.example").client_id is None
        True
    """

    hub: str | None = None
    client_id: str | None = None
    key_file: Path | None = None
    enc_key_file: Path | None = None

    def config(self) -> SdkConfig:
        """The settings these options, the environment and the ``--profile`` resolve to (a problem exits 2).

        Example: ``HubConnection(key_file=Path("org.key")).config().key_file``
        """
        try:
            return load_config(
                hub=self.hub,
                client_id=self.client_id,
                key_file=self.key_file,
                enc_key_file=self.enc_key_file,
                profile=selected_profile(),
            )
        except ConfigError as exc:
            fail(str(exc))

    @contextmanager
    def client(self, *, refused: tuple[type[Exception], ...] = ()) -> Iterator[Client]:
        """The configured client; a configuration problem or hub refusal exits 2, an unreachable hub 1.

        Args:
            refused: further errors of the command's own checks (e.g. a dataset failing its integrity check)
                that exit 2 with their message.

        Example::

            with HubConnection(hub="https://hub.example").client() as client:
                client.trace.forward(["LOT-7"])
        """
        try:
            client = self.config().client()
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
        except refused as exc:
            fail(str(exc))
        except ValueError as exc:  # local validation of what the command would send (pydantic)
            fail(invalid(exc))


def _connection_parameters(*, enc_key_file: bool) -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    options = [("hub", HubOption), ("client_id", ClientIdOption), ("key_file", KeyFileOption)]
    if enc_key_file:
        options.append(("enc_key_file", EncKeyFileOption))
    return [inspect.Parameter(name, keyword, default=None, annotation=option) for name, option in options]


def with_hub_connection(
    *, enc_key_file: bool = False
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator giving a command ``--hub``, ``--client-id``, ``--key-file`` (and with ``enc_key_file``
    ``--enc-key-file``), handed to it as one ``connection`` keyword (a :class:`HubConnection`).

    The options are appended after the command's own parameters (so ``--help`` lists them last), with the names
    and help texts of :mod:`supplier_sdk.cli.options`.

    Example::

        @app.command("show")
        @with_hub_connection(enc_key_file=True)
        def show_command(room: str, *, connection: HubConnection) -> None: ...
    """

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        own = [parameter for name, parameter in signature.parameters.items() if name != "connection"]

        @functools.wraps(command)
        def run(
            *args: Any,
            hub: str | None = None,
            client_id: str | None = None,
            key_file: Path | None = None,
            enc_key_file: Path | None = None,
            **kwargs: Any,
        ) -> None:
            connection = HubConnection(
                hub=hub, client_id=client_id, key_file=key_file, enc_key_file=enc_key_file
            )
            command(*args, connection=connection, **kwargs)

        parameters = [*own, *_connection_parameters(enc_key_file=enc_key_file)]
        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
        return run

    return decorate


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


__all__ = [
    "HubConnection",
    "amount",
    "console",
    "echo_json",
    "invalid",
    "parse_id",
    "refusal",
    "with_hub_connection",
]
