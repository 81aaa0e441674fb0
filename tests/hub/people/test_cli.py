"""`hub user ...` against a real, committed database."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.models import AuditEntry, Person
from hub.people import passwords
from tests.hub.conftest import hub

PASSWORD = "a long enough password"


def _create(*args: str, password: str = PASSWORD) -> str:
    result = CliRunner().invoke(cli, ["user", "create", *args, "--password-stdin"], input=password + "\n")
    return result.output if result.exit_code == 0 else f"EXIT {result.exit_code}: {result.output}"


def test_create_list_set_role_disable(cli_read: Session) -> None:
    assert hub("org", "create", "--name", "Aurora", "--kind", "oem").exit_code == 0
    out = _create("--org", "Aurora", "--email", "sqe@aurora.example", "--role", "sqe")
    assert "created" in out, out

    person = cli_read.scalars(select(Person)).one()
    assert person.role == "sqe" and person.password_hash and passwords.verify(person.password_hash, PASSWORD)
    listed = json.loads(hub("user", "list", "--org", "Aurora", "--json").stdout)
    assert [(row["email"], row["role"], row["disabled_at"]) for row in listed] == [
        ("sqe@aurora.example", "sqe", None)
    ]

    assert (
        hub(
            "user", "set-role", "--org", "Aurora", "--email", "SQE@aurora.example", "--role", "admin"
        ).exit_code
        == 0
    )
    assert hub("user", "disable", "--org", "Aurora", "--email", "sqe@aurora.example").exit_code == 0
    cli_read.expire_all()
    person = cli_read.scalars(select(Person)).one()
    assert person.role == "admin" and person.disabled_at is not None
    actions = cli_read.scalars(select(AuditEntry.action).where(AuditEntry.subject_type == "person")).all()
    assert actions == ["person.created", "person.role_changed", "person.disabled"]
    assert all(PASSWORD not in str(e.data) for e in cli_read.scalars(select(AuditEntry)))


def test_errors_are_one_clear_line_and_nothing_is_written(cli_read: Session) -> None:
    assert hub("org", "create", "--name", "Borealis", "--kind", "supplier").exit_code == 0
    assert "role: unknown role 'boss'" in _create(
        "--org", "Borealis", "--email", "a@b.example", "--role", "boss"
    )
    assert "at least 12 characters" in _create(
        "--org", "Borealis", "--email", "a@b.example", "--role", "viewer", password="short"
    )
    assert "no organization 'Nowhere'" in _create(
        "--org", "Nowhere", "--email", "a@b.example", "--role", "viewer"
    )
    assert "EXIT 2" in hub_output("user", "disable", "--org", "Borealis", "--email", "nobody@b.example")
    result = CliRunner().invoke(
        cli, ["user", "create", "--org", "Borealis", "--email", "a@b.example", "--role", "viewer"]
    )
    assert result.exit_code == 2 and "--password-stdin" in result.output
    assert cli_read.scalars(select(Person)).all() == []


def hub_output(*args: str) -> str:
    result = hub(*args)
    return f"EXIT {result.exit_code}: {result.output}"
