"""`hub sso add|list|remove` against a real, committed database: the secret only from standard input, kept
sealed, never printed; bad input one clear line naming the field, nothing written."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.config import get_settings
from hub.models import AuditEntry, SsoProvider
from hub.sso import sealing
from tests.hub.conftest import hub

SECRET = "the provider's client secret"
ISSUER = "https://login.example.com/realms/aurora"


def _add(*args: str, secret: str = SECRET) -> str:
    result = CliRunner().invoke(cli, ["sso", "add", *args, "--client-secret-stdin"], input=secret + "\n")
    return result.output if result.exit_code == 0 else f"EXIT {result.exit_code}: {result.output}"


def test_add_list_remove(cli_read: Session) -> None:
    assert hub("org", "create", "--name", "Aurora", "--kind", "oem").exit_code == 0
    out = _add(
        "--org", "Aurora", "--name", "Aurora Keycloak", "--issuer", ISSUER, "--client-id", "qualink",
        "--allow-domain", "Aurora.example", "--role-claim", "groups", "--map", "qx-admins=admin",
        "--map", "qx-sqe=sqe", "--provision",
    )  # fmt: skip
    assert "added" in out and "/console/sso/callback" in out, out

    listed = json.loads(hub("sso", "list", "--org", "Aurora", "--json").stdout)
    assert [
        (r["name"], r["discovery_url"], r["allowed_email_domains"], r["role_mapping"]) for r in listed
    ] == [
        (
            "Aurora Keycloak",
            f"{ISSUER}/.well-known/openid-configuration",
            ["aurora.example"],
            {"qx-admins": "admin", "qx-sqe": "sqe"},
        )
    ]
    table = hub("sso", "list", "--org", "Aurora")
    assert table.exit_code == 0 and "Keycloak" in table.stdout and SECRET not in table.stdout
    row = cli_read.scalars(select(SsoProvider)).one()
    assert SECRET.encode() not in row.client_secret_encrypted
    assert sealing.open_secret(get_settings().sso_key(), row.client_secret_encrypted) == SECRET

    assert hub("sso", "remove", "--org", "Aurora", "--name", "Aurora Keycloak").exit_code == 0
    cli_read.expire_all()
    assert cli_read.scalars(select(SsoProvider)).all() == []
    actions = cli_read.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_type == "sso_provider")
    ).all()
    assert actions == ["sso.provider_added", "sso.provider_removed"]
    assert all(SECRET not in str(entry.data) for entry in cli_read.scalars(select(AuditEntry)))


def test_bad_input_is_one_line_naming_the_field_and_nothing_is_written(cli_read: Session) -> None:
    assert hub("org", "create", "--name", "Borealis", "--kind", "supplier").exit_code == 0
    base = ["--org", "Borealis", "--name", "Okta", "--client-id", "qualink"]
    assert "issuer: an https URL" in _add(*base, "--issuer", "http://login.example.com")
    assert "role_mapping: unknown role 'boss'" in _add(
        *base, "--issuer", ISSUER, "--role-claim", "g", "--map", "x=boss"
    )
    assert "role_claim: name the claim" in _add(*base, "--issuer", ISSUER, "--map", "x=sqe")
    assert "default_role: unknown role" in _add(*base, "--issuer", ISSUER, "--default-role", "root")
    assert "--map takes CLAIM_VALUE=ROLE" in _add(
        *base, "--issuer", ISSUER, "--role-claim", "g", "--map", "x"
    )
    assert "client_secret: 1 to 2000" in _add(*base, "--issuer", ISSUER, secret="")
    assert "no organization 'Nowhere'" in _add("--org", "Nowhere", *base[2:], "--issuer", ISSUER)
    no_stdin = hub("sso", "add", *base, "--issuer", ISSUER)
    assert no_stdin.exit_code == 2 and "--client-secret-stdin" in no_stdin.output
    assert "no provider named Okta" in hub("sso", "remove", "--org", "Borealis", "--name", "Okta").output
    assert cli_read.scalars(select(SsoProvider)).all() == []
    assert "added" in _add(*base, "--issuer", ISSUER)
    assert "already has a provider named Okta" in _add(*base, "--issuer", ISSUER)


def test_production_has_no_default_key(cli_read: Session) -> None:
    settings = get_settings().model_copy(update={"environment": "production"})
    with pytest.raises(ValueError, match="HUB_SSO_SECRET_KEY is required"):
        settings.sso_key()
    keyed = settings.model_copy(update={"sso_secret_key": "x" * 40})
    assert keyed.sso_key() != get_settings().sso_key()
