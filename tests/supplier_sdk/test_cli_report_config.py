"""Where the CLI finds its hub, credentials and outbox: options over environment over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.encoding import b64url_encode
from protocol.signing import public_key_raw
from supplier_sdk.config import DEFAULT_OUTBOX, load_config, read_key_file
from supplier_sdk.errors import ConfigError

ENV = {
    "QUALINK_HUB_URL": "https://env.hub/",
    "QUALINK_CLIENT_ID": "qlc_env",
    "QUALINK_KEY_FILE": "/env/key.pem",
    "QUALINK_OUTBOX": "/env/outbox.db",
}


def test_environment_variables_are_read() -> None:
    config = load_config(environ=ENV)

    assert config.hub_url == "https://env.hub"
    assert config.client_id == "qlc_env"
    assert config.key_file == Path("/env/key.pem")
    assert config.outbox_path == Path("/env/outbox.db")


def test_options_win_over_the_environment() -> None:
    config = load_config(
        hub="http://127.0.0.1:8000", client_id="qlc_opt", key_file="/opt/k", outbox="/opt/o.db", environ=ENV
    )

    assert (config.hub_url, config.client_id, config.key_file, config.outbox_path) == (
        "http://127.0.0.1:8000",
        "qlc_opt",
        Path("/opt/k"),
        Path("/opt/o.db"),
    )


def test_empty_values_count_as_unset_and_the_outbox_has_a_home_default() -> None:
    config = load_config(hub="  ", environ={"QUALINK_HUB_URL": "", "QUALINK_OUTBOX": ""})

    assert config.hub_url is None
    assert config.outbox_path == DEFAULT_OUTBOX.expanduser()
    assert config.outbox_path == Path.home() / ".qualink" / "outbox.db"


def test_the_real_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALINK_CLIENT_ID", "qlc_from_os")

    assert load_config().client_id == "qlc_from_os"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "no hub URL: set QUALINK_HUB_URL or pass --hub"),
        ({"QUALINK_HUB_URL": "http://h"}, "no client id: set QUALINK_CLIENT_ID or pass --client-id"),
        (
            {"QUALINK_HUB_URL": "http://h", "QUALINK_CLIENT_ID": "c"},
            "no key file: set QUALINK_KEY_FILE or pass --key-file",
        ),
    ],
)
def test_missing_credentials_name_the_variable_and_the_option(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ).require_credentials()

    assert str(caught.value) == message


def test_a_hub_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="must start with http:// or https://"):
        load_config(environ={"QUALINK_HUB_URL": "ftp://hub"})


def _key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.mark.parametrize("form", ["pem", "seed", "seed-with-newline", "raw"])
def test_key_files_in_every_accepted_form_load_the_same_key(tmp_path: Path, form: str) -> None:
    key = _key()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    content = {
        "pem": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "seed": b64url_encode(seed).encode(),
        "seed-with-newline": (b64url_encode(seed) + "\n").encode(),
        "raw": seed,
    }[form]
    path = tmp_path / "supplier.key"
    path.write_bytes(content)

    loaded = load_config(key_file=path, environ={}).private_key()

    assert public_key_raw(loaded) == public_key_raw(key)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key at all", "holds no Ed25519 private key"),
        (b"\xff\xfe" * 20, "not text, and not 32 raw bytes"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "unreadable PEM"),
    ],
)
def test_an_unusable_key_file_is_a_config_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)

    with pytest.raises(ConfigError) as caught:
        read_key_file(path)

    assert message in str(caught.value) and str(path) in str(caught.value)


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"key file not found: .*absent\.pem"):
        load_config(key_file=tmp_path / "absent.pem", environ={}).private_key()


def test_the_client_and_outbox_come_from_the_config(tmp_path: Path) -> None:
    key = _key()
    path = tmp_path / "k"
    path.write_text(b64url_encode(key.private_bytes_raw()))
    config = load_config(
        hub="http://127.0.0.1:9/",
        client_id="qlc_x",
        key_file=path,
        outbox=tmp_path / "deep" / "o.db",
        environ={},
    )

    with config.client() as hub:
        assert (hub.base_url, hub.client_id) == ("http://127.0.0.1:9", "qlc_x")
    assert config.outbox().pending() == [] and (tmp_path / "deep" / "o.db").exists()
