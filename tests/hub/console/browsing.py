"""What every browser test of the console shares: Debian's Chromium driven by Playwright (never a browser
download), a served network per module, signing in by the form's labels, and axe-core's findings.

The fixtures ``network`` and ``browser`` reach every test module of this folder through its conftest; a browser
test module sets ``pytestmark = BROWSER_MARKS`` and is skipped where Chromium or playwright is missing."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub.people.helpers import PASSWORD
from tests.supplier_sdk.test_client_support import Network, running_network

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_MARKS = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="playwright is not installed"),
]
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Network]:
    name = request.module.__name__.rsplit(".", 1)[-1]
    with running_network(tmp_path_factory.mktemp("hub"), name) as network:
        yield network


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def sign_in_page(page: Any, network: Network, email: str, landing: str) -> None:
    """Sign ``email`` in through the form, by its labels, and wait for ``landing`` (a console path)."""
    page.goto(f"{network.base_url}/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{network.base_url}{landing}")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page (the context must bypass the CSP to inject it)."""
    page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" "))}))"""
    )
    return found
