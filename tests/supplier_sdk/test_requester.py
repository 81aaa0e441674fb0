"""The requester on its own: tokens, retries, Idempotency-Key, error mapping and paging, over httpx's MockTransport.

The transport is httpx's, not ours, so a scripted one stands in for the network here; the same requester
against a real hub on a socket is what every other SDK test exercises (tests/supplier_sdk/test_client*.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

from protocol.signing import verify_envelope
from supplier_sdk.errors import AuthenticationError, HubUnreachable, NotFound, ServerError
from supplier_sdk.requester import DEFAULT_USER_AGENT, Requester
from supplier_sdk.signer import Signer

Answer = Callable[[httpx.Request], httpx.Response]


class ScriptedHub:
    """Answers /oauth/token with numbered tokens; every other request from a queue of answers, recording all."""

    def __init__(self, *answers: httpx.Response | Answer | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth/token":
            self.tokens += 1
            body = {"access_token": f"t{self.tokens}", "token_type": "Bearer", "expires_in": 600, "scope": ""}
            return httpx.Response(200, json=body)
        answer = self.answers.pop(0) if self.answers else httpx.Response(200, json={})
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    def calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/oauth/token"]


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def make(waits: list[float]) -> Iterator[Callable[..., Requester]]:
    made: list[Requester] = []

    def build(hub: ScriptedHub, **options: object) -> Requester:
        requester = Requester(
            base_url="https://hub.example/",
            client_id="qlc_test",
            private_key=Ed25519PrivateKey.generate(),
            transport=httpx.MockTransport(hub),
            sleep=waits.append,
            **options,  # type: ignore[arg-type]
        )
        made.append(requester)
        return requester

    yield build
    for requester in made:
        requester.close()


def _error(status: int, name: str, **headers: str) -> httpx.Response:
    body = {"error": name, "detail": f"{name} happened", "request_id": "req-1"}
    return httpx.Response(status, json=body, headers=headers)


def test_one_token_serves_every_request_while_it_is_fresh(make: Callable[..., Requester]) -> None:
    hub = ScriptedHub()
    requester = make(hub)

    for _ in range(3):
        requester.request("GET", "/v1/organizations/me")

    assert hub.tokens == 1
    assert [r.headers["authorization"] for r in hub.calls()] == ["Bearer t1"] * 3
    assert {r.headers["user-agent"] for r in hub.calls()} == {DEFAULT_USER_AGENT}
    assert (
        requester.base_url == "https://hub.example"
        and requester.token_url == "https://hub.example/oauth/token"
    )


def test_a_401_fetches_one_new_token_and_a_second_401_is_raised(make: Callable[..., Requester]) -> None:
    hub = ScriptedHub(_error(401, "InvalidToken"), httpx.Response(200, json={"ok": True}))
    requester = make(hub)

    assert requester.request("GET", "/v1/agreements") == {"ok": True}
    assert [r.headers["authorization"] for r in hub.calls()] == ["Bearer t1", "Bearer t2"]

    hub.answers = [_error(401, "InvalidToken"), _error(401, "InvalidToken")]
    with pytest.raises(AuthenticationError):
        requester.request("GET", "/v1/agreements")
    assert hub.tokens == 3  # one refresh per request, not a loop


def test_a_post_keeps_one_idempotency_key_across_its_retries(
    make: Callable[..., Requester], waits: list[float]
) -> None:
    hub = ScriptedHub(
        _error(503, "ServiceUnavailable"), httpx.ReadTimeout("slow"), httpx.Response(201, json={"id": 1})
    )
    requester = make(hub)

    assert requester.request("POST", "/v1/rules", json={"name": "r"}) == {"id": 1}

    keys = [r.headers["idempotency-key"] for r in hub.calls()]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert len(waits) == 2 and all(0 <= w <= 0.4 for w in waits)


def test_the_callers_idempotency_key_is_sent_and_gets_carry_none(make: Callable[..., Requester]) -> None:
    hub = ScriptedHub()
    requester = make(hub)

    requester.request("POST", "/v1/rules", json={}, idempotency_key="rule-7")
    requester.request("GET", "/v1/rules")

    post, get = hub.calls()
    assert post.headers["idempotency-key"] == "rule-7"
    assert "idempotency-key" not in get.headers


def test_error_answers_become_the_typed_errors_at_once(make: Callable[..., Requester]) -> None:
    hub = ScriptedHub(_error(404, "NotFound"))
    requester = make(hub)

    with pytest.raises(NotFound) as raised:
        requester.request("GET", "/v1/agreements/x")

    assert (raised.value.http_status, raised.value.request_id) == (404, "req-1")
    assert len(hub.calls()) == 1  # a 404 is not retried


def test_retry_after_is_honoured_and_the_last_error_raised(
    make: Callable[..., Requester], waits: list[float]
) -> None:
    hub = ScriptedHub(*[_error(503, "ServiceUnavailable", **{"Retry-After": "2"})] * 3)
    requester = make(hub, max_retries=2)

    with pytest.raises(ServerError):
        requester.request("GET", "/v1/agreements")

    assert waits == [2.0, 2.0] and len(hub.calls()) == 3


def test_no_answer_after_the_retries_is_hub_unreachable(make: Callable[..., Requester]) -> None:
    hub = ScriptedHub(*[httpx.ConnectError("refused")] * 4)
    requester = make(hub)

    with pytest.raises(HubUnreachable, match=r"hub at https://hub\.example is unreachable"):
        requester.request("GET", "/v1/agreements")
    assert len(hub.calls()) == 4  # the first attempt and max_retries=3


def test_pages_follow_the_cursor_with_the_filters_and_the_page_size(make: Callable[..., Requester]) -> None:
    def page(items: list[int], cursor: str | None) -> httpx.Response:
        return httpx.Response(200, json={"items": items, "next_cursor": cursor})

    hub = ScriptedHub(page([1, 2], "c1"), page([3], "c2"), page([], None))
    requester = make(hub)

    items = list(requester.pages("/v1/rules", params={"status": "active", "kpi": None}, page_size=2))

    assert items == [1, 2, 3]
    assert [dict(r.url.params) for r in hub.calls()] == [
        {"status": "active", "limit": "2"},
        {"status": "active", "limit": "2", "cursor": "c1"},
        {"status": "active", "limit": "2", "cursor": "c2"},
    ]


def test_a_streamed_body_is_made_afresh_for_every_attempt(make: Callable[..., Requester]) -> None:
    seen: list[bytes] = []

    def store(request: httpx.Request) -> httpx.Response:
        seen.append(request.read())
        return httpx.Response(200, content=b"stored")

    hub = ScriptedHub(lambda request: (seen.append(request.read()), _error(502, "BadGateway"))[1], store)
    requester = make(hub)

    response = requester.send("PUT", "/v1/blob", content=lambda: iter([b"ab", b"cd"]), stream=True)

    assert seen == [b"abcd", b"abcd"]
    assert response.read() == b"stored"
    response.close()


def test_the_key_must_be_ed25519_and_the_url_http() -> None:
    with pytest.raises(TypeError, match="Ed25519"):
        Requester(base_url="https://hub", client_id="c", private_key="not a key")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="http"):
        Requester(base_url="hub.example", client_id="c", private_key=Ed25519PrivateKey.generate())


class Sample(BaseModel):
    value: int


def test_the_signer_signs_under_its_key_id_and_the_requester_never_signs_reports() -> None:
    key = Ed25519PrivateKey.generate()
    signer = Signer(key, key_id="k-1")

    envelope = signer.sign(Sample(value=1), type="test")

    assert (envelope.key_id, envelope.type, envelope.payload) == ("k-1", "test", {"value": 1})
    verify_envelope(envelope, key.public_key())
    assert not hasattr(Requester, "sign")
