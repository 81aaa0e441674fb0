"""Room transfers report their progress: the SDK tells a callback the ciphertext bytes moved, the CLI draws a
rich bar from it on a terminal's stderr, and draws nothing with --json or when stderr is not a terminal."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from protocol.encoding import b64url_encode
from protocol.models.common import OrgKind
from protocol.models.rooms import MemberInvite
from supplier_sdk.cli import app
from supplier_sdk.cli.output import transfer_progress
from tests.supplier_sdk.rooms.rooms_support import join_network, write_file
from tests.supplier_sdk.test_client_support import Network, running_network

pytestmark = pytest.mark.e2e

# ~3.4 MB: several of the 1 MiB pieces a transfer moves at a time
LOG = b"t_s,noise_db\n" + b"".join(b"%d,%d.5\n" % (t, 60 + t % 13) for t in range(300_000))


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "rooms_progress") as network:
        yield network


def test_upload_and_download_report_every_byte_in_order(network: Network, tmp_path: Path) -> None:
    oem = join_network(network, OrgKind.OEM, "OEM", party=network.oem)
    supplier = join_network(network, OrgKind.SUPPLIER, "Supplier")
    room = oem.rooms.open(
        title="Noise",
        expires_at=datetime.now(UTC) + timedelta(days=7),
        members=[MemberInvite(organization_id=supplier.org_id)],
    )
    supplier.rooms.accept(room.id)
    sent: list[tuple[int, int]] = []
    received: list[tuple[int, int]] = []

    dataset = supplier.rooms.upload(
        room.id, write_file(tmp_path, "log.csv", LOG), progress=lambda *step: sent.append(step)
    )
    oem.rooms.download(
        room.id, dataset.id, tmp_path / "copy.csv", progress=lambda *step: received.append(step)
    )

    assert (tmp_path / "copy.csv").read_bytes() == LOG
    for steps in (sent, received):
        assert len(steps) > 1 and steps[-1] == (dataset.ciphertext_size, dataset.ciphertext_size)
        assert [done for done, _ in steps] == sorted(done for done, _ in steps)
        assert {total for _, total in steps} == {dataset.ciphertext_size}

    env = {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": supplier.party.client_id,
        "QUALINK_KEY_FILE": str(supplier.party.write_key(tmp_path)),
        "QUALINK_ENC_KEY_FILE": str(
            write_file(
                tmp_path, "enc.key", b64url_encode(supplier.encryption_key.private_bytes_raw()).encode()
            )
        ),
        "QUALINK_CONFIG": str(tmp_path / "absent.toml"),
    }
    result = CliRunner().invoke(
        app, ["room", "download", str(room.id), str(dataset.id), str(tmp_path / "cli.csv")], env=env
    )
    assert result.exit_code == 0 and result.stderr == ""  # not a terminal: no bar, no control characters


def test_the_bar_is_drawn_on_a_terminal_only_and_never_with_json() -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)

    with transfer_progress("upload log.csv", as_json=False, console=terminal) as progress:
        assert progress is not None
        progress(512 * 1024, 1024 * 1024)
        progress(1024 * 1024, 1024 * 1024)
    assert "upload log.csv" in screen.getvalue() and "1.0/1.0 MB" in screen.getvalue()

    with transfer_progress("x", as_json=True, console=terminal) as progress:
        assert progress is None
    with transfer_progress(
        "x", as_json=False, console=Console(file=io.StringIO(), force_terminal=False)
    ) as progress:
        assert progress is None
