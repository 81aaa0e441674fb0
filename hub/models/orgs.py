"""Organizations, their public keys and their API clients."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin


class Organization(IdMixin, CreatedMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))


class OrgKey(CreatedMixin, Base):
    """A public key of an organization. ``key_id`` is the RFC 7638 thumbprint, so a key has one id everywhere."""

    __tablename__ = "org_keys"
    __table_args__ = (Index("ix_org_keys_org_use_status", "organization_id", "use", "status"),)

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    use: Mapped[str] = mapped_column(String(8))
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    retired_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiClient(IdMixin, CreatedMixin, Base):
    """A machine client. Secrets are kept as SHA-256 of 256 random bits: high entropy needs no slow hash."""

    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    auth_method: Mapped[str] = mapped_column(String(32))
    secret_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    public_jwk: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    scopes: Mapped[str] = mapped_column(String(1000))
    revoked_at: Mapped[datetime | None]


class UsedClientAssertion(Base):
    """``jti`` values of accepted client assertions, kept until they expire, so that none is accepted twice."""

    __tablename__ = "used_client_assertions"
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64))
    jti: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class TokenAuthFailure(Base):
    """Failed client authentications at the token endpoint, counted per fixed window: per (claimed client id,
    source address), and per address alone (``client_id`` = ``*``). In the database, so that every replica counts
    the same failures; hub.housekeeping deletes windows that have ended."""

    __tablename__ = "token_auth_failures"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    failures: Mapped[int]


class OrganizationSettings(Base):
    """What an organization has chosen for itself; a missing row is every default (four-eyes off)."""

    __tablename__ = "organization_settings"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    # On: activating or changing an active rule waits for a second person's approval (hub.rules.approvals).
    four_eyes: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
