"""The operator's `hub` command line against a real, committed database."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from hub import migrate
from hub.cli import app as cli
from hub.config import get_settings
from hub.models import ApiClient, AuditEntry, Organization
from supplier_sdk.auth import public_jwk
from tests.conftest import TEST_ISSUER


@pytest.fixture
def database(fresh_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``hub`` commands see the fresh database; get_settings() is cached, so clear it on both sides."""
    monkeypatch.setenv("HUB_DATABASE_URL", fresh_database)
    monkeypatch.setenv("HUB_ISSUER", TEST_ISSUER)
    monkeypatch.delenv("HUB_ENVIRONMENT", raising=False)
    monkeypatch.delenv("HUB_TOKEN_SIGNING_KEY", raising=False)
    get_settings.cache_clear()
    yield fresh_database
    get_settings.cache_clear()


@pytest.fixture
def read(database: str) -> Iterator[Session]:
    """A session on the CLI's database, for checking what the commands committed."""
    engine = create_engine(database)
    with Session(engine) as session:
        yield session
    engine.dispose()


def hub(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_line(text: str) -> str:
    return " ".join(text.split())


def create_org(name: str, kind: str = "supplier") -> uuid.UUID:
    result = hub("org", "create", "--name", name, "--kind", kind)
    assert result.exit_code == 0, result.output
    return uuid.UUID(result.stdout.strip())


def test_org_create_prints_the_id_and_commits_an_audited_row(read: Session) -> None:
    org_id = create_org("Aurora Motors AG", "oem")

    row = read.get(Organization, org_id)
    assert row is not None and (row.name, row.kind) == ("Aurora Motors AG", "oem")
    entry = read.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(org_id))).one()
    assert (entry.action, entry.actor) == ("organization.created", "cli:operator")


def test_org_create_with_a_bad_kind_is_one_clear_line(read: Session) -> None:
    result = hub("org", "create", "--name", "Nowhere Ltd", "--kind", "factory")

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: kind:")
    assert "'oem', 'supplier', 'lab' or 'operator'" in lines[0]
    assert read.scalar(select(func.count()).select_from(Organization)) == 0


def test_org_create_twice_fails_cleanly(read: Session) -> None:
    create_org("Kessler")
    result = hub("org", "create", "--name", "Kessler", "--kind", "oem")
    assert result.exit_code == 2
    assert one_line(result.stderr) == "error: an organization named 'Kessler' exists already"
    assert read.scalar(select(func.count()).select_from(Organization)) == 1


def test_org_list_shows_every_organization(database: str) -> None:
    ids = {
        create_org(name, kind): (name, kind) for name, kind in (("Aurora", "oem"), ("Kessler", "supplier"))
    }

    result = hub("org", "list")

    assert result.exit_code == 0, result.output
    assert "Aurora" in result.stdout and "Kessler" in result.stdout
    assert "oem" in result.stdout and "supplier" in result.stdout

    scripted = hub("org", "list", "--json")
    assert scripted.exit_code == 0, scripted.output
    listed = {row["id"]: (row["name"], row["kind"]) for row in json.loads(scripted.stdout)}
    assert listed == {str(org_id): (name, kind) for org_id, (name, kind) in ids.items()}


def test_client_create_json_prints_the_secret_once_and_stores_a_digest(read: Session) -> None:
    org_id = create_org("Voltara")

    result = hub("client", "create", "--org", "Voltara", "--name", "MES connector", "--json")

    assert result.exit_code == 0, result.output
    created: dict[str, Any] = json.loads(result.stdout)
    secret = created["client_secret"]
    assert secret.startswith("qls_") and result.stdout.count(secret) == 1
    assert created["auth_method"] == "client_secret_basic"
    row = read.scalars(select(ApiClient).where(ApiClient.client_id == created["client_id"])).one()
    assert row.organization_id == org_id
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).digest()
    assert created["scopes"] == row.scopes
    # It is never shown again.
    assert secret not in hub("org", "list").stdout


def test_client_create_by_id_with_scopes(read: Session) -> None:
    org_id = create_org("Lindqvist")
    result = hub(
        "client",
        "create",
        "--org",
        str(org_id),
        "--name",
        "reader",
        "--scopes",
        "org:read kpi:read",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scopes"] == "kpi:read org:read"


def test_client_create_with_a_scope_the_kind_may_not_hold(read: Session) -> None:
    create_org("Lindqvist")
    result = hub("client", "create", "--org", "Lindqvist", "--name", "x", "--scopes", "operator:admin")
    assert result.exit_code == 2
    assert "operator:admin" in one_line(result.stderr)
    assert read.scalar(select(func.count()).select_from(ApiClient)) == 0


def test_client_create_for_an_unknown_org(read: Session) -> None:
    result = hub("client", "create", "--org", "Nobody GmbH", "--name", "x")
    assert result.exit_code == 2
    assert one_line(result.stderr) == "error: no organization 'Nobody GmbH'"
    assert read.scalar(select(func.count()).select_from(ApiClient)) == 0


@pytest.mark.parametrize("form", ["public-pem", "private-pem", "private-jwk"])
def test_client_create_with_a_public_key_makes_a_key_client(read: Session, tmp_path: Path, form: str) -> None:
    create_org("Kessler")
    key = Ed25519PrivateKey.generate()
    text = {
        "public-pem": lambda: (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        ),
        "private-pem": lambda: key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "private-jwk": lambda: json.dumps(OKPKey.import_key(key).as_dict(private=True)),
    }[form]()
    path = tmp_path / "key"
    path.write_text(text)

    result = hub("client", "create", "--org", "Kessler", "--name", "sdk", "--public-key", str(path), "--json")

    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["auth_method"] == "private_key_jwt" and "client_secret" not in created
    row = read.scalars(select(ApiClient).where(ApiClient.client_id == created["client_id"])).one()
    # Only the public half is stored, whatever form the operator handed over.
    assert row.public_jwk == public_jwk(key)
    assert row.secret_sha256 is None


def test_client_create_human_output_warns_the_secret_is_shown_once(database: str) -> None:
    create_org("Voltara")
    result = hub("client", "create", "--org", "Voltara", "--name", "MES")
    assert result.exit_code == 0, result.output
    text = one_line(result.stdout)
    assert "client_secret: qls_" in text and "shown once" in text


def test_db_current_names_the_schema_and_the_code_head(database: str) -> None:
    result = hub("db", "current")
    head = migrate.head_revision()
    assert result.exit_code == 0, result.output
    assert one_line(result.stdout) == f"database: {head} code head: {head}"


def test_db_current_on_an_empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = hub("db", "current")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert one_line(result.stdout) == f"database: None code head: {migrate.head_revision()}"


def test_a_configuration_error_exits_2_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_ENVIRONMENT", "production")
    monkeypatch.delenv("HUB_TOKEN_SIGNING_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = hub("db", "current")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "configuration error" in result.stderr and "HUB_TOKEN_SIGNING_KEY" in result.stderr
