"""`hub worker`: numbers events, delivers their webhooks, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from hub.db import make_engine, make_session_factory
from hub.events import service as events
from hub.models import WebhookDelivery
from protocol.models.common import OrgKind
from supplier_sdk.webhooks import verify
from tests.conftest import TEST_ISSUER, make_settings
from tests.hub.conftest import make_org
from tests.hub.webhooks.helpers import make_webhook, running_receiver


def test_the_worker_sequences_and_delivers_then_stops_on_sigterm(fresh_database: str) -> None:
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    hub = Path(sys.executable).parent / "hub"
    env = {
        **os.environ,
        "HUB_DATABASE_URL": fresh_database,
        "HUB_ISSUER": TEST_ISSUER,
        "HUB_ENVIRONMENT": "development",
        "HUB_WEBHOOK_DISPATCH_INTERVAL_SECONDS": "0.05",
        "HUB_EVENTS_SEQUENCE_INTERVAL_SECONDS": "0.05",
    }
    try:
        with running_receiver() as receiver:
            with factory() as session:
                org = make_org(session, OrgKind.OEM)
                webhook, secret = make_webhook(session, org, url=receiver.url)
                (event,) = events.publish(
                    session, type="report.accepted", subject_id="r1", views={org.id: {}}
                )
                session.commit()
            worker = subprocess.Popen(
                [str(hub), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            try:
                deadline = time.monotonic() + 20
                while not receiver.requests and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                # At once: a round in flight must still record its answer before the worker exits.
                worker.send_signal(signal.SIGTERM)
                out, err = worker.communicate(timeout=30)

        assert worker.returncode == 0, err
        assert "worker stopped" in out
        ((headers, body),) = receiver.requests
        assert verify(secret=secret, headers=headers, body=body)["id"] == str(event.id)
        with factory() as session:
            delivery = session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
            ).one()
        assert (delivery.status, delivery.attempts) == ("delivered", 1)
    finally:
        engine.dispose()
