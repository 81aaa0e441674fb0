"""`hub user create|list|disable|set-role|enable-totp`: the operator's way to give an organization its people.

Each command is one transaction, audited under the operator (``cli:operator``) like an API call."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.config import Settings, get_settings
from hub.errors import HubError
from hub.models import Organization, Person
from hub.models.base import utcnow
from hub.people import service

user_app = typer.Typer(help="People who sign in to the console.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
ACTOR = "cli:operator"

OrgOption = Annotated[str, typer.Option("--org", help="Organization name or id")]
EmailOption = Annotated[str, typer.Option("--email", help="The person's e-mail address")]


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def cli_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        raise fail(f"configuration error: {exc.errors()[0]['msg']}") from exc


@contextmanager
def cli_session() -> Iterator[Session]:
    from hub.db import make_engine, make_session_factory

    engine = make_engine(cli_settings())
    try:
        with make_session_factory(engine).begin() as session:
            yield session
    except HubError as exc:
        raise fail(exc.detail) from exc
    finally:
        engine.dispose()


def find_org(session: Session, ref: str) -> Organization:
    try:
        query = select(Organization).where(Organization.id == uuid.UUID(ref))
    except ValueError:
        query = select(Organization).where(Organization.name == ref)
    found = session.scalar(query)
    if found is None:
        raise fail(f"no organization '{ref}'")
    return found


def _row(person: Person) -> dict[str, str | None]:
    return {
        "id": str(person.id),
        "email": person.email,
        "display_name": person.display_name,
        "role": person.role,
        "disabled_at": person.disabled_at.isoformat() if person.disabled_at else None,
        "second_factor": "totp" if person.totp_secret else None,
    }


@user_app.command("create")
def user_create(
    org: OrgOption,
    email: EmailOption,
    role: Annotated[str, typer.Option("--role", help="viewer | sqe | purchasing | plant | admin")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input (never an argument)"),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: the e-mail's local part)")
    ] = None,
    locale: Annotated[str, typer.Option(help="en | de | zh")] = "en",
    time_zone: Annotated[str, typer.Option("--time-zone", help="IANA time zone, e.g. Europe/Berlin")] = "UTC",
) -> None:
    """Create a person in an organization; prints their id. The password comes only from standard input."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if not password_stdin:
        raise fail("give the password on standard input with --password-stdin")
    with cli_session() as session:
        found = find_org(session, org)
        person = service.create_person(
            session,
            actor=ACTOR,
            actor_org_id=None,
            org_id=found.id,
            email=email,
            role=role,
            password=password,
            display_name=name,
            locale=locale,
            time_zone=time_zone,
        )
        person_id = person.id
    console.print(f"created [bold]{email}[/bold] ({role}) in {found.name}: {person_id}")


@user_app.command("list")
def user_list(
    org: OrgOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")] = False,
) -> None:
    """List an organization's people."""
    from rich.table import Table

    with cli_session() as session:
        rows = [_row(person) for person in service.list_people(session, org_id=find_org(session, org).id)]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("email", "name", "role", "disabled", "2nd factor", "id")
    for row in rows:
        disabled = (row["disabled_at"] or "")[:19]
        table.add_row(
            row["email"], row["display_name"], row["role"], disabled, row["second_factor"] or "", row["id"]
        )
    console.print(table)


@user_app.command("disable")
def user_disable(org: OrgOption, email: EmailOption) -> None:
    """Disable a person: they cannot sign in, and every session they hold ends at its next request."""
    with cli_session() as session:
        person = service.find_person(session, org_id=find_org(session, org).id, email=email)
        service.disable_person(session, actor=ACTOR, actor_org_id=None, person=person, now=utcnow())
    console.print(f"disabled {email}")


@user_app.command("set-role")
def user_set_role(
    org: OrgOption,
    email: EmailOption,
    role: Annotated[str, typer.Option("--role", help="viewer | sqe | purchasing | plant | admin")],
) -> None:
    """Change a person's role; it applies from their next request."""
    with cli_session() as session:
        person = service.find_person(session, org_id=find_org(session, org).id, email=email)
        service.set_role(session, actor=ACTOR, actor_org_id=None, person=person, role=role)
    console.print(f"{email} is now {role}")


@user_app.command("enable-totp")
def user_enable_totp(org: OrgOption, email: EmailOption) -> None:
    """Turn on a one-time code (TOTP) as second factor; prints the otpauth:// URI for an authenticator app."""
    with cli_session() as session:
        person = service.find_person(session, org_id=find_org(session, org).id, email=email)
        uri = service.enable_totp(session, actor=ACTOR, actor_org_id=None, person=person)
    print(uri)
