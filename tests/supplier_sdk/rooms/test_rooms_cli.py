"""`supplier-sdk room` against a real hub: the whole life of a room from the command line, and its errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from protocol.encoding import b64url_encode
from protocol.models.common import OrgKind
from supplier_sdk.cli import app
from tests.supplier_sdk.rooms.rooms_support import Member, join_network, write_file
from tests.supplier_sdk.test_client_support import Network, closed_url, running_network

pytestmark = pytest.mark.e2e

LOG = b"t_s,noise_db\n" + b"".join(b"%d,%d.5\n" % (t, 60 + t % 13) for t in range(5000))


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "rooms_cli") as network:
        yield network


def environment(network: Network, member: Member, folder: Path) -> dict[str, str]:
    enc = folder / f"{member.party.client_id}.enc.key"
    enc.write_text(b64url_encode(member.encryption_key.private_bytes_raw()) + "\n")
    return {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": member.party.client_id,
        "QUALINK_KEY_FILE": str(member.party.write_key(folder)),
        "QUALINK_ENC_KEY_FILE": str(enc),
    }


def room_cli(env: dict[str, str], *args: str, status: int = 0) -> str:
    result = CliRunner().invoke(app, ["room", *args], env=env)
    assert result.exit_code == status, (result.stdout, result.stderr)
    return result.stdout if status == 0 else result.stderr


def test_a_room_from_opening_to_export(network: Network, tmp_path: Path) -> None:
    oem = join_network(network, OrgKind.OEM, "OEM", party=network.oem)
    compressor = join_network(network, OrgKind.SUPPLIER, "Compressor supplier")
    motor = join_network(network, OrgKind.SUPPLIER, "Motor sub-supplier")
    as_oem, as_compressor, as_motor = (environment(network, m, tmp_path) for m in (oem, compressor, motor))

    room = room_cli(
        as_oem,
        "open",
        "--title",
        "Compressor noise",
        "--expires-in-days",
        "7",
        "--invite",
        str(compressor.org_id),
    ).strip()
    accepted = json.loads(
        room_cli(as_compressor, "accept", room, "--person", "Erik Lund <erik@c.example> (lab)", "--json")
    )
    assert accepted["people"] == [{"name": "Erik Lund", "email": "erik@c.example", "role": "lab"}]
    dataset = room_cli(
        as_compressor, "upload", room, str(write_file(tmp_path, "log.csv", LOG)), "--media-type", "text/csv"
    ).strip()

    out = room_cli(as_oem, "download", room, dataset, str(tmp_path / "copy.csv"))
    assert "signature and digest checked" in out and (tmp_path / "copy.csv").read_bytes() == LOG

    room_cli(as_oem, "invite", room, str(motor.org_id), "--role", "observer")
    room_cli(as_motor, "accept", room)
    assert "no data key wrapped" in room_cli(
        as_motor, "download", room, dataset, str(tmp_path / "m.csv"), status=2
    )
    assert room_cli(as_compressor, "rewrap", room).strip() == "re-wrapped 1 dataset(s)"
    room_cli(as_motor, "download", room, dataset, str(tmp_path / "m.csv"))
    assert (tmp_path / "m.csv").read_bytes() == LOG

    shown = json.loads(room_cli(as_oem, "show", room, "--json"))
    assert [d["id"] for d in shown["datasets"]] == [dataset] and len(shown["members"]) == 3
    assert room in room_cli(as_motor, "list")
    note = json.loads(
        room_cli(
            as_compressor,
            "annotate",
            room,
            "Noise from row 3000",
            "--tag",
            "hypothesis",
            "--dataset",
            dataset,
            "--rows",
            "3000:5000",
            "--json",
        )
    )
    assert note["anchor"]["row_start"] == 3000
    listed = json.loads(room_cli(as_oem, "annotations", room, "--json"))
    assert [a["id"] for a in listed] == [note["id"]]
    step = json.loads(
        room_cli(
            as_oem,
            "step",
            room,
            "D4",
            "--owner",
            str(compressor.org_id),
            "--content",
            "Bearing preload",
            "--evidence",
            f"annotation:{note['id']}",
            "--json",
        )
    )
    assert step["evidence"] == [{"kind": "annotation", "id": note["id"]}]
    assert "D4 signed off" in room_cli(as_compressor, "signoff", room, "D4")
    room_cli(as_oem, "remove", room, str(motor.org_id))
    assert "NotFound" in room_cli(as_motor, "show", room, status=2)

    assert "shredded" in room_cli(as_oem, "close", room, "--note", "fixed")
    assert "shredded" in room_cli(as_oem, "download", room, dataset, str(tmp_path / "late.csv"), status=2)
    assert not (tmp_path / "late.csv").exists()
    room_cli(as_oem, "export", room, "--format", "markdown", "--output", str(tmp_path / "8d.md"))
    assert "Bearing preload" in (tmp_path / "8d.md").read_text()
    assert json.loads(room_cli(as_oem, "export", room))["type"] == "room-8d-summary"


def test_input_errors_end_with_status_2_and_one_line(network: Network, tmp_path: Path) -> None:
    member = join_network(network, OrgKind.SUPPLIER, "Supplier")
    env = environment(network, member, tmp_path)

    assert "ROOM must be an id" in room_cli(env, "show", "nope", status=2)
    assert "--rows takes START:END" in room_cli(
        env, "annotate", "00000000-0000-0000-0000-000000000001", "x", "--rows", "5-9", status=2
    )
    assert "--person must look like" in room_cli(
        env, "accept", "00000000-0000-0000-0000-000000000001", "--person", "nobody", status=2
    )
    assert "exactly one of" in room_cli(env, "open", "--title", "t", status=2)
    assert "NotFound" in room_cli(env, "show", "00000000-0000-0000-0000-000000000001", status=2)
    no_enc = {**env, "QUALINK_ENC_KEY_FILE": ""}
    file = str(write_file(tmp_path, "x.csv", b"a"))
    assert "QUALINK_ENC_KEY_FILE" in room_cli(
        no_enc, "upload", "00000000-0000-0000-0000-000000000001", file, status=2
    )
    assert "unreachable" in room_cli({**env, "QUALINK_HUB_URL": closed_url()}, "list", status=1)
