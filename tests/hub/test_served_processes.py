"""`hub serve` and `hub worker` as real processes: what they say at start-up, the issuer a development hub takes
from the address it serves, and the worker's probe."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.config import DEVELOPMENT_WARNING
from hub.db import make_engine, make_session_factory
from hub.local import free_port
from hub.orgs import service as orgs
from hub.readiness import NO_SCHEMA
from protocol.jwk import public_jwk
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from supplier_sdk.client import Client
from tests.conftest import _drop_database, _fresh_database_url, make_settings

pytestmark = pytest.mark.e2e


@contextmanager
def hub_command(database_url: str, *args: str, **env: str) -> Iterator[subprocess.Popen[str]]:
    """``python -m hub.cli ARGS`` with no HUB_ISSUER and no HUB_ENVIRONMENT: what a developer types."""
    clean = {k: v for k, v in os.environ.items() if k not in ("HUB_ISSUER", "HUB_ENVIRONMENT")}
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", *args],
        env={**clean, "HUB_DATABASE_URL": database_url, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_for(
    url: str,
    status: int = 200,
    seconds: float = 30,
    until: Callable[[httpx.Response], bool] = lambda _response: True,
) -> httpx.Response:
    """The first answer with ``status`` for which ``until`` holds (e.g. every loop has had its first round)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=1)
            if response.status_code == status and until(response):
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer {status}")


def register_key_client(database_url: str) -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    engine = make_engine(make_settings(database_url))
    try:
        with make_session_factory(engine).begin() as session:
            org = orgs.create_organization(
                session,
                actor="cli:operator",
                data=OrganizationCreate(name="Local Supplier", kind=OrgKind.SUPPLIER),
            )
            client, _ = orgs.create_client(
                session,
                actor="cli:operator",
                actor_org_id=None,
                org_id=org.id,
                name="laptop",
                scopes=None,
                public_jwk=public_jwk(key),
            )
            return client.client_id, key
    finally:
        engine.dispose()


def test_a_development_hub_on_another_port_takes_its_served_address_as_issuer(fresh_database: str) -> None:
    client_id, key = register_key_client(fresh_database)
    port = free_port()
    with hub_command(fresh_database, "serve", "--port", str(port), "--no-migrate") as process:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        # private_key_jwt: the assertion's audience is the token endpoint the SDK calls, by either name.
        for base_url in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
            with Client(base_url=base_url, client_id=client_id, private_key=key) as sdk:
                me = sdk.request("GET", "/v1/organizations/me")
            assert me["name"] == "Local Supplier"
        metadata = httpx.get(f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server").json()
        assert metadata["issuer"] == f"http://127.0.0.1:{port}"
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert f"hub listening on http://127.0.0.1:{port} (1 worker(s)), development mode" in out
    assert f"issuer http://127.0.0.1:{port}" in out
    assert DEVELOPMENT_WARNING in err


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    url = _fresh_database_url(tmp_path, "empty")
    yield url
    _drop_database(url)


def test_the_worker_probe_is_alive_and_ready_on_a_migrated_database(fresh_database: str) -> None:
    port = free_port()
    with hub_command(fresh_database, "worker", "--health-port", str(port), "--health-host", "127.0.0.1"):
        assert wait_for(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        assert wait_for(f"http://127.0.0.1:{port}/readyz").json() == {"status": "ready"}
        assert httpx.get(f"http://127.0.0.1:{port}/nothing").status_code == 404


def test_a_worker_on_a_database_without_schema_is_alive_unready_and_says_so_once(empty_database: str) -> None:
    port = free_port()
    fast = {"HUB_EVENTS_SEQUENCE_INTERVAL_SECONDS": "0.01", "HUB_WEBHOOK_DISPATCH_INTERVAL_SECONDS": "0.01"}
    with hub_command(
        empty_database, "worker", "--health-port", str(port), "--health-host", "127.0.0.1", **fast
    ) as process:
        assert wait_for(f"http://127.0.0.1:{port}/healthz").status_code == 200
        # Each loop reports after its own first round: wait until both have had one.
        unready = wait_for(
            f"http://127.0.0.1:{port}/readyz", status=503, until=lambda r: len(r.json()["loops"]) == 2
        ).json()
        assert unready["loops"] == {"webhook-dispatcher": NO_SCHEMA, "events-sequencer": NO_SCHEMA}
        # Let both loops fail a few more rounds (0.01 s doubling: a second covers about seven).
        time.sleep(1.5)
        process.terminate()
        _, err = process.communicate(timeout=30)
    mentions = [line for line in err.splitlines() if "no schema" in line]
    # One warning at start-up, one line from the loops; before, every round of both wrote a traceback.
    assert len(mentions) == 2, err
    assert "Traceback" not in err
