"""Background jobs on a database without schema: one log line, then back-off (not a line per job and round)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from hub.db import make_engine, make_session_factory
from hub.jobs import MAX_BACKOFF_SECONDS, Backoff, FailureLog, PeriodicJob, describe_failure
from hub.readiness import NO_SCHEMA
from hub.webhooks.dispatcher import Dispatcher
from tests.conftest import make_settings


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


@pytest.fixture
def job_log() -> Iterator[Records]:
    # The hub's loggers do not propagate once an app configured them, so listen on the jobs' own logger.
    handler, logger = Records(), logging.getLogger("hub.jobs")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.DEBUG
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def unmigrated(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(make_settings(f"sqlite:///{tmp_path / 'empty.db'}"))
    yield engine
    engine.dispose()


def reading_events(engine: Engine) -> Callable[[], int]:
    def run_once() -> int:
        with engine.connect() as connection:
            return len(connection.execute(text("SELECT seq FROM events")).all())

    return run_once


def record_waits(job: PeriodicJob | Dispatcher) -> list[float]:
    """The timeouts the loop waits with, in order."""
    waits: list[float] = []
    wait = job.wakeup.wait

    async def recording(timeout: float) -> None:
        waits.append(timeout)
        await wait(timeout)

    job.wakeup.wait = recording  # type: ignore[method-assign]
    return waits


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.005)


def test_a_job_on_a_database_without_schema_logs_one_line_and_doubles_its_wait(
    unmigrated: Engine, job_log: Records
) -> None:
    job = PeriodicJob("rules-sweep", 0.001, reading_events(unmigrated), failures=FailureLog())
    waits = record_waits(job)

    async def scenario() -> None:
        job.start()
        await until(lambda: len(waits) >= 8)
        await job.stop()

    asyncio.run(scenario())
    assert waits[:8] == [0.001 * 2**n for n in range(8)]
    (line,) = job_log.at(logging.WARNING)
    assert line.startswith(f"background job rules-sweep: {NO_SCHEMA}")
    assert "\n" not in line and not [r for r in job_log.records if r.exc_info]
    assert job.backoff.failure == NO_SCHEMA


def test_several_jobs_failing_the_same_way_are_one_line_and_recovery_is_another(
    unmigrated: Engine, job_log: Records
) -> None:
    failures = FailureLog()
    broken = {"yes": True}
    read = reading_events(unmigrated)

    def run_once() -> int:
        if broken["yes"]:
            return read()
        return 0

    jobs = [PeriodicJob(name, 0.001, run_once, failures=failures) for name in ("a", "b", "c")]

    async def scenario() -> None:
        for job in jobs:
            job.start()
        await until(lambda: all(job.backoff.failures_in_a_row >= 3 for job in jobs))
        broken["yes"] = False
        await until(lambda: all(job.backoff.failures_in_a_row == 0 for job in jobs))
        for job in jobs:
            await job.stop()

    asyncio.run(scenario())
    errors = [r.getMessage() for r in job_log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and NO_SCHEMA in errors[0]
    recovered = [r.getMessage() for r in job_log.records if r.levelno == logging.WARNING]
    assert sorted(recovered) == [f"background job {n} recovered from: {NO_SCHEMA}" for n in "abc"]
    assert all(job.backoff.delay == 0.001 for job in jobs)


def test_the_webhook_dispatcher_backs_off_too(unmigrated: Engine, job_log: Records) -> None:
    async def scenario() -> list[float]:
        dispatcher = Dispatcher(make_session_factory(unmigrated), interval_seconds=0.001)
        dispatcher.backoff = Backoff("webhook-dispatcher", 0.001, failures=FailureLog())
        waits = record_waits(dispatcher)
        dispatcher.start()
        await until(lambda: len(waits) >= 6)
        await dispatcher.stop()
        return waits

    waits = asyncio.run(scenario())
    assert waits[:6] == [0.001 * 2**n for n in range(1, 7)]
    assert len(job_log.at(logging.WARNING)) == 1


def test_the_back_off_is_capped_and_never_shorter_than_the_interval() -> None:
    backoff = Backoff("job", 5.0, failures=FailureLog())
    for _ in range(20):
        backoff.failed(RuntimeError("boom"))
    assert backoff.delay == MAX_BACKOFF_SECONDS
    slow = Backoff("slow", 600.0, failures=FailureLog())
    slow.failed(RuntimeError("boom"))
    assert slow.delay == 600.0


def test_failures_are_described_by_their_cause(unmigrated: Engine, tmp_path: Path) -> None:
    with pytest.raises(Exception) as missing:
        reading_events(unmigrated)()
    assert describe_failure(missing.value) == NO_SCHEMA
    nowhere = make_engine(make_settings(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"))
    with pytest.raises(Exception) as unreachable:
        reading_events(nowhere)()
    nowhere.dispose()
    assert describe_failure(unreachable.value).startswith(
        "database unavailable: unable to open database file"
    )
    assert describe_failure(ValueError("bad\nsecond line")) == "ValueError: bad"
