"""Database fixtures shared by every test that needs the hub.

The schema is made by running the migrations, once per test process, on SQLite (default) or on PostgreSQL when
``HUB_TEST_DATABASE_URL`` is set. Each test runs inside a transaction that is rolled back at its end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub import migrate
from hub.config import Settings
from hub.db import make_engine

# Property tests judge behaviour, not speed: on a loaded CI machine (two cores, tests on both) a crypto example can
# take longer than hypothesis' 200 ms default deadline without anything being wrong.
hypothesis.settings.register_profile(
    "qualink", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("qualink")

TEST_ISSUER = "http://localhost:8000"


def create_postgres_database(base: str, label: str) -> str:
    """A new, empty database on the server ``base`` names, called after ``base``'s database and ``label``."""
    url = make_url(base)
    name = f"{url.database}_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _fresh_database_url(tmp_root: Path, label: str) -> str:
    base = os.environ.get("HUB_TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_root / f'{label}.db'}"
    return create_postgres_database(base, label)


def _drop_database(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def make_settings(database_url: str, **overrides: object) -> Settings:
    # The background sealer is tested on its own; elsewhere it would wait on the test's open transaction.
    overrides.setdefault("audit_seal_interval_seconds", 0)
    overrides.setdefault("rules_sweep_interval_seconds", 0)
    overrides.setdefault("housekeeping_interval_seconds", 0)
    overrides.setdefault("notifications_escalation_interval_seconds", 0)
    overrides.setdefault("webhook_dispatch_interval_seconds", 0)
    overrides.setdefault("events_sequence_interval_seconds", 0)
    overrides.setdefault("room_expiry_interval_seconds", 0)
    overrides.setdefault("retention_interval_seconds", 0)
    return Settings(database_url=database_url, issuer=TEST_ISSUER, environment="development", **overrides)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database made by the migrations, for this test process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = _fresh_database_url(tmp_path_factory.mktemp("db"), worker)
    engine = make_engine(make_settings(url))
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    _drop_database(url)


@pytest.fixture(scope="session")
def settings(migrated_database: str) -> Settings:
    return make_settings(migrated_database)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside one transaction that the test's end rolls back."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated and committed for real: for tests that run a real server or the CLI."""
    url = _fresh_database_url(tmp_path, "fresh")
    engine = make_engine(make_settings(url))
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    _drop_database(url)
