"""supplier_sdk.Client against a real hub on a local socket: token, agreements, keys and error mapping."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.models.common import AgreementStatus, KeyStatus, OrgKind
from protocol.models.rules import STANDARD_RULE_TEMPLATE
from protocol.signing import key_id_for, public_key_raw
from supplier_sdk.errors import (
    AuthenticationError,
    ConflictError,
    HubUnreachable,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)
from tests.supplier_sdk.test_client_support import (
    CountingTransport,
    Network,
    agreement_terms,
    closed_url,
    running_network,
)

pytestmark = pytest.mark.e2e

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_client") as network:
        yield network


def test_a_token_is_fetched_once_and_reused_while_it_is_fresh(network: Network) -> None:
    reporting = network.reporting()
    transport = CountingTransport()
    hub = network.client(reporting.supplier, transport=transport)

    hub.agreements.list()
    hub.agreements.get(reporting.agreement.id)
    hub.organizations.me()

    assert transport.paths().count("/oauth/token") == 1
    assert [r.headers["authorization"][:7] for r in transport.requests[1:]] == ["Bearer "] * 3


def test_a_rejected_token_is_replaced_once_and_the_call_goes_through(network: Network) -> None:
    reporting = network.reporting()
    transport = CountingTransport()
    hub = network.client(reporting.supplier, transport=transport)
    hub.organizations.me()
    # A token the hub no longer accepts (here: a forged one) while the client still thinks it fresh.
    token = hub.requester._token
    hub.requester._token = type(token)("not-a-token", token.expires_at)  # type: ignore[arg-type,union-attr]

    me = hub.organizations.me()

    assert me.id == reporting.supplier.org_id
    assert transport.paths() == [
        "/oauth/token",
        "/v1/organizations/me",
        "/v1/organizations/me",  # answered 401
        "/oauth/token",
        "/v1/organizations/me",
    ]


def test_every_post_carries_a_uuid4_idempotency_key(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    transport = CountingTransport()
    hub = network.client(supplier, transport=transport)

    hub.keys.register_signing_key()
    hub.request("POST", "/v1/keys", json={"use": "enc", "public_key": "A" * 43})

    posts = [r for r in transport.requests if r.method == "POST"]
    assert [r.url.path for r in posts] == ["/oauth/token", "/v1/keys", "/v1/keys"]
    keys = [r.headers.get("idempotency-key", "") for r in posts]
    assert all(UUID4.match(key) for key in keys), keys
    assert len(set(keys)) == 3


def test_agreements_are_typed_filtered_by_status_and_fetched_by_id(network: Network) -> None:
    reporting = network.reporting()
    proposed = network.client(network.oem).request(
        "POST",
        "/v1/agreements",
        json=agreement_terms(reporting.supplier.org_id, title="Still under discussion"),
    )
    hub = network.client(reporting.supplier)

    active = hub.agreements.list(status="active")
    everything = hub.agreements.list()
    one = hub.agreements.get(str(reporting.agreement.id))

    assert [a.id for a in active] == [reporting.agreement.id]
    assert active[0].status is AgreementStatus.ACTIVE
    assert {a.id for a in everything} == {reporting.agreement.id, uuid.UUID(proposed["id"])}
    assert one == reporting.agreement
    assert one.kpis[0].threshold == reporting.agreement.kpis[0].threshold


def test_another_suppliers_agreement_is_not_found(network: Network) -> None:
    mine, theirs = network.reporting(), network.reporting()
    hub = network.client(mine.supplier)

    with pytest.raises(NotFound) as caught:
        hub.agreements.get(theirs.agreement.id)

    assert caught.value.http_status == 404
    assert caught.value.error == "NotFound"
    assert caught.value.request_id and len(caught.value.request_id) >= 8
    with pytest.raises(NotFound):
        hub.agreements.get(uuid.uuid4())


def test_register_signing_key_returns_the_thumbprint_the_client_signs_under(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    hub = network.client(supplier)

    key_id = hub.keys.register_signing_key()

    assert key_id == hub.signing_key_id == key_id_for(public_key_raw(supplier.key))
    keys = list(hub.pages(f"/v1/organizations/{supplier.org_id}/keys"))
    assert [(k["key_id"], k["use"], k["status"]) for k in keys] == [(key_id, "sig", KeyStatus.ACTIVE.value)]


def test_registering_the_active_key_again_is_not_an_error(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    hub = network.client(supplier)
    first = hub.keys.register_signing_key()

    assert hub.keys.register_signing_key() == first
    assert len(list(hub.pages(f"/v1/organizations/{supplier.org_id}/keys"))) == 1


def test_a_key_another_organization_registered_is_a_conflict(network: Network) -> None:
    first = network.register(OrgKind.SUPPLIER)
    network.client(first).keys.register_signing_key()
    # A second organization whose API client was (wrongly) set up with the first one's key pair.
    second = network.register(OrgKind.SUPPLIER, key=first.key)

    with pytest.raises(ConflictError) as caught:
        network.client(second).keys.register_signing_key()

    assert caught.value.error == "Conflict" and "registered already" in caught.value.detail
    assert list(network.client(second).pages(f"/v1/organizations/{second.org_id}/keys")) == []


def test_an_unknown_client_is_an_authentication_error(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    supplier.client_id = "qlc_" + "0" * 24
    hub = network.client(supplier)

    with pytest.raises(AuthenticationError) as caught:
        hub.agreements.list()

    assert caught.value.error == "invalid_client"
    assert caught.value.http_status in (400, 401)
    assert not caught.value.retryable


def test_a_client_assertion_signed_with_the_wrong_key_is_refused(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    supplier.key = Ed25519PrivateKey.generate()

    with pytest.raises(AuthenticationError) as caught:
        network.client(supplier).organizations.me()

    assert caught.value.error == "invalid_client"


def test_a_scope_the_client_may_not_hold_is_refused_at_the_token_endpoint(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)

    with pytest.raises(InvalidRequest) as caught:
        network.client(supplier, scope="operator:admin").organizations.me()

    assert caught.value.error == "invalid_scope"


def test_a_missing_scope_is_permission_denied(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    hub = network.client(supplier, scope="agreements:read")

    with pytest.raises(PermissionDenied) as caught:
        hub.keys.register_signing_key()

    assert caught.value.error == "InsufficientScope"
    assert "org:admin" in caught.value.detail


def test_a_lasting_plain_conflict_is_raised_at_once(network: Network) -> None:
    """A plain Conflict is a state no wait changes (here: the agreement is not proposed any more)."""
    reporting = network.reporting()
    transport = CountingTransport()
    hub = network.client(reporting.supplier, transport=transport, max_retries=2)

    with pytest.raises(ConflictError) as caught:
        hub.request("POST", f"/v1/agreements/{reporting.agreement.id}/accept", json={"reason": "again"})

    assert caught.value.error == "Conflict" and "not proposed" in caught.value.detail
    accepts = [r for r in transport.requests if r.url.path.endswith("/accept")]
    assert len(accepts) == 1


def test_a_hub_that_is_not_listening_is_unreachable_after_the_retries(network: Network) -> None:
    supplier = network.register(OrgKind.SUPPLIER)
    sleeps: list[float] = []
    hub = network.client(supplier, base_url=closed_url(), max_retries=2, sleep=sleeps.append)

    with pytest.raises(HubUnreachable) as caught:
        hub.agreements.list()

    assert len(sleeps) == 2
    assert "ConnectError" in str(caught.value) and hub.base_url in str(caught.value)


class AnswerLostTransport(CountingTransport):
    """The real transport, but the hub's first answer to a POST never arrives: the hub did the work."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path != "/oauth/token" and not self.lost:
            self.lost = True
            response.read()
            response.close()
            raise httpx.ReadError("connection reset after the request was sent")
        return response


def test_a_post_whose_answer_was_lost_is_retried_under_its_key_and_makes_one_thing(network: Network) -> None:
    transport = AnswerLostTransport()
    hub = network.client(network.oem, transport=transport)
    name = f"CPK rule {uuid.uuid4().hex[:8]}"

    made = hub.request("POST", "/v1/rules", json={**STANDARD_RULE_TEMPLATE, "name": name})

    posts = [r for r in transport.requests if r.url.path == "/v1/rules"]
    assert len(posts) == 2 and transport.lost
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert [rule["id"] for rule in hub.pages("/v1/rules") if rule["name"] == name] == [made["id"]]


def test_pages_follow_every_cursor_to_the_end(network: Network) -> None:
    hub = network.client(network.oem)
    names = {f"paged {n} {uuid.uuid4().hex[:6]}" for n in range(5)}
    for name in names:
        hub.request("POST", "/v1/rules", json={**STANDARD_RULE_TEMPLATE, "name": name})
    transport = CountingTransport()
    paging = network.client(network.oem, transport=transport)

    listed = [rule["name"] for rule in paging.pages("/v1/rules", page_size=2)]

    assert names <= set(listed) and len(listed) == len(set(listed))
    # one request per page, and no empty page at the end: a page says whether another follows
    assert transport.paths("GET").count("/v1/rules") == (len(listed) + 1) // 2
