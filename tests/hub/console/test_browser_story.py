"""The whole story of issue #13 in one network, in a real browser (Debian's Chromium through Playwright) against a
real ``hub serve``: an OEM's SQE signs in by keyboard alone, watches a supplier's downgrade arrive live in the
open inbox, reads the overview and the scorecard, dry-runs the rule, traces the supplier's lot into its vehicle
models and plant, signs off its D4 and signs out (the old session cookie opens nothing); the plant acknowledges
its containment action; the supplier sees exactly why it was downgraded and nothing of another supplier (its
scorecard is the 404 page). axe-core finds nothing serious or critical on any page visited.

Set ``QUALINK_SCREENSHOTS=docs/screenshots`` to refresh the README's ``overview.png`` and ``scorecard.png``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hub.console.browsing import BROWSER_MARKS, sign_in_page, violations
from tests.hub.console.served import person
from tests.hub.console.storyline import LOT, MODELS, PLANT, Story, cpk_week, seed
from tests.hub.people.helpers import PASSWORD
from tests.supplier_sdk.test_client_support import Network

pytestmark = BROWSER_MARKS
LIVE = 15_000  # ms: the goal is 1 s; a loaded CI machine gets slack, a missing update still fails


@pytest.fixture(scope="module")
def story(network: Network) -> Story:
    return seed(network)


def _keyboard_sign_in(page: Any, network: Network, email: str) -> None:
    """Tab to Email, type, Tab to Password, type, Enter: the form works without a mouse."""
    page.goto(f"{network.base_url}/console/sign-in")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{network.base_url}/console/network")


def _shot(page: Any, name: str, folder: Path) -> None:
    page.screenshot(path=str(folder / name), full_page=True)


def test_the_full_story(network: Network, browser: Any, story: Story, tmp_path: Path) -> None:
    shots = Path(os.environ.get("QUALINK_SCREENSHOTS", tmp_path))
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 800})  # so axe runs
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    found: dict[str, Any] = {}
    castor, gearbox = story.castor.supplier, story.gearbox.supplier

    page.goto(f"{network.base_url}/console/sign-in")
    found["sign-in"] = violations(page)
    _keyboard_sign_in(page, network, person(network, network.oem.org_id, "sqe"))

    # The inbox is open; Castor's third bad week arrives over HTTP; the row appears without a reload.
    page.get_by_role("link", name="Inbox", exact=True).click()
    page.wait_for_url(f"{network.base_url}/console/inbox")
    assert str(castor.org_id) not in page.locator("#inbox-rows").inner_text()
    page.wait_for_function(
        "() => document.querySelector('[sse-connect]')['htmx-internal-data']?.sseEventSource?.readyState === 1"
    )
    page.evaluate("window.stayed = true")  # gone if the page were loaded again
    cpk_week(network, story.castor, 1, spread=0.02, seed=1)
    arrived = page.locator("#inbox-rows tr", has_text=str(castor.org_id)).first
    arrived.wait_for(timeout=LIVE)
    assert "A→B" in arrived.inner_text()
    assert page.evaluate("window.stayed") is True
    found["inbox"] = violations(page)

    page.get_by_role("link", name="Network", exact=True).click()
    page.wait_for_url(f"{network.base_url}/console/network")
    assert "B" in page.get_by_role("row", name=castor.name).locator(".tier").inner_text()
    assert "A" in page.get_by_role("row", name=gearbox.name).locator(".tier").inner_text()
    found["overview"] = violations(page)
    _shot(page, "overview.png", shots)

    page.get_by_role("link", name=castor.name).click()
    page.wait_for_url(f"{network.base_url}/console/suppliers/{castor.org_id}")
    assert "A → B" in page.locator("main").inner_text()
    found["scorecard"] = violations(page)
    _shot(page, "scorecard.png", shots)

    # The rule that acted, dry-run on the history it acted on.
    page.get_by_role("link", name="Rules", exact=True).click()
    page.wait_for_url(f"{network.base_url}/console/rules")
    page.locator("table.data tbody a").first.click()
    page.get_by_role("button", name="Dry run on history").click()
    timeline = page.locator("#dry-run ol.timeline")
    timeline.get_by_text("would have downgraded A → B").first.wait_for()
    found["rule, dry run"] = violations(page)

    # Castor's lot forward: the OEM's own vehicle models and its plant.
    page.get_by_role("link", name="Trace", exact=True).click()
    page.get_by_label("Lot or serial number").fill(story.lot_id)
    page.get_by_label("Direction").select_option("forward")
    page.get_by_role("button", name="Trace").click()
    page.locator("#trace-models").wait_for()
    models = page.locator("#trace-models").inner_text()
    assert all(model in models for model in MODELS)
    assert PLANT in page.locator("#trace-plants").inner_text()
    assert LOT in page.locator("svg.genealogy").inner_html()
    found["trace"] = violations(page)

    page.get_by_role("link", name="Rooms", exact=True).click()
    page.get_by_role("link", name="Capacitor hipot failures").click()
    page.wait_for_url(f"{network.base_url}/console/rooms/{story.room_id}")
    page.get_by_role("button", name="Sign off D4").click()
    page.wait_for_url(f"{network.base_url}/console/rooms/{story.room_id}#D4")
    assert "signed off" in page.locator("tr#D4").inner_text()
    found["room"] = violations(page)

    # Signed out, the session's cookie opens nothing (it did a moment ago).
    jar = {c["name"]: c["value"] for c in context.cookies()}
    with httpx.Client(base_url=network.base_url, cookies=jar) as stolen:
        assert stolen.get("/console/network").status_code == 200
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{network.base_url}/console/sign-in?reason=bye")
        refused = stolen.get("/console/network")
        assert refused.status_code in (302, 303) and "/console/sign-in" in refused.headers["location"]

    # The OEM's plant acknowledges the containment action Castor's alert opened.
    sign_in_page(page, network, person(network, network.oem.org_id, "plant"), "/console/network")
    page.get_by_role("link", name="Containment", exact=True).click()
    row = page.locator("tr", has_text=PLANT)
    assert "open" in row.inner_text()
    row.get_by_label("Owner").fill("M. Brandt, quality Wolfsburg")
    row.get_by_role("button", name="Acknowledge").click()
    page.locator("td", has_text="M. Brandt, quality Wolfsburg").wait_for()
    assert "acknowledged" in page.locator("tr", has_text=PLANT).inner_text()
    found["containment"] = violations(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{network.base_url}/console/sign-in?reason=bye")

    # Castor sees exactly why: the change, the rule and its version, each of the three weeks.
    sign_in_page(page, network, person(network, castor.org_id, "sqe"), "/console/standing")
    history = page.locator("table.data").first
    assert "A → B" in history.inner_text() and " v1" in history.inner_text()
    assert history.locator("ul.causes li", has_text="cpk · DIA-01").count() == 3
    assert gearbox.name not in page.content()
    found["standing"] = violations(page)
    response = page.goto(f"{network.base_url}/console/suppliers/{gearbox.org_id}")
    assert response.status == 404 and page.get_by_role("heading", name="Not found").is_visible()
    assert gearbox.name not in page.content()
    found["another supplier's scorecard"] = violations(page)
    context.close()
    assert problems == []
    assert {name: v for name, v in found.items() if v} == {}
