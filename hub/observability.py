"""Request ids, structured request logs, Prometheus metrics and the request-size guard, as one ASGI layer."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.nesting import NestingGauge, TooDeep

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

access_log = logging.getLogger("hub.access")
error_log = logging.getLogger("hub.errors")


def current_request_id() -> str:
    return _request_id.get()


class _Formatter(logging.Formatter):
    """Key=value lines for people, or JSON lines for log shippers; both carry the request id."""

    _RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def __init__(self, *, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": current_request_id(),
        }
        fields.update({k: v for k, v in record.__dict__.items() if k not in self._RESERVED})
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        if self.as_json:
            return json.dumps(fields, default=str)
        return " ".join(f"{k}={v}" if " " not in str(v) else f'{k}="{v}"' for k, v in fields.items())


def configure_logging(*, level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(as_json=as_json))
    root = logging.getLogger("hub")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class Metrics:
    """One registry per app, so that several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hub_http_requests", "HTTP requests served", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "hub_http_request_duration_seconds",
            "Time to serve a request",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )


class RequestContext:
    """Pure ASGI middleware: assigns the request id, refuses oversized bodies, logs and measures each request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        own_limit_paths: re.Pattern[str] | None = None,
        body_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        # Uploads whose routes stream the body and bound it themselves (room datasets): no generic limit.
        self.own_limit_paths = own_limit_paths
        # Paths that stream large bodies (a bulk import) and bring their own limit instead of the generic one.
        self.body_limits = body_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        own_limit = self.own_limit_paths is not None and self.own_limit_paths.match(scope["path"]) is not None
        limit = self.body_limits.get(scope["path"], self.max_body_bytes)
        # Streamed imports parse their own items and refuse a too-deep one as a rejected item (hub.genealogy).
        gauge = (
            None if own_limit or scope["path"] in self.body_limits or not _is_json(scope) else NestingGauge()
        )
        try:
            declared = None if own_limit else _header(scope, b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                await _too_large(send_with_id, limit, request_id)
                return
            await self.app(
                scope, receive if own_limit else self._limited(receive, limit, gauge), send_with_id
            )
        except _BodyTooLarge:
            await _too_large(send_with_id, limit, request_id)
        except _BodyTooDeep as exc:
            await _error(send_with_id, 400, "BadRequest", str(exc.detail), request_id)
        except Exception:
            # Answered here, inside the request's context, so the 500 and its log line carry the request id
            # (Starlette's outermost error middleware runs after that context is gone).
            if responded:
                raise
            error_log.exception("unhandled error", extra={"path": scope["path"]})
            await _error(send_with_id, 500, "InternalError", "internal error", request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                },
            )
            _request_id.reset(token)

    def _limited(self, receive: Receive, limit: int, gauge: NestingGauge | None) -> Receive:
        seen = 0

        async def guarded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                piece = message.get("body", b"")
                seen += len(piece)
                if seen > limit:
                    raise _BodyTooLarge(limit)
                if gauge is not None:
                    try:
                        gauge.feed(piece)
                    except TooDeep as exc:
                        raise _BodyTooDeep(str(exc)) from None
            return message

        return guarded


class _BodyTooLarge(HTTPException):
    """Raised while the app reads a body that outgrows the limit (a chunked body declares no length).

    An HTTPException, because FastAPI turns any other exception raised while it parses a body into a 400;
    this way the error handler renders it as 413 PayloadTooLarge wherever it is raised.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body exceeds {limit} bytes")


class _BodyTooDeep(HTTPException):
    """Raised while the app reads a JSON body that nests deeper than :data:`hub.nesting.MAX_DEPTH`; an
    HTTPException for the same reason as :class:`_BodyTooLarge`, rendered as 400 BadRequest."""

    def __init__(self, reason: str) -> None:
        super().__init__(status_code=400, detail=f"request body: {reason}")


def _is_json(scope: Scope) -> bool:
    # FastAPI parses a body without a content type as JSON too.
    media = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return media in ("", "application/json") or media.endswith("+json")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _too_large(send: Send, limit: int, request_id: str) -> None:
    await _error(send, 413, "PayloadTooLarge", f"request body exceeds {limit} bytes", request_id)


async def _error(send: Send, status: int, error: str, detail: str, request_id: str) -> None:
    body = json.dumps({"error": error, "detail": detail, "request_id": request_id}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
