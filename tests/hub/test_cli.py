"""The operator's `hub` command line against a real, committed database."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import migrate
from hub.config import get_settings
from hub.models import ApiClient, AuditEntry, Organization
from protocol.jwk import public_jwk
from tests.hub.conftest import hub, one_line


def create_org(name: str, kind: str = "supplier") -> uuid.UUID:
    result = hub("org", "create", "--name", name, "--kind", kind)
    assert result.exit_code == 0, result.output
    return uuid.UUID(result.stdout.strip())


def test_org_create_prints_the_id_and_commits_an_audited_row(cli_read: Session) -> None:
    org_id = create_org("Aurora Motors AG", "oem")

    row = cli_read.get(Organization, org_id)
    assert row is not None and (row.name, row.kind) == ("Aurora Motors AG", "oem")
    entry = cli_read.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(org_id))).one()
    assert (entry.action, entry.actor) == ("organization.created", "cli:operator")


def test_org_create_with_a_bad_kind_is_one_clear_line(cli_read: Session) -> None:
    result = hub("org", "create", "--name", "Nowhere Ltd", "--kind", "factory")

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: kind:")
    assert "'oem', 'supplier', 'lab', 'certifier' or 'operator'" in lines[0]
    assert cli_read.scalar(select(func.count()).select_from(Organization)) == 0


def test_org_create_twice_fails_cleanly(cli_read: Session) -> None:
    create_org("Kessler")
    result = hub("org", "create", "--name", "Kessler", "--kind", "oem")
    assert result.exit_code == 2
    assert one_line(result.stderr) == "error: an organization named 'Kessler' exists already"
    assert cli_read.scalar(select(func.count()).select_from(Organization)) == 1


def test_org_list_shows_every_organization(cli_database: str) -> None:
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


def test_client_create_json_prints_the_secret_once_and_stores_a_digest(cli_read: Session) -> None:
    org_id = create_org("Voltara")

    result = hub("client", "create", "--org", "Voltara", "--name", "MES connector", "--json")

    assert result.exit_code == 0, result.output
    created: dict[str, Any] = json.loads(result.stdout)
    secret = created["client_secret"]
    assert secret.startswith("qls_") and result.stdout.count(secret) == 1
    assert created["auth_method"] == "client_secret_basic"
    row = cli_read.scalars(select(ApiClient).where(ApiClient.client_id == created["client_id"])).one()
    assert row.organization_id == org_id
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).digest()
    assert created["scopes"] == row.scopes
    # It is never shown again.
    assert secret not in hub("org", "list").stdout


def test_client_create_by_id_with_scopes(cli_read: Session) -> None:
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


def test_client_create_with_a_scope_the_kind_may_not_hold(cli_read: Session) -> None:
    create_org("Lindqvist")
    result = hub("client", "create", "--org", "Lindqvist", "--name", "x", "--scopes", "operator:admin")
    assert result.exit_code == 2
    assert "operator:admin" in one_line(result.stderr)
    assert cli_read.scalar(select(func.count()).select_from(ApiClient)) == 0


def test_client_create_for_an_unknown_org(cli_read: Session) -> None:
    result = hub("client", "create", "--org", "Nobody GmbH", "--name", "x")
    assert result.exit_code == 2
    assert one_line(result.stderr) == "error: no organization 'Nobody GmbH'"
    assert cli_read.scalar(select(func.count()).select_from(ApiClient)) == 0


@pytest.mark.parametrize("form", ["public-pem", "private-pem", "private-jwk"])
def test_client_create_with_a_public_key_makes_a_key_client(
    cli_read: Session, tmp_path: Path, form: str
) -> None:
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
    row = cli_read.scalars(select(ApiClient).where(ApiClient.client_id == created["client_id"])).one()
    # Only the public half is stored, whatever form the operator handed over.
    assert row.public_jwk == public_jwk(key)
    assert row.secret_sha256 is None


def test_client_create_human_output_warns_the_secret_is_shown_once(cli_database: str) -> None:
    create_org("Voltara")
    result = hub("client", "create", "--org", "Voltara", "--name", "MES")
    assert result.exit_code == 0, result.output
    text = one_line(result.stdout)
    assert "client_secret: qls_" in text and "shown once" in text


def test_db_current_names_the_schema_and_the_code_head(cli_database: str) -> None:
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
