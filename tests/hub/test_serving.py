"""Slow clients against a real ``hub serve`` over real sockets: headers that trickle in, a body that stalls and a
body that trickles are cut off after the configured deadlines; requests that keep moving are served."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import pytest

from hub.local import free_port
from tests.hub_server import ServedHub, served_hub

HEADER_TIMEOUT, BODY_TIMEOUT, MIN_RATE = 1, 1, 200
# Far longer than any deadline above: a trickle that outlives it was not cut off.
TRICKLE_SECONDS = 20.0


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    from hub import migrate
    from hub.db import make_engine
    from tests.conftest import _drop_database, _fresh_database_url, make_settings

    url = _fresh_database_url(tmp_path_factory.mktemp("serving"), "serving")
    engine = make_engine(make_settings(url))
    migrate.upgrade(engine)
    engine.dispose()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HUB_HEADER_TIMEOUT_SECONDS", str(HEADER_TIMEOUT))
        env.setenv("HUB_BODY_TIMEOUT_SECONDS", str(BODY_TIMEOUT))
        env.setenv("HUB_BODY_MIN_BYTES_PER_SECOND", str(MIN_RATE))
        with served_hub(url, free_port()) as server:
            yield server
    _drop_database(url)


def _connect(hub: ServedHub) -> socket.socket:
    host, port = hub.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _trickle(sock: socket.socket, data: bytes, *, every: float) -> bytes | None:
    """Send ``data`` a byte at a time, ``every`` seconds apart, for at most TRICKLE_SECONDS; what the server sent
    back once it closed the connection, or None if it kept it open to the end."""
    deadline = time.monotonic() + TRICKLE_SECONDS
    for byte in data:
        if time.monotonic() > deadline:
            return None
        readable, _, _ = select.select([sock], [], [], every)
        if readable:
            return _read_to_close(sock)
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return _read_to_close(sock)
    return None


def _read_to_close(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def _read_response(sock: socket.socket) -> bytes:
    """One whole response (headers and a content-length body), however the bytes are split across reads."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _token_request(body_length: int) -> bytes:
    return (
        "POST /oauth/token HTTP/1.1\r\nHost: hub\r\ncontent-type: application/x-www-form-urlencoded\r\n"
        f"content-length: {body_length}\r\n\r\n"
    ).encode()


def test_headers_sent_a_byte_at_a_time_are_cut_off(hub: ServedHub) -> None:
    endless = b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Slow: " + b"a" * 10_000
    with _connect(hub) as sock:
        answer = _trickle(sock, endless, every=0.1)
    assert answer is not None, "the connection was kept open"
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"error": "RequestTimeout"' in answer


def test_a_connection_that_sends_nothing_is_closed(hub: ServedHub) -> None:
    with _connect(hub) as sock:
        sock.settimeout(TRICKLE_SECONDS)
        answer = _read_to_close(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_body_that_stalls_is_cut_off(hub: ServedHub) -> None:
    with _connect(hub) as sock:
        sock.sendall(_token_request(100) + b"grant_type=client")
        sock.settimeout(TRICKLE_SECONDS)
        answer = _read_to_close(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"body" in answer


def test_a_body_trickled_too_slowly_is_cut_off(hub: ServedHub) -> None:
    # A byte every 0.3 s never pauses for BODY_TIMEOUT, but averages far below MIN_RATE.
    with _connect(hub) as sock:
        sock.sendall(_token_request(5_000))
        answer = _trickle(sock, b"x" * 5_000, every=0.3)
    assert answer is not None, "the connection was kept open"
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_requests_that_keep_moving_are_served_and_keep_alive_still_works(hub: ServedHub) -> None:
    body = b"grant_type=client_credentials"
    with _connect(hub) as sock:
        # Headers a little slowly but within HEADER_TIMEOUT, then a body in quick small chunks.
        request = _token_request(len(body))
        for start in range(0, len(request), 40):
            sock.sendall(request[start : start + 40])
            time.sleep(0.02)
        for start in range(0, len(body), 4):
            sock.sendall(body[start : start + 4])
            time.sleep(0.005)
        first = _read_response(sock)
        assert first.startswith(b"HTTP/1.1 401 "), first  # no client credentials: the endpoint answered
        # A second request on the same connection, after a pause longer than the header timeout's start
        # would allow if it had not been re-armed per request.
        time.sleep(HEADER_TIMEOUT + 0.5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
        second = _read_response(sock)
    assert second.startswith(b"HTTP/1.1 200 "), second


def test_a_request_answered_before_its_body_arrived_gets_no_second_answer(hub: ServedHub) -> None:
    # The token endpoint refuses a non-form body before reading it; the stalled rest of the body must not add a
    # 408 after that answer.
    head = (
        b"POST /oauth/token HTTP/1.1\r\nHost: hub\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n"
    )
    with _connect(hub) as sock:
        sock.sendall(head + b"partial")
        sock.settimeout(TRICKLE_SECONDS)
        answer = _read_to_close(sock)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b"408" not in answer
