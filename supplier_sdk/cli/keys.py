"""``supplier-sdk keys``: make, register, rotate and revoke your organization's Ed25519 and X25519 keys.

    keys generate --use sig|enc --out FILE [--force]     a new private key, written with mode 0600
    keys list                                             your organization's public keys and their state
    keys register --use sig|enc [--file FILE]             register FILE's public half (default: the configured
                                                          --key-file or --enc-key-file); the previous key of
                                                          that use is retired by the hub
    keys rotate --use sig|enc --out FILE [--force] [--revoke-old-client]
    keys revoke KEY_ID                                    the key verifies nothing any more

``rotate`` generates the new key into FILE, then registers it, and the hub retires the old key (it still
verifies what it signed, signs nothing new). For ``enc`` that is all: keep the old key file to read datasets
wrapped to it until members rewrap. For ``sig`` the key is also your API client's credential, so rotate first
creates a new API client for the new key with the old one's scopes, registers the key *through that new client*
(which proves the new credential works before the old key is retired), and with ``--revoke-old-client`` revokes
the old client. Then point ``--client-id``/``--key-file`` (or your profile) at the new client and FILE.

Private key files are created 0600 by ``os.open`` and never overwritten without ``--force``. Registering and
rotating need ``org:admin``. Exit status: 0 done; 2 bad input or a hub refusal; 1 the hub could not be reached.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> out = Path(tempfile.mkdtemp()) / "org.key"
    >>> first = CliRunner().invoke(cli, ["keys", "generate", "--use", "sig", "--out", str(out)])
    >>> again = CliRunner().invoke(cli, ["keys", "generate", "--use", "sig", "--out", str(out)])
    >>> first.exit_code, oct(out.stat().st_mode & 0o777), again.exit_code, "--force" in again.stderr
    (0, '0o600', 2, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.encoding import b64url_encode
from protocol.models.common import KeyStatus, KeyUse
from protocol.models.orgs import OrgKey
from supplier_sdk.cli.connection import HubConnection, with_hub_connection
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import JsonOption
from supplier_sdk.cli.output import emit
from supplier_sdk.client import Client
from supplier_sdk.errors import ConfigError
from supplier_sdk.key_files import PrivateKey, generate_key, key_id, load_key_file, public_raw, write_key_file

app = typer.Typer(help="Your organization's keys: generate, register, rotate, revoke.", no_args_is_help=True)

UseOption = Annotated[KeyUse, typer.Option("--use", help="sig (Ed25519, signing) or enc (X25519, rooms).")]
OutOption = Annotated[
    Path, typer.Option("--out", help="The private key file to write (mode 0600).", dir_okay=False)
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing file.")]


def _generate(use: KeyUse, out: Path, *, force: bool) -> PrivateKey:
    key = generate_key(use)
    try:
        write_key_file(out, key, force=force)
    except ConfigError as exc:
        fail(str(exc))
    return key


def _key_line(key: OrgKey) -> str:
    since = key.revoked_at or key.retired_at or key.created_at
    return f"{key.key_id}  {key.use.value}  {key.algorithm:7}  {key.status.value:8}  {since.isoformat()}"


def _active(client: Client, use: KeyUse) -> list[OrgKey]:
    return [k for k in client.keys.list() if k.use is use and k.status is KeyStatus.ACTIVE]


@app.command("generate")
def generate_command(
    use: UseOption, out: OutOption, force: ForceOption = False, as_json: JsonOption = False
) -> None:
    """Write a new private key to --out (mode 0600); print its key id and public key.

    Example: ``supplier-sdk keys generate --use enc --out ~/.qualink/org.enc.key``
    """
    key = _generate(use, out, force=force)
    made = {
        "use": use.value,
        "key_id": key_id(key),
        "public_key": b64url_encode(public_raw(key)),
        "file": str(out),
    }
    emit(made, as_json=as_json, lines=[f"{made['key_id']}  {use.value}  written to {out} (mode 0600)"])


@app.command("list")
@with_hub_connection()
def list_command(as_json: JsonOption = False, *, connection: HubConnection) -> None:
    """Your organization's public keys: active, retired and revoked.

    Example: ``supplier-sdk keys list``
    """
    with connection.client() as client:
        found = client.keys.list()
    emit(found, as_json=as_json, lines=[_key_line(k) for k in found] or ["no keys registered"])


@app.command("register")
@with_hub_connection(enc_key_file=True)
def register_command(
    use: UseOption,
    file: Annotated[
        Path | None, typer.Option("--file", help="The private key file; default the configured one.")
    ] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Register a private key file's public half; the hub retires your previous key of that use.

    Example: ``supplier-sdk keys register --use enc --file ~/.qualink/org.enc.key``
    """
    config = connection.config()
    source = file or (config.key_file if use is KeyUse.SIGNING else config.enc_key_file)
    if source is None:
        fail(f"no key file: pass --file or {'--key-file' if use is KeyUse.SIGNING else '--enc-key-file'}")
    try:
        key = load_key_file(source, use)
    except ConfigError as exc:
        fail(str(exc))
    with connection.client() as client:
        registered = client.keys.register(key)
    emit(registered, as_json=as_json, lines=[_key_line(registered)])


def _rotate_signing(client: Client, key: Ed25519PrivateKey, *, revoke_old_client: bool) -> dict[str, Any]:
    own = next((c for c in client.keys.clients() if c.client_id == client.client_id), None)
    if own is None:
        fail(f"client {client.client_id} is not listed as one of your organization's clients")
    made = client.keys.create_client(name=f"{own.name} (rotated)"[:200], key=key, scopes=own.scopes)
    with Client(base_url=client.base_url, client_id=made.client_id, private_key=key) as rotated:
        registered = rotated.keys.register(key)
        if revoke_old_client:
            rotated.keys.revoke_client(own.client_id)
    return {
        "key": registered,
        "client_id": made.client_id,
        "old_client_id": own.client_id,
        "old_client_revoked": revoke_old_client,
    }


@app.command("rotate")
@with_hub_connection(enc_key_file=True)
def rotate_command(
    use: UseOption,
    out: OutOption,
    force: ForceOption = False,
    revoke_old_client: Annotated[
        bool, typer.Option("--revoke-old-client", help="sig: revoke the API client of the old key.")
    ] = False,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Generate a new key into --out, register it and let the hub retire the old one (see the module help).

    Example: ``supplier-sdk keys rotate --use sig --out ~/.qualink/org-2027.key --revoke-old-client``
    """
    if revoke_old_client and use is not KeyUse.SIGNING:
        fail("--revoke-old-client goes with --use sig only")
    with connection.client() as client:
        before = _active(client, use)
        key = _generate(use, out, force=force)
        if isinstance(key, Ed25519PrivateKey):
            result = _rotate_signing(client, key, revoke_old_client=revoke_old_client)
        else:
            result = {"key": client.keys.register(key)}
    result |= {
        "file": str(out),
        "retired_key_ids": [k.key_id for k in before if k.key_id != result["key"].key_id],
    }
    lines = [f"new {use.value} key {result['key'].key_id} in {out}"]
    lines += [f"retired {retired}" for retired in result["retired_key_ids"]]
    if "client_id" in result:
        revoked = " (revoked)" if revoke_old_client else " (still active: revoke it when unused)"
        lines += [
            f"new client {result['client_id']}; old client {result['old_client_id']}{revoked}",
            f"use it: --client-id {result['client_id']} --key-file {out}",
        ]
    emit(result, as_json=as_json, lines=lines)


@app.command("revoke")
@with_hub_connection()
def revoke_command(
    key: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id.")],
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Revoke a key: it verifies nothing any more, not even what it signed before.

    Example: ``supplier-sdk keys revoke kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k``
    """
    with connection.client() as client:
        revoked = client.keys.revoke(key)
    emit(revoked, as_json=as_json, lines=[_key_line(revoked)])


__all__ = ["app", "generate_command", "list_command", "register_command", "revoke_command", "rotate_command"]
