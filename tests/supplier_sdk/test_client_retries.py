"""The client's own retry logic: which answers it retries, how long it waits, what it keeps across attempts.

These tests script the answers with ``httpx.MockTransport`` because they are about the client's timing and
bookkeeping, not about the hub (test_client.py and test_outbox.py talk to the real hub), and record the waits
through the client's ``sleep`` hook instead of sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from supplier_sdk.client import Client, RetryPolicy
from supplier_sdk.errors import (
    AuthenticationError,
    ConflictError,
    HubUnreachable,
    InvalidRequest,
    RateLimited,
    ServerError,
)

BASE = "https://hub.test"
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers API requests in order from a list; the token endpoint always hands out a token."""

    def __init__(self, *answers: Answer, token_ttl: int = 600) -> None:
        self.answers = list(answers)
        self.token_ttl = token_ttl
        self.requests: list[httpx.Request] = []
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth/token":
            self.tokens += 1
            body = {"access_token": f"t{self.tokens}", "token_type": "Bearer", "expires_in": self.token_ttl}
            return httpx.Response(200, json={**body, "scope": "kpi:write"})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/oauth/token"]


def error(status: int, name: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": name, "detail": name, "request_id": "r"}, headers=headers)


OK = httpx.Response(200, json={"ok": True})


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(script: Script, **options: Any) -> Client:
        client = Client(
            base_url=BASE,
            client_id="qlc_test",
            private_key=Ed25519PrivateKey.generate(),
            transport=httpx.MockTransport(script),
            sleep=sleeps.append,
            **options,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        error(500, "InternalError"),
        error(502, "HTTP 502"),
        error(503, "ServiceUnavailable"),
        error(429, "TooManyRequests"),
        error(409, "IdempotencyKeyInFlight"),
        error(409, "IdempotencyKeyInUse"),
    ],
    ids=["connect", "read-timeout", "500", "502", "503", "429", "409-in-flight", "409-unknown-name"],
)
def test_transient_failures_are_retried_until_an_answer(
    make_client: Callable[..., Client], sleeps: list[float], failure: Answer
) -> None:
    script = Script(failure, failure, OK)
    client = make_client(script, backoff_base=0.2, backoff_cap=5.0)

    assert client.request("GET", "/v1/agreements") == {"ok": True}

    assert len(script.api_requests()) == 3
    assert len(sleeps) == 2
    assert 0.0 <= sleeps[0] <= 0.2 and 0.0 <= sleeps[1] <= 0.4


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (httpx.ConnectError("refused"), HubUnreachable),
        (error(503, "ServiceUnavailable"), ServerError),
        (error(429, "TooManyRequests"), RateLimited),
    ],
)
def test_the_last_failure_is_raised_after_max_retries(
    make_client: Callable[..., Client], sleeps: list[float], failure: Answer, raised: type[Exception]
) -> None:
    script = Script(*[failure] * 5)
    client = make_client(script, max_retries=3)

    with pytest.raises(raised):
        client.request("GET", "/v1/agreements")

    assert len(script.api_requests()) == 4
    assert len(sleeps) == 3


@pytest.mark.parametrize(
    ("status", "name", "raised"),
    [
        (409, "DuplicateReport", ConflictError),
        (409, "ReplayedNonce", ConflictError),
        (422, "IdempotencyKeyReused", InvalidRequest),
        (422, "StaleSignature", InvalidRequest),
        (400, "BadRequest", InvalidRequest),
    ],
)
def test_permanent_refusals_are_raised_at_once(
    make_client: Callable[..., Client], sleeps: list[float], status: int, name: str, raised: type[Exception]
) -> None:
    script = Script(error(status, name), OK)
    client = make_client(script)

    with pytest.raises(raised) as caught:
        client.request("POST", "/v1/kpi-reports", json={})

    assert caught.value.error == name  # type: ignore[attr-defined]
    assert len(script.api_requests()) == 1 and sleeps == []


def test_backoff_is_full_jitter_under_a_doubling_capped_ceiling() -> None:
    policy = RetryPolicy(backoff_base=0.2, backoff_cap=1.0)
    rng = random.Random(7)

    draws = {attempt: [policy.backoff(attempt, rng=rng) for _ in range(2000)] for attempt in range(6)}

    for attempt, values in draws.items():
        ceiling = min(1.0, 0.2 * 2**attempt)
        assert all(0.0 <= v <= ceiling for v in values)
        # full jitter spreads over the whole range, not just near the ceiling
        assert min(values) < 0.05 * ceiling and max(values) > 0.95 * ceiling
    assert policy.ceiling(100) == 1.0


def test_retry_after_in_seconds_is_honoured_exactly(
    make_client: Callable[..., Client], sleeps: list[float]
) -> None:
    script = Script(error(429, "TooManyRequests", **{"Retry-After": "3"}), OK)
    client = make_client(script)

    client.request("GET", "/v1/agreements")

    assert sleeps == [3.0]


def test_retry_after_as_an_http_date_is_honoured(
    make_client: Callable[..., Client], sleeps: list[float]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    script = Script(error(503, "ServiceUnavailable", **{"Retry-After": when}), OK)
    client = make_client(script)

    client.request("GET", "/v1/agreements")

    assert len(sleeps) == 1 and 17.0 <= sleeps[0] <= 20.0


def test_a_retry_after_longer_than_the_limit_ends_the_retries(
    make_client: Callable[..., Client], sleeps: list[float]
) -> None:
    script = Script(error(503, "ServiceUnavailable", **{"Retry-After": "600"}), OK)
    client = make_client(script, max_retry_after=60)

    with pytest.raises(ServerError) as caught:
        client.request("GET", "/v1/agreements")

    assert caught.value.retry_after == 600.0
    assert sleeps == [] and len(script.api_requests()) == 1


def test_a_post_keeps_its_idempotency_key_across_retries(make_client: Callable[..., Client]) -> None:
    script = Script(httpx.ReadTimeout("slow"), error(502, "HTTP 502"), httpx.Response(201, json={}))
    client = make_client(script)

    client.request("POST", "/v1/keys", json={"use": "sig"})

    keys = {r.headers["idempotency-key"] for r in script.api_requests()}
    assert len(script.api_requests()) == 3 and len(keys) == 1


def test_a_given_idempotency_key_is_sent_as_is(make_client: Callable[..., Client]) -> None:
    script = Script(httpx.Response(201, json={}))
    client = make_client(script)

    client.request("POST", "/v1/keys", json={}, idempotency_key="shaft-2026-W48-cpk")

    assert script.api_requests()[0].headers["idempotency-key"] == "shaft-2026-W48-cpk"


def test_gets_carry_no_idempotency_key(make_client: Callable[..., Client]) -> None:
    script = Script(OK)
    make_client(script).request("GET", "/v1/agreements")

    assert "idempotency-key" not in script.api_requests()[0].headers


def test_a_duplicate_after_an_unanswered_attempt_is_asked_once_more(
    make_client: Callable[..., Client], sleeps: list[float]
) -> None:
    """The first POST reached the hub but its answer was lost; the retry met our own report as a duplicate."""
    replay = httpx.Response(201, json={"id": "first"}, headers={"Idempotent-Replayed": "true"})
    script = Script(httpx.ReadTimeout("answer lost"), error(409, "DuplicateReport"), replay)
    client = make_client(script)

    assert client.request("POST", "/v1/kpi-reports", json={}) == {"id": "first"}

    assert len({r.headers["idempotency-key"] for r in script.api_requests()}) == 1
    assert len(sleeps) == 2


def test_a_duplicate_on_a_first_attempt_is_not_asked_again(make_client: Callable[..., Client]) -> None:
    script = Script(error(409, "DuplicateReport"), OK)

    with pytest.raises(ConflictError):
        make_client(script).request("POST", "/v1/kpi-reports", json={})

    assert len(script.api_requests()) == 1


def test_a_duplicate_after_a_refused_connection_is_not_asked_again(
    make_client: Callable[..., Client],
) -> None:
    """A refused connection never reached the hub, so a later duplicate cannot be our own request."""
    script = Script(httpx.ConnectError("refused"), error(409, "DuplicateReport"), OK)

    with pytest.raises(ConflictError):
        make_client(script).request("POST", "/v1/kpi-reports", json={})

    assert len(script.api_requests()) == 2


def test_a_duplicate_that_persists_is_raised_after_one_more_question(
    make_client: Callable[..., Client],
) -> None:
    script = Script(
        httpx.ReadTimeout("lost"), error(409, "DuplicateReport"), error(409, "DuplicateReport"), OK
    )

    with pytest.raises(ConflictError):
        make_client(script).request("POST", "/v1/kpi-reports", json={})

    assert len(script.api_requests()) == 3


def test_a_401_fetches_a_new_token_once(make_client: Callable[..., Client], sleeps: list[float]) -> None:
    script = Script(error(401, "Unauthenticated"), OK)
    client = make_client(script)

    client.request("GET", "/v1/agreements")

    assert script.tokens == 2
    assert [r.headers["authorization"] for r in script.api_requests()] == ["Bearer t1", "Bearer t2"]
    assert sleeps == []


def test_a_second_401_is_raised(make_client: Callable[..., Client]) -> None:
    script = Script(error(401, "Unauthenticated"), error(401, "Unauthenticated"), OK)

    with pytest.raises(AuthenticationError):
        make_client(script).request("GET", "/v1/agreements")

    assert script.tokens == 2


def test_the_token_is_reused_until_30_seconds_before_it_expires(make_client: Callable[..., Client]) -> None:
    fresh = Script(OK, OK, token_ttl=31)
    client = make_client(fresh)
    client.request("GET", "/a")
    client.request("GET", "/b")
    assert fresh.tokens == 1

    nearly_expired = Script(OK, OK, token_ttl=30)
    client = make_client(nearly_expired)
    client.request("GET", "/a")
    client.request("GET", "/b")
    assert nearly_expired.tokens == 2


def test_the_token_request_is_retried_with_a_fresh_assertion(
    make_client: Callable[..., Client], sleeps: list[float]
) -> None:
    assertions: list[str] = []
    answers = iter([httpx.Response(503), None])

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            form = dict(httpx.QueryParams(request.content.decode()))
            assertions.append(form["client_assertion"])
            answer = next(answers)
            if answer is not None:
                return answer
            return httpx.Response(
                200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 600, "scope": ""}
            )
        return OK

    client = Client(
        base_url=BASE,
        client_id="qlc_test",
        private_key=Ed25519PrivateKey.generate(),
        transport=httpx.MockTransport(token_endpoint),
        sleep=sleeps.append,
    )
    with client:
        assert client.request("GET", "/v1/agreements") == {"ok": True}

    assert len(assertions) == 2 and assertions[0] != assertions[1]
    assert len(sleeps) == 1


def test_an_error_without_the_uniform_body_still_maps_by_status(make_client: Callable[..., Client]) -> None:
    script = Script(httpx.Response(404, text="<html>nope</html>"))

    with pytest.raises(Exception) as caught:
        make_client(script).request("GET", "/v1/agreements/x")

    assert type(caught.value).__name__ == "NotFound"
    assert caught.value.error == "HTTP 404" and "nope" in caught.value.detail  # type: ignore[attr-defined]


def test_constructor_arguments_are_keyword_only_and_checked() -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(TypeError):
        Client(BASE, "qlc", key)  # type: ignore[misc]
    with pytest.raises(ValueError, match="http"):
        Client(base_url="hub.test", client_id="qlc", private_key=key)
    with pytest.raises(ValueError, match="max_retries"):
        Client(base_url=BASE, client_id="qlc", private_key=key, max_retries=-1)
    with pytest.raises(TypeError, match="Ed25519"):
        Client(base_url=BASE, client_id="qlc", private_key="seed")  # type: ignore[arg-type]
