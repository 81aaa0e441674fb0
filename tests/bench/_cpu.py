"""CPU time spent by a served process tree and by one database's PostgreSQL backends, read from ``/proc``:
the hub's cost per report is the CPU it burns, not only the wall time a client waits."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # the fields after "pid (comm)", from "state" on


def cpu_seconds(pid: int) -> float:
    """User + system time of ``pid`` itself (0 once it is gone)."""
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / TICK


def tree(root: int) -> list[int]:
    """``root`` and every process below it (uvicorn's workers are children of its supervisor)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def backends(database_url: str) -> list[int]:
    """The PostgreSQL backends connected to ``database_url``'s database (the hub's pooled connections)."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        pids = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        found = [int(pid) for pid in pids]
    engine.dispose()
    return found


def statements(database_url: str) -> int | None:
    """Statements PostgreSQL has run in this database (pg_stat_statements' calls, BEGIN and COMMIT included), or
    None when the extension is not preloaded (``shared_preload_libraries = 'pg_stat_statements'``)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            loaded = connection.execute(text("SHOW shared_preload_libraries")).scalar_one()
            if "pg_stat_statements" not in loaded:
                return None
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            return int(
                connection.execute(
                    text(
                        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d"
                        " ON d.oid = s.dbid WHERE d.datname = current_database()"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


class Meter:
    """CPU of a process tree plus a database's backends, and the database's statements, between two readings."""

    def __init__(self, database_url: str, root: int) -> None:
        self.database_url, self.root = database_url, root

    def read(self) -> tuple[dict[int, float], int | None]:
        pids = set(tree(self.root)) | set(backends(self.database_url))
        return {pid: cpu_seconds(pid) for pid in pids}, statements(self.database_url)

    def since(self, start: tuple[dict[int, float], int | None]) -> tuple[float, int | None]:
        """CPU seconds and statements since ``start`` (processes that started since count from zero)."""
        before, statements_before = start
        now, statements_now = self.read()
        cpu = sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())
        counted = (
            None
            if statements_now is None or statements_before is None
            else statements_now - statements_before
        )
        return cpu, counted
