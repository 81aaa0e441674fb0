"""Rooms and the supplier's own view in a real browser (Debian's Chromium through Playwright) against a served
hub: a member signs off its 8D step; a supplier accepts a proposed agreement and sees exactly why it was
downgraded, and nothing of another supplier; axe finds nothing serious on any of these pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.hub.console.browsing import BROWSER_MARKS, sign_in_page, violations
from tests.hub.console.served import downgrade, person
from tests.supplier_sdk.test_client_support import Network, agreement_terms

pytestmark = BROWSER_MARKS


def _room(network: Network, supplier: Any) -> str:
    oem, member = network.client(network.oem), network.client(supplier)
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    room = oem.request(
        "POST",
        "/v1/rooms",
        json={
            "title": "Compressor noise at 41 °C",
            "description": "Noise complaints from the field",
            "expires_at": expires,
            "members": [{"organization_id": str(supplier.org_id), "role": "contributor"}],
        },
    )
    member.request("POST", f"/v1/rooms/{room['id']}/accept", json={"people": []})
    oem.request("PUT", f"/v1/rooms/{room['id']}/8d/D4", json={"owner_id": str(supplier.org_id)})
    member.request("PUT", f"/v1/rooms/{room['id']}/8d/D4", json={"content": "Bearing preload too high"})
    return str(room["id"])


def test_a_member_signs_off_its_d4_on_the_board(network: Network, browser: Any) -> None:
    reporting = network.reporting()
    room_id = _room(network, reporting.supplier)
    email = person(network, reporting.supplier.org_id, "sqe")
    context = browser.new_context(bypass_csp=True)  # only so axe may be injected
    page = context.new_page()
    sign_in_page(page, network, email, "/console/standing")
    page.get_by_role("link", name="Rooms").click()
    page.wait_for_url(f"{network.base_url}/console/rooms")
    found = {"rooms": violations(page)}
    page.get_by_role("link", name="Compressor noise at 41 °C").click()
    page.wait_for_url(f"{network.base_url}/console/rooms/{room_id}")
    assert page.get_by_text(f"supplier-sdk room upload {room_id}").is_visible()
    found["room"] = violations(page)

    row = page.locator("tr#D4")
    assert "written, not signed off" in row.inner_text()
    page.get_by_role("button", name="Sign off D4").click()
    page.wait_for_url(f"{network.base_url}/console/rooms/{room_id}#D4")
    assert "signed off" in page.locator("tr#D4").inner_text()
    assert page.get_by_role("button", name="Reopen D4").is_visible()
    assert page.get_by_role("button", name="Sign off D4").count() == 0
    steps = network.client(network.oem).request("GET", f"/v1/rooms/{room_id}/8d")
    assert steps[3]["signed_off_by"] == str(reporting.supplier.org_id)
    found["room, signed off"] = violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}


def test_a_supplier_accepts_an_agreement_and_sees_exactly_why_it_was_downgraded(
    network: Network,
    browser: Any,
) -> None:
    reporting = network.reporting()
    downgrade(network, reporting)
    stranger = network.reporting()  # another supplier of the same OEM
    network.client(network.oem).request(
        "POST", "/v1/agreements", json=agreement_terms(reporting.supplier.org_id, title="Housing agreement")
    )
    email = person(network, reporting.supplier.org_id, "sqe")
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in_page(page, network, email, "/console/standing")
    found = {"standing": violations(page)}

    # Exactly why: the change, the rule with its version, and each of the three weeks that counted.
    history = page.locator("table.data").first
    assert "A → B" in history.inner_text() and " v1" in history.inner_text()
    assert history.locator("ul.causes li", has_text="cpk · DIA-01").count() == 3
    assert stranger.supplier.name not in page.content()

    proposed = page.locator("tr", has_text="Housing agreement")
    assert "proposed" in proposed.inner_text()
    proposed.get_by_role("button", name="Accept").click()
    page.wait_for_url(f"{network.base_url}/console/standing")
    assert "active" in page.locator("tr", has_text="Housing agreement").inner_text()
    assert page.locator("tr", has_text="Housing agreement").get_by_role("button", name="Accept").count() == 0
    found["standing, accepted"] = violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
