"""SQLite's write lock is handed from writer to writer in this process in the order they asked (issue #18)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hub.db import WriteTurns, make_engine
from tests.conftest import make_settings


def _queued(turns: WriteTurns, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(turns._waiting) < count:
        assert time.monotonic() < deadline, "the writers never queued"
        time.sleep(0.001)


def test_waiting_writers_get_the_turn_oldest_first_even_when_a_newcomer_asks_at_the_handover() -> None:
    turns, order = WriteTurns(), []
    first = object()
    assert turns.take(first, timeout=1)

    def writer(name: str) -> None:
        holder = object()
        assert turns.take(holder, timeout=10)
        order.append(name)
        turns.give_back(holder)

    threads = []
    for name in ("a", "b", "c"):
        threads.append(threading.Thread(target=writer, args=(name,)))
        threads[-1].start()
        _queued(turns, len(threads))
    turns.give_back(first)
    late = object()  # asks just as the turn passes on: it must queue behind the three, not jump ahead
    assert turns.take(late, timeout=10)
    order.append("late")
    turns.give_back(late)
    for thread in threads:
        thread.join(timeout=10)

    assert order == ["a", "b", "c", "late"]
    assert turns._holder is None and not turns._waiting


def test_a_wait_that_runs_out_says_so_and_leaves_the_queue() -> None:
    turns, holder = WriteTurns(), object()
    assert turns.take(holder, timeout=1)

    assert turns.take(object(), timeout=0.01) is False

    assert not turns._waiting
    turns.give_back(holder)
    assert turns.take(object(), timeout=0.01)


def test_only_the_holder_gives_the_turn_back() -> None:
    turns, holder = WriteTurns(), object()
    turns.take(holder, timeout=1)

    turns.give_back(object())

    assert turns._holder is holder


def test_engines_on_one_file_share_turns_and_a_writer_that_waits_too_long_gets_the_busy_error(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    one = make_engine(make_settings(url, database_busy_timeout_seconds=0.05))
    other = make_engine(make_settings(url, database_busy_timeout_seconds=0.05))
    try:
        assert WriteTurns.of(one.url.database) is WriteTurns.of(str(tmp_path / "." / "turns.db"))
        with one.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            # other's writer queues behind this open transaction and gives up after the busy timeout: a 503.
            with pytest.raises(OperationalError, match="database is locked"), other.begin() as waiting:
                waiting.execute(text("INSERT INTO t VALUES (1)"))
        with other.begin() as connection:  # the turn came back when the first transaction committed
            connection.execute(text("INSERT INTO t VALUES (2)"))
            assert connection.execute(text("SELECT x FROM t")).scalars().all() == [2]
    finally:
        one.dispose()
        other.dispose()


def test_a_connection_closed_inside_its_transaction_gives_its_turn_back(tmp_path: Path) -> None:
    engine = make_engine(
        make_settings(f"sqlite:///{tmp_path / 'closed.db'}", database_busy_timeout_seconds=0.05)
    )
    turns = WriteTurns.of(engine.url.database)
    assert turns is not None
    try:
        connection = engine.connect()
        connection.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this connection has the turn
        assert turns._holder is not None
        connection.close()

        assert turns._holder is None
        with engine.begin() as again:
            assert again.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
