"""The settings for PostgreSQL behind a pooler (deploy/README.md, "PgBouncer"): how they are read, and that the
engine hands the prepare threshold to psycopg. The pooler itself is in tests/deploy/test_pgbouncer.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import event

from hub.config import Settings
from hub.db import make_engine

POOLED = "postgresql+psycopg://qualink@pgbouncer.example.internal:6432/qualink"
DIRECT = "postgresql+psycopg://qualink@postgres.example.internal:5432/qualink"


@pytest.mark.parametrize("spelled", ["none", "None", "off", ""])
def test_the_prepare_threshold_none_or_off_turns_prepared_statements_off(
    spelled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_PREPARE_THRESHOLD", spelled)
    assert Settings(database_url=POOLED).database_prepare_threshold is None


def test_the_prepare_threshold_defaults_to_psycopgs_and_refuses_a_negative_one() -> None:
    assert Settings(database_url=POOLED).database_prepare_threshold == 5
    with pytest.raises(ValidationError, match="database_prepare_threshold"):
        Settings(database_url=POOLED, database_prepare_threshold=-1)


class Stop(Exception):
    """Raised instead of connecting, once the connection's parameters are seen."""


@pytest.mark.parametrize("threshold", [None, 0, 5])
def test_the_engine_gives_psycopg_the_threshold(threshold: int | None) -> None:
    engine = make_engine(Settings(database_url=POOLED, database_prepare_threshold=threshold))
    seen: dict[str, object] = {}

    def capture(_dialect: object, _record: object, _cargs: object, cparams: dict[str, object]) -> None:
        seen.update(cparams)
        raise Stop

    event.listen(engine, "do_connect", capture)
    try:
        with pytest.raises(Stop):
            engine.connect()
    finally:
        engine.dispose()
    assert seen["prepare_threshold"] == threshold
    assert seen["host"] == "pgbouncer.example.internal"


def test_the_listener_connects_directly_when_a_direct_url_is_set() -> None:
    assert Settings(database_url=POOLED).listener_database_url == POOLED
    assert Settings(database_url=POOLED, database_direct_url=DIRECT).listener_database_url == DIRECT


@pytest.mark.parametrize(
    ("database_url", "direct_url"),
    [("sqlite:///hub.db", DIRECT), (POOLED, "sqlite:///hub.db"), (POOLED, "mysql://x@y/z")],
)
def test_a_direct_url_is_refused_unless_both_are_postgresql(database_url: str, direct_url: str) -> None:
    with pytest.raises(ValidationError, match="HUB_DATABASE_DIRECT_URL is for PostgreSQL"):
        Settings(database_url=database_url, database_direct_url=direct_url)
