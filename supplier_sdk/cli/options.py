"""The command-line options more than one ``supplier-sdk`` command takes, declared once.

Each is an ``Annotated`` type that carries its ``typer.Option`` (name and help); the command gives it a
parameter name and a default. Option names and help texts are part of the command line's contract (other tools
script against it), so every command that takes one of these options takes it from here.

Example::

    @app.command("capability")
    def capability_command(column: ColumnOption = None, as_json: JsonOption = False) -> None: ...
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class SigmaOption(StrEnum):
    """Within-subgroup sigma estimators offered by ``--sigma``.

    Example:
        >>> [option.value for option in SigmaOption]
        ['pooled', 'rbar', 'sbar', 'mr']
    """

    pooled = "pooled"
    rbar = "rbar"
    sbar = "sbar"
    mr = "mr"


# -- measurements from a CSV file (kpi capability, report submit) --------------------------------------------

ColumnOption = Annotated[str | None, typer.Option("--column", help="Column holding the measurements.")]
"""``--column NAME``: the CSV column holding the measurements.

Example: ``column: ColumnOption = None``
"""

SubgroupSizeOption = Annotated[
    int | None, typer.Option("--subgroup-size", help="Consecutive values per subgroup.")
]
"""``--subgroup-size N``: subgroups of ``N`` consecutive values.

Example: ``subgroup_size: SubgroupSizeOption = None``
"""

SubgroupColumnOption = Annotated[
    str | None, typer.Option("--subgroup-column", help="Column of subgroup labels (consecutive runs).")
]
"""``--subgroup-column NAME``: the CSV column of subgroup labels.

Example: ``subgroup_column: SubgroupColumnOption = None``
"""

SigmaMethodOption = Annotated[
    SigmaOption | None,
    typer.Option("--sigma", help="Within sigma; default pooled for subgroups, mr for individual values."),
]
"""``--sigma pooled|rbar|sbar|mr``: how the within-subgroup sigma is estimated.

Example: ``sigma: SigmaMethodOption = None``
"""

# -- output --------------------------------------------------------------------------------------------------

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
"""``--json``: print one JSON object instead of tables or sentences.

Example: ``as_json: JsonOption = False``
"""

# -- the hub, the credentials and the outbox (report submit, outbox list and flush) --------------------------

HubOption = Annotated[
    str | None, typer.Option("--hub", help="Hub URL (env QUALINK_HUB_URL).", show_default=False)
]
"""``--hub URL``: the hub to talk to.

Example: ``hub: HubOption = None``
"""

ClientIdOption = Annotated[
    str | None, typer.Option("--client-id", help="API client id (env QUALINK_CLIENT_ID).", show_default=False)
]
"""``--client-id ID``: the API client to authenticate as.

Example: ``client_id: ClientIdOption = None``
"""

KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="Ed25519 private key, PEM or base64url seed (env QUALINK_KEY_FILE).",
        show_default=False,
    ),
]
"""``--key-file FILE``: the organization's private key.

Example: ``key_file: KeyFileOption = None``
"""

EncKeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--enc-key-file",
        help="X25519 private key for room datasets, PEM or base64url (env QUALINK_ENC_KEY_FILE).",
        show_default=False,
    ),
]
"""``--enc-key-file FILE``: the organization's X25519 private key (room data keys are wrapped to it).

Example: ``enc_key_file: EncKeyFileOption = None``
"""

OutboxOption = Annotated[
    Path | None,
    typer.Option(
        "--outbox", help="Outbox file (env QUALINK_OUTBOX; default ~/.qualink/outbox.db).", show_default=False
    ),
]
"""``--outbox FILE``: the outbox file.

Example: ``outbox: OutboxOption = None``
"""


__all__ = [
    "ClientIdOption",
    "ColumnOption",
    "EncKeyFileOption",
    "HubOption",
    "JsonOption",
    "KeyFileOption",
    "OutboxOption",
    "SigmaMethodOption",
    "SigmaOption",
    "SubgroupColumnOption",
    "SubgroupSizeOption",
]
