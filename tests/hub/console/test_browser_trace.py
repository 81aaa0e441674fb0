"""The trace explorer, quality notifications, containment and the inbox in a real browser (Debian's Chromium
through Playwright) against a served hub holding the notification tests' chain (capacitor → ECU → OEM): the ECU
maker traces its lot forward and sees the vehicle model and the OEM's plant; the capacitor maker raises and sends
an alert; the ECU plant acknowledges its containment action; purchasing filters the inbox and marks one done.
axe finds nothing serious on these pages.

Set ``QUALINK_SCREENSHOTS=docs/screenshots`` to refresh the README's ``trace.png`` from this run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.db import make_engine, make_session_factory
from hub.models import Asset, InboxNotification
from tests.hub.console.browsing import BROWSER_MARKS, sign_in_page, violations
from tests.hub.console.served import person
from tests.hub.notifications.chain import Chain, build_chain
from tests.supplier_sdk.test_client_support import Network

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def chain(network: Network) -> Iterator[tuple[Chain, dict[str, str]]]:
    """The chain in the served hub's database, with each asset's lot or serial number by name."""
    engine = make_engine(network.hub.settings)
    try:
        with make_session_factory(engine)() as session:
            built = build_chain(session, None)  # type: ignore[arg-type]  # nobody here asks for a token
            numbers = {
                name: session.get_one(Asset, asset_id).local_id for name, asset_id in built.assets.items()
            }
        yield built, numbers
    finally:
        engine.dispose()


def _seed_inbox(network: Network, titles: list[str]) -> None:
    # Inbox rows are the rules engine's to write; these stand in for its work, as the list tests' rows do.
    engine = make_engine(network.hub.settings)
    try:
        with make_session_factory(engine).begin() as session:
            for index, title in enumerate(titles):
                kind = "early_warning" if index % 2 else "rule.fired"
                session.add(
                    InboxNotification(
                        organization_id=network.oem.org_id, role="purchasing", kind=kind, title=title, body={}
                    )
                )
    finally:
        engine.dispose()


def test_trace_raise_contain_and_work_the_inbox(
    network: Network, browser: Any, chain: tuple[Chain, dict[str, str]], tmp_path: Path
) -> None:
    built, numbers = chain
    context = browser.new_context(
        bypass_csp=True, viewport={"width": 1280, "height": 900}
    )  # only so axe runs
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    found: dict[str, Any] = {}

    # The ECU maker's plant traces its lot E1 forward: the OEM's vehicles went in, at the OEM's plant.
    sign_in_page(page, network, person(network, built.ecu.org.id, "plant"), "/console/standing")
    page.get_by_role("link", name="Trace", exact=True).click()
    page.get_by_label("Lot or serial number").fill(numbers["E1"])
    page.get_by_label("Direction").select_option("forward")
    page.get_by_role("button", name="Trace").click()
    page.locator("#trace-models").wait_for()
    assert "ID.4 2026" in page.locator("#trace-models").inner_text()
    assert "OEM-1" in page.locator("#trace-plants").inner_text()
    assert page.locator("svg.genealogy .node").count() >= 3
    found["trace"] = violations(page)
    shots = Path(os.environ.get("QUALINK_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / "trace.png"), full_page=True)
    page.get_by_label("Lot or serial number").fill("NO-SUCH-LOT")
    page.get_by_role("button", name="Trace").click()
    assert "no lot or serial part batch/NO-SUCH-LOT visible" in page.locator("#lot-error").inner_text()
    page.get_by_role("button", name="Sign out").click()

    # The capacitor maker raises an alert on C1 and sends it: holds and containment actions at every plant.
    sign_in_page(page, network, person(network, built.capacitor.org.id, "sqe"), "/console/standing")
    page.get_by_role("link", name="Quality notifications").click()
    page.get_by_label("Type").select_option("ALERT")
    page.get_by_label("Title").fill("C1: withstand voltage 38 V")
    page.get_by_label("Severity").select_option("CRITICAL")
    page.get_by_label("Lots or serial parts").fill(numbers["C1"])
    found["quality"] = violations(page)
    page.get_by_role("button", name="Raise").click()
    page.locator("#notification-status", has_text="CREATED").wait_for()
    assert page.get_by_role("button", name="Confirm receipt").count() == 0  # the receiver's step: not offered
    page.get_by_role("button", name="Send").click()
    page.locator("#notification-status", has_text="SENT").wait_for()
    found["notification"] = violations(page)
    page.get_by_role("button", name="Sign out").click()

    # The ECU plant acknowledges its action.
    sign_in_page(page, network, person(network, built.ecu.org.id, "plant"), "/console/standing")
    page.get_by_role("link", name="Containment", exact=True).click()
    page.get_by_label("Owner").first.fill("J. Weber, incoming inspection")
    page.get_by_role("button", name="Acknowledge").first.click()
    page.locator("td", has_text="J. Weber, incoming inspection").wait_for()
    assert "acknowledged" in page.locator("table.data tbody").inner_text()
    page.get_by_role("button", name="Sign out").click()

    # Purchasing at the OEM filters its inbox and marks one done.
    _seed_inbox(network, ["Gearbox Ltd: A → B", "Drift at Castor Brakes", "Castor Brakes: B → C"])
    sign_in_page(page, network, person(network, network.oem.org_id, "purchasing"), "/console/network")
    page.get_by_role("link", name="Inbox", exact=True).click()
    page.get_by_label("Search").fill("castor")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/console/inbox?*q=castor*")
    rows = page.locator("#inbox-rows tr")
    assert rows.count() == 2 and "Gearbox" not in page.locator("#inbox-rows").inner_text()
    page.get_by_label("Kind").select_option("early_warning")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/console/inbox?*kind=early_warning*")
    assert page.locator("#inbox-rows").inner_text().count("Castor") == 1
    found["inbox"] = violations(page)
    page.get_by_role("button", name="Mark done").click()
    page.wait_for_url("**/console/inbox?kind=early_warning&q=castor&state=open")
    assert page.locator("#inbox-rows").inner_text().strip() == "Nothing in the inbox."
    page.get_by_label("State").select_option("done")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/console/inbox?*state=done*")
    assert "Drift at Castor Brakes" in page.locator("#inbox-rows").inner_text()
    assert page.get_by_role("button", name="Reopen").count() == 1
    context.close()
    assert problems == []
    assert {name: v for name, v in found.items() if v} == {}
