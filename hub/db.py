"""Engines and sessions. The engine is made at start-up from Settings, never at import."""

from __future__ import annotations

import logging
import select as select_module
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine, Select, create_engine, event, insert, make_url, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from hub.config import Settings
from hub.errors import NotFound

T = TypeVar("T")

log = logging.getLogger("hub.db")

_CHECKPOINT_AFTER_COMMIT = "hub.checkpoint_wal_after_commit"


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        engine = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": settings.database_busy_timeout_seconds},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers work beside the one writer; foreign keys are off in SQLite unless asked for.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # A DELETE overwrites the deleted content with zeros instead of leaving it on free pages: shredding
            # a room's ciphertext and wrapped keys must not leave their bytes readable in the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(settings.database_busy_timeout_seconds * 1000)}")
            cursor.close()

        # pysqlite's own transaction handling must step aside for our BEGIN IMMEDIATE.
        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        _take_write_turns(engine, WriteTurns.of(engine.url.database), settings.database_busy_timeout_seconds)
        return engine
    url = make_url(settings.database_url)
    # psycopg's own option (not a libpq one, so not in the URL): None keeps every statement unprepared, which
    # PgBouncer's transaction pooling needs (HUB_DATABASE_PREPARE_THRESHOLD, deploy/README.md).
    connect_args = (
        {"prepare_threshold": settings.database_prepare_threshold}
        if url.get_driver_name() == "psycopg"
        else {}
    )
    engine = create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        connect_args=connect_args,
    )
    event.listen(engine, "checkout", _refuse_hung_up)
    return engine


def _refuse_hung_up(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has closed is replaced before use, without a round trip.

    An idle connection has nothing to read; one that does was told goodbye (a terminated backend's FATAL, a
    restart's EOF). Raising DisconnectionError makes the pool discard it and check out a fresh one, which is
    what ``pool_pre_ping`` did at the price of a ``SELECT 1`` before every transaction."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    readable, _, _ = select_module.select([dbapi_connection.fileno()], [], [], 0)
    if readable:
        raise DisconnectionError("the server closed the connection")


class WriteTurns:
    """SQLite's one write lock, handed from transaction to transaction in this process in the order they asked.

    Every transaction takes the write lock at BEGIN (BEGIN IMMEDIATE, so two writers queue instead of failing
    mid-way). Left to SQLite, a writer that finds the lock taken polls: its busy handler sleeps 1, 2, 5, 10, ...
    then 100 ms at a time and retries, with no queue, so a writer that has waited longest keeps losing to writers
    that arrive while it sleeps. Under a steady stream of requests the webhook dispatcher's bookkeeping waited
    most of a second that way, and every delivery behind it with it (issue #18). Here a writer waits on its own
    lock and the one finishing hands the turn straight to the oldest waiter. Other processes (``hub worker``, the
    CLI) still meet the busy timeout at BEGIN IMMEDIATE."""

    _by_file: dict[str, WriteTurns] = {}
    _files_lock = threading.Lock()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: object | None = None  # the DBAPI connection whose transaction has the turn
        self._waiting: deque[tuple[threading.Lock, object]] = deque()

    @classmethod
    def of(cls, database: str | None) -> WriteTurns | None:
        """The turns of one database file (every engine on it in this process shares them); None in memory."""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        with cls._files_lock:
            return cls._by_file.setdefault(str(Path(database).resolve()), cls())

    def take(self, holder: object, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the turn; False if it did not come."""
        with self._lock:
            if self._holder is None and not self._waiting:
                self._holder = holder
                return True
            handed = threading.Lock()
            handed.acquire()
            self._waiting.append((handed, holder))
        if handed.acquire(timeout=timeout):
            return True
        with self._lock:
            if self._holder is holder:  # handed over just as the wait ran out
                return True
            self._waiting.remove((handed, holder))
            return False

    def give_back(self, holder: object) -> None:
        """End ``holder``'s turn, if it has it, and hand the turn to the oldest waiter."""
        with self._lock:
            if holder is None or self._holder is not holder:
                return
            if self._waiting:
                handed, self._holder = self._waiting.popleft()
                handed.release()
            else:
                self._holder = None


def _take_write_turns(engine: Engine, turns: WriteTurns | None, timeout: float) -> None:
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def raw(connection: Any) -> Any:
        return getattr(connection, "dbapi_connection", connection)  # a pool's proxy, or the DBAPI connection

    def begin(connection: Any) -> None:
        holder = raw(connection)
        if turns is not None and not turns.take(holder, timeout):
            raise sqlite3.OperationalError("database is locked (waited for this process's other writers)")
        cursor = connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except BaseException:
            if turns is not None:
                turns.give_back(holder)
            raise
        finally:
            cursor.close()

    def ended(end: Any) -> Any:
        def end_then_give_back(connection: Any) -> None:
            try:
                end(connection)
            finally:
                if turns is not None:
                    turns.give_back(raw(connection))

        return end_then_give_back

    setattr(dialect, "do_begin", begin)  # noqa: B010 - per engine, not for every SQLite engine
    setattr(dialect, "do_commit", ended(commit))  # noqa: B010
    setattr(dialect, "do_rollback", ended(rollback))  # noqa: B010
    if turns is not None:
        # A connection that leaves its transaction by any other way (returned, invalidated, closed) ends its turn.
        for name in ("checkin", "invalidate", "close"):
            event.listen(engine, name, lambda dbapi_connection, *_: turns.give_back(dbapi_connection))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
    event.listen(factory, "after_commit", _checkpoint_if_asked)
    event.listen(factory, "after_rollback", _forget_checkpoint)
    return factory


def checkpoint_after_commit(session: Session) -> None:
    """Once this transaction commits, copy SQLite's write-ahead log into the database file and truncate it.

    A deleted row's old page images stay in the ``-wal`` file until a checkpoint (and the file keeps its size,
    so stale frames linger past one): for data that must be gone when its deletion commits, the shredding code
    asks for this. Services never commit, so the checkpoint runs from the session's after-commit hook, on
    another pooled connection (a checkpoint cannot run inside a transaction). On PostgreSQL it does nothing:
    there the dead tuples wait for VACUUM (see the README's rooms section)."""
    if session.get_bind().dialect.name == "sqlite":
        session.info[_CHECKPOINT_AFTER_COMMIT] = True


def _forget_checkpoint(session: Session) -> None:
    session.info.pop(_CHECKPOINT_AFTER_COMMIT, None)


def _checkpoint_if_asked(session: Session) -> None:
    if not session.info.pop(_CHECKPOINT_AFTER_COMMIT, False):
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # TRUNCATE waits (busy_timeout) for readers of older snapshots, then empties the -wal file.
        busy, frames, copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    finally:
        raw.close()
    if busy:
        log.warning("WAL checkpoint after a deletion was blocked: %s of %s frames copied", copied, frames)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the endpoint returns, rolled back when it raises."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory.begin() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# For an endpoint that streams its response from the database: the session lives until the response is sent.
StreamingSessionDep = Annotated[Session, Depends(get_session, scope="request")]


def insert_or_ignore(
    session: Session, model: type[Any], values: dict[str, Any], *, conflict: list[str]
) -> bool:
    """INSERT that quietly does nothing when ``conflict`` columns already hold these values; True if inserted.

    One round trip and race-free on both databases (ON CONFLICT DO NOTHING ... RETURNING), where a SELECT
    before the INSERT would race, and a savepoint around it would cost two more round trips."""
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    primary = model.__table__.primary_key.columns.values()[0]
    return session.execute(statement.returning(primary)).first() is not None


def insert_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` in one ``INSERT … VALUES (…), (…)`` (a key some rows lack is NULL in those), on the session's
    connection: no unit of work, no autoflush.

    With RETURNING, SQLAlchemy sends an executemany as "insertmanyvalues": one statement per thousand rows from
    a cached template. Without it the driver sends one statement per row, and a ``.values(rows)`` statement is
    compiled anew for every call, which cost more CPU than the rows."""
    if not rows:
        return
    keys = list(dict.fromkeys(key for row in rows for key in row))
    values = [{key: row.get(key) for key in keys} for row in rows]
    primary = model.__table__.primary_key.columns.values()[0]
    session.connection().execute(insert(model).returning(primary), values).close()


def insert_or_ignore_many(
    session: Session, model: type[Any], rows: Sequence[dict[str, Any]], *, conflict: list[str]
) -> None:
    """:func:`insert_or_ignore` for many rows (one statement per thousand, as :func:`insert_rows`), for a caller
    that need not know which were new."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert_of: Any = postgresql_insert if dialect == "postgresql" else sqlite_insert
    primary = model.__table__.primary_key.columns.values()[0]
    statement = insert_of(model).on_conflict_do_nothing(index_elements=conflict).returning(primary)
    session.connection().execute(statement, list(rows)).close()


def take_turn(session: Session, lock_id: int) -> None:
    """Hold a job's lock until the transaction ends, so that one replica at a time does that job.

    PostgreSQL: a transaction-scoped advisory lock. SQLite needs none: the transaction already holds the
    database's one write lock (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def one_or_not_found(session: Session, query: Select[T], *, missing: str, for_update: bool = False) -> T:
    """The one row ``query`` finds, locked FOR UPDATE if asked, or :class:`NotFound` saying ``missing``.

    The query filters to what the caller may see, so another organization's row is absent exactly as a row that
    does not exist is (a 404 either way)."""
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(missing)
    return row
