"""Production safety: unknown HUB_ variables refuse start-up, development mode says so, production needs its
issuer, and the command line answers a missing or unreachable database in one line (exit 2)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import ValidationError

from hub import migrate
from hub.app import create_app
from hub.config import (
    DEVELOPMENT_WARNING,
    NON_SETTING_PREFIXES,
    Settings,
    UnknownSetting,
    get_settings,
    issuer_for_served_address,
    unknown_variables,
)
from hub.local import free_port
from tests.conftest import TEST_ISSUER, _drop_database, _fresh_database_url, make_settings
from tests.hub.conftest import hub

ROOT = Path(__file__).resolve().parents[2]


def pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The hub's settings read afresh from an environment the test sets (cached settings cleared both ways)."""
    for name in ("HUB_ENVIRONMENT", "HUB_TOKEN_SIGNING_KEY", "HUB_ISSUER", "HUB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


# -- unknown variables ----------------------------------------------------------------------------------------


def test_hub_env_refuses_start_up_naming_the_setting_it_was_meant_to_be(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("HUB_ENV", "production")
    with pytest.raises(UnknownSetting, match=r"HUB_ENV \(did you mean HUB_ENVIRONMENT\?\)"):
        get_settings()


def test_the_cli_says_so_in_one_line_and_exits_2(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environment.setenv("HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'any.db'}")
    environment.setenv("HUB_MAX_BODY_BYTE", "2048")
    result = hub("org", "list")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("configuration error: unknown setting HUB_MAX_BODY_BYTE")
    assert "(did you mean HUB_MAX_BODY_BYTES?)" in line


def test_a_lower_case_misspelling_is_caught_too_as_the_settings_read_names_case_insensitively() -> None:
    assert unknown_variables({"hub_enviroment": "production"}) == [
        "hub_enviroment (did you mean HUB_ENVIRONMENT?)"
    ]


def test_settings_other_variables_and_the_test_and_bench_variables_pass() -> None:
    environ = {
        "HUB_ENVIRONMENT": "development",
        "hub_database_url": "sqlite://",
        "HUB_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/qualink_ci",
        "HUB_BENCH_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        "HUB_BENCH_WORKERS": "2",
        "HUBBLE": "not ours",
        "PATH": "/usr/bin",
    }
    assert unknown_variables(environ) == []


def test_no_setting_could_be_mistaken_for_a_test_or_bench_variable() -> None:
    names = [f"HUB_{field.upper()}" for field in Settings.model_fields]
    assert not [name for name in names if name.startswith(NON_SETTING_PREFIXES)]


def test_every_hub_variable_the_docs_and_deploy_files_name_is_a_setting() -> None:
    files = [ROOT / "README.md", ROOT / ".ci" / "run", *sorted((ROOT / "deploy").rglob("*"))]
    named = {
        name
        for path in files
        if path.is_file()
        for name in re.findall(r"\bHUB_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(errors="replace"))
    }
    assert "HUB_ISSUER" in named
    # The READMEs name HUB_ENV as the typo the check catches; nothing else may be unknown.
    assert unknown_variables(dict.fromkeys(named - {"HUB_ENV"}, "")) == []


# -- development mode and the issuer ----------------------------------------------------------------------------


def test_development_mode_says_so_at_every_start(
    migrated_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        with TestClient(create_app(make_settings(migrated_database))):
            pass
    assert capsys.readouterr().err.count(DEVELOPMENT_WARNING) == 2


def test_production_does_not_warn(migrated_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(
        database_url=migrated_database,
        environment="production",
        token_signing_key=pem(Ed25519PrivateKey.generate()),
        issuer="https://hub.example.com",
        **{name: 0 for name in Settings.model_fields if name.endswith("_interval_seconds")},
    )
    with TestClient(create_app(settings)):
        pass
    assert "DEVELOPMENT MODE" not in capsys.readouterr().err


@pytest.mark.usefixtures("environment")
def test_production_without_hub_issuer_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="HUB_ISSUER is required when HUB_ENVIRONMENT=production"):
        Settings(environment="production", token_signing_key=pem(Ed25519PrivateKey.generate()))


def test_a_development_loopback_issuer_accepts_client_assertions_for_its_other_loopback_names() -> None:
    settings = Settings(database_url="sqlite://", issuer="http://127.0.0.1:8123")
    audiences = settings.client_assertion_audiences()
    for base in ("http://127.0.0.1:8123", "http://localhost:8123", "http://[::1]:8123"):
        assert f"{base}/oauth/token" in audiences and base in audiences
    assert not [a for a in audiences if ":8000" in a]


def test_production_and_public_issuers_accept_exactly_their_own_url() -> None:
    production = Settings(
        database_url="sqlite://",
        environment="production",
        issuer="https://hub.example.com",
        token_signing_key=pem(Ed25519PrivateKey.generate()),
    )
    assert production.client_assertion_audiences() == [
        "https://hub.example.com/oauth/token",
        "https://hub.example.com",
    ]
    public = Settings(database_url="sqlite://", issuer="http://hub.test:9000")
    assert public.client_assertion_audiences() == ["http://hub.test:9000/oauth/token", "http://hub.test:9000"]


def test_the_served_address_becomes_the_issuer() -> None:
    assert issuer_for_served_address("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert issuer_for_served_address("0.0.0.0", 8123) == "http://localhost:8123"  # noqa: S104
    assert issuer_for_served_address("::1", 8123) == "http://[::1]:8123"


# -- the command line against a database that is not there, or not migrated ---------------------------------------


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it (no migrations ran): SQLite, or PostgreSQL under HUB_TEST_DATABASE_URL."""
    url = _fresh_database_url(tmp_path, "empty")
    yield url
    _drop_database(url)


@pytest.mark.parametrize(
    "command",
    [
        ("org", "create", "--name", "Aurora", "--kind", "oem"),
        ("org", "list"),
        ("client", "create", "--org", "Aurora", "--name", "mes"),
        ("audit", "verify"),
        ("rules", "sweep"),
        ("db", "current"),
    ],
)
def test_a_database_without_schema_is_one_line_and_exit_2(
    environment: pytest.MonkeyPatch, empty_database: str, command: tuple[str, ...]
) -> None:
    environment.setenv("HUB_DATABASE_URL", empty_database)
    result = hub(*command)
    if command == ("db", "current"):  # it reports the state instead of failing on it
        assert result.exit_code == 0 and "database: None" in result.stdout
        return
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == ["error: the database has no schema: run `hub db upgrade`"]


def test_an_unreachable_database_is_one_line_naming_host_and_port_and_exit_2(
    environment: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    environment.setenv("HUB_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{port}/qualink")
    for command in (("org", "create", "--name", "Aurora", "--kind", "oem"), ("db", "upgrade")):
        result = hub(*command)
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"error: cannot reach the database at 127.0.0.1:{port}: "), line


# -- hub config check -------------------------------------------------------------------------------------------


def test_config_check_on_a_good_environment_says_ok_and_exits_0(
    environment: pytest.MonkeyPatch, fresh_database: str
) -> None:
    environment.setenv("HUB_DATABASE_URL", fresh_database)
    environment.setenv("HUB_ISSUER", TEST_ISSUER)
    result = hub("config", "check")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert f"ok   schema at {migrate.head_revision()}" in lines
    assert any(line.startswith("warn DEVELOPMENT MODE") for line in lines)
    assert not [line for line in lines if line.startswith("FAIL")]


def test_config_check_names_every_problem_and_exits_1(
    environment: pytest.MonkeyPatch, empty_database: str
) -> None:
    environment.setenv("HUB_DATABASE_URL", empty_database)
    environment.setenv("HUB_ENV", "production")
    result = hub("config", "check")
    assert result.exit_code == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failures == [
        "FAIL unknown setting HUB_ENV (did you mean HUB_ENVIRONMENT?)",
        "FAIL the database has no schema: run `hub db upgrade`",
    ]


def test_config_check_reports_what_production_lacks_without_touching_anything(
    environment: pytest.MonkeyPatch, empty_database: str
) -> None:
    environment.setenv("HUB_DATABASE_URL", empty_database)
    environment.setenv("HUB_ENVIRONMENT", "production")
    environment.setenv("HUB_TOKEN_SIGNING_KEY", pem(Ed25519PrivateKey.generate()))
    result = hub("config", "check")
    assert result.exit_code == 1
    assert "FAIL HUB_ISSUER is required when HUB_ENVIRONMENT=production" in result.stdout
