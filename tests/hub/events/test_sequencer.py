"""Positions: given after commit in seq order, never twice, never two events one position."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import make_engine, make_session_factory
from hub.events import service as events
from hub.events.sequencer import sequence_once
from hub.models import Event
from protocol.models.common import OrgKind
from tests.conftest import make_settings
from tests.hub.conftest import make_org


def test_sequence_numbers_committed_events_in_seq_order_once(db: Session) -> None:
    org = make_org(db, OrgKind.SUPPLIER)
    written = [
        events.publish(db, type="test.ping", subject_id=str(n), views={org.id: {"n": n}})[0] for n in range(5)
    ]
    db.commit()
    head = db.scalar(select(Event.position).order_by(Event.position.desc()).limit(1)) or 0

    numbered = events.sequence(db)
    db.commit()

    assert [e.id for e in numbered] == [e.id for e in written]  # in the order they were written
    assert [e.position for e in numbered] == list(range(head + 1, head + 6))
    assert [e.payload["n"] for e in numbered] == [0, 1, 2, 3, 4]
    assert events.sequence(db) == []  # a second round finds nothing new


def test_concurrent_sequencers_never_give_two_events_one_position(fresh_database: str) -> None:
    if not fresh_database.startswith("postgresql"):
        pytest.skip("concurrent sequencers need PostgreSQL; SQLite has a single writer")
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    with factory() as session:
        org_id = make_org(session, OrgKind.SUPPLIER).id
    writers, sequencers, per_writer = 4, 3, 40
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for n in range(per_writer):
                with factory.begin() as session:
                    events.publish(session, type="test.ping", subject_id=str(n), views={org_id: {}})
        except BaseException as exc:
            failures.append(exc)

    def sequence() -> None:
        try:
            while not done.is_set():
                sequence_once(factory)
            sequence_once(factory)
        except BaseException as exc:
            failures.append(exc)

    writing = [threading.Thread(target=write) for _ in range(writers)]
    numbering = [threading.Thread(target=sequence) for _ in range(sequencers)]
    for thread in [*writing, *numbering]:
        thread.start()
    for thread in writing:
        thread.join()
    done.set()
    for thread in numbering:
        thread.join()
    try:
        assert failures == []
        with factory() as session:
            rows = session.execute(select(Event.seq, Event.position).order_by(Event.seq)).all()
        positions = [p for _, p in rows]
        assert len(rows) == writers * per_writer
        assert sorted(positions) == list(range(1, len(rows) + 1))  # every event, each position once
    finally:
        engine.dispose()


def test_a_round_reports_how_many_it_numbered(fresh_database: str) -> None:
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            org = make_org(session, OrgKind.OEM)
        with factory.begin() as session:
            for n in range(3):
                events.publish(session, type="test.ping", subject_id=uuid.uuid4(), views={org.id: {"n": n}})
        assert sequence_once(factory) == 3
        assert sequence_once(factory) == 0
    finally:
        engine.dispose()
