"""Single sign-on end to end: the hub's console over a real socket, a real OpenID Connect provider (Authlib's
server) on another loopback port, and httpx as the browser between them.

The happy path signs a person in with the same server-side session a password opens, audited under the person;
every way the provider's answer can be wrong (audience, nonce, expiry, state, an unverified address, a disabled
person, a provider of another organization) signs nobody in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.models import AuditEntry, BrowserSession, Person, SsoIdentity
from hub.models.base import utcnow
from hub.people import sessions
from hub.people.policy import session_policy
from hub.people.roles import Role, scopes_for
from protocol.models.common import OrgKind
from tests.hub.console.served import person
from tests.hub.sso.helpers import begin, configure, in_database, sso_sign_in
from tests.hub.sso.provider import Login, OidcProvider, serving
from tests.supplier_sdk.test_client_support import Network, closed_url, running_network

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sso_e2e") as network:
        yield network


@pytest.fixture(scope="module")
def served_idp(network: Network) -> Iterator[OidcProvider]:
    with serving(OidcProvider(redirect_uri=f"{network.base_url}/console/sso/callback")) as provider:
        yield provider


@pytest.fixture
def idp(served_idp: OidcProvider) -> OidcProvider:
    """The provider with a new person signing in at it and nothing tampered with."""
    served_idp.tamper = {}
    served_idp.login = Login(sub=uuid.uuid4().hex, email=f"sso-{uuid.uuid4().hex[:8]}@example.com")
    return served_idp


def _person(network: Network, email: str) -> Person:
    def find(session: Session) -> Person:
        found = session.scalar(select(Person).where(Person.email == email))
        assert found is not None
        session.expunge(found)
        return found

    return in_database(network, find)


def _audit(network: Network, subject_id: uuid.UUID) -> list[tuple[str, str]]:
    query = select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.subject_id == str(subject_id))
    return in_database(
        network, lambda s: [(row.actor, row.action) for row in s.execute(query.order_by(AuditEntry.id))]
    )


def _refused(response: httpx.Response, status: int, words: str) -> None:
    """The sign-in page again, with the reason, and no session cookie."""
    assert response.status_code == status, response.text
    assert words in response.text
    assert sessions.COOKIE not in response.cookies


def test_sign_in_with_the_provider_maps_the_role_and_opens_a_console_session(
    network: Network, idp: OidcProvider
) -> None:
    email = person(network, network.oem.org_id, "viewer")
    idp.login = Login(sub=idp.login.sub, email=email.upper(), groups=["staff", "quality-engineers"])
    provider_id = configure(
        network, network.oem.org_id, idp, role_claim="groups", role_mapping={"quality-engineers": "sqe"}
    )

    http, answer = sso_sign_in(network, provider_id, idp)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    inbox = http.get(f"{network.base_url}/console/inbox")
    assert inbox.status_code == 200 and 'name="csrf_token"' in inbox.text
    signed = _person(network, email)
    assert signed.role == "sqe"
    assert _audit(network, signed.id)[-3:] == [
        (f"person:{signed.id}", "person.sso_linked"),
        (f"person:{signed.id}", "person.role_changed"),
        (f"person:{signed.id}", "person.signed_in"),
    ]
    live = select(BrowserSession).where(
        BrowserSession.person_id == signed.id, BrowserSession.revoked_at.is_(None)
    )
    assert len(in_database(network, lambda s: list(s.scalars(live)))) == 1

    # The next sign-in finds the person by (issuer, subject), whatever address the provider now gives.
    idp.login = Login(sub=idp.login.sub, email="renamed@elsewhere.example", email_verified=False, groups=[])
    again, answer = sso_sign_in(network, provider_id, idp)
    assert answer.status_code == 303
    assert _person(network, email).role == "viewer"  # no mapped group any more: the default role
    http.close()
    again.close()


def test_a_first_sign_in_creates_the_person_only_where_the_provider_provisions(
    network: Network, idp: OidcProvider
) -> None:
    closed = configure(network, network.oem.org_id, idp)
    http, answer = sso_sign_in(network, closed, idp)
    _refused(answer, 401, "no account for this address")
    http.close()

    provisioning = configure(
        network,
        network.oem.org_id,
        idp,
        provision_people=True,
        role_claim="groups",
        role_mapping={"it": "admin"},
    )
    idp.login = Login(sub=idp.login.sub, email=idp.login.email, groups=["it"], name="Ada Admin")
    http, answer = sso_sign_in(network, provisioning, idp)
    assert answer.status_code == 303
    made = _person(network, idp.login.email)
    assert (made.organization_id, made.role, made.display_name, made.password_hash) == (
        network.oem.org_id,
        "admin",
        "Ada Admin",
        None,
    )
    assert _audit(network, made.id)[0] == (f"person:{made.id}", "person.created")
    http.close()


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        ({"aud": ["another-client"]}, "aud"),
        ({"nonce": "not-the-nonce-we-sent"}, "nonce"),
        ({"exp_in": -600}, "expired"),
    ],
    ids=["wrong-audience", "wrong-nonce", "expired"],
)
def test_a_wrong_id_token_signs_nobody_in(
    network: Network, idp: OidcProvider, tamper: dict[str, object], words: str
) -> None:
    email = person(network, network.oem.org_id, "sqe")
    idp.login = Login(sub=idp.login.sub, email=email)
    provider_id = configure(network, network.oem.org_id, idp)
    idp.tamper = tamper
    http, answer = sso_sign_in(network, provider_id, idp)
    _refused(answer, 401, words)
    assert "ID token was refused" in answer.text
    linked = select(SsoIdentity).where(SsoIdentity.provider_id == provider_id)
    assert in_database(network, lambda s: list(s.scalars(linked))) == []
    http.close()


def test_a_callback_without_the_browsers_own_state_is_refused_before_the_code_is_used(
    network: Network, idp: OidcProvider
) -> None:
    email = person(network, network.oem.org_id, "sqe")
    idp.login = Login(sub=idp.login.sub, email=email)
    provider_id = configure(network, network.oem.org_id, idp)
    before = idp.token_requests

    http, back = begin(network, provider_id, idp)
    forged = back.replace("state=", "state=x")
    _refused(http.get(forged), 400, "out of date or not begun here")
    # Another browser (the attacker's link opened by a victim) holds no pending sign-in at all.
    other, _ = begin(network, provider_id, idp)
    other.cookies.clear()
    _refused(other.get(back), 400, "out of date or not begun here")
    # A refused callback ends the pending sign-in: even the genuine redirect now has to start again.
    _refused(http.get(back), 400, "out of date or not begun here")
    assert idp.token_requests == before  # no code was ever exchanged
    http.close()
    other.close()


def test_an_unverified_address_or_a_disabled_person_is_refused(network: Network, idp: OidcProvider) -> None:
    email = person(network, network.oem.org_id, "sqe")
    provider_id = configure(network, network.oem.org_id, idp)
    idp.login = Login(sub=idp.login.sub, email=email, email_verified=False)
    http, answer = sso_sign_in(network, provider_id, idp)
    _refused(answer, 401, "email_verified")

    idp.login = Login(sub=idp.login.sub, email=email)
    in_database(
        network, lambda s: s.execute(update(Person).where(Person.email == email).values(disabled_at=utcnow()))
    )
    http, answer = sso_sign_in(network, provider_id, idp)
    _refused(answer, 401, "disabled")
    http.close()


def test_a_provider_reaches_only_people_of_its_own_organization(network: Network, idp: OidcProvider) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    email = person(network, network.oem.org_id, "admin")  # the OEM's person, known to the OEM's provider
    oem_provider = configure(network, network.oem.org_id, idp)
    idp.login = Login(sub=idp.login.sub, email=email)
    http, answer = sso_sign_in(network, oem_provider, idp)
    assert answer.status_code == 303
    http.close()

    # The same identity through the supplier's provider: neither the OEM's person by subject nor by address.
    supplier_provider = configure(network, supplier.org_id, idp)
    http, answer = sso_sign_in(network, supplier_provider, idp)
    _refused(answer, 401, "no account for this address")
    http.close()

    provisioning = configure(
        network,
        supplier.org_id,
        idp,
        provision_people=True,
        role_claim="groups",
        role_mapping={"it": "admin"},
    )
    idp.login = Login(sub=idp.login.sub, email=email, groups=["it"])
    http, answer = sso_sign_in(network, provisioning, idp)
    assert answer.status_code == 303
    people = in_database(
        network,
        lambda s: {
            (p.organization_id, p.role) for p in s.scalars(select(Person).where(Person.email == email))
        },
    )
    assert people == {(network.oem.org_id, "admin"), (supplier.org_id, "admin")}
    # The browser is the supplier's admin, with what a supplier may have and never an OEM's scopes.
    token = http.cookies[sessions.COOKIE]
    caller = in_database(
        network,
        lambda s: sessions.resolve(s, token=token, policy=session_policy(network.hub.settings), now=utcnow()),
    )
    assert caller.org_id == supplier.org_id
    assert caller.scopes == scopes_for(Role.ADMIN, OrgKind.SUPPLIER) and "rules:admin" not in caller.scopes
    http.close()


def test_a_provider_that_is_down_or_names_another_issuer_is_a_message_on_the_sign_in_page(
    network: Network, idp: OidcProvider
) -> None:
    impostor = configure(network, network.oem.org_id, idp, issuer=f"{idp.issuer}/realms/other")
    down = configure(
        network, network.oem.org_id, idp, discovery_url=f"{closed_url()}/.well-known/openid-configuration"
    )
    with httpx.Client(base_url=network.base_url, timeout=10) as http:
        _refused(http.get(f"/console/sso/{impostor}"), 502, "names another issuer")
        _refused(http.get(f"/console/sso/{down}"), 502, "could not be read")


def test_an_unknown_or_malformed_provider_is_the_not_found_page(network: Network) -> None:
    with httpx.Client(base_url=network.base_url, timeout=10) as http:
        assert http.get(f"/console/sso/{uuid.uuid4()}").status_code == 404
        assert http.get("/console/sso/not-an-id").status_code == 404
        assert http.get("/console/sso/callback?code=x&state=y").status_code == 400
