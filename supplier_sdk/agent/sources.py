"""Reading one period's rows from a data source: a folder of CSV/XLSX files, a SQL query, or a command.

Every source yields a :class:`Table` (column names and rows of cells); :func:`measurements` then takes the
mapping's value (and subgroup) column out of it. A problem is a :class:`SourceError` whose message is the reason
the mapping reports (an unreadable file, a failing query, a missing column, an empty period).

- ``folder``: every file matching ``pattern`` (``*.csv``, ``*.xlsx``); CSV with ``,`` / ``;`` / tab separators
  (guessed from the header unless ``delimiter`` is set) and ``decimal = ","`` for European exports. The source's
  ``time_column`` places each row in a period. Files are remembered by content hash in the state file with the
  time range they cover: a file outside the period is not parsed again, and a copy of a file counts once.
- ``sql``: the ``query`` runs through an SQLAlchemy URL with ``:period_start`` and ``:period_end`` bound (aware
  datetimes in the supplier's time zone; the period is ``[period_start, period_end)``).
- ``nats`` and ``kafka``: messages of a stream, see :mod:`supplier_sdk.agent.streams`.
- ``command``: the program runs with ``{period}``, ``{period_start}``, ``{period_end}`` replaced in its
  arguments; its standard output is CSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from supplier_sdk.agent.config import Mapping, SourceConfig
from supplier_sdk.agent.schedule import Window
from supplier_sdk.kpi import Measurements


class SourceError(Exception):
    """A source could not give the period's data; the message is the reason the mapping reports."""


@dataclass
class Table:
    """Column names and rows of cells (strings from CSV, Python values from XLSX and SQL)."""

    columns: list[str]
    rows: Sequence[Sequence[Any]]


def _number(cell: Any, decimal: str, where: str) -> float:
    if isinstance(cell, bool):
        raise SourceError(f"{where}: {cell!r} is not a number")
    if isinstance(cell, int | float | Decimal):
        value = float(cell)
    else:
        text = str(cell or "").strip()
        if decimal == ",":
            text = text.replace(".", "").replace(",", ".") if "," in text else text
        try:
            value = float(text)
        except ValueError:
            raise SourceError(f"{where}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise SourceError(f"{where}: {cell!r} is not a finite number")
    return value


def _column(table: Table, name: str, where: str) -> int:
    if name not in table.columns:
        raise SourceError(f"{where}: no column {name!r} (columns: {', '.join(table.columns) or 'none'})")
    return table.columns.index(name)


def measurements(table: Table, mapping: Mapping, *, where: str) -> Measurements:
    """The mapping's values (and subgroup labels) from ``table``, in row order.

    Raises:
        SourceError: a missing column, a cell that is not a number, or no rows at all (an empty period).
    """
    if not table.rows:  # first: a folder whose files all lie outside the period has no columns either
        raise SourceError(f"{where}: no rows in the period (an empty period)")
    value_at = _column(table, mapping.value_column, where)
    label_at = None if mapping.subgroup_column is None else _column(table, mapping.subgroup_column, where)
    decimal = mapping.source.decimal
    values = [_number(row[value_at], decimal, f"{where} row {i + 1}") for i, row in enumerate(table.rows)]
    labels = None if label_at is None else [str(row[label_at]) for row in table.rows]
    return Measurements(
        values=np.asarray(values, dtype=np.float64), labels=labels, column=mapping.value_column
    )


def parse_time(cell: Any, source: SourceConfig, zone: ZoneInfo, where: str) -> datetime:
    if isinstance(cell, datetime):
        moment = cell
    else:
        text = str(cell or "").strip()
        try:
            moment = (
                datetime.strptime(text, source.time_format)
                if source.time_format
                else datetime.fromisoformat(text)
            )
        except ValueError:
            raise SourceError(
                f"{where}: {text!r} is not a time ({source.time_format or 'ISO 8601'})"
            ) from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def csv_table(text: str, source: SourceConfig, where: str) -> Table:
    """Parse CSV text (the delimiter guessed from the header line unless the source fixes it)."""
    first = text.split("\n", 1)[0]
    delimiter = source.delimiter or next((d for d in (";", "\t", ",") if d in first), ",")
    try:
        records = [
            [cell.strip() for cell in r]
            for r in csv.reader(io.StringIO(text), delimiter=delimiter)
            if any(c.strip() for c in r)
        ]
    except csv.Error as exc:
        raise SourceError(f"{where}: malformed CSV ({exc})") from None
    if not records:
        raise SourceError(f"{where}: empty, expected a header row")
    return Table(columns=records[0], rows=records[1:])


def _xlsx_table(path: Path, source: SourceConfig, where: str) -> Table:
    from openpyxl import load_workbook  # only folders of workbooks need it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors for a bad file
        raise SourceError(f"{where}: not a readable XLSX workbook ({exc})") from None
    try:
        sheet = book[source.sheet] if source.sheet else book.active
        rows = [list(r) for r in sheet.iter_rows(values_only=True) if any(c is not None for c in r)]
    except KeyError:
        raise SourceError(f"{where}: no sheet {source.sheet!r}") from None
    finally:
        book.close()
    if not rows:
        raise SourceError(f"{where}: empty sheet, expected a header row")
    return Table(columns=[str(c or "").strip() for c in rows[0]], rows=rows[1:])


class FolderReader:
    """Reads a folder source's files for one window, with the content-hash memory of the state file.

    ``known`` maps a file's SHA-256 to ``[first, last]`` (ISO times of its rows): a file whose range misses the
    window is skipped without parsing. Parsed files are kept only for the current pass (``parsed``).
    """

    def __init__(self, known: dict[str, list[str]], zone: ZoneInfo) -> None:
        self.known = known
        self.zone = zone
        self.parsed: dict[str, Table] = {}
        self.seen: set[str] = set()  # digests of the files present in the folders read this pass
        self.folders_read: set[str] = set()

    def forget_absent(self, folder_sources: set[str]) -> None:
        """Drop remembered files no longer present, once every folder source was listed this pass."""
        if folder_sources <= self.folders_read:
            for digest in set(self.known) - self.seen:
                del self.known[digest]

    def _files(self, source: SourceConfig) -> list[Path]:
        assert source.path is not None
        if not source.path.is_dir():
            raise SourceError(f"source {source.name}: folder {source.path} does not exist or is not a folder")
        return sorted(p for p in source.path.glob(source.pattern) if p.is_file())

    def _parse(self, path: Path, data: bytes, source: SourceConfig) -> Table:
        where = f"file {path.name}"
        if path.suffix.lower() == ".xlsx":
            return _xlsx_table(path, source, where)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SourceError(f"{where}: not UTF-8 text") from None
        return csv_table(text, source, where)

    def _timed(self, digest: str, path: Path, data: bytes, source: SourceConfig) -> Table:
        cached = self.parsed.get(digest)
        if cached is not None:
            return cached
        table = self._parse(path, data, source)
        assert source.time_column is not None
        at = _column(table, source.time_column, f"file {path.name}")
        times = [
            parse_time(r[at], source, self.zone, f"file {path.name} row {i + 1}")
            for i, r in enumerate(table.rows)
        ]
        if times:
            self.known[digest] = [min(times).isoformat(), max(times).isoformat()]
        table.rows = [(*row, when) for row, when in zip(table.rows, times, strict=True)]
        self.parsed[digest] = table
        return table

    def read(self, source: SourceConfig, window: Window) -> Table:
        """The rows of every (distinct) file whose time falls in the window; the time column last."""
        columns: list[str] | None = None
        rows: list[Sequence[Any]] = []
        seen: set[str] = set()
        for path in self._files(source):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise SourceError(f"file {path.name}: unreadable ({exc.strerror or exc})") from None
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            self.seen.add(digest)
            span = self.known.get(digest)
            if span is not None and (
                datetime.fromisoformat(span[1]) < window.start
                or datetime.fromisoformat(span[0]) >= window.end
            ):
                continue
            table = self._timed(digest, path, data, source)
            if columns is not None and table.columns != columns:
                raise SourceError(f"file {path.name}: its columns differ from the folder's other files")
            columns = table.columns
            rows += [row[:-1] for row in table.rows if window.start <= row[-1] < window.end]
        self.folders_read.add(source.name)
        return Table(columns=columns or [], rows=rows)


def sql_table(engines: dict[str, Any], source: SourceConfig, window: Window) -> Table:
    """Run the source's query with the window's bounds bound; an engine per URL is kept for the process."""
    import sqlalchemy  # only SQL sources need it (the optional extra "agent-sql" brings the drivers)

    assert source.url is not None and source.query is not None
    try:
        engine = engines.get(source.url)
        if engine is None:
            engine = engines[source.url] = sqlalchemy.create_engine(source.url, pool_pre_ping=True)
        with engine.connect() as connection:
            result = connection.execute(
                sqlalchemy.text(source.query), {"period_start": window.start, "period_end": window.end}
            )
            return Table(columns=list(result.keys()), rows=[tuple(row) for row in result])
    except Exception as exc:  # driver missing, bad URL, bad SQL, server away: all a failing query
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        raise SourceError(
            f"source {source.name}: the query failed ({type(exc).__name__}: {reason})"
        ) from None


def command_table(source: SourceConfig, window: Window) -> Table:
    """Run the source's command for the window and parse its standard output as CSV."""
    fields = {
        "period": str(window.period),
        "period_start": window.start.isoformat(),
        "period_end": window.end.isoformat(),
    }
    argv = [part.format(**fields) for part in source.command]
    try:
        done = subprocess.run(  # noqa: S603 - the supplier's own configured program, no shell
            argv, capture_output=True, timeout=source.timeout_seconds, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"source {source.name}: the command could not run ({exc})") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise SourceError(
            f"source {source.name}: the command exited with status {done.returncode} {tail[0]}".strip()
        )
    try:
        text = done.stdout.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"source {source.name}: the command's output is not UTF-8 text") from None
    return csv_table(text, source, f"source {source.name} output")


__all__ = [
    "FolderReader", "SourceError", "Table", "command_table", "csv_table", "measurements", "parse_time", "sql_table",
]  # fmt: skip
