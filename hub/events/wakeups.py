"""Wake-ups across processes on PostgreSQL: a commit that published events, or gave events their webhook
deliveries, wakes the sequencers and dispatchers of every hub process at once (LISTEN/NOTIFY).

Inside one process a commit wakes that process's sequencer directly (``sequencer.wake_on_publish``) and the
sequencer its dispatcher. Another process (a ``hub worker``, another replica, another uvicorn worker) only heard
of it at its next poll, up to an interval later. Here the transaction says ``NOTIFY`` on a channel, which
PostgreSQL delivers when, and only if, the transaction commits; a thread in each process LISTENs and calls that
process's wake-ups. Inserting events notifies by the events table's statement trigger (no statement of ours on
the report path); the sequencer's fan-out calls :func:`notify`. The polls stay as the fallback: a lost listener connection costs latency, never an
event. SQLite has no such channel and keeps polling across processes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

import psycopg
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

log = logging.getLogger("hub.events")

EVENTS_PUBLISHED = "qualink_events_published"  # a transaction published events: sequence them
DELIVERIES_DUE = "qualink_deliveries_due"  # the sequencer made webhook deliveries: dispatch them
_NOTIFIED = "wakeups_notified"  # session.info: (transaction, the channels it has notified already)
_RECONNECT_SECONDS = 1.0
_STOP_SECONDS = 0.2


def notify(session: Session, channel: str) -> None:
    """Ask for ``channel``'s wake-ups when this transaction commits (once per transaction; PostgreSQL only)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    noted: tuple[object, set[str]] | None = session.info.get(_NOTIFIED)
    if noted is None or noted[0] is not transaction:
        noted = session.info[_NOTIFIED] = (transaction, set())
    if channel not in noted[1]:
        # On the connection, not the session: no autoflush, so a caller's pending rows are flushed (and their
        # constraint errors raised) where the caller flushes, as without the notification.
        session.connection().execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})
        noted[1].add(channel)


def listen(database_url: str, wakes: Mapping[str, Callable[[], None]]) -> Listener | None:
    """A started :class:`Listener` on PostgreSQL; None on SQLite, whose processes keep polling, or when nothing
    would be woken."""
    if not wakes or make_url(database_url).get_backend_name() != "postgresql":
        return None
    listener = Listener(database_url, wakes)
    listener.start()
    return listener


class Listener:
    """A thread that LISTENs on ``wakes``' channels and calls their functions on each notification."""

    def __init__(self, database_url: str, wakes: Mapping[str, Callable[[], None]]) -> None:
        self._conninfo = (
            make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._wakes = dict(wakes)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while a connection is listening (tests wait for it)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="events-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception:
                log.warning("event wake-up listener lost its connection; polling meanwhile", exc_info=True)
            finally:
                self.listening.clear()
            self._stopping.wait(_RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as connection:
            for channel in self._wakes:
                connection.execute(f'LISTEN "{channel}"')
            self.listening.set()
            while not self._stopping.is_set():
                # A short timeout, so that stop() is heard at once.
                for notification in connection.notifies(timeout=_STOP_SECONDS):
                    wake = self._wakes.get(notification.channel)
                    if wake is not None:
                        wake()
