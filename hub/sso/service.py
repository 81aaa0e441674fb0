"""An organization's OpenID Connect providers: add, list, remove (each change audited under its actor)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.errors import Conflict, InvalidInput, NotFound
from hub.models import Organization, SsoIdentity, SsoProvider
from hub.people.roles import Role, parse_role
from hub.sso import sealing

WELL_KNOWN = "/.well-known/openid-configuration"
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def check_url(value: str, field: str) -> str:
    """An https URL; plain http only on the loopback interface (a provider on the same machine, in tests)."""
    value = value.strip()
    parts = urlsplit(value)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if len(value) > 1000 or not parts.hostname or not (parts.scheme == "https" or loopback):
        raise InvalidInput(f"{field}: an https URL", loc=field)
    return value


def _role(value: str, field: str) -> Role:
    try:
        return parse_role(value)
    except ValueError as exc:
        raise InvalidInput(f"{field}: {exc}", loc=field) from None


def _domains(values: list[str]) -> list[str]:
    domains = sorted({value.strip().lstrip("@").casefold() for value in values if value.strip()})
    for domain in domains:
        if "." not in domain or "@" in domain or len(domain) > 253:
            raise InvalidInput(
                f"allowed_email_domains: '{domain[:64]}' is no domain", loc="allowed_email_domains"
            )
    return domains


def add_provider(
    session: Session,
    *,
    actor: str,
    actor_org_id: uuid.UUID | None,
    org_id: uuid.UUID,
    name: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    sso_key: bytes,
    discovery_url: str | None = None,
    allowed_email_domains: list[str] | None = None,
    role_claim: str | None = None,
    role_mapping: dict[str, str] | None = None,
    default_role: str = "viewer",
    provision_people: bool = False,
) -> SsoProvider:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("name: 1 to 100 characters", loc="name")
    if not client_id.strip() or len(client_id) > 300:
        raise InvalidInput("client_id: 1 to 300 characters", loc="client_id")
    if not client_secret or len(client_secret) > 2000:
        raise InvalidInput("client_secret: 1 to 2000 characters", loc="client_secret")
    issuer = check_url(issuer, "issuer").rstrip("/")
    discovery = check_url(discovery_url or issuer + WELL_KNOWN, "discovery_url")
    mapping = {str(key): _role(value, "role_mapping").value for key, value in (role_mapping or {}).items()}
    if mapping and not role_claim:
        raise InvalidInput("role_claim: name the claim the role mapping reads", loc="role_claim")
    if session.get(Organization, org_id) is None:
        raise NotFound("organization not found")
    taken = select(SsoProvider.id).where(SsoProvider.organization_id == org_id, SsoProvider.name == name)
    if session.scalar(taken) is not None:
        raise Conflict(f"this organization already has a provider named {name}")
    provider = SsoProvider(
        organization_id=org_id,
        name=name,
        issuer=issuer,
        discovery_url=discovery,
        client_id=client_id.strip(),
        client_secret_encrypted=sealing.seal_secret(sso_key, client_secret),
        allowed_email_domains=_domains(allowed_email_domains or []),
        role_claim=(role_claim or "").strip() or None,
        role_mapping=mapping,
        default_role=_role(default_role, "default_role").value,
        provision_people=provision_people,
    )
    session.add(provider)
    session.flush()
    _audit(session, actor, actor_org_id, provider, "sso.provider_added", {"name": name, "issuer": issuer})
    return provider


def list_providers(session: Session, *, org_id: uuid.UUID) -> list[SsoProvider]:
    query = select(SsoProvider).where(SsoProvider.organization_id == org_id).order_by(SsoProvider.name)
    return list(session.scalars(query))


def sign_in_choices(session: Session) -> list[tuple[uuid.UUID, str]]:
    """Every provider, as (id, name), for the sign-in page's "Sign in with …" buttons."""
    query = select(SsoProvider.id, SsoProvider.name).order_by(SsoProvider.name, SsoProvider.id).limit(50)
    return [(row.id, row.name) for row in session.execute(query)]


def get_provider(session: Session, *, provider_id: uuid.UUID) -> SsoProvider:
    provider = session.get(SsoProvider, provider_id)
    if provider is None:
        raise NotFound("no such sign-in provider")
    return provider


def remove_provider(
    session: Session, *, actor: str, actor_org_id: uuid.UUID | None, org_id: uuid.UUID, name: str
) -> None:
    """Remove the provider and its links to people (who keep their accounts, and any password)."""
    query = select(SsoProvider).where(SsoProvider.organization_id == org_id, SsoProvider.name == name.strip())
    provider = session.scalar(query)
    if provider is None:
        raise NotFound(f"no provider named {name[:100]} in this organization")
    session.execute(delete(SsoIdentity).where(SsoIdentity.provider_id == provider.id))
    _audit(session, actor, actor_org_id, provider, "sso.provider_removed", {"name": provider.name})
    session.delete(provider)
    session.flush()


def _audit(
    session: Session,
    actor: str,
    actor_org_id: uuid.UUID | None,
    provider: SsoProvider,
    action: str,
    data: dict[str, str],
) -> None:
    audit.record(
        session,
        actor=actor,
        actor_org_id=actor_org_id,
        action=action,
        subject_type="sso_provider",
        subject_id=provider.id,
        data={"organization_id": str(provider.organization_id), **data},
    )
