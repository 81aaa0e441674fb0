"""An in-process hub bound to the test's transaction, and helpers that make organizations and clients; the
operator's ``hub`` command line against a fresh, committed database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from hub.app import create_app
from hub.cli import app as cli
from hub.config import Settings, get_settings
from hub.db import get_session
from hub.models import Organization
from hub.orgs import service as orgs
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from tests.conftest import TEST_ISSUER


@pytest.fixture
def app(settings: Settings, db: Session) -> FastAPI:
    app = create_app(settings)

    def _test_session() -> Iterator[Session]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = _test_session
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) as client:
        yield client


@dataclass
class Actor:
    """An organization with a secret client, and an HTTP client that carries its access token."""

    org: Organization
    client_id: str
    secret: str
    http: TestClient

    def token(self, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope is not None:
            data["scope"] = scope
        response = self.http.post("/oauth/token", data=data, auth=(self.client_id, self.secret))
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def headers(self, scope: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scope)}"}

    def get(self, url: str, *, scope: str | None = None, **kw: object) -> httpx.Response:
        return self.http.get(url, headers=self.headers(scope), **kw)  # type: ignore[arg-type]

    def post(self, url: str, *, scope: str | None = None, **kw: object) -> httpx.Response:
        return self.http.post(url, headers=self.headers(scope), **kw)  # type: ignore[arg-type]


def make_org(db: Session, kind: OrgKind, name: str | None = None) -> Organization:
    data = OrganizationCreate(name=name or f"{kind.value}-{uuid.uuid4().hex[:8]}", kind=kind)
    org = orgs.create_organization(db, actor="test", data=data)
    db.commit()
    return org


def make_actor(db: Session, http: TestClient, kind: OrgKind, *, scopes: list[str] | None = None) -> Actor:
    org = make_org(db, kind)
    api_client, secret = orgs.create_client(
        db, actor="test", actor_org_id=None, org_id=org.id, name="test", scopes=scopes, public_jwk=None
    )
    db.commit()
    assert secret is not None
    return Actor(org=org, client_id=api_client.client_id, secret=secret, http=http)


@pytest.fixture
def operator(db: Session, client: TestClient) -> Actor:
    return make_actor(db, client, OrgKind.OPERATOR)


@pytest.fixture
def oem(db: Session, client: TestClient) -> Actor:
    return make_actor(db, client, OrgKind.OEM)


@pytest.fixture
def supplier(db: Session, client: TestClient) -> Actor:
    return make_actor(db, client, OrgKind.SUPPLIER)


@pytest.fixture
def other_supplier(db: Session, client: TestClient) -> Actor:
    return make_actor(db, client, OrgKind.SUPPLIER)


# -- the `hub` command line ----------------------------------------------------------------------------------


@pytest.fixture
def cli_database(fresh_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``hub`` commands see the fresh database; get_settings() is cached, so clear it on both sides."""
    monkeypatch.setenv("HUB_DATABASE_URL", fresh_database)
    monkeypatch.setenv("HUB_ISSUER", TEST_ISSUER)
    monkeypatch.delenv("HUB_ENVIRONMENT", raising=False)
    monkeypatch.delenv("HUB_TOKEN_SIGNING_KEY", raising=False)
    get_settings.cache_clear()
    yield fresh_database
    get_settings.cache_clear()


@pytest.fixture
def cli_read(cli_database: str) -> Iterator[Session]:
    """A session on the CLI's database, for checking what the commands committed."""
    engine = create_engine(cli_database)
    with Session(engine) as session:
        yield session
    engine.dispose()


def hub(*args: str) -> Result:
    """``hub ARGS`` in this process, output captured."""
    return CliRunner().invoke(cli, list(args))


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of white space folded into single spaces."""
    return " ".join(text.split())
