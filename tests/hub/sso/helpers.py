"""Single sign-on against a served hub: a provider configured as `hub sso add` configures one, and a browser
(httpx, cookies and all) that walks the redirects between the hub's console and the identity provider."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from sqlalchemy.orm import Session

from hub.db import make_engine, make_session_factory
from hub.sso import service as sso
from tests.hub.sso.provider import OidcProvider
from tests.supplier_sdk.test_client_support import Network

T = TypeVar("T")


def in_database(network: Network, work: Callable[[Session], T]) -> T:
    """``work`` in a transaction of its own on the served hub's database."""
    engine = make_engine(network.hub.settings)
    try:
        with make_session_factory(engine).begin() as session:
            return work(session)
    finally:
        engine.dispose()


def configure(network: Network, org_id: uuid.UUID, idp: OidcProvider, **options: Any) -> uuid.UUID:
    """An SSO provider of ``org_id`` for ``idp``; returns its id."""
    settings = network.hub.settings

    def add(session: Session) -> uuid.UUID:
        provider = sso.add_provider(
            session,
            actor="cli:operator",
            actor_org_id=None,
            org_id=org_id,
            name=options.pop("name", f"Keycloak {uuid.uuid4().hex[:6]}"),
            issuer=options.pop("issuer", idp.issuer),
            discovery_url=options.pop("discovery_url", idp.discovery_url),
            client_id=idp.client_id,
            client_secret=idp.client_secret,
            sso_key=settings.sso_key(),
            **options,
        )
        return provider.id

    return in_database(network, add)


def begin(network: Network, provider_id: uuid.UUID, idp: OidcProvider) -> tuple[httpx.Client, str]:
    """A browser that chose "Sign in with …" and was signed in at the provider: it holds the redirect back."""
    http = httpx.Client(timeout=10)
    page = http.get(f"{network.base_url}/console/sign-in")
    assert f'href="/console/sso/{provider_id}"' in page.text
    start = http.get(f"{network.base_url}/console/sso/{provider_id}")
    assert start.status_code == 303 and start.headers["location"].startswith(f"{idp.issuer}/authorize?")
    assert "code_challenge_method=S256" in start.headers["location"]
    at_provider = http.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    back = at_provider.headers["location"]
    assert back.startswith(f"{network.base_url}/console/sso/callback?code="), back
    return http, back


def sso_sign_in(
    network: Network, provider_id: uuid.UUID, idp: OidcProvider
) -> tuple[httpx.Client, httpx.Response]:
    """The whole round trip; returns the browser and the hub's answer to the provider's redirect back."""
    http, back = begin(network, provider_id, idp)
    return http, http.get(back)
