"""Signing people in to the in-process console, bound to the test's transaction."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.models import Organization, Person
from tests.hub.console.browsing import browser, network  # noqa: F401 (fixtures of the browser tests)
from tests.hub.kpis.conftest import reporting
from tests.hub.people.helpers import PASSWORD, make_person

__all__ = ["reporting"]

_HIDDEN = re.compile(r'name="(csrf_token|form_token)" value="([^"]+)"')


def hidden(html: str, name: str) -> str:
    values = [value for field, value in _HIDDEN.findall(html) if field == name]
    assert values, f"no {name} in the page"
    return values[0]


def sign_in(http: httpx.Client | TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = http.get("/console/sign-in")
    assert page.status_code == 200
    form = {"email": email, "password": password, "form_token": hidden(page.text, "form_token")}
    return http.post("/console/sign-in", data=form, follow_redirects=False)


def person_in(db: Session, org: Organization, role: str = "sqe", email: str | None = None) -> Person:
    person = make_person(db, org, role=role, email=email)
    db.commit()
    return person


def signed_in_client(
    client: TestClient, db: Session, org: Organization, role: str = "sqe"
) -> tuple[Person, str]:
    """Sign a new person of ``org`` in on ``client``; returns them and their CSRF token."""
    person = person_in(db, org, role)
    response = sign_in(client, person.email)
    assert response.status_code == 303, response.text
    page = client.get("/console/inbox")
    assert page.status_code == 200, page.text
    return person, hidden(page.text, "csrf_token")
