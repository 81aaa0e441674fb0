"""The console over a real socket (uvicorn on a free port) with httpx as the browser: sign in, the overview of a
supplier downgraded by real reports, CSRF, an expired or revoked session, isolation and the login rate limit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from hub.db import make_engine, make_session_factory
from hub.models import BrowserSession, Person, SupplyAgreement
from hub.models.base import utcnow
from tests.hub.console.conftest import hidden, sign_in
from tests.hub.console.served import downgrade, person
from tests.supplier_sdk.test_client_support import Network, Reporting, running_network

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "console_e2e") as network:
        yield network


def with_database(network: Network, statement: object) -> None:
    engine = make_engine(network.hub.settings)
    try:
        with make_session_factory(engine).begin() as session:
            session.execute(statement)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def browser(network: Network) -> httpx.Client:
    return httpx.Client(base_url=network.base_url, timeout=10)


def signed_in(network: Network, org_id: uuid.UUID, role: str = "sqe") -> tuple[httpx.Client, str, str]:
    http = browser(network)
    email = person(network, org_id, role)
    response = sign_in(http, email)
    assert response.status_code == 303, response.text
    home = http.get("/console/inbox")
    return http, email, hidden(home.text, "csrf_token")


def test_sign_in_see_the_overview_and_refuse_a_change_without_csrf(network: Network) -> None:
    reporting = network.reporting()
    downgrade(network, reporting)
    http, _, csrf = signed_in(network, network.oem.org_id)

    overview = http.get("/console/network")
    assert overview.status_code == 200
    assert reporting.supplier.name in overview.text and 'class="tier tier-B"' in overview.text
    assert "default-src 'self'" in overview.headers["content-security-policy"]
    card = http.get(f"/console/suppliers/{reporting.supplier.org_id}")
    assert card.status_code == 200 and "A → B" in card.text and card.text.count("point against") == 3

    # The supplier's person: a proposal to decide, first without the CSRF token (nothing changes), then with it.
    proposal = network.client(network.oem).request(
        "POST", "/v1/agreements", json={**_terms(reporting), "title": "Housing tolerance"}
    )
    supplier_http, _, supplier_csrf = signed_in(network, reporting.supplier.org_id)
    url = f"/console/agreements/{proposal['id']}/accept"
    refused = supplier_http.post(url, data={}, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/console/sign-in?reason=stale"
    assert _status(network, proposal["id"]) == "proposed"
    accepted = supplier_http.post(url, data={"csrf_token": supplier_csrf}, follow_redirects=False)
    assert accepted.status_code == 303 and _status(network, proposal["id"]) == "active"
    http.close()
    supplier_http.close()
    assert csrf


def _terms(reporting: Reporting) -> dict[str, object]:
    from tests.supplier_sdk.test_client_support import agreement_terms

    return agreement_terms(reporting.supplier.org_id)


def _status(network: Network, agreement_id: str) -> str:
    engine = make_engine(network.hub.settings)
    try:
        with make_session_factory(engine)() as session:
            return str(
                session.scalar(
                    select(SupplyAgreement.status).where(SupplyAgreement.id == uuid.UUID(agreement_id))
                )
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("ending", ["expired", "revoked", "disabled"])
def test_an_ended_session_redirects_to_sign_in_with_nothing_changed(network: Network, ending: str) -> None:
    reporting = network.reporting()
    proposal = network.client(network.oem).request("POST", "/v1/agreements", json=_terms(reporting))
    http, email, csrf = signed_in(network, reporting.supplier.org_id)
    if ending == "expired":
        past = utcnow() - timedelta(seconds=1)
        with_database(
            network,
            update(BrowserSession).values(idle_expires_at=past).where(BrowserSession.revoked_at.is_(None)),
        )
    elif ending == "revoked":
        with_database(network, update(BrowserSession).values(revoked_at=utcnow()))
    else:
        with_database(network, update(Person).where(Person.email == email).values(disabled_at=utcnow()))

    # The API by cookie refuses it, with the uniform error body ...
    api = http.post(
        f"/v1/agreements/{proposal['id']}/accept", json={"reason": ""}, headers={"X-CSRF-Token": csrf}
    )
    assert api.status_code == 401 and api.json()["error"] == "SessionEnded"
    # ... and the console sends the browser to sign in, forgetting the cookie.
    response = http.post(
        f"/console/agreements/{proposal['id']}/accept", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/sign-in?reason=ended"
    assert _status(network, proposal["id"]) == "proposed"
    assert "qualink_session" not in http.cookies
    assert http.get("/console/standing", follow_redirects=False).status_code == 303


def test_a_supplier_sees_nothing_of_another_supplier(network: Network) -> None:
    first, second = network.reporting(), network.reporting()
    downgrade(network, first)
    http, _, csrf = signed_in(network, second.supplier.org_id)

    own = http.get("/console/standing")
    assert own.status_code == 200 and first.supplier.name not in own.text and "A → B" not in own.text
    foreign = http.post(f"/console/agreements/{first.agreement.id}/decline", data={"csrf_token": csrf})
    assert foreign.status_code == 404 and "<h1>Not found</h1>" in foreign.text
    api = http.get(f"/v1/agreements/{first.agreement.id}")
    assert api.status_code == 404 and api.json()["error"] == "NotFound"
    assert _status(network, str(first.agreement.id)) == "active"


def test_login_is_rate_limited(network: Network) -> None:
    email = person(network, network.oem.org_id, "viewer")
    http = browser(network)
    for _ in range(5):
        assert sign_in(http, email, "not the password at all").status_code == 401
    limited = sign_in(http, email)
    assert limited.status_code == 429 and "too many failed sign-ins" in limited.text
    assert "qualink_session" not in limited.headers.get("set-cookie", "")
