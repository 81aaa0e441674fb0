"""SSRF: outside development no spelling of an internal address is accepted, names are resolved and every
address checked at delivery, the dispatcher connects to the checked address, and a blocked address, a closed port
and an open port that speaks no HTTP all look the same to the subscriber."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, make_session_factory
from hub.models import WebhookDelivery
from hub.webhooks import egress
from hub.webhooks import service as webhooks
from hub.webhooks.dispatcher import NO_ANSWER, Dispatcher
from protocol.models.common import OrgKind
from tests.conftest import make_settings
from tests.hub.conftest import make_org
from tests.hub.webhooks.helpers import make_events, make_webhook

INTERNAL_SPELLINGS = [
    "https://2130706433/hook",  # 127.0.0.1 as one decimal number
    "https://127.1/hook",
    "https://0x7f000001/hook",
    "https://0x7f.0.0.1/hook",
    "https://0177.0.0.1/hook",  # octal
    "https://2852039166/latest/meta-data",  # 169.254.169.254
    "https://0/hook",
    "https://0.0.0.0/hook",
    "https://127.0.0.1./hook",  # trailing dot
    "https://localhost./hook",
    "https://LOCALHOST/hook",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://100.100.100.200/latest/meta-data",  # CGNAT: Alibaba's metadata service
    "https://100.64.0.1/hook",
    "https://192.0.0.192/opc/v2/",  # Oracle's metadata service
    "https://224.0.0.1/hook",  # multicast
    "https://255.255.255.255/hook",
    "https://[::]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "https://[::ffff:7f00:1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the metadata address
    "https://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "https://[fe80::1%25eth0]/hook",  # link-local with a zone
    "https://[fd00:ec2::254]/latest/meta-data",  # AWS's IPv6 metadata service
    "https://[ff02::1]/hook",
]


@pytest.mark.parametrize("url", INTERNAL_SPELLINGS)
def test_no_spelling_of_an_internal_address_is_accepted_outside_development(url: str) -> None:
    with pytest.raises(webhooks.InvalidInput, match="loopback, private or link-local"):
        webhooks.check_url(url, development=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/hook",
        "https://134744072/hook",
        "https://[2606:4700::1111]/hook",
        "https://hooks.example/",
    ],
)
def test_public_receivers_are_accepted(url: str) -> None:
    webhooks.check_url(url, development=False)


def test_numeric_forms_are_read_as_the_socket_reads_them() -> None:
    assert egress.literal_address("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert egress.literal_address("127.1") == ipaddress.ip_address("127.0.0.1")
    assert egress.literal_address("0x7f000001") == ipaddress.ip_address("127.0.0.1")
    assert egress.literal_address("2852039166") == ipaddress.ip_address("169.254.169.254")
    assert egress.literal_address("[::ffff:127.0.0.1]") == ipaddress.ip_address("::ffff:127.0.0.1")
    assert egress.literal_address("cafe") is None  # a name made of hex letters stays a name
    assert egress.literal_address("hooks.example") is None


def test_a_name_is_resolved_and_refused_when_it_resolves_to_loopback() -> None:
    # The registration check sees only the name; the delivery-time check resolves it. Call the resolution check
    # directly with a name that is not on the list of local names but resolves to loopback: the host's own name
    # when /etc/hosts maps it there, else "localhost" itself.
    with pytest.raises(egress.BlockedTarget):
        asyncio.run(egress.resolve_public("localhost", 443))
    try:
        own = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), 443)}
    except OSError:
        own = set()
    if own and all(egress.is_blocked(ipaddress.ip_address(a)) for a in own):
        with pytest.raises(egress.BlockedTarget):
            asyncio.run(egress.resolve_public(socket.gethostname(), 443))


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    """The system resolver, answering for the given names and deferring to the real one for the rest (there is
    no outside DNS in the test network)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_every_resolved_address_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"mixed.example": ["93.184.215.14", "10.0.0.7"], "ok.example": ["93.184.215.14"]})
    with pytest.raises(egress.BlockedTarget):
        asyncio.run(egress.resolve_public("mixed.example", 443))
    assert asyncio.run(egress.resolve_public("ok.example", 443)) == ["93.184.215.14"]


# -- the dispatcher ------------------------------------------------------------------------------------------


@pytest.fixture
def factory(fresh_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(make_settings(fresh_database))
    yield make_session_factory(engine)
    engine.dispose()


class Listener:
    """A TCP listener on loopback that counts the connections it accepts and closes each at once (an open port
    that speaks no HTTP)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()
        self._thread.join(timeout=5)


@contextmanager
def listening() -> Iterator[Listener]:
    listener = Listener()
    try:
        yield listener
    finally:
        listener.close()


def _deliver(
    factory: sessionmaker[Session],
    urls: list[str],
    *,
    allow_internal: bool,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, tuple[int | None, str | None]]:
    """Subscribe one webhook per URL (registered in development, where anything goes), fan out one event, run one
    dispatch round; the (status code, error) each delivery recorded, by URL."""
    with factory() as session:
        org = make_org(session, OrgKind.OEM)
        hooks = {make_webhook(session, org, url=url)[0].id: url for url in urls}
        webhooks.fan_out(session, events=make_events(session, org, "report.accepted"))
        session.commit()

    async def _round() -> int:
        async with Dispatcher(factory, allow_internal=allow_internal, transport=transport) as dispatcher:
            return await dispatcher.run_once()

    assert asyncio.run(_round()) == len(urls)
    with factory() as session:
        rows = session.execute(
            select(
                WebhookDelivery.webhook_id, WebhookDelivery.last_status_code, WebhookDelivery.last_error
            ).where(WebhookDelivery.webhook_id.in_(hooks))
        ).all()
    return {hooks[hook_id]: (code, error) for hook_id, code, error in rows}


def test_outside_development_the_dispatcher_never_connects_to_an_internal_address(
    factory: sessionmaker[Session],
) -> None:
    with listening() as listener:
        port = listener.port
        urls = [
            f"https://127.0.0.1:{port}/",
            f"https://2130706433:{port}/",
            f"https://127.1:{port}/",
            f"https://0x7f000001:{port}/",
            f"https://localhost:{port}/",
            f"https://localhost.:{port}/",
            f"https://[::ffff:127.0.0.1]:{port}/",
            f"http://127.0.0.1:{port}/",
        ]
        outcomes = _deliver(factory, urls, allow_internal=False)

        assert listener.accepted == 0
    assert outcomes == dict.fromkeys(urls, (None, NO_ANSWER))


def test_a_blocked_address_a_closed_port_and_a_non_http_port_look_the_same(
    factory: sessionmaker[Session],
) -> None:
    with listening() as closed:
        closed_port = closed.port
    with listening() as open_port:
        # In development loopback is allowed, so the hub really tries the closed and the open port.
        seen = _deliver(
            factory,
            [f"http://127.0.0.1:{closed_port}/", f"http://127.0.0.1:{open_port.port}/"],
            allow_internal=True,
        )
        assert open_port.accepted >= 1
        blocked = _deliver(factory, [f"https://127.0.0.1:{open_port.port}/"], allow_internal=False)

    assert set(seen.values()) == set(blocked.values()) == {(None, NO_ANSWER)}


def test_the_dispatcher_connects_to_the_checked_address_with_the_name_in_host_and_sni(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dns(
        monkeypatch, {"hooks.example": ["93.184.215.14"], "rebind.example": ["93.184.215.14", "127.0.0.1"]}
    )
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    outcomes = _deliver(
        factory,
        ["https://hooks.example:8443/in?x=1", "https://rebind.example/in"],
        allow_internal=False,
        transport=httpx.MockTransport(receiver),
    )

    assert outcomes == {
        "https://hooks.example:8443/in?x=1": (204, None),
        "https://rebind.example/in": (None, NO_ANSWER),
    }
    (request,) = seen
    assert str(request.url) == "https://93.184.215.14:8443/in?x=1"
    assert request.headers["host"] == "hooks.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.example"
