"""A real hub on this machine: a temporary SQLite file, migrations, uvicorn on a free loopback port.

What `hub demo` (the qualink_demo package) and the end-to-end tests run against; the hub's own code, no SDK."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from hub import migrate
from hub.app import create_app
from hub.config import Settings
from hub.db import make_engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalHub:
    """Runs the hub in a background thread over a real socket; stop() shuts it down cleanly."""

    def __init__(self, *, database_url: str | None = None, port: int | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="qualink-demo-")
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        url = database_url or f"sqlite:///{Path(self._tmp.name) / 'hub.db'}"
        self.settings = Settings(
            database_url=url, issuer=self.base_url, environment="development", log_level="WARNING"
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalHub:
        engine = make_engine(self.settings)
        migrate.upgrade(engine)
        engine.dispose()
        config = uvicorn.Config(
            create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="hub", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the hub did not become ready within 15 s")

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._tmp.cleanup()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
