"""`hub demo --keep-running` gives each demo organization a person per role, who can sign in to the console."""

from __future__ import annotations

import io

import httpx
import pytest
from rich.console import Console

from hub.db import make_engine, make_session_factory
from hub.local import LocalHub
from hub.orgs import service as orgs
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from qualink_demo.actors import Actor
from qualink_demo.people import create_people, print_sign_ins
from tests.hub.console.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_every_role_of_every_organization_can_sign_in() -> None:
    console = Console(file=io.StringIO(), width=200)
    with LocalHub() as hub:
        actors = []
        engine = make_engine(hub.settings)
        with make_session_factory(engine).begin() as session:
            for name, kind in (("Aurora Motors AG", OrgKind.OEM), ("Borealis Castings", OrgKind.SUPPLIER)):
                org = orgs.create_organization(
                    session, actor="test", data=OrganizationCreate(name=name, kind=kind)
                )
                actor = Actor(name, kind.value, console, hub.base_url)
                actor.org_id = str(org.id)
                actors.append(actor)
        engine.dispose()

        people = create_people(hub, actors)
        print_sign_ins(console, hub.base_url, people)

        assert sorted((p.organization, p.role) for p in people) == sorted(
            (a.name, role) for a in actors for role in ("viewer", "sqe", "purchasing", "plant", "admin")
        )
        printed = console.file.getvalue()  # type: ignore[attr-defined]
        assert f"{hub.base_url}/console/" in printed and "sqe@aurora-motors-ag.example" in printed
        assert people[0].password in printed
        for who, home in (
            ("sqe@aurora-motors-ag.example", "/console/network"),
            ("plant@borealis-castings.example", "/console/standing"),
        ):
            with httpx.Client(base_url=hub.base_url, timeout=10) as http:
                assert sign_in(http, who, people[0].password).status_code == 303
                assert http.get("/console/", follow_redirects=False).headers["location"] == home
        for actor in actors:
            actor.http.close()
