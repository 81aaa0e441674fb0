"""Where the SDK finds the organization's X25519 key: QUALINK_ENC_KEY_FILE or --enc-key-file."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from protocol.encoding import b64url_encode
from protocol.signing import generate_signing_key
from supplier_sdk.config import ENC_KEY_FILE_VAR, load_config
from supplier_sdk.errors import ConfigError
from supplier_sdk.rooms.keywrap import encryption_key_id, generate_encryption_key


def test_the_option_wins_over_the_environment_and_the_key_loads(tmp_path: Path) -> None:
    key = generate_encryption_key()
    chosen = tmp_path / "chosen.key"
    chosen.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    other = tmp_path / "other.key"
    other.write_text(b64url_encode(generate_encryption_key().private_bytes_raw()))

    config = load_config(enc_key_file=chosen, environ={ENC_KEY_FILE_VAR: str(other)})

    assert config.enc_key_file == chosen
    assert encryption_key_id(config.encryption_key()) == encryption_key_id(key)
    assert load_config(environ={ENC_KEY_FILE_VAR: str(other)}).enc_key_file == other
    assert load_config(environ={ENC_KEY_FILE_VAR: ""}).enc_key_file is None


def test_a_missing_unreadable_or_wrong_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=ENC_KEY_FILE_VAR):
        load_config(environ={}).encryption_key()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(enc_key_file=tmp_path / "absent.key", environ={}).encryption_key()
    signing = tmp_path / "signing.pem"
    signing.write_bytes(
        generate_signing_key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ConfigError, match="holds no X25519 private key"):
        load_config(enc_key_file=signing, environ={}).encryption_key()
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key at all")
    with pytest.raises(ConfigError, match="holds no X25519 private key"):
        load_config(enc_key_file=garbage, environ={}).encryption_key()
