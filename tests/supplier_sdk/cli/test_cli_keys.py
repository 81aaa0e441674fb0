"""`supplier-sdk keys` against a real hub: key files made 0600 and never overwritten unasked, registration,
rotation (the hub retires the old key; a signing rotation moves the API client to the new key) and revocation."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.models.common import KeyUse, OrgKind
from supplier_sdk.key_files import load_key_file
from tests.supplier_sdk.cli.cli_support import cli, environment
from tests.supplier_sdk.test_client_support import Network, running_network

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "cli_keys") as network:
        yield network


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def keys_by_status(env: dict[str, str], use: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key in json.loads(cli(env, "keys", "list", "--json")):
        if key["use"] == use:
            found.setdefault(key["status"], []).append(key["key_id"])
    return found


@pytest.mark.parametrize("use", ["sig", "enc"])
def test_a_generated_key_file_is_0600_and_never_overwritten_without_force(tmp_path: Path, use: str) -> None:
    out = tmp_path / f"{use}.key"

    made = json.loads(cli({}, "keys", "generate", "--use", use, "--out", str(out), "--json"))
    assert mode(out) == 0o600 and out.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    key = load_key_file(out, KeyUse(use))
    assert made["use"] == use and made["file"] == str(out) and len(made["public_key"]) == 43

    before = out.read_bytes()
    assert cli({}, "keys", "generate", "--use", use, "--out", str(out), status=2) == (
        f"error: {out} exists: pass --force to replace it\n"
    )
    assert out.read_bytes() == before

    out.chmod(0o644)  # a file someone widened: --force replaces it by a new 0600 file, not in place
    cli({}, "keys", "generate", "--use", use, "--out", str(out), "--force")
    assert mode(out) == 0o600 and out.read_bytes() != before
    assert load_key_file(out, KeyUse(use)) != key
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left behind


def test_register_and_rotate_an_encryption_key(network: Network, tmp_path: Path) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    env = environment(network, supplier, tmp_path)
    first, second = tmp_path / "enc-1.key", tmp_path / "enc-2.key"
    made = json.loads(cli(env, "keys", "generate", "--use", "enc", "--out", str(first), "--json"))

    registered = json.loads(cli(env, "keys", "register", "--use", "enc", "--file", str(first), "--json"))
    assert (registered["key_id"], registered["status"]) == (made["key_id"], "active")
    again = json.loads(
        cli({**env, "QUALINK_ENC_KEY_FILE": str(first)}, "keys", "register", "--use", "enc", "--json")
    )
    assert again["key_id"] == made["key_id"]  # the active key again: not an error

    rotated = json.loads(cli(env, "keys", "rotate", "--use", "enc", "--out", str(second), "--json"))
    assert rotated["retired_key_ids"] == [made["key_id"]] and mode(second) == 0o600
    assert keys_by_status(env, "enc") == {"active": [rotated["key"]["key_id"]], "retired": [made["key_id"]]}
    assert "exists" in cli(env, "keys", "rotate", "--use", "enc", "--out", str(second), status=2)
    assert keys_by_status(env, "enc")["active"] == [rotated["key"]["key_id"]]  # nothing registered


def test_rotating_the_signing_key_moves_the_client_to_it(network: Network, tmp_path: Path) -> None:
    reporting = network.reporting()
    env = environment(network, reporting.supplier, tmp_path)
    new_file = tmp_path / "sig-2027.key"

    out = cli(env, "keys", "rotate", "--use", "sig", "--out", str(new_file), "--revoke-old-client")
    assert f"retired {reporting.key_id}" in out and "(revoked)" in out
    new_client = out.split("new client ")[1].split(";")[0]
    new_env = {**env, "QUALINK_CLIENT_ID": new_client, "QUALINK_KEY_FILE": str(new_file)}
    by_status = keys_by_status(new_env, "sig")
    assert by_status["retired"] == [reporting.key_id] and len(by_status["active"]) == 1
    assert f"--client-id {new_client} --key-file {new_file}" in out

    assert "invalid_client" in cli(env, "keys", "list", status=2)  # the old client is revoked
    revoked = json.loads(cli(new_env, "keys", "revoke", reporting.key_id, "--json"))
    assert revoked["status"] == "revoked"


def test_key_errors_are_one_line_with_status_2(network: Network, tmp_path: Path) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    env = environment(network, supplier, tmp_path)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key\n")

    assert "holds no X25519 private key" in cli(
        env, "keys", "register", "--use", "enc", "--file", str(garbage), status=2
    )
    assert "no key file: pass --file or --enc-key-file" in cli(
        env, "keys", "register", "--use", "enc", status=2
    )
    assert "--use sig only" in cli(
        env,
        "keys",
        "rotate",
        "--use",
        "enc",
        "--out",
        str(tmp_path / "x.key"),
        "--revoke-old-client",
        status=2,
    )
    assert not (tmp_path / "x.key").exists()
    assert "NotFound" in cli(env, "keys", "revoke", "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", status=2)
