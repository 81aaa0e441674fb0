"""``supplier-sdk room``: joint investigation rooms; datasets are encrypted and decrypted on this machine.

Commands::

    room open --title T (--expires-in-days N | --expires-at ISO) [--description D] [--policy delete_after_closing|keep]
              [--invite ORG_ID[:observer]]...
    room list [--status open|closed]          room show ROOM
    room invite ROOM ORG_ID [--role contributor|observer] [--person "Name <email>"]...
    room accept ROOM [--person "Name <email>"]...          room remove ROOM ORG_ID
    room register-key                         register the X25519 key of --enc-key-file as the organization's
    room upload ROOM FILE [--name N] [--media-type T]      room download ROOM DATASET_ID OUT_FILE
    room rewrap ROOM [--dataset ID]           wrap data keys for members that joined later
    room annotate ROOM TEXT [--tag T] [--dataset ID] [--rows A:B] [--from ISO --to ISO] [--reply-to ID]
    room annotations ROOM
    room step ROOM D4 [--content C] [--owner ORG_ID] [--evidence dataset:ID|annotation:ID]...
    room signoff ROOM D4                      room close ROOM [--note N]
    room export ROOM [--format json|markdown] [--output FILE]

Every command takes ``--hub``, ``--client-id``, ``--key-file``, ``--enc-key-file`` (or their ``QUALINK_*``
variables, see :mod:`supplier_sdk.config`) and ``--json``. Exit status: 0 done; 2 bad input, a hub refusal or a
dataset that fails its checks (one ``error:`` line); 1 the hub could not be reached.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["room", "show", "not-a-room", "--hub", "http://127.0.0.1:9"])
    >>> result.exit_code, result.stderr
    (2, "error: ROOM must be an id (a UUID), not 'not-a-room'\\n")
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError

from protocol.models import rooms as wire
from supplier_sdk.cli.connection import HubConnection, parse_id, with_hub_connection
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import JsonOption
from supplier_sdk.cli.output import transfer_progress
from supplier_sdk.cli.report import EXIT_NOT_SENT
from supplier_sdk.rooms.client import DatasetUnavailable, Rooms
from supplier_sdk.rooms.crypto import DatasetIntegrityError

app = typer.Typer(
    name="room",
    help="Joint investigation rooms: share encrypted datasets, annotate, fill and sign off the 8D.",
    no_args_is_help=True,
)

RoomArgument = Annotated[str, typer.Argument(help="The room id.")]

_PERSON = re.compile(r"^\s*(?P<name>[^<]+?)\s*<(?P<email>[^>]+)>\s*(?:\((?P<role>[^)]*)\))?\s*$")


def parse_person(value: str) -> wire.Person:
    """``"Name <email>"`` or ``"Name <email> (role)"`` as a :class:`~protocol.models.rooms.Person`.

    Example:
        >>> parse_person("Anna Berg <anna@oem.example> (SQE)").role
        'SQE'
    """
    match = _PERSON.match(value)
    if match is None:
        fail(f"--person must look like 'Name <email>' or 'Name <email> (role)', not {value!r}")
    try:
        return wire.Person(name=match["name"], email=match["email"], role=match["role"] or "")
    except ValidationError as exc:
        fail(f"--person {value!r}: {exc.errors()[0]['msg']}")


def _print(value: Any, *, as_json: bool, text: str) -> None:
    if as_json:
        if isinstance(value, BaseModel):
            typer.echo(value.model_dump_json())
        else:
            typer.echo(
                json.dumps(
                    [item.model_dump(mode="json") if isinstance(item, BaseModel) else item for item in value]
                    if isinstance(value, list)
                    else value
                )
            )
    else:
        typer.echo(text)


@contextmanager
def _rooms(connection: HubConnection) -> Iterator[Rooms]:
    # A dataset that fails its checks or is no longer available is a refusal too (exit 2).
    with connection.client(refused=(DatasetIntegrityError, DatasetUnavailable)) as client:
        yield client.rooms


def _room_line(room: wire.Room) -> str:
    return f"{room.id}  {room.status.value:6}  {room.your_role.value:11}  {room.title}"


@app.command("open")
@with_hub_connection(enc_key_file=True)
def open_command(
    title: Annotated[str, typer.Option("--title", help="What the room investigates.")],
    expires_in_days: Annotated[int | None, typer.Option("--expires-in-days", min=1)] = None,
    expires_at: Annotated[datetime | None, typer.Option("--expires-at", help="ISO time (UTC).")] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    policy: Annotated[
        wire.DeletionPolicy, typer.Option("--policy")
    ] = wire.DeletionPolicy.DELETE_AFTER_CLOSING,
    invite: Annotated[list[str] | None, typer.Option("--invite", help="ORG_ID or ORG_ID:observer.")] = None,
    notification: Annotated[
        str | None, typer.Option("--notification", help="Quality notification id.")
    ] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Open a room owned by your organization.

    Example: ``supplier-sdk room open --title "Compressor noise" --expires-in-days 30 --invite 0193…``
    """
    if (expires_in_days is None) == (expires_at is None):
        fail("give exactly one of --expires-in-days and --expires-at")
    if expires_at is not None:
        until = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    else:
        until = datetime.now(UTC) + timedelta(days=expires_in_days or 0)
    members = []
    for item in invite or []:
        org, _, role = item.partition(":")
        if role not in ("", "contributor", "observer"):
            fail(f"--invite takes ORG_ID or ORG_ID:observer, not {item!r}")
        members.append(
            wire.MemberInvite(
                organization_id=parse_id(org, "--invite"), role=wire.RoomRole(role or "contributor")
            )
        )
    with _rooms(connection) as rooms:
        room = rooms.open(
            title=title,
            expires_at=until,
            description=description,
            deletion_policy=policy,
            notification_id=None if notification is None else parse_id(notification, "--notification"),
            members=members,
        )
    _print(room, as_json=as_json, text=str(room.id))


@app.command("list")
@with_hub_connection(enc_key_file=True)
def list_command(
    status: Annotated[wire.RoomStatus | None, typer.Option("--status")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """The rooms your organization is in or invited to.

    Example: ``supplier-sdk room list --status open``
    """
    with _rooms(connection) as rooms:
        found = rooms.list(status=status)
    _print(found, as_json=as_json, text="\n".join(_room_line(room) for room in found) or "(no rooms)")


@app.command("show")
@with_hub_connection(enc_key_file=True)
def show_command(
    room: RoomArgument,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """A room, its members and datasets.

    Example: ``supplier-sdk room show 0193…``
    """
    room_id = parse_id(room, "ROOM")
    with _rooms(connection) as rooms:
        found = rooms.get(room_id)
        datasets = rooms.datasets(room_id)
    if as_json:
        typer.echo(
            json.dumps(
                {**found.model_dump(mode="json"), "datasets": [d.model_dump(mode="json") for d in datasets]}
            )
        )
        return
    lines = [
        _room_line(found),
        f"expires {found.expires_at:%Y-%m-%d %H:%M}Z, policy {found.deletion_policy.value}",
    ]
    for member in found.members:
        state = "accepted" if member.accepted_at else "invited"
        lines.append(
            f"  member  {member.organization_id}  {member.role.value:11}  {state:8}  {member.organization_name}"
        )
    for dataset in datasets:
        missing = f"  missing keys: {len(dataset.missing_keys)}" if dataset.missing_keys else ""
        lines.append(
            f"  dataset {dataset.id}  {dataset.status.value:16}  {dataset.plaintext_size:>12} B  {dataset.name}{missing}"
        )
    typer.echo("\n".join(lines))


@app.command("invite")
@with_hub_connection(enc_key_file=True)
def invite_command(
    room: RoomArgument,
    organization: Annotated[str, typer.Argument(help="The organization to invite.")],
    role: Annotated[str, typer.Option("--role", help="contributor or observer.")] = "contributor",
    person: Annotated[list[str] | None, typer.Option("--person", help="'Name <email> (role)'.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Invite an organization (room owner).

    Example: ``supplier-sdk room invite ROOM ORG --role observer``
    """
    if role not in ("contributor", "observer"):
        fail(f"--role must be contributor or observer, not {role!r}")
    room_id, org_id = parse_id(room, "ROOM"), parse_id(organization, "ORG_ID")
    people = [parse_person(item) for item in person or []]
    with _rooms(connection) as rooms:
        member = rooms.invite(room_id, org_id, role=role, people=people)
    _print(member, as_json=as_json, text=f"invited {member.organization_name} as {member.role.value}")


@app.command("accept")
@with_hub_connection(enc_key_file=True)
def accept_command(
    room: RoomArgument,
    person: Annotated[list[str] | None, typer.Option("--person", help="'Name <email> (role)'.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Accept your organization's invitation.

    Example: ``supplier-sdk room accept ROOM --person "Li Wei <li@motor.example>"``
    """
    room_id = parse_id(room, "ROOM")
    people = [parse_person(item) for item in person or []]
    with _rooms(connection) as rooms:
        member = rooms.accept(room_id, people=people)
    _print(member, as_json=as_json, text=f"accepted as {member.role.value}")


@app.command("remove")
@with_hub_connection(enc_key_file=True)
def remove_command(
    room: RoomArgument,
    organization: Annotated[str, typer.Argument(help="The member organization.")],
    *,
    connection: HubConnection,
) -> None:
    """Remove a member (room owner), or leave the room (your own organization).

    Example: ``supplier-sdk room remove ROOM ORG``
    """
    room_id, org_id = parse_id(room, "ROOM"), parse_id(organization, "ORG_ID")
    with _rooms(connection) as rooms:
        rooms.remove(room_id, org_id)
    typer.echo(f"removed {org_id}")


@app.command("register-key")
@with_hub_connection(enc_key_file=True)
def register_key_command(
    *,
    connection: HubConnection,
) -> None:
    """Register the public half of --enc-key-file as your organization's X25519 key (needs org:admin).

    Example: ``supplier-sdk room register-key --enc-key-file org.enc.key``
    """
    with _rooms(connection) as rooms:
        typer.echo(rooms.register_encryption_key())


@app.command("upload")
@with_hub_connection(enc_key_file=True)
def upload_command(
    room: RoomArgument,
    file: Annotated[Path, typer.Argument(help="The plaintext file.", exists=True, dir_okay=False)],
    name: Annotated[str | None, typer.Option("--name", help="Default: the file name.")] = None,
    media_type: Annotated[str, typer.Option("--media-type")] = "application/octet-stream",
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Encrypt a file here, wrap its key to every member and upload the ciphertext.

    Example: ``supplier-sdk room upload ROOM bench-run-17.csv --media-type text/csv``
    """
    room_id = parse_id(room, "ROOM")
    with _rooms(connection) as rooms, transfer_progress(f"upload {file.name}", as_json=as_json) as progress:
        dataset = rooms.upload(room_id, file, name=name, media_type=media_type, progress=progress)
    _print(dataset, as_json=as_json, text=str(dataset.id))


@app.command("download")
@with_hub_connection(enc_key_file=True)
def download_command(
    room: RoomArgument,
    dataset: Annotated[str, typer.Argument(help="The dataset id.")],
    output: Annotated[Path, typer.Argument(help="Where to write the plaintext.", dir_okay=False)],
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Download, check and decrypt a dataset; OUT_FILE is written only if every check passes.

    Example: ``supplier-sdk room download ROOM DATASET bench-run-17.csv``
    """
    room_id, dataset_id = parse_id(room, "ROOM"), parse_id(dataset, "DATASET_ID")
    with (
        _rooms(connection) as rooms,
        transfer_progress(f"download {output.name}", as_json=as_json) as progress,
    ):
        found = rooms.download(room_id, dataset_id, output, progress=progress)
    _print(
        found, as_json=as_json, text=f"{output} ({found.plaintext_size} bytes, signature and digest checked)"
    )


@app.command("rewrap")
@with_hub_connection(enc_key_file=True)
def rewrap_command(
    room: RoomArgument,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Only this dataset.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Wrap the data keys you hold for members that joined later.

    Example: ``supplier-sdk room rewrap ROOM``
    """
    room_id = parse_id(room, "ROOM")
    dataset_id = None if dataset is None else parse_id(dataset, "--dataset")
    with _rooms(connection) as rooms:
        done = rooms.rewrap(room_id, dataset_id)
    _print(done, as_json=as_json, text=f"re-wrapped {len(done)} dataset(s)")


def _anchor(
    dataset: str | None, rows: str | None, time_from: datetime | None, time_to: datetime | None
) -> wire.Anchor | None:
    if dataset is None and rows is None and time_from is None and time_to is None:
        return None
    start = end = None
    if rows is not None:
        match = re.fullmatch(r"(\d+):(\d+)", rows.strip())
        if match is None:
            fail(f"--rows takes START:END (END exclusive), not {rows!r}")
        start, end = int(match[1]), int(match[2])
    try:
        return wire.Anchor(
            dataset_id=None if dataset is None else parse_id(dataset, "--dataset"),
            row_start=start,
            row_end=end,
            time_from=None
            if time_from is None
            else (time_from if time_from.tzinfo else time_from.replace(tzinfo=UTC)),
            time_to=None if time_to is None else (time_to if time_to.tzinfo else time_to.replace(tzinfo=UTC)),
        )
    except ValidationError as exc:
        fail(f"anchor: {exc.errors()[0]['msg']}")


@app.command("annotate")
@with_hub_connection(enc_key_file=True)
def annotate_command(
    room: RoomArgument,
    text: Annotated[str, typer.Argument(help="The annotation.")],
    tag: Annotated[wire.AnnotationTag, typer.Option("--tag")] = wire.AnnotationTag.OBSERVATION,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Anchor: a dataset id.")] = None,
    rows: Annotated[str | None, typer.Option("--rows", help="Anchor: rows START:END of --dataset.")] = None,
    time_from: Annotated[datetime | None, typer.Option("--from", help="Anchor: time range start.")] = None,
    time_to: Annotated[datetime | None, typer.Option("--to", help="Anchor: time range end.")] = None,
    reply_to: Annotated[str | None, typer.Option("--reply-to", help="Parent annotation id.")] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Annotate the room, optionally anchored to a dataset, rows or a time range.

    Example: ``supplier-sdk room annotate ROOM "Noise from 41 °C" --tag hypothesis --dataset DS --rows 120:180``
    """
    room_id = parse_id(room, "ROOM")
    anchor = _anchor(dataset, rows, time_from, time_to)
    parent = None if reply_to is None else parse_id(reply_to, "--reply-to")
    with _rooms(connection) as rooms:
        annotation = rooms.annotate(room_id, text, tag=tag, anchor=anchor, parent_id=parent)
    _print(annotation, as_json=as_json, text=str(annotation.id))


@app.command("annotations")
@with_hub_connection(enc_key_file=True)
def annotations_command(
    room: RoomArgument,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """The room's annotations.

    Example: ``supplier-sdk room annotations ROOM --json``
    """
    room_id = parse_id(room, "ROOM")
    with _rooms(connection) as rooms:
        found = rooms.annotations(room_id)
    lines = [f"{a.id}  {a.tag.value:11}  r{a.revision}  {a.body}" for a in found]
    _print(found, as_json=as_json, text="\n".join(lines) or "(no annotations)")


@app.command("step")
@with_hub_connection(enc_key_file=True)
def step_command(
    room: RoomArgument,
    step: Annotated[wire.EightDStep, typer.Argument(help="D1 … D8.")],
    content: Annotated[str | None, typer.Option("--content")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Organization responsible (room owner sets).")
    ] = None,
    evidence: Annotated[
        list[str] | None, typer.Option("--evidence", help="dataset:ID or annotation:ID.")
    ] = None,
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Write an 8D step.

    Example: ``supplier-sdk room step ROOM D4 --content "Bearing preload" --evidence annotation:ID``
    """
    room_id = parse_id(room, "ROOM")
    links = None
    if evidence is not None:
        links = []
        for item in evidence:
            kind, _, ident = item.partition(":")
            if kind not in ("dataset", "annotation"):
                fail(f"--evidence takes dataset:ID or annotation:ID, not {item!r}")
            links.append(wire.Evidence(kind=kind, id=parse_id(ident, "--evidence")))
    if content is None and owner is None and links is None:
        fail("give --content, --owner or --evidence")
    owner_id = None if owner is None else parse_id(owner, "--owner")
    with _rooms(connection) as rooms:
        found = rooms.update_step(room_id, step, owner_id=owner_id, content=content, evidence=links)
    _print(found, as_json=as_json, text=f"{found.step.value} revision {found.revision}")


@app.command("signoff")
@with_hub_connection(enc_key_file=True)
def signoff_command(
    room: RoomArgument,
    step: Annotated[wire.EightDStep, typer.Argument(help="D1 … D8.")],
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Sign off an 8D step (its owner organization).

    Example: ``supplier-sdk room signoff ROOM D8``
    """
    room_id = parse_id(room, "ROOM")
    with _rooms(connection) as rooms:
        found = rooms.sign_off(room_id, step)
    _print(found, as_json=as_json, text=f"{found.step.value} signed off")


@app.command("close")
@with_hub_connection(enc_key_file=True)
def close_command(
    room: RoomArgument,
    note: Annotated[str, typer.Option("--note", help="Closing note, kept in the signed summary.")] = "",
    as_json: JsonOption = False,
    *,
    connection: HubConnection,
) -> None:
    """Close the room (owner); the deletion policy decides whether data is shredded.

    Example: ``supplier-sdk room close ROOM --note "fixed at the motor supplier"``
    """
    room_id = parse_id(room, "ROOM")
    with _rooms(connection) as rooms:
        found = rooms.close(room_id, note=note)
    shredded = " (data shredded)" if found.shredded_at else ""
    _print(found, as_json=as_json, text=f"closed{shredded}")


@app.command("export")
@with_hub_connection(enc_key_file=True)
def export_command(
    room: RoomArgument,
    format: Annotated[str, typer.Option("--format", help="json or markdown.")] = "json",
    output: Annotated[Path | None, typer.Option("--output", help="Write here instead of stdout.")] = None,
    *,
    connection: HubConnection,
) -> None:
    """The signed 8D summary of a closed room.

    Example: ``supplier-sdk room export ROOM --format markdown --output 8d.md``
    """
    if format not in ("json", "markdown"):
        fail(f"--format must be json or markdown, not {format!r}")
    room_id = parse_id(room, "ROOM")
    with _rooms(connection) as rooms:
        exported = rooms.export(room_id, format=format)
    text = exported if isinstance(exported, str) else json.dumps(exported, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


__all__ = ["EXIT_NOT_SENT", "app", "parse_person"]
