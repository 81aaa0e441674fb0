"""A pooled PostgreSQL connection the server closed is replaced at checkout, without a ping per transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from hub.db import make_engine
from tests.conftest import make_settings


@pytest.fixture
def engine(fresh_database: str) -> Iterator[Engine]:
    if make_url(fresh_database).get_backend_name() != "postgresql":
        pytest.skip("a PostgreSQL pool's liveness; SQLite has no server to hang up")
    made = make_engine(make_settings(fresh_database))
    yield made
    made.dispose()


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_whose_backend_was_terminated_is_replaced_before_use(engine: Engine) -> None:
    first = backend_pid(engine)
    assert backend_pid(engine) == first  # the pool hands back the same connection
    administrator = create_engine(engine.url)  # another session, as an administrator's would be
    with administrator.connect() as other:
        # Terminating only signals the backend; wait until it is gone (its goodbye is then on the socket).
        assert other.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": first}).scalar_one()
        alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        deadline = time.monotonic() + 10
        while other.execute(alive, {"pid": first}).scalar_one() and time.monotonic() < deadline:
            time.sleep(0.05)
    administrator.dispose()

    replaced = backend_pid(engine)  # no OperationalError: the dead connection never reached a statement

    assert replaced != first
