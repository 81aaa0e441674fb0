"""A committed world for a hub in its own process: an operator, an OEM and a supplier, each with a secret
client holding every scope its kind may hold, made on a database the caller names and migrates here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session

from hub import migrate
from hub.db import make_engine
from hub.orgs import service as orgs
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from tests.conftest import make_settings


@dataclass(frozen=True)
class Credentials:
    """One organization's secret client."""

    org_id: str
    client_id: str
    secret: str

    def token(self, base_url: str) -> str:
        """An access token from the hub at ``base_url`` (client credentials, every scope of the client)."""
        response = httpx.post(
            f"{base_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.secret),
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def build_world(database_url: str) -> dict[OrgKind, Credentials]:
    """Migrate ``database_url`` and commit one organization and client per kind (lab excepted)."""
    engine = make_engine(make_settings(database_url))
    migrate.upgrade(engine)
    made: dict[OrgKind, Credentials] = {}
    with Session(engine) as session:
        for kind in (OrgKind.OPERATOR, OrgKind.OEM, OrgKind.SUPPLIER):
            data = OrganizationCreate(name=f"{kind.value}-{uuid.uuid4().hex[:8]}", kind=kind)
            org = orgs.create_organization(session, actor="conformance", data=data)
            client, secret = orgs.create_client(
                session,
                actor="conformance",
                actor_org_id=None,
                org_id=org.id,
                name="conformance",
                scopes=None,
                public_jwk=None,
            )
            assert secret is not None
            made[kind] = Credentials(str(org.id), client.client_id, secret)
        session.commit()
    engine.dispose()
    return made
