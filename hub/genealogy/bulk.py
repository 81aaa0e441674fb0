"""Set-at-a-time reads and upserts by natural key, fast on PostgreSQL and plain on SQLite.

On PostgreSQL a batch travels as one array per column (``unnest``): the statement text stays the same size
whatever the batch, so the driver does not re-parse thousands of placeholders and the server plans once. On SQLite
(in-process, no round trips) row-value ``IN`` and ``executemany`` are fast enough.

Table and column names come from the SQLAlchemy metadata, never from input; values are always bound.
A bulk import also runs with fewer garbage collections (:func:`fewer_collections`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, bindparam, select, text, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

SQLITE_CHUNK = 5000
GC_THRESHOLDS = (50_000, 20, 20)
_gc_lock = threading.Lock()
_gc_saved: list[tuple[int, int, int]] = []  # the thresholds before the first running import
_gc_imports = 0


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run an import with the cyclic garbage collector's thresholds raised (Python's default, a collection every
    700 allocations, spent a third of an import's time scanning the buffered records and the process's own
    objects again and again). Reference counting still frees every record at once; cycles are still collected,
    only in larger steps, so memory stays bounded. The thresholds are the process's: the first import raises
    them, the last one to finish restores them."""
    global _gc_imports
    with _gc_lock:
        if _gc_imports == 0:
            _gc_saved[:] = [gc.get_threshold()]
            gc.set_threshold(*(max(a, b) for a, b in zip(GC_THRESHOLDS, _gc_saved[0], strict=True)))
        _gc_imports += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_imports -= 1
            if _gc_imports == 0:
                gc.set_threshold(*_gc_saved[0])


def _pg_type(table: Table, column: str, session: Session) -> str:
    return str(table.c[column].type.compile(dialect=session.get_bind().dialect))


def _arrays(
    table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]], session: Session
) -> tuple[str, dict[str, Any]]:
    """``unnest(CAST(:c0 AS type[]), …) AS v(col, …)`` and its parameters."""
    return _unnest(table, columns, [[row[i] for row in rows] for i in range(len(columns))], session)


def _unnest(
    table: Table, columns: Sequence[str], arrays: Sequence[list[Any]], session: Session
) -> tuple[str, dict[str, Any]]:
    """As :func:`_arrays`, given one list per column."""
    casts = ", ".join(f"CAST(%(c{i})b AS {_pg_type(table, c, session)}[])" for i, c in enumerate(columns))
    return f"unnest({casts}) AS v({', '.join(columns)})", {f"c{i}": a for i, a in enumerate(arrays)}


def _run(session: Session, statement: str, params: dict[str, Any]) -> list[Any]:
    """Straight through psycopg in the session's transaction: arrays go over in binary (no text quoting of
    every element) and rows come back as plain tuples."""
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor(binary=True) as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description is not None else []


def select_by_keys(
    session: Session,
    table: Table,
    key: Sequence[str],
    keys: Sequence[Sequence[Any]],
    columns: Sequence[str],
    *,
    where: str | None = None,
) -> list[Any]:
    """Rows of ``table`` whose ``key`` columns equal one of ``keys``: the key columns, then ``columns``.

    ``where`` is an extra SQL condition on the table (aliased ``t``)."""
    if not keys:
        return []
    if session.get_bind().dialect.name == "postgresql":
        source, params = _arrays(table, key, keys, session)
        chosen = ", ".join(f"t.{c}" for c in (*key, *columns))
        on = " AND ".join(f"t.{k} = v.{k}" for k in key)
        extra = f" WHERE {where}" if where else ""
        statement = f"SELECT {chosen} FROM {table.name} t JOIN {source} ON {on}{extra}"  # noqa: S608 - names from metadata
        return _run(session, statement, params)
    result: list[Any] = []
    key_columns = [table.c[k] for k in key]
    for start in range(0, len(keys), SQLITE_CHUNK):
        chunk = [tuple(k) for k in keys[start : start + SQLITE_CHUNK]]
        condition = (
            key_columns[0].in_([k[0] for k in chunk]) if len(key) == 1 else tuple_(*key_columns).in_(chunk)
        )
        query = select(*key_columns, *[table.c[c] for c in columns]).where(condition)
        if where:
            query = query.where(text(where.replace("t.", f"{table.name}.")))
        result.extend(session.execute(query))
    return result


def upsert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
) -> list[Any]:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET update`` (DO NOTHING when ``update`` is empty) for all rows
    (every row has the same columns); the ``returning`` columns of the rows written."""
    if not rows:
        return []
    columns = list(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        source, params = _unnest(table, columns, [[r[c] for r in rows] for c in columns], session)
        conflict = (
            "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in update) if update else "DO NOTHING"
        )
        statement = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {source} "  # noqa: S608
            f"ON CONFLICT ({', '.join(key)}) {conflict} RETURNING {', '.join(returning)}"
        )
        return _run(session, statement, params)
    insert: Any = sqlite_insert(table)
    if update:
        insert = insert.on_conflict_do_update(
            index_elements=list(key), set_={c: insert.excluded[c] for c in update}
        )
    else:
        insert = insert.on_conflict_do_nothing(index_elements=list(key))
    return list(session.execute(insert.returning(*[table.c[c] for c in returning]), list(rows)))


def upsert_changed(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
) -> list[Any]:
    """PostgreSQL only: insert new rows and update only those whose ``update`` columns differ, in one statement
    (no SELECT of the existing rows first). Answers the ``returning`` columns and ``inserted`` of each row
    written; a row not answered was unchanged. ``inserted`` is ``xmax = 0``: the row version an ``ON CONFLICT
    DO UPDATE`` writes carries the conflicting row's lock in ``xmax``, a fresh insert has none."""
    if not rows:
        return []
    columns = list(rows[0])
    source, params = _unnest(table, columns, [[r[c] for r in rows] for c in columns], session)
    old = ", ".join(f"t.{c}" for c in update)
    new = ", ".join(f"EXCLUDED.{c}" for c in update)
    statement = (
        f"INSERT INTO {table.name} AS t ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {source} "  # noqa: S608
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in update)
        + f" WHERE ROW({old}) IS DISTINCT FROM ROW({new}) "
        f"RETURNING {', '.join(f't.{c}' for c in returning)}, t.xmax = 0"
    )
    return _run(session, statement, params)


def update_by_id(session: Session, table: Table, column: str, pairs: Sequence[tuple[Any, Any]]) -> None:
    """``UPDATE table SET column = value WHERE id = id`` for (id, value) pairs, in one statement on PostgreSQL."""
    if not pairs:
        return
    if session.get_bind().dialect.name == "postgresql":
        source, params = _arrays(table, ["id", column], pairs, session)
        statement = f"UPDATE {table.name} t SET {column} = v.{column} FROM {source} WHERE t.id = v.id"  # noqa: S608
        _run(session, statement, params)
        return
    change = table.update().where(table.c.id == bindparam("pk")).values({column: bindparam("value")})
    session.execute(change, [{"pk": pk, "value": value} for pk, value in pairs])
