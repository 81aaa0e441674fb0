"""`hub demo --keep-running`: a person per role in each demo organization, so the console can be tried.

Made as `hub user create` makes them (the people service in a session of its own), with one fresh random
password for this run, printed with the sign-in address. The demo's hub is a throwaway on a temporary file."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from hub.db import make_engine, make_session_factory
from hub.local import LocalHub
from hub.people import service
from hub.people.roles import Role
from qualink_demo.actors import Actor


@dataclass(frozen=True)
class DemoSignIn:
    organization: str
    role: str
    email: str
    password: str


def _domain(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") + ".example"


def create_people(hub: LocalHub, actors: list[Actor]) -> list[DemoSignIn]:
    password = secrets.token_urlsafe(12)
    made = []
    engine = make_engine(hub.settings)
    try:
        with make_session_factory(engine).begin() as session:
            for actor in actors:
                for role in Role:
                    email = f"{role.value}@{_domain(actor.name)}"
                    service.create_person(
                        session,
                        actor="cli:operator",
                        actor_org_id=None,
                        org_id=uuid.UUID(actor.org_id),
                        email=email,
                        role=role,
                        password=password,
                        display_name=f"{role.value.upper()} {actor.name}",
                    )
                    made.append(DemoSignIn(actor.name, role.value, email, password))
    finally:
        engine.dispose()
    return made


def print_sign_ins(console: Console, base_url: str, people: list[DemoSignIn]) -> None:
    table = Table("organization", "role", "email", "password", title=f"Sign in at {base_url}/console/")
    for person in people:
        table.add_row(person.organization, person.role, person.email, person.password)
    console.print(table)
