"""Single sign-on in a real browser (Debian's Chromium): "Sign in with …" on the sign-in page, through a real
OpenID Connect provider on another loopback port and back, signed in with nothing blocked by the policy; the
sign-in page with its provider buttons passes axe-core."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hub.console.browsing import BROWSER_MARKS, violations
from tests.hub.console.served import person
from tests.hub.sso.helpers import configure
from tests.hub.sso.provider import Login, OidcProvider, serving
from tests.supplier_sdk.test_client_support import Network

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def idp(network: Network) -> Iterator[OidcProvider]:
    with serving(OidcProvider(redirect_uri=f"{network.base_url}/console/sso/callback")) as provider:
        yield provider


def test_sign_in_with_the_organizations_provider(network: Network, browser: Any, idp: OidcProvider) -> None:
    email = person(network, network.oem.org_id, "sqe")
    idp.login = Login(sub=uuid.uuid4().hex, email=email)
    configure(network, network.oem.org_id, idp, name="Aurora Keycloak")
    context = browser.new_context(
        bypass_csp=True
    )  # only so that axe can be injected; the headers still count
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{network.base_url}/console/sign-in")
    assert violations(page) == []
    page.get_by_role("link", name="Sign in with Aurora Keycloak").click()
    page.wait_for_url(f"{network.base_url}/console/network")
    assert page.get_by_role("heading", name="Network overview").is_visible()
    assert page.evaluate("document.cookie") == ""  # the session and the pending sign-in are HttpOnly
    assert problems == []
    context.close()
