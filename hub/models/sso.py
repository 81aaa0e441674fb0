"""An organization's OpenID Connect providers, and which person each provider's subject is.

The client secret is kept encrypted (Fernet, with a key from HUB_SSO_SECRET_KEY): a copy of the table is no set
of credentials for the organization's identity provider."""

from __future__ import annotations

import uuid

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin


class SsoProvider(IdMixin, CreatedMixin, Base):
    """One identity provider (Entra ID, Okta, Keycloak, …) its organization's people may sign in with."""

    __tablename__ = "sso_providers"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(500))
    discovery_url: Mapped[str] = mapped_column(String(1000))
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # Lower-case domains whose addresses may sign in (matched or provisioned); empty allows every domain.
    allowed_email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The ID token claim (e.g. "groups", "roles") whose values pick the role, and value → role.
    role_claim: Mapped[str | None] = mapped_column(String(100))
    role_mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    default_role: Mapped[str] = mapped_column(String(16))
    # Just-in-time provisioning: a first sign-in of an unknown (verified, allowed) address creates the person.
    provision_people: Mapped[bool] = mapped_column(Boolean, default=False)


class SsoIdentity(IdMixin, CreatedMixin, Base):
    """The person a provider's subject (``sub``) is, linked at their first sign-in through it."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sso_providers.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
