"""deploy/postgresql/wal-archiving.conf tried for real: a PostgreSQL cluster of the test's own (initdb on a free
loopback port, the machine's PostgreSQL binaries) runs with the shipped archiving settings, a base backup is
taken, the hub's schema is made and rows are written before and after a chosen moment; the cluster is then
recovered from the base backup and the archived WAL with the shipped ``restore_command`` to that moment, and has
the rows from before it only. The restored database then passes ``hub config check`` and ``hub audit verify``.

Needs PostgreSQL's server binaries (``initdb``, ``pg_ctl``; Debian: /usr/lib/postgresql/N/bin). As root the
cluster runs as the ``postgres`` user, which PostgreSQL requires. Run in the PostgreSQL pass only
(``HUB_TEST_DATABASE_URL`` set), though it does not use that server."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from hub.local import free_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "postgresql" / "wal-archiving.conf"
SHIPPED_ARCHIVE = "/var/lib/postgresql/wal-archive"


def _server_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    return versions[-1].parent if versions else None


BIN = _server_binaries()
AS_ROOT = os.geteuid() == 0

pytestmark = [
    pytest.mark.e2e,
    # Its own cluster, not HUB_TEST_DATABASE_URL's: run it once, in the PostgreSQL pass of the suite.
    pytest.mark.skipif(
        make_url(os.environ.get("HUB_TEST_DATABASE_URL") or "sqlite://").get_backend_name() != "postgresql",
        reason="PostgreSQL runs only (HUB_TEST_DATABASE_URL)",
    ),
    pytest.mark.skipif(BIN is None, reason="PostgreSQL's server binaries (initdb, pg_ctl) are not installed"),
]


def run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A command (PostgreSQL's binaries from BIN), as the postgres user when the test runs as root."""
    assert BIN is not None
    program = BIN / str(args[0])
    command = [str(program) if program.exists() else str(args[0]), *map(str, args[1:])]
    if AS_ROOT:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done


def sql(port: int, statement: str, database: str = "postgres") -> str:
    done = run(
        "psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database, "-Atc", statement
    )
    return done.stdout.strip()


def shipped(setting: str) -> str:
    """A setting's value in the shipped file (set, or shown in a comment for the restore), its paths moved."""
    found = re.search(rf"^#?\s*{setting} = '([^']*)'", SHIPPED.read_text(), re.M)
    assert found, f"deploy/postgresql/wal-archiving.conf no longer has {setting}: update this test with it"
    return found[1]


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder of the cluster's user (pytest's own are root's, and closed to others)."""
    path = Path(tempfile.mkdtemp(prefix="qualink-wal-"))
    if AS_ROOT:
        owner = pwd.getpwnam("postgres")
        os.chown(path, owner.pw_uid, owner.pw_gid)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def start(data: Path, port: int, log: Path) -> None:
    run("pg_ctl", "-D", data, "-l", log, "-w", "-t", "120", "-o", f"-p {port}", "start")


def stop(data: Path) -> None:
    run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop", check=False)


def wait_for(port: int, query: str, expected: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while sql(port, query) != expected:
        assert time.monotonic() < deadline, f"{query!r} did not become {expected!r}"
        time.sleep(0.2)


def hub(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_ISSUER": "http://localhost"}
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_the_shipped_wal_archiving_recovers_a_cluster_to_a_moment(folder: Path) -> None:
    archive, data, base, restored = (folder / name for name in ("archive", "data", "base", "restored"))
    run("mkdir", "-m", "0700", archive)
    run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
    archiving = SHIPPED.read_text().replace(SHIPPED_ARCHIVE, str(archive))
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\n{archiving}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n")
    port = free_port()
    try:
        start(data, port, folder / "primary.log")
        assert sql(port, "SHOW archive_mode") == "on"
        run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-D",
            base,
            "--checkpoint=fast",
        )
        sql(port, "CREATE DATABASE qualink")
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/qualink"
        upgraded = hub(url, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        sql(port, "CREATE TABLE drill (what text)", "qualink")
        sql(port, "INSERT INTO drill VALUES ('before')", "qualink")
        moment = sql(port, "SELECT clock_timestamp()")
        time.sleep(1.1)
        sql(port, "INSERT INTO drill VALUES ('after')", "qualink")
        segment = sql(port, "SELECT pg_walfile_name(pg_current_wal_lsn())")
        sql(port, "SELECT pg_switch_wal()")
        archived = f"SELECT coalesce(last_archived_wal >= '{segment}', false) FROM pg_stat_archiver"  # noqa: S608
        wait_for(port, archived, "t")
        assert sql(port, "SELECT failed_count FROM pg_stat_archiver") == "0"
    finally:
        stop(data)

    # The restore: the base backup, the shipped restore_command, a target just before the second row.
    run("cp", "-a", base, restored)
    restore_command = shipped("restore_command").replace(SHIPPED_ARCHIVE, str(archive))
    with (restored / "postgresql.conf").open("a") as conf:  # root may append to postgres' file
        conf.write(
            f"\nrestore_command = '{restore_command}'\nrecovery_target_time = '{moment}'\n"
            "recovery_target_action = 'promote'\narchive_mode = off\n"
        )
    run("touch", restored / "recovery.signal")
    port = free_port()
    try:
        start(restored, port, folder / "restored.log")
        wait_for(port, "SELECT pg_is_in_recovery()", "f")
        assert sql(port, "SELECT string_agg(what, ',') FROM drill", "qualink") == "before"
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/qualink"
        for command in (("config", "check"), ("audit", "verify")):
            done = hub(url, *command)
            assert done.returncode == 0, done.stdout + done.stderr
    finally:
        stop(restored)
