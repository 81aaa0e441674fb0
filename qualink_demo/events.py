"""Chapter 4 (in two halves around chapter 3): events reach the OEM's own systems.

Before the rules act, the OEM subscribes its plant system's webhook URL; a small receiver stands in for that
system and checks every delivery's Standard Webhooks signature with the SDK's helper. After the rules acted,
the demo shows what arrived, how fast, and reads the same events back from the resumable event stream."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rich.table import Table

from qualink_demo.actors import DemoFailure
from qualink_demo.kpis import client_for
from qualink_demo.story import Story
from supplier_sdk.errors import WebhookVerificationError
from supplier_sdk.webhooks import verify

WATCHED = ["standing.changed", "notification.created"]
EXPECTED = 3


@dataclass
class Received:
    type: str
    subject: str
    verified: bool
    latency_ms: float
    detail: str


@dataclass
class PlantSystem:
    """The OEM's purchasing/plant system: an HTTP endpoint that trusts only correctly signed deliveries."""

    secret: str = ""
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                system.take(dict(self.headers.items()), body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/qualink-events"

    def take(self, headers: dict[str, str], body: bytes) -> None:
        try:
            event = verify(secret=self.secret, headers=headers, body=body)
        except WebhookVerificationError as exc:
            self.received.append(Received("?", "?", False, 0.0, str(exc)))
            return
        occurred = datetime.fromisoformat(event["occurred_at"])
        latency = (datetime.now(UTC) - occurred).total_seconds() * 1000
        payload = event.get("payload", {})
        change = payload.get("change") or payload.get("body", {}).get("tier") or {}
        detail = (
            f"{change.get('from_tier', change.get('from', ''))}→{change.get('to_tier', change.get('to', ''))}"
        )
        self.received.append(Received(event["type"], event["subject_id"], True, latency, detail))

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()


def subscribe(story: Story) -> None:
    story.chapter(
        "3a · The OEM's systems subscribe",
        "Aurora's plant system registers a webhook for standing changes and notifications. Every delivery is\n"
        "signed (Standard Webhooks) and retried until it is acknowledged; the same events stream over SSE.",
    )
    plant = PlantSystem()
    url = plant.start()
    created = story.oem.call("POST", "/v1/webhooks", json={"url": url, "event_types": WATCHED}, expect=201)
    plant.secret = created["secret"]
    story.extras["plant"] = plant
    story.oem.say(f"subscribed {url} to {', '.join(WATCHED)} (secret shown once, kept by the plant system)")


def report(story: Story) -> None:
    story.chapter("3b · What the plant system received", "Each delivery's signature was checked on arrival.")
    plant: PlantSystem = story.extras["plant"]
    # Chapter 3 made three such events: the downgrade, purchasing's notification, the recovery.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(plant.received) < EXPECTED:
        time.sleep(0.05)
    plant.stop()
    table = Table(
        "event", "tier", "signature", "after the change", title="Deliveries at Aurora's plant system"
    )
    for item in plant.received:
        mark = "[green]valid[/green]" if item.verified else f"[red]{item.detail}[/red]"
        table.add_row(item.type, item.detail, mark, f"{item.latency_ms:.0f} ms")
    story.console.print(table)
    if len(plant.received) != EXPECTED or not all(r.verified for r in plant.received):
        raise DemoFailure("the plant system did not receive correctly signed events")
    with client_for(story.oem) as hub:
        streamed = list(hub.events.follow(types=WATCHED, once=True))
    story.oem.say(
        f"reads the same {len(streamed)} events back from GET /v1/events (resumable with Last-Event-ID);"
        " receivers deduplicate by event id, since delivery is at least once"
    )
    story.console.print(
        f"  [dim]first event: {json.dumps(streamed[0].type)} at position {streamed[0].position}[/dim]"
    )
