"""What a synthetic run left in the database: rows per table and, on PostgreSQL, bytes on disk (heap + TOAST +
indexes, ``pg_total_relation_size``, after ``VACUUM ANALYZE`` so the figures are a settled table's); and the CPU
the database's backends spent, read from ``/proc`` when PostgreSQL runs on this machine."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.pool import NullPool

from hub.models import Base

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class TableSize:
    name: str
    rows: int
    total_bytes: int | None  # heap, TOAST and indexes
    index_bytes: int | None


def tables(engine: Engine) -> list[TableSize]:
    """Every table of the hub's schema that holds rows, largest first (by bytes where known, else rows)."""
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = int(connection.scalar(select(func.count()).select_from(table)) or 0)
            if not rows:
                continue
            total = index = None
            if postgres:
                total, index = connection.execute(
                    text("SELECT pg_total_relation_size(:t), pg_indexes_size(:t)"), {"t": table.name}
                ).one()
            found.append(TableSize(table.name, rows, total, index))
    return sorted(found, key=lambda size: (size.total_bytes or 0, size.rows), reverse=True)


def _cpu_seconds(pid: int) -> float:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class BackendCpu:
    """CPU of the PostgreSQL backends serving this database (the pool's connections), between two readings;
    None on SQLite or when the server is not on this machine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._start = self._read()

    def _read(self) -> dict[int, float] | None:
        if self._engine.dialect.name != "postgresql" or not Path("/proc").is_dir():
            return None
        # Its own connection, outside the run's pool: the reading's backend is not one of those measured.
        reader = create_engine(self._engine.url, poolclass=NullPool)
        try:
            with reader.connect() as connection:
                pids = connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    )
                ).scalars()
                return {int(pid): _cpu_seconds(int(pid)) for pid in pids}
        finally:
            reader.dispose()

    def since_start(self) -> float | None:
        now = self._read()
        if now is None or self._start is None or not any(now.values()):
            return None
        return sum(seconds - self._start.get(pid, 0.0) for pid, seconds in now.items())
