"""People of an organization (beside its API clients), their browser sessions and failed sign-ins."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, CreatedMixin, IdMixin, utcnow


class Person(IdMixin, CreatedMixin, Base):
    """A person who signs in to the console. ``email_key`` is the e-mail folded to lower case: the address is
    unique per organization without regard to case, on SQLite as on PostgreSQL."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("organization_id", "email_key"),
        Index("ix_people_email_key", "email_key"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # Argon2id in PHC string form; None for a person who signs in only through the organization's provider.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    disabled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BrowserSession(IdMixin, CreatedMixin, Base):
    """A signed-in browser. The cookie holds 256 random bits; only their SHA-256 is kept (a stolen table is no
    set of cookies), and high entropy needs no slow hash."""

    __tablename__ = "browser_sessions"

    token_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    idle_expires_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SignInFailure(Base):
    """One failed sign-in, counted per e-mail and per address to slow password guessing across every worker."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(default=utcnow)
