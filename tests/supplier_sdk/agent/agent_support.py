"""Helpers for the agent's tests: measurement rows inside a closed week, source files, SQL tables, configs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa

from protocol.models.common import PeriodKind
from supplier_sdk.agent.schedule import Window, closed_windows

ZONE = ZoneInfo("Europe/Berlin")
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


def last_week(now: datetime | None = None) -> Window:
    """The most recently closed ISO week in Berlin time at ``now`` (the tests' clock)."""
    return closed_windows(now or datetime.now(UTC), PeriodKind.WEEK, ZONE, count=1)[0]


def distinctive_values(seed: int, count: int = 25) -> list[float]:
    """Capable diameters (CPK ≈ 2) with five decimals, so that each one's text is unlikely anywhere else."""
    rng = np.random.default_rng(seed)
    return [round(25.0 + float(x), 5) for x in rng.normal(0.0, 0.003, count)]


def times_in(window: Window, count: int, *, offset_days: int = 0) -> list[datetime]:
    """``count`` local times an hour apart from the window's second hour (naive: as a plant exports them)."""
    start = window.start + timedelta(days=offset_days, hours=1)
    return [(start + timedelta(hours=i)).replace(tzinfo=None) for i in range(count)]


def european_csv(path: Path, times: Sequence[datetime], values: Sequence[float]) -> Path:
    """A ``;``-separated export with decimal commas and a German time format."""
    lines = ["Zeitpunkt;Los;Durchmesser"]
    for i, (moment, value) in enumerate(zip(times, values, strict=True)):
        lines.append(f"{moment:%d.%m.%Y %H:%M};L{i // 5};{value:.5f}".replace(".", ",").replace(",", ".", 2))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def workbook(path: Path, times: Sequence[datetime], values: Sequence[float]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["time", "diameter"])
    for moment, value in zip(times, values, strict=True):
        sheet.append([moment, value])
    book.save(path)
    return path


@contextmanager
def measurement_table(url: str, times: Sequence[datetime], values: Sequence[float]) -> Iterator[str]:
    """A fresh table ``(measured_at, diameter)`` on the real server at ``url``; dropped afterwards."""
    name = f"agent_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url)
    kind = "TIMESTAMP NULL" if url.startswith("mysql") else "timestamp"
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE TABLE {name} (measured_at {kind}, diameter NUMERIC(10,5))"))
            connection.execute(
                sa.text(f"INSERT INTO {name} VALUES (:t, :v)"),  # noqa: S608 - a name made here
                [{"t": t, "v": v} for t, v in zip(times, values, strict=True)],
            )
        yield name
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
        engine.dispose()


def sql_query(table: str) -> str:
    return (
        f"SELECT diameter FROM {table} "  # noqa: S608 - a name made here
        "WHERE measured_at >= :period_start AND measured_at < :period_end ORDER BY measured_at"
    )


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
