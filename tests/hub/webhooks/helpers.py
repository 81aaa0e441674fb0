"""Events, webhooks and deliveries made directly through the services, and a real HTTP receiver."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.events import service as events
from hub.models import Event, Organization, Webhook
from hub.webhooks import service as webhooks
from protocol.models import webhooks as schemas
from protocol.models.common import OrgKind


def caller_for(org: Organization) -> Caller:
    return Caller(
        org_id=org.id,
        org_kind=OrgKind(org.kind),
        client_id="qlc_test",
        scopes=frozenset({"webhooks:admin"}),
    )


def make_webhook(
    db: Session,
    org: Organization,
    *,
    url: str = "https://receiver.example/hook",
    types: list[str] | None = None,
) -> tuple[Webhook, str]:
    data = schemas.WebhookCreate(url=url, event_types=types or [])
    return webhooks.create_webhook(db, caller=caller_for(org), data=data, development=True)


def make_events(db: Session, org: Organization, *types: str) -> list[Event]:
    """Publish one event per type for ``org`` and number them, as the sequencer would."""
    made = []
    for type_ in types:
        made += events.publish(db, type=type_, subject_id=uuid.uuid4(), views={org.id: {"type": type_}})
    db.flush()
    numbered = events.sequence(db)
    ids = {event.id for event in made}
    return [event for event in numbered if event.id in ids]


class Receiver:
    """A plain HTTP server on a free loopback port that records every POST and answers ``status``."""

    def __init__(self, *, backlog: int = 256) -> None:
        self.status = 204
        self.delay = 0.0  # seconds each answer waits, to hold requests in flight
        self.most_at_once = 0  # the most requests it was answering at the same time
        self._in_flight = 0
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.arrivals: dict[str, float] = {}  # subject id → when its first delivery arrived (monotonic)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    receiver._in_flight += 1
                    receiver.most_at_once = max(receiver.most_at_once, receiver._in_flight)
                time.sleep(receiver.delay)
                with receiver._lock:
                    receiver._in_flight -= 1
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    receiver.arrivals.setdefault(json.loads(body).get("subject_id", ""), time.monotonic())
                    status = receiver.status
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = backlog  # socketserver's default of 5 overflows under a concurrent batch

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def ids(self) -> Counter[str]:
        with self._lock:
            return Counter(headers["webhook-id"] for headers, _ in self.requests)


@contextmanager
def running_receiver(*, backlog: int = 256) -> Iterator[Receiver]:
    """A :class:`Receiver` serving in a thread; ``backlog`` is its listen queue (``http.server``'s own is 5)."""
    receiver = Receiver(backlog=backlog)
    thread = threading.Thread(target=receiver._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._server.shutdown()
        receiver._server.server_close()
        thread.join(timeout=5)
