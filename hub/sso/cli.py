"""`hub sso add|list|remove`: the operator's way to give an organization its OpenID Connect provider.

The client secret comes only from standard input, and is stored encrypted under HUB_SSO_SECRET_KEY."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from hub.models import SsoProvider
from hub.people.cli import ACTOR, OrgOption, cli_session, cli_settings, fail, find_org
from hub.sso import service

sso_app = typer.Typer(
    help="Single sign-on: an organization's OpenID Connect providers.", no_args_is_help=True
)
console = Console()

NameOption = Annotated[str, typer.Option("--name", help='Shown on the sign-in page: "Sign in with NAME"')]


def _mapping(values: list[str]) -> dict[str, str]:
    mapping = {}
    for value in values:
        claim_value, _, role = value.rpartition("=")
        if not claim_value or not role:
            raise fail(f"--map takes CLAIM_VALUE=ROLE, not '{value}'")
        mapping[claim_value] = role
    return mapping


@sso_app.command("add")
def sso_add(
    org: OrgOption,
    name: NameOption,
    issuer: Annotated[str, typer.Option("--issuer", help="The provider's issuer URL (the ID token's iss)")],
    client_id: Annotated[str, typer.Option("--client-id", help="This hub's client id at the provider")],
    client_secret_stdin: Annotated[
        bool, typer.Option("--client-secret-stdin", help="Read the client secret from standard input")
    ] = False,
    discovery_url: Annotated[
        str | None, typer.Option("--discovery-url", help="Default: ISSUER/.well-known/openid-configuration")
    ] = None,
    domains: Annotated[
        list[str] | None,
        typer.Option("--allow-domain", help="An e-mail domain that may sign in (repeatable)"),
    ] = None,
    role_claim: Annotated[
        str | None, typer.Option("--role-claim", help="The ID token claim that picks the role, e.g. groups")
    ] = None,
    maps: Annotated[
        list[str] | None,
        typer.Option("--map", help="CLAIM_VALUE=ROLE, e.g. qualink-admins=admin (repeatable)"),
    ] = None,
    default_role: Annotated[
        str, typer.Option("--default-role", help="Role when no mapping matches")
    ] = "viewer",
    provision: Annotated[
        bool, typer.Option("--provision/--no-provision", help="Create a person at their first sign-in")
    ] = False,
) -> None:
    """Add an OpenID Connect provider to an organization; prints the redirect URI to register with it."""
    if not client_secret_stdin:
        raise fail("give the client secret on standard input with --client-secret-stdin")
    secret = sys.stdin.readline().rstrip("\r\n")
    settings = cli_settings()
    try:
        key = settings.sso_key()
    except ValueError as exc:
        raise fail(str(exc)) from exc
    with cli_session() as session:
        found = find_org(session, org)
        provider = service.add_provider(
            session,
            actor=ACTOR,
            actor_org_id=None,
            org_id=found.id,
            name=name,
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            sso_key=key,
            discovery_url=discovery_url,
            allowed_email_domains=domains or [],
            role_claim=role_claim,
            role_mapping=_mapping(maps or []),
            default_role=default_role,
            provision_people=provision,
        )
        provider_id = provider.id
    console.print(f"added [bold]{name}[/bold] to {found.name}: {provider_id}")
    console.print(f"redirect URI to register with the provider: {settings.issuer}/console/sso/callback")


def _row(provider: SsoProvider) -> dict[str, object]:
    return {
        "id": str(provider.id),
        "name": provider.name,
        "issuer": provider.issuer,
        "discovery_url": provider.discovery_url,
        "client_id": provider.client_id,
        "allowed_email_domains": provider.allowed_email_domains,
        "role_claim": provider.role_claim,
        "role_mapping": provider.role_mapping,
        "default_role": provider.default_role,
        "provision_people": provider.provision_people,
    }


def _cells(provider: SsoProvider) -> list[str]:
    roles = ", ".join(f"{key}={value}" for key, value in provider.role_mapping.items()) or "-"
    return [
        provider.name,
        provider.issuer,
        provider.client_id,
        ", ".join(provider.allowed_email_domains) or "any",
        f"{provider.role_claim or '-'}: {roles} (default {provider.default_role})",
        "yes" if provider.provision_people else "no",
        str(provider.id),
    ]


@sso_app.command("list")
def sso_list(
    org: OrgOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")] = False,
) -> None:
    """List an organization's providers (never their secrets)."""
    from rich.table import Table

    with cli_session() as session:
        providers = service.list_providers(session, org_id=find_org(session, org).id)
        rows, cells = [_row(p) for p in providers], [_cells(p) for p in providers]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("name", "issuer", "client id", "domains", "roles", "provision", "id")
    for line in cells:
        table.add_row(*line)
    console.print(table)


@sso_app.command("remove")
def sso_remove(org: OrgOption, name: NameOption) -> None:
    """Remove a provider: its people keep their accounts but can no longer sign in through it."""
    with cli_session() as session:
        service.remove_provider(
            session, actor=ACTOR, actor_org_id=None, org_id=find_org(session, org).id, name=name
        )
    console.print(f"removed {name}")
