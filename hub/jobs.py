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


class PeriodicJob:
    def __init__(self, name: str, interval_seconds: float, run_once: Callable[[], int]) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self.run_once = run_once
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval_seconds > 0:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                done = await run_in_threadpool(self.run_once)
                if done:
                    log.debug("job round", extra={"job": self.name, "done": done})
            except Exception:
                log.exception("job round failed", extra={"job": self.name})
