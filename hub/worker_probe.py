"""The probe of `hub worker --health-port N`: a worker serves no API, so the orchestrator asks this instead.

``GET /healthz`` is 200 while the worker's loops run (liveness: a restart would help only if one died);
``GET /readyz`` is 200 while their last rounds succeeded, else 503 with the failure, e.g. a database without
schema. It speaks just enough HTTP/1.1 for a kubelet or ``curl``: one request per connection, then close."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass

_REQUEST_LIMIT = 8192
_READ_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class LoopState:
    """What a probe needs to know of one background loop."""

    name: str
    running: Callable[[], bool]
    failure: Callable[[], str | None]


def answer(path: str, loops: list[LoopState]) -> tuple[int, dict[str, object]]:
    """The status and JSON body for ``path``."""
    if path == "/healthz":
        stopped = [loop.name for loop in loops if not loop.running()]
        if stopped:
            return 503, {"status": "stopped", "loops": stopped}
        return 200, {"status": "ok"}
    if path == "/readyz":
        failing = {loop.name: failure for loop in loops if (failure := loop.failure()) is not None}
        if failing:
            return 503, {"status": "failing", "loops": failing}
        return 200, {"status": "ready"}
    return 404, {"error": "NotFound", "detail": f"no such probe: {path}"}


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, loops: list[LoopState]) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT_SECONDS)
        parts = head[:_REQUEST_LIMIT].split(b"\r\n", 1)[0].split()
        path = parts[1].decode("ascii", "replace").split("?", 1)[0] if len(parts) >= 2 else "/"
        status, body = answer(path, loops)
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    payload = json.dumps(body).encode()
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n"
        "connection: close\r\n\r\n".encode()
        + payload
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()


async def serve_probe(host: str, port: int, loops: list[LoopState]) -> asyncio.Server:
    """Start answering probes on ``host:port``; close the returned server to stop."""
    return await asyncio.start_server(
        lambda reader, writer: _handle(reader, writer, loops), host, port, limit=_REQUEST_LIMIT
    )
