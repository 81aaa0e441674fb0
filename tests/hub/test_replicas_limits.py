"""Rate limits and revocations hold across replicas (issue #17 §1): two `hub serve` processes on one PostgreSQL,
every request to the next one in turn.

Failed token requests (the token endpoint's limit, :mod:`hub.auth.throttle`) and failed console sign-ins (the
login limit, :mod:`hub.people.sessions`) are spread round-robin over both; the limit is reached after the
configured count in total, not per replica, and from then on both answer 429 with ``Retry-After``. A client
revoked through one replica is refused by both. Both limits count in the shared database; neither keeps a count
in a process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, make_session_factory
from hub.orgs import service as orgs
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from tests.conftest import make_settings
from tests.hub.console.conftest import hidden
from tests.hub.people.helpers import PASSWORD, make_person
from tests.replicas import ISSUER, HubProcess, RoundRobin, pinned, start_all

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        make_url(os.environ.get("HUB_TEST_DATABASE_URL") or "sqlite://").get_backend_name() != "postgresql",
        reason="replicas need PostgreSQL: set HUB_TEST_DATABASE_URL",
    ),
]

PER_CLIENT, PER_ADDRESS, PER_EMAIL = 4, 6, 3
LIMITS = {
    "HUB_TOKEN_FAILURES_PER_CLIENT_ADDRESS": str(PER_CLIENT),
    "HUB_TOKEN_FAILURES_PER_ADDRESS": str(PER_ADDRESS),
    # The longest fixed window, so the test never straddles two (it would start counting afresh).
    "HUB_TOKEN_FAILURE_WINDOW_SECONDS": "86400",
    "HUB_SIGN_IN_MAX_FAILURES_PER_EMAIL": str(PER_EMAIL),
    "HUB_SIGN_IN_FAILURE_WINDOW_SECONDS": "900",
}


@pytest.fixture
def factory(fresh_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(make_settings(fresh_database))
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def servers(fresh_database: str, tmp_path: Path) -> Iterator[list[HubProcess]]:
    replicas = [HubProcess(fresh_database, "serve", tmp_path / f"serve-{n}.log", **LIMITS) for n in range(2)]
    try:
        start_all(replicas)
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


def _clients(factory: sessionmaker[Session]) -> tuple[object, dict[str, tuple[str, str]]]:
    """An OEM with an admin client, a client to revoke and two more to guess at; (org, {name: (id, secret)})."""
    made = {}
    with factory.begin() as session:
        org = orgs.create_organization(
            session, actor="test", data=OrganizationCreate(name="Limits OEM", kind=OrgKind.OEM)
        )
        for name in ("admin", "doomed", "guessed", "other"):
            client, secret = orgs.create_client(
                session,
                actor="test",
                actor_org_id=None,
                org_id=org.id,
                name=name,
                scopes=None,
                public_jwk=None,
            )
            assert secret is not None
            made[name] = (client.client_id, secret)
        make_person(session, org, email="sqe@limits.example", role="sqe")
    return org, made


def _token(http: httpx.Client, client_id: str, secret: str) -> httpx.Response:
    return http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))


def _sign_in(servers: list[HubProcess], turn: int, email: str, password: str) -> httpx.Response:
    """The sign-in form fetched from one replica and posted to the other (its token rides in a cookie): the
    POSTs, which count, go to replica ``turn % 2``."""
    poster, fetcher = servers[turn % 2], servers[(turn + 1) % 2]
    with httpx.Client(base_url=ISSUER, transport=pinned(fetcher), timeout=30) as http:
        page = http.get("/console/sign-in")
    assert page.status_code == 200, page.text
    cookie = page.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    form = {"email": email, "password": password, "form_token": hidden(page.text, "form_token")}
    with httpx.Client(base_url=ISSUER, transport=pinned(poster), timeout=30) as http:
        return http.post(
            "/console/sign-in",
            data=form,
            headers={"Cookie": f"qualink_sign_in={cookie}"},
            follow_redirects=False,
        )


def _limited(answer: httpx.Response) -> int:
    assert answer.status_code == 429, answer.text
    return int(answer.headers["retry-after"])


def test_rate_limits_and_revocations_hold_across_replicas(
    factory: sessionmaker[Session], servers: list[HubProcess]
) -> None:
    _org, clients = _clients(factory)
    guessed_id, guessed_secret = clients["guessed"]
    with httpx.Client(base_url=ISSUER, transport=RoundRobin(servers), timeout=30) as balanced:
        # The token endpoint, per (client, address): PER_CLIENT failures over both replicas, then 429 from each.
        for attempt in range(PER_CLIENT):
            answer = _token(balanced, guessed_id, f"wrong-{attempt}")
            assert answer.status_code == 401, f"attempt {attempt + 1} of {PER_CLIENT}: {answer.text}"
        for server in servers:
            with httpx.Client(base_url=ISSUER, transport=pinned(server), timeout=30) as replica:
                assert 1 <= _limited(_token(replica, guessed_id, "wrong again")) <= 86400
                # The right secret, too late: a throttled caller learns nothing about its credentials.
                assert _limited(_token(replica, guessed_id, guessed_secret)) >= 1

        # Per address, over every client id: PER_CLIENT failures are counted already; the rest with others.
        for attempt in range(PER_ADDRESS - PER_CLIENT):
            answer = _token(balanced, clients["other"][0], f"wrong-{attempt}")
            assert answer.status_code == 401, answer.text
        for server in servers:
            with httpx.Client(base_url=ISSUER, transport=pinned(server), timeout=30) as replica:
                _limited(_token(replica, clients["other"][0], "wrong"))
                _limited(_token(replica, "qlc_nobody", "wrong"))

    # The console's login, per e-mail: PER_EMAIL failures alternating over the replicas, then 429 from each.
    for attempt in range(PER_EMAIL):
        answer = _sign_in(servers, attempt, "sqe@limits.example", f"not the password {attempt}")
        assert answer.status_code == 401, f"sign-in {attempt + 1} of {PER_EMAIL}: {answer.text[:300]}"
    for turn in range(len(servers)):
        answer = _sign_in(servers, turn, "sqe@limits.example", PASSWORD)  # the right password, too late
        assert 1 <= _limited(answer) <= 900
        assert "too many failed sign-ins" in answer.text


def test_a_client_revoked_through_one_replica_is_refused_by_both(
    factory: sessionmaker[Session], servers: list[HubProcess]
) -> None:
    # The address's token failures are this test's own: a fresh database, no failures counted yet.
    _org, clients = _clients(factory)
    first, second = servers
    with httpx.Client(base_url=ISSUER, transport=pinned(second), timeout=30) as other:
        admin = _token(other, *clients["admin"]).json()["access_token"]
        doomed = _token(other, *clients["doomed"])
        assert doomed.status_code == 200, doomed.text
        token = doomed.json()["access_token"]
    with httpx.Client(base_url=ISSUER, transport=pinned(first), timeout=30) as one:
        revoked = one.post(
            f"/v1/clients/{clients['doomed'][0]}/revoke", headers={"Authorization": f"Bearer {admin}"}
        )
        assert revoked.status_code == 200, revoked.text
    for server in servers:
        with httpx.Client(base_url=ISSUER, transport=pinned(server), timeout=30) as replica:
            me = replica.get("/v1/organizations/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 401, f"replica :{server.port} served a revoked client's token: {me.text}"
            again = _token(replica, *clients["doomed"])
            assert again.status_code in (400, 401), f"replica :{server.port} issued a token: {again.text}"
