"""Failed client authentications at POST /oauth/token are limited per (client id, source address) and per
address: 429 with Retry-After, counted in the database so that every replica enforces the same limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.app import create_app
from hub.auth import throttle
from hub.config import Settings
from hub.db import get_session
from hub.errors import RateLimited
from hub.models.base import utcnow
from protocol.models.common import OrgKind
from tests.conftest import TEST_ISSUER, make_settings
from tests.hub.asserts import assert_error
from tests.hub.conftest import make_actor

PER_CLIENT, PER_ADDRESS, WINDOW = 3, 5, 60
ATTACKER, ELSEWHERE = ("198.51.100.7", 40000), ("203.0.113.9", 40000)
FORM = {"grant_type": "client_credentials"}


@pytest.fixture
def limited_app(settings: Settings, db: Session) -> FastAPI:
    app = create_app(
        settings.model_copy(
            update={
                "token_failures_per_client_address": PER_CLIENT,
                "token_failures_per_address": PER_ADDRESS,
                "token_failure_window_seconds": WINDOW,
            }
        )
    )

    def _test_session() -> Iterator[Session]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = _test_session
    return app


@pytest.fixture
def from_attacker(limited_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(limited_app, base_url=TEST_ISSUER, client=ATTACKER) as http:
        yield http


@pytest.fixture
def from_elsewhere(limited_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(limited_app, base_url=TEST_ISSUER, client=ELSEWHERE) as http:
        yield http


def assert_limited(response: object) -> None:
    assert_error(response, 429, "RateLimited", detail="too many failed")
    retry_after = int(response.headers["retry-after"])  # type: ignore[attr-defined]
    assert 1 <= retry_after <= WINDOW


def test_wrong_secrets_for_one_client_are_cut_off_from_that_address_only(
    db: Session, from_attacker: TestClient, from_elsewhere: TestClient
) -> None:
    victim = make_actor(db, from_elsewhere, OrgKind.SUPPLIER)
    for _ in range(PER_CLIENT):
        wrong = from_attacker.post("/oauth/token", data=FORM, auth=(victim.client_id, "qls_wrong"))
        assert_error(wrong, 401, "invalid_client")

    assert_limited(from_attacker.post("/oauth/token", data=FORM, auth=(victim.client_id, "qls_wrong")))
    # Throttled means throttled: the right secret from the attacker's address gets the same 429, so the limit is
    # no oracle for guesses.
    assert_limited(from_attacker.post("/oauth/token", data=FORM, auth=(victim.client_id, victim.secret)))
    # The legitimate client, from its own address, is not locked out by the attacker.
    assert (
        from_elsewhere.post("/oauth/token", data=FORM, auth=(victim.client_id, victim.secret)).status_code
        == 200
    )


def test_one_address_trying_many_client_ids_is_cut_off(
    db: Session, from_attacker: TestClient, from_elsewhere: TestClient
) -> None:
    bystander = make_actor(db, from_attacker, OrgKind.OEM)
    for n in range(PER_ADDRESS):
        wrong = from_attacker.post("/oauth/token", data=FORM, auth=(f"qlc_guess{n}", "qls_wrong"))
        assert_error(wrong, 401, "invalid_client")

    assert_limited(from_attacker.post("/oauth/token", data=FORM, auth=("qlc_another", "qls_wrong")))
    assert_limited(
        from_attacker.post("/oauth/token", data=FORM, auth=(bystander.client_id, bystander.secret))
    )
    assert (
        from_elsewhere.post(
            "/oauth/token", data=FORM, auth=(bystander.client_id, bystander.secret)
        ).status_code
        == 200
    )


def test_failed_client_assertions_count_under_the_claimed_client(
    db: Session, from_attacker: TestClient
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tests.hub.auth.test_token_endpoint import assertion, assertion_form

    stranger = Ed25519PrivateKey.generate()
    for _ in range(PER_CLIENT):
        response = from_attacker.post("/oauth/token", data=assertion_form(assertion(stranger, "qlc_target")))
        assert_error(response, 401, "invalid_client")
    assert_limited(from_attacker.post("/oauth/token", data=assertion_form(assertion(stranger, "qlc_target"))))


def test_successes_and_other_errors_are_not_counted(db: Session, from_attacker: TestClient) -> None:
    actor = make_actor(db, from_attacker, OrgKind.OEM)
    for _ in range(PER_ADDRESS + 1):
        assert (
            from_attacker.post("/oauth/token", data=FORM, auth=(actor.client_id, actor.secret)).status_code
            == 200
        )
        bad_grant = from_attacker.post(
            "/oauth/token", data={"grant_type": "password"}, auth=(actor.client_id, actor.secret)
        )
        assert bad_grant.status_code == 400


def test_a_window_that_ended_no_longer_counts(db: Session, settings: Settings) -> None:
    limited = settings.model_copy(
        update={"token_failures_per_client_address": 2, "token_failure_window_seconds": 60}
    )
    now = utcnow()
    key = {"settings": limited, "client_id": "qlc_x", "address": "198.51.100.7"}
    for _ in range(2):
        throttle.record_failure(db, **key, now=now)
    with pytest.raises(RateLimited):
        throttle.check(db, **key, now=now)
    _, ends = throttle.window_of(now, 60)
    throttle.check(db, **key, now=ends)  # the next window starts afresh
    assert throttle.forget_ended(db, now=now + timedelta(days=2)) == 2  # its row and the address's


def test_ipv6_addresses_count_by_their_64() -> None:
    assert throttle.address_key("2001:db8:1:2:aaaa::1") == throttle.address_key("2001:db8:1:2:bbbb::9")
    assert throttle.address_key("2001:db8:1:3::1") != throttle.address_key("2001:db8:1:2::1")
    assert throttle.address_key("::ffff:198.51.100.7") == "198.51.100.7"


@pytest.fixture
def two_replicas(fresh_database: str) -> Iterator[tuple[TestClient, TestClient]]:
    settings = make_settings(fresh_database, token_failures_per_client_address=PER_CLIENT)
    with (
        TestClient(create_app(settings), base_url=TEST_ISSUER, client=ATTACKER) as a,
        TestClient(create_app(settings), base_url=TEST_ISSUER, client=ATTACKER) as b,
    ):
        yield a, b


def test_the_count_is_shared_by_every_replica(two_replicas: tuple[TestClient, TestClient]) -> None:
    a, b = two_replicas
    replicas = [a, b, a]
    for http in replicas[:PER_CLIENT]:
        assert_error(
            http.post("/oauth/token", data=FORM, auth=("qlc_target", "qls_wrong")), 401, "invalid_client"
        )
    assert_limited(b.post("/oauth/token", data=FORM, auth=("qlc_target", "qls_wrong")))
