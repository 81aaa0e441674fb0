"""Across processes on PostgreSQL: a commit that published events wakes every listening sequencer, and the
sequencer's fan-out every listening dispatcher; a rolled-back transaction wakes nobody."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import make_url
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, make_session_factory
from hub.events import service as events
from hub.events.sequencer import sequence_once
from hub.events.wakeups import DELIVERIES_DUE, EVENTS_PUBLISHED, Listener, listen
from protocol.models.common import OrgKind
from tests.conftest import make_settings
from tests.hub.conftest import make_org
from tests.hub.webhooks.helpers import make_webhook


@pytest.fixture
def factory(fresh_database: str) -> Iterator[sessionmaker[Session]]:
    if make_url(fresh_database).get_backend_name() != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite's processes poll")
    engine = make_engine(make_settings(fresh_database))
    yield make_session_factory(engine)
    engine.dispose()


def test_sqlite_has_no_listener_and_nothing_to_wake_has_none() -> None:
    assert listen("sqlite:///hub.db", {EVENTS_PUBLISHED: lambda: None}) is None
    assert listen("postgresql+psycopg://postgres@127.0.0.1/x", {}) is None


def test_a_commit_that_published_wakes_the_sequencers_and_the_fan_out_wakes_the_dispatchers(
    factory: sessionmaker[Session], fresh_database: str
) -> None:
    heard: list[str] = []
    woken = {channel: threading.Event() for channel in (EVENTS_PUBLISHED, DELIVERIES_DUE)}

    def waker(channel: str) -> Callable[[], None]:
        def wake() -> None:
            heard.append(channel)
            woken[channel].set()

        return wake

    listener = Listener(fresh_database, {channel: waker(channel) for channel in woken})
    listener.start()
    try:
        assert listener.listening.wait(10)
        with factory() as session:
            org = make_org(session, OrgKind.OEM)
            make_webhook(session, org, url="https://receiver.example/hook")
            session.commit()
            events.publish(session, type="report.accepted", subject_id="rolled-back", views={org.id: {}})
            session.rollback()
            events.publish(session, type="report.accepted", subject_id="r1", views={org.id: {}})
            events.publish(session, type="report.accepted", subject_id="r2", views={org.id: {}})
            session.commit()
        assert woken[EVENTS_PUBLISHED].wait(10)

        assert sequence_once(factory) == 2
        assert woken[DELIVERIES_DUE].wait(10)
        # Notifications arrive in commit order: the rolled-back publish said nothing, and the two publishes of
        # one transaction woke once.
        assert heard == [EVENTS_PUBLISHED, DELIVERIES_DUE]
    finally:
        listener.stop()
