from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ConfigDict, Field

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.idempotency_header import IdempotentPost
from hub.orgs import service
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from protocol.models.common import OrgKind, WireModel
from protocol.models.orgs import ApiClient, Organization, OrganizationCreate, OrgKey, OrgKeyRegister
from protocol.models.pages import Page

router = APIRouter(prefix="/v1", tags=["organizations"], responses=ERROR_RESPONSES)

Operator = Annotated[Caller, Depends(require("operator:admin"))]
Reader = Annotated[Caller, Depends(require("org:read"))]
Admin = Annotated[Caller, Depends(require("org:admin"))]


class ClientCreate(WireModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "plant-mes", "scopes": ["alerts:read", "containment:write"]}]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] | None = None
    public_jwk: dict[str, Any] | None = None


class ClientCreated(WireModel):
    client: ApiClient
    client_secret: str | None = Field(default=None, description="Shown once, for secret clients")


def _org(row: Any) -> Organization:
    return Organization(id=row.id, name=row.name, kind=OrgKind(row.kind), created_at=row.created_at)


@router.post("/organizations", status_code=201, summary="Register an organization (operator)")
def create_organization(
    body: OrganizationCreate, session: SessionDep, caller: Operator, once: IdempotentPost
) -> Organization:
    row = once(
        session,
        caller,
        body,
        create=lambda: service.create_organization(session, actor=caller.actor, data=body),
        replay=lambda org_id: service.get_organization(session, caller=caller, org_id=org_id),
    )
    return _org(row)


@router.get(
    "/organizations", summary="Your organization and its partners (the operator sees all), cursor-paginated"
)
def list_organizations(
    session: SessionDep,
    caller: Reader,
    kind: OrgKind | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[Organization]:
    rows, next_cursor = service.list_organizations(
        session, caller=caller, kind=kind, cursor=cursor, limit=limit
    )
    return Page[Organization](items=[_org(row) for row in rows], next_cursor=next_cursor)


@router.get("/organizations/me", summary="The calling organization")
def me(session: SessionDep, caller: Reader) -> Organization:
    return _org(service.get_organization(session, caller=caller, org_id=caller.org_id))


@router.get("/organizations/{org_id}", summary="One organization, if it is yours or a partner's")
def get_organization(org_id: uuid.UUID, session: SessionDep, caller: Reader) -> Organization:
    return _org(service.get_organization(session, caller=caller, org_id=org_id))


@router.get(
    "/organizations/{org_id}/keys", summary="Public keys of your organization or a partner, cursor-paginated"
)
def list_keys(
    org_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[OrgKey]:
    rows, next_cursor = service.list_keys(session, caller=caller, org_id=org_id, cursor=cursor, limit=limit)
    return Page[OrgKey](items=[service.key_as_wire(key) for key in rows], next_cursor=next_cursor)


@router.post(
    "/keys", status_code=201, summary="Register a signing (Ed25519) or encryption (X25519) public key"
)
def register_key(body: OrgKeyRegister, session: SessionDep, caller: Admin) -> OrgKey:
    return service.key_as_wire(service.register_key(session, caller=caller, data=body))


@router.post("/keys/{key_id}/revoke", summary="Revoke a key: it verifies nothing any more")
def revoke_key(key_id: str, session: SessionDep, caller: Admin) -> OrgKey:
    return service.key_as_wire(service.revoke_key(session, caller=caller, key_id=key_id))


@router.post("/clients", status_code=201, summary="Create an API client for your organization")
def create_client(
    body: ClientCreate, session: SessionDep, caller: Admin, once: IdempotentPost
) -> ClientCreated:
    return _created_client(session, caller, body, once, org_id=caller.org_id)


def _created_client(
    session: SessionDep, caller: Caller, body: ClientCreate, once: IdempotentPost, *, org_id: uuid.UUID
) -> ClientCreated:
    """A repeat answers the same client without its secret: the hub keeps only the secret's digest, so the
    secret is shown once, to the first answer (a caller that lost it revokes the client and makes another)."""
    client, secret = once(
        session,
        caller,
        body,
        create=lambda: service.create_client(
            session,
            actor=caller.actor,
            actor_org_id=caller.org_id,
            org_id=org_id,
            name=body.name,
            scopes=body.scopes,
            public_jwk=body.public_jwk,
        ),
        replay=lambda row_id: (service.get_client(session, org_id=org_id, row_id=row_id), None),
        resource_id=lambda made: made[0].id,
    )
    return ClientCreated(client=service.client_as_wire(client), client_secret=secret)


@router.post(
    "/organizations/{org_id}/clients",
    status_code=201,
    summary="Onboard: create an organization's first client (operator)",
)
def onboard_client(
    org_id: uuid.UUID, body: ClientCreate, session: SessionDep, caller: Operator, once: IdempotentPost
) -> ClientCreated:
    return _created_client(session, caller, body, once, org_id=org_id)


@router.get("/clients", summary="Your organization's API clients, cursor-paginated")
def list_clients(
    session: SessionDep, caller: Reader, cursor: CursorParam = None, limit: LimitParam = DEFAULT_LIMIT
) -> Page[ApiClient]:
    rows, next_cursor = service.list_clients(session, caller=caller, cursor=cursor, limit=limit)
    return Page[ApiClient](items=[service.client_as_wire(c) for c in rows], next_cursor=next_cursor)


@router.post("/clients/{client_id}/revoke", summary="Revoke one of your organization's clients")
def revoke_client(client_id: str, session: SessionDep, caller: Admin) -> ApiClient:
    return service.client_as_wire(service.revoke_client(session, caller=caller, client_id=client_id))
