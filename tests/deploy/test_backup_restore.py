"""The restore drill of deploy/README.md, run for real: a hub's PostgreSQL database with reports, events and a
sealed audit chain is dumped with ``pg_dump -Fc`` (what the backup CronJob runs), restored with ``pg_restore``
into a new database, and the restored copy passes ``hub db upgrade`` (a no-op at head), ``hub config check`` and
``hub audit verify`` with the same entries and signed checkpoints as the original. A copy whose audit history
was tampered with after the restore fails ``hub audit verify``.

PostgreSQL only (``HUB_TEST_DATABASE_URL``); ``pg_dump``/``pg_restore`` of the server's major version or newer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from hub import migrate
from hub.db import make_engine, make_session_factory
from supplier_sdk import Client
from tests.conftest import _drop_database, create_postgres_database, make_settings
from tests.network import build_network
from tests.replicas import ISSUER, HubProcess, pinned, start_all

BASE = os.environ.get("HUB_TEST_DATABASE_URL") or "sqlite://"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        make_url(BASE).get_backend_name() != "postgresql",
        reason="the drill dumps and restores PostgreSQL: set HUB_TEST_DATABASE_URL",
    ),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump/pg_restore are not installed"),
]

TABLES = ("organizations", "supply_agreements", "kpi_reports", "events", "audit_entries", "audit_checkpoints")


def libpq(url: str) -> str:
    """The SQLAlchemy URL as the libpq URI pg_dump and pg_restore take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def hub(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_ISSUER": ISSUER}
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())  # noqa: S608 - our table names
                for t in TABLES
            }
    finally:
        engine.dispose()


def verified(database_url: str) -> tuple[int, int]:
    """``hub audit verify`` passes; (entries, signed checkpoints) as it counts them."""
    done = hub(database_url, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"audit chain intact: (\d+) entries .* (\d+) signed checkpoints", done.stdout)
    assert found, done.stdout
    return int(found[1]), int(found[2])


@pytest.fixture
def restored(tmp_path: Path) -> Iterator[str]:
    url = create_postgres_database(BASE, "restored")
    yield url
    _drop_database(url)


@pytest.fixture
def factory(fresh_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(make_settings(fresh_database))
    yield make_session_factory(engine)
    engine.dispose()


def test_a_dump_restored_into_a_new_database_upgrades_checks_and_verifies_like_the_original(
    fresh_database: str, factory: sessionmaker[Session], restored: str, tmp_path: Path
) -> None:
    # A hub that has served: an agreement, signed reports over HTTP, their events, a sealed audit chain.
    network = build_network(factory, characteristics=[f"C{n}" for n in range(6)])
    server = HubProcess(fresh_database, "serve", tmp_path / "serve.log")
    try:
        start_all([server])
        with Client(
            base_url=ISSUER, client_id=network.client_id, private_key=network.key, transport=pinned(server)
        ) as supplier:
            for n in range(6):
                supplier.kpi_reports.submit(network.payload(f"C{n}"))
    finally:
        server.stop()
    original = verified(fresh_database)
    before = counts(fresh_database)
    assert before["kpi_reports"] == 6 and before["audit_checkpoints"] >= 1, before

    # The backup: what deploy/k8s/backup-cronjob.yaml runs.
    dump = tmp_path / "qualink.dump"
    done = subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", f"--dbname={libpq(fresh_database)}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # The drill: into a new, empty database, all or nothing.
    done = subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={libpq(restored)}",
            str(dump),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr

    upgraded = hub(restored, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert f"schema at {migrate.head_revision()}" in upgraded.stdout
    checked = hub(restored, "config", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "FAIL" not in checked.stdout
    assert counts(restored) == before
    assert verified(restored) == (original[0], original[1])

    # The drill would notice a damaged history: change one restored entry and verify fails, naming it.
    engine = create_engine(restored)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE audit_entries SET actor = 'someone else' "
                    "WHERE seq = (SELECT min(seq) + 1 FROM audit_entries)"
                )
            )
    finally:
        engine.dispose()
    broken = hub(restored, "audit", "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "audit chain broken" in broken.stderr
