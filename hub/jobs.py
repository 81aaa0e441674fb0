"""Periodic background jobs inside every hub process (audit sealing, the due-date sweep).

Each job's own locking makes it safe to run in every replica at once: the sealer takes turns through a lock,
the sweep claims agreements with SKIP LOCKED. A failed round is logged and the next one tries again; no request
ever waits on a job."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool

log = logging.getLogger("hub.jobs")


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
    ) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self.run_once = run_once
        self.then = then
        self.wakeup = Wakeup()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self.wakeup.wake()

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
            await self.wakeup.wait(self.interval_seconds)
            try:
                done = await run_in_threadpool(self.run_once)
                if done:
                    log.debug("job round", extra={"job": self.name, "done": done})
                    if self.then is not None:
                        self.then(done)
            except Exception:
                log.exception("job round failed", extra={"job": self.name})
