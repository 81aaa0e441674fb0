"""Organizations, their keys and their API clients, as they cross the wire."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from protocol.models.common import ClientAuthMethod, KeyStatus, KeyUse, OrgKind, WireModel


class OrganizationCreate(WireModel):
    """What an operator gives to register an organization.

    Example:
        >>> OrganizationCreate(name="Bosch Eisenach", kind=OrgKind.SUPPLIER).kind
        <OrgKind.SUPPLIER: 'supplier'>
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Aurora Motors AG", "kind": "oem"}]})

    name: str = Field(min_length=1, max_length=200)
    kind: OrgKind


class Organization(WireModel):
    """A member of the network. ``id`` is the identity other parties and signatures refer to."""

    id: UUID
    name: str
    kind: OrgKind
    created_at: datetime


class OrgKeyRegister(WireModel):
    """A public key an organization registers: Ed25519 for ``sig``, X25519 for ``enc``.

    ``public_key`` is the raw 32-byte key, base64url without padding. Registering a new key of a use retires
    the previous active one (it still verifies what it signed before).

    Example:
        >>> OrgKeyRegister(use=KeyUse.SIGNING, public_key="A" * 43).use
        <KeyUse.SIGNING: 'sig'>
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"use": "sig", "public_key": "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}]
        }
    )

    use: KeyUse
    public_key: str = Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]{43}$")


class OrgKey(WireModel):
    """A registered public key with its id and life cycle."""

    key_id: str
    organization_id: UUID
    use: KeyUse
    algorithm: str
    public_key: str
    status: KeyStatus
    created_at: datetime
    retired_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiClient(WireModel):
    """A machine client of an organization (OAuth 2.0 client credentials)."""

    client_id: str
    organization_id: UUID
    name: str
    auth_method: ClientAuthMethod
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None = None


class TokenResponse(WireModel):
    """The token endpoint's answer (RFC 6749 §5.1)."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str


__all__ = ["ApiClient", "OrgKey", "OrgKeyRegister", "Organization", "OrganizationCreate", "TokenResponse"]
