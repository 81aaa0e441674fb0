"""Organizations, their public keys and their API clients."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import ColumnElement, CompoundSelect, or_, select, true, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.oauth import secret_digest
from hub.auth.scopes import check_grantable, default_scopes
from hub.auth.tokens import Caller
from hub.errors import Conflict, Forbidden, InvalidInput, NotFound
from hub.models import ApiClient, Organization, OrgKey, SupplyAgreement
from hub.models.base import utcnow
from hub.pagination import keyset, page_of
from protocol.encoding import b64url_decode, b64url_encode
from protocol.models import orgs as wire
from protocol.models.common import ClientAuthMethod, KeyStatus, KeyUse, OrgKind
from protocol.signing import key_id_for

_ALGORITHM: dict[KeyUse, Literal["Ed25519", "X25519"]] = {
    KeyUse.SIGNING: "Ed25519",
    KeyUse.ENCRYPTION: "X25519",
}


def create_organization(session: Session, *, actor: str, data: wire.OrganizationCreate) -> Organization:
    if session.scalar(select(Organization.id).where(Organization.name == data.name)) is not None:
        raise Conflict(f"an organization named '{data.name}' exists already")
    org = Organization(name=data.name, kind=data.kind.value)
    session.add(org)
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_org_id=None,
        action="organization.created",
        subject_type="organization",
        subject_id=org.id,
        data={"name": org.name, "kind": org.kind},
    )
    return org


def partner_ids(session: Session, org_id: uuid.UUID) -> set[uuid.UUID]:
    """Organizations that share a (non-declined) supply agreement with ``org_id``."""
    rows = session.execute(
        select(SupplyAgreement.oem_id, SupplyAgreement.supplier_id).where(
            or_(SupplyAgreement.oem_id == org_id, SupplyAgreement.supplier_id == org_id),
            SupplyAgreement.status != "declined",
        )
    ).all()
    return {other for oem, supplier in rows for other in (oem, supplier) if other != org_id}


def partners_of(org_id: uuid.UUID) -> CompoundSelect:
    """:func:`partner_ids` as a subquery, for a statement that filters by it in the database."""
    live = SupplyAgreement.status != "declined"
    return union(
        select(SupplyAgreement.supplier_id).where(SupplyAgreement.oem_id == org_id, live),
        select(SupplyAgreement.oem_id).where(SupplyAgreement.supplier_id == org_id, live),
    )


def visible(caller: Caller) -> ColumnElement[bool]:
    """The organizations ``caller`` may see: itself and its partners (an operator: all)."""
    if caller.org_kind is OrgKind.OPERATOR:
        return true()
    return or_(Organization.id == caller.org_id, Organization.id.in_(partners_of(caller.org_id)))


def names(session: Session, *, caller: Caller) -> dict[uuid.UUID, str]:
    """The name of every organization ``caller`` may see, by id, in one statement."""
    return {
        org_id: name
        for org_id, name in session.execute(select(Organization.id, Organization.name).where(visible(caller)))
    }


def _visible(session: Session, caller: Caller, org_id: uuid.UUID) -> bool:
    return (
        caller.org_kind is OrgKind.OPERATOR
        or org_id == caller.org_id
        or org_id in partner_ids(session, caller.org_id)
    )


def get_organization(session: Session, *, caller: Caller, org_id: uuid.UUID) -> Organization:
    org = session.get(Organization, org_id)
    if org is None or not _visible(session, caller, org_id):
        raise NotFound("organization not found")
    return org


def list_organizations(
    session: Session, *, caller: Caller, kind: OrgKind | None = None, cursor: str | None, limit: int
) -> tuple[list[Organization], str | None]:
    query = select(Organization).where(visible(caller))
    if kind is not None:
        query = query.where(Organization.kind == kind.value)
    rows = list(session.scalars(keyset(query, Organization.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda org: org.id)


def register_key(session: Session, *, caller: Caller, data: wire.OrgKeyRegister) -> OrgKey:
    """Register a public key; the organization's previous active key of that use is retired, not revoked."""
    try:
        raw = b64url_decode(data.public_key)
    except ValueError as exc:
        raise InvalidInput("public_key is not base64url", loc="body.public_key") from exc
    if len(raw) != 32:
        raise InvalidInput("public_key must be 32 raw bytes", loc="body.public_key")
    if data.use is KeyUse.SIGNING:
        try:
            Ed25519PublicKey.from_public_bytes(raw)
        except ValueError as exc:
            raise InvalidInput("public_key is not an Ed25519 key", loc="body.public_key") from exc
    key_id = key_id_for(raw, crv=_ALGORITHM[data.use])
    if session.get(OrgKey, key_id) is not None:
        raise Conflict(f"key {key_id} is registered already")
    now = utcnow()
    for previous in session.scalars(
        select(OrgKey).where(
            OrgKey.organization_id == caller.org_id, OrgKey.use == data.use.value, OrgKey.status == "active"
        )
    ):
        previous.status, previous.retired_at = KeyStatus.RETIRED.value, now
    key = OrgKey(
        key_id=key_id,
        organization_id=caller.org_id,
        use=data.use.value,
        algorithm=_ALGORITHM[data.use],
        public_key=raw,
        status=KeyStatus.ACTIVE.value,
    )
    session.add(key)
    session.flush()
    audit.record_for(
        session,
        caller,
        action="key.registered",
        subject_type="org_key",
        subject_id=key_id,
        data={"use": key.use, "algorithm": key.algorithm},
    )
    return key


def list_keys(
    session: Session, *, caller: Caller, org_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[OrgKey], str | None]:
    """Keys have no UUID: they page by their unique key id."""
    get_organization(session, caller=caller, org_id=org_id)
    query = keyset(
        select(OrgKey).where(OrgKey.organization_id == org_id),
        OrgKey.key_id,
        cursor=cursor,
        limit=limit,
        kind=str,
    )
    return page_of(list(session.scalars(query)), limit, last_id=lambda key: key.key_id)


def revoke_key(session: Session, *, caller: Caller, key_id: str) -> OrgKey:
    """A revoked key verifies nothing any more, not even what it signed before."""
    key = session.get(OrgKey, key_id)
    if key is None or key.organization_id != caller.org_id:
        raise NotFound("key not found")
    if key.status == KeyStatus.REVOKED.value:
        raise Conflict("key is revoked already")
    key.status, key.revoked_at = KeyStatus.REVOKED.value, utcnow()
    audit.record_for(
        session,
        caller,
        action="key.revoked",
        subject_type="org_key",
        subject_id=key_id,
    )
    _revoke_clients_using(session, caller=caller, key=key)
    return key


def _revoke_clients_using(session: Session, *, caller: Caller, key: OrgKey) -> None:
    """A client that authenticates with the revoked key (private_key_jwt, the SDK's one-key setup) can prove
    nothing any more either: it is revoked with it, so its tokens stop working on their next request."""
    if key.use != KeyUse.SIGNING.value:
        return
    for client in session.scalars(
        select(ApiClient).where(
            ApiClient.organization_id == key.organization_id,
            ApiClient.revoked_at.is_(None),
            ApiClient.public_jwk.is_not(None),
        )
    ):
        jwk = client.public_jwk or {}
        if jwk.get("x") != b64url_encode(key.public_key):
            continue
        client.revoked_at = key.revoked_at
        audit.record_for(
            session,
            caller,
            action="client.revoked",
            subject_type="api_client",
            subject_id=client.client_id,
            data={"reason": "its key was revoked", "key_id": key.key_id},
        )


def key_as_wire(key: OrgKey) -> wire.OrgKey:
    return wire.OrgKey(
        key_id=key.key_id,
        organization_id=key.organization_id,
        use=KeyUse(key.use),
        algorithm=key.algorithm,
        public_key=b64url_encode(key.public_key),
        status=KeyStatus(key.status),
        created_at=key.created_at,
        retired_at=key.retired_at,
        revoked_at=key.revoked_at,
    )


def create_client(
    session: Session,
    *,
    actor: str,
    actor_org_id: uuid.UUID | None,
    org_id: uuid.UUID,
    name: str,
    scopes: list[str] | None,
    public_jwk: dict[str, Any] | None,
) -> tuple[ApiClient, str | None]:
    """Create an API client. With a public JWK it authenticates by private_key_jwt; without, it gets a secret,
    returned here once and stored only as a digest."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("organization not found")
    kind = OrgKind(org.kind)
    granted = sorted(set(scopes)) if scopes else default_scopes(kind)
    try:
        check_grantable(kind, granted)
    except ValueError as exc:
        raise InvalidInput(str(exc), loc="body.scopes") from exc
    secret: str | None = None
    if public_jwk is not None:
        _check_public_jwk(public_jwk)
        method = ClientAuthMethod.PRIVATE_KEY_JWT
    else:
        secret = "qls_" + secrets.token_urlsafe(32)
        method = ClientAuthMethod.CLIENT_SECRET_BASIC
    client = ApiClient(
        client_id="qlc_" + secrets.token_hex(12),
        organization_id=org_id,
        name=name,
        auth_method=method.value,
        secret_sha256=secret_digest(secret) if secret else None,
        public_jwk=public_jwk,
        scopes=" ".join(granted),
    )
    session.add(client)
    try:
        session.flush()
    except IntegrityError as exc:  # a client id collision is 2^-96 unlikely; refuse rather than overwrite
        raise Conflict("client id collision, try again") from exc
    audit.record(
        session,
        actor=actor,
        actor_org_id=actor_org_id,
        action="client.created",
        subject_type="api_client",
        subject_id=client.client_id,
        data={"organization_id": str(org_id), "auth_method": method.value, "scopes": granted},
    )
    return client, secret


def _check_public_jwk(jwk: dict[str, Any]) -> None:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise InvalidInput("public_jwk must be an Ed25519 OKP key {kty, crv, x}", loc="body.public_jwk")
    if "d" in jwk:
        raise InvalidInput(
            "public_jwk contains a private key ('d'); send the public half only", loc="body.public_jwk"
        )
    try:
        Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    except ValueError as exc:
        raise InvalidInput("public_jwk.x is not an Ed25519 public key", loc="body.public_jwk.x") from exc


def list_clients(
    session: Session, *, caller: Caller, cursor: str | None, limit: int
) -> tuple[list[ApiClient], str | None]:
    query = select(ApiClient).where(ApiClient.organization_id == caller.org_id)
    rows = list(session.scalars(keyset(query, ApiClient.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda client: client.id)


def revoke_client(session: Session, *, caller: Caller, client_id: str) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None or client.organization_id != caller.org_id:
        raise NotFound("client not found")
    if client.client_id == caller.client_id:
        raise Forbidden("a client cannot revoke itself; use another client of your organization")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        audit.record_for(
            session,
            caller,
            action="client.revoked",
            subject_type="api_client",
            subject_id=client_id,
        )
    return client


def get_client(session: Session, *, org_id: uuid.UUID, row_id: uuid.UUID) -> ApiClient:
    """An organization's client by its row id (what an Idempotency-Key remembers)."""
    client = session.get(ApiClient, row_id)
    if client is None or client.organization_id != org_id:
        raise NotFound("client not found")
    return client


def client_as_wire(client: ApiClient) -> wire.ApiClient:
    return wire.ApiClient(
        client_id=client.client_id,
        organization_id=client.organization_id,
        name=client.name,
        auth_method=ClientAuthMethod(client.auth_method),
        scopes=client.scopes.split(),
        created_at=client.created_at,
        revoked_at=client.revoked_at,
    )
