"""Periodic background jobs inside every hub process (audit sealing, the due-date sweep).

Each job's own locking makes it safe to run in every replica at once: the sealer takes turns through a lock,
the sweep claims agreements with SKIP LOCKED. No request ever waits on a job.

A failed round is retried after a back-off: the job's interval doubled for each failure in a row, at most
:data:`MAX_BACKOFF_SECONDS`. A failure is logged once, in one line, when it starts, and once more when the job
recovers; the same failure in several jobs (a database without schema fails every one of them) is one line for
the process, not one per job and round (a hub on an unmigrated database once wrote 7,815 lines in 25 s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from hub.readiness import NO_SCHEMA, first_line, looks_like_missing_schema

log = logging.getLogger("hub.jobs")

MAX_BACKOFF_SECONDS = 60.0


def describe_failure(exc: BaseException) -> str:
    """The one line a failed round is logged with: the cause an operator can fix, when it is a known one."""
    if looks_like_missing_schema(exc):
        return NO_SCHEMA
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return f"database unavailable: {first_line(exc)}"
    return f"{type(exc).__name__}: {first_line(exc)}"


class FailureLog:
    """Which failures are being reported, so each is logged when it starts and when the last job recovers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing: dict[str, set[str]] = {}

    def failed(self, job: str, exc: BaseException, retry_in: float) -> None:
        summary = describe_failure(exc)
        with self._lock:
            news = summary not in self._failing
            for jobs in self._failing.values():
                jobs.discard(job)
            self._failing.setdefault(summary, set()).add(job)
        if news:
            # A bug's traceback is worth having once; a database's state is said in the summary.
            trace = not isinstance(exc, SQLAlchemyError)
            log.error(
                f"background job {job}: {summary} (retrying with back-off, next in {retry_in:g} s, "
                f"at most every {MAX_BACKOFF_SECONDS:g} s; logged again only when it changes)",
                exc_info=exc if trace else None,
                extra={"job": job},
            )

    def recovered(self, job: str) -> None:
        with self._lock:
            ended = [summary for summary, jobs in self._failing.items() if job in jobs]
            for summary in ended:
                self._failing[summary].discard(job)
                if not self._failing[summary]:
                    del self._failing[summary]
        for summary in ended:
            log.warning(f"background job {job} recovered from: {summary}", extra={"job": job})


FAILURES = FailureLog()


class Backoff:
    """How long a job waits before its next round: its interval, or after failures in a row, double that for
    each failure (at most :data:`MAX_BACKOFF_SECONDS`, never less than the interval)."""

    def __init__(
        self,
        name: str,
        interval_seconds: float,
        *,
        failures: FailureLog = FAILURES,
        cap: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self.cap = max(cap, interval_seconds)
        self.failures_in_a_row = 0
        self.failure: str | None = None  # the last round's failure, while the job is failing
        self._log = failures

    @property
    def delay(self) -> float:
        if self.failures_in_a_row == 0:
            return self.interval_seconds
        return min(self.cap, self.interval_seconds * 2.0**self.failures_in_a_row)

    def failed(self, exc: BaseException) -> None:
        self.failures_in_a_row += 1
        self.failure = describe_failure(exc)
        self._log.failed(self.name, exc, self.delay)

    def succeeded(self) -> None:
        if self.failures_in_a_row:
            self.failures_in_a_row, self.failure = 0, None
            self._log.recovered(self.name)


class Wakeup:
    """Ends a job's wait early; ``wake()`` may be called from any thread (a request's worker thread)."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> None:
        self._event, self._loop = asyncio.Event(), asyncio.get_running_loop()

    def wake(self) -> None:
        if self._loop is not None and self._event is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> None:
        assert self._event is not None, "bind() first, inside the event loop"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


class PeriodicJob:
    """Runs ``run_once`` every ``interval_seconds``, or at once when woken; ``then`` hears how much it did."""

    def __init__(
        self,
        name: str,
        interval_seconds: float,
        run_once: Callable[[], int],
        *,
        then: Callable[[int], None] | None = None,
        failures: FailureLog = FAILURES,
    ) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self.run_once = run_once
        self.then = then
        self.backoff = Backoff(name, interval_seconds, failures=failures)
        self.wakeup = Wakeup()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self.wakeup.wake()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.interval_seconds > 0:
            self.wakeup.bind()
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await self.wakeup.wait(self.backoff.delay)
            try:
                done = await run_in_threadpool(self.run_once)
            except Exception as exc:
                self.backoff.failed(exc)
                continue
            self.backoff.succeeded()
            if done:
                log.debug("job round", extra={"job": self.name, "done": done})
                if self.then is not None:
                    self.then(done)
