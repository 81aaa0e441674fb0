"""A hub in its own process: ``hub.cli serve --no-migrate`` (as in production: its own interpreter, its own
workers) against a database the test or benchmark migrated itself, used once it answers ``/readyz``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


def hub_process(database_url: str, port: int, *args: str) -> subprocess.Popen[bytes]:
    """``python -m hub.cli ARGS`` against ``database_url``, issuing tokens for ``http://127.0.0.1:PORT``."""
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_ISSUER": f"http://127.0.0.1:{port}",
        "HUB_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "hub.cli", *args], env=env)


def wait_until_ready(base_url: str, seconds: float = 90) -> None:
    """Return once ``/readyz`` answers 200; a hub that does not within ``seconds`` fails the benchmark."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("hub did not start")


@dataclass(frozen=True)
class ServedHub:
    """A hub serving on ``base_url`` from ``process`` (its pid is where memory is read)."""

    base_url: str
    process: subprocess.Popen[bytes]


@contextmanager
def served_hub(database_url: str, port: int, *, workers: int = 1) -> Iterator[ServedHub]:
    """``hub serve`` on ``port`` (a free one; the caller set up the issuer for it) with ``workers`` uvicorn
    workers, ready; stopped on leaving."""
    base_url = f"http://127.0.0.1:{port}"
    process = hub_process(
        database_url, port, "serve", "--port", str(port), "--workers", str(workers), "--no-migrate"
    )
    try:
        wait_until_ready(base_url)
        yield ServedHub(base_url, process)
    finally:
        process.terminate()
        process.wait(timeout=30)
