"""uvicorn's HTTP/1.1 protocol with the read deadlines it lacks, so slow clients cannot hold connections open.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no limit on how long a request's
headers or body may take: a client sending one byte at a time keeps its connection, and its slot, for ever
(slowloris). ``hub serve`` runs this protocol instead (``http="hub.serving:GuardedHttpProtocol"``):

- **Headers** must be complete within ``HUB_HEADER_TIMEOUT_SECONDS`` of the connection opening or of the first
  byte of the next request on a kept-alive connection; otherwise the answer is 408 and the connection closes.
- **Body**: no gap between two reads longer than ``HUB_BODY_TIMEOUT_SECONDS`` (an idle timeout, as nginx's
  ``client_body_timeout``, so a long streaming upload is fine as long as it keeps moving), and, once a body has
  been arriving for that long, an average of at least ``HUB_BODY_MIN_BYTES_PER_SECOND`` (so a trickle of a byte
  every few seconds is cut too). Time when the hub itself stopped reading (the application has not consumed what
  it was sent: uvicorn's flow control) is not held against the client.

A deadline that passes before the application has started its response gets a 408 in the hub's error body;
after that the connection is simply closed (the application sees a disconnect)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from hub.config import get_settings


def _timeout_response(detail: str) -> bytes:
    body = json.dumps({"error": "RequestTimeout", "detail": detail, "request_id": "-"}).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


HEADERS_TOO_SLOW = _timeout_response("the request headers did not arrive in time")
BODY_TOO_SLOW = _timeout_response("the request body stalled or arrived too slowly")


class GuardedHttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with header and body read deadlines taken from :class:`hub.config.Settings`."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()  # cached: the same Settings the app was made from
        self.header_timeout = settings.header_timeout_seconds
        self.body_timeout = settings.body_timeout_seconds
        self.body_min_rate = settings.body_min_bytes_per_second
        self._deadline: asyncio.TimerHandle | None = None
        self._body_since = 0.0  # when the body rate is measured from
        self._body_bytes = 0

    # -- the deadline ----------------------------------------------------------------------------------------

    def _arm(self, seconds: float, expired: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _cut_off(self, answer: bytes | None) -> None:
        """Close the connection, after ``answer`` if given (only when no response is on its way)."""
        self._disarm()
        if self.transport.is_closing():
            return
        if answer is not None:
            self.transport.write(answer)
        self.transport.close()

    def _headers_expired(self) -> None:
        self._deadline = None
        # The connection's previous request, if any, is answered in full (or a 408 would land inside its response).
        idle = self.cycle is None or self.cycle.response_complete
        self._cut_off(HEADERS_TOO_SLOW if idle else None)

    def _body_expired(self) -> None:
        self._deadline = None
        # The client is waiting on us, not we on it: the hub stopped reading (flow control), or the client asked
        # "Expect: 100-continue" and the application has not asked for the body yet.
        if self.flow.read_paused or self.cycle.waiting_for_100_continue:
            self._restart_body_clock()
            self._arm(self.body_timeout, self._body_expired)
            return
        self._cut_off(None if self.cycle.response_started else BODY_TOO_SLOW)

    def _restart_body_clock(self) -> None:
        self._body_since, self._body_bytes = self.loop.time(), 0

    # -- uvicorn's hooks ---------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, self._headers_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a later request on a kept-alive connection: its own header deadline
            self._arm(self.header_timeout, self._headers_expired)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        # A request without a body completes in the same parse; on_message_complete disarms this again.
        self._restart_body_clock()
        self._arm(self.body_timeout, self._body_expired)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._body_bytes += len(body)
        elapsed = self.loop.time() - self._body_since
        if elapsed > self.body_timeout and self._body_bytes < self.body_min_rate * elapsed:
            self._cut_off(None if self.cycle.response_started else BODY_TOO_SLOW)
            return
        self._arm(self.body_timeout, self._body_expired)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()
