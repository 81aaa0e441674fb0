"""Schemathesis over the whole OpenAPI of a real ``hub serve`` (its own process, a real socket), as an OEM and as a
supplier with every scope of their kind, on SQLite or on PostgreSQL (``HUB_TEST_DATABASE_URL``).

Every check schemathesis has runs (server errors, undeclared statuses, response schemas and headers, content types,
``Allow`` on 405, undeclared methods, schema-invalid data accepted, ...); any failure fails the test with
schemathesis' own report. Bounded by ``schemathesis.toml`` beside this file (cases per operation, one worker).

Not part of the default run (``--ignore=tests/conformance``); ``.ci/run`` runs it on both databases::

    pytest tests/conformance --override-ini addopts= -p no:cacheprovider -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.local import free_port
from protocol.models.common import OrgKind
from tests.conformance.world import Credentials, build_world
from tests.conftest import _drop_database, _fresh_database_url
from tests.hub_server import served_hub

CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("hooks.py")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[OrgKind, Credentials]]]:
    database_url = _fresh_database_url(tmp_path_factory.mktemp("conformance"), "conformance")
    try:
        world = build_world(database_url)
        port = free_port()
        with served_hub(database_url, port) as served:
            yield served.base_url, world
    finally:
        _drop_database(database_url)


@pytest.mark.parametrize("kind", [OrgKind.OEM, OrgKind.SUPPLIER], ids=lambda kind: kind.value)
def test_the_openapi_holds_for_every_operation(
    hub: tuple[str, dict[OrgKind, Credentials]], kind: OrgKind, tmp_path: Path
) -> None:
    base_url, world = hub
    token = world[kind].token(base_url)
    report = tmp_path / "report.json"
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
    )
    print(run.stdout[-3000:])
    summary = json.loads(report.read_text())
    cases = summary["test_cases"]["generated"]
    print(f"schemathesis as {kind.value}: {cases} cases, {len(summary['failures'])} kinds of failure")
    assert cases > 500, summary["test_cases"]
    assert run.returncode == 0 and not summary["failures"] and not summary["errors"], run.stdout[-20000:]
