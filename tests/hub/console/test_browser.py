"""The console in a real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``, never a browser
download). Skipped where Chromium or the playwright package is not installed (``pip install -e '.[browser]'``
and ``apt-get install chromium``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.hub.console.browsing import BROWSER_MARKS, violations
from tests.hub.console.served import downgrade, person
from tests.hub.people.helpers import PASSWORD
from tests.supplier_sdk.test_client_support import Network

pytestmark = BROWSER_MARKS


def test_sign_in_by_label_see_the_overview_without_a_policy_violation_and_sign_out(
    network: Network, browser: Any, tmp_path: Path
) -> None:
    email = person(network, network.oem.org_id, "sqe")
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{network.base_url}/console/network")
    assert page.url.startswith(f"{network.base_url}/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{network.base_url}/console/network")

    assert page.get_by_role("heading", name="Network overview").is_visible()
    assert page.evaluate("typeof htmx") == "object"  # the vendored script ran under the policy
    assert page.evaluate("document.cookie") == ""  # HttpOnly: the session is out of the page's reach
    page.screenshot(path=str(tmp_path / "network.png"))
    assert problems == []  # no Content-Security-Policy violation, no script error

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{network.base_url}/console/sign-in?reason=bye")
    page.goto(f"{network.base_url}/console/network")
    assert page.url.startswith(f"{network.base_url}/console/sign-in")
    page.close()


def test_a_wrong_password_says_so_on_the_form(network: Network, browser: Any) -> None:
    email = person(network, network.oem.org_id, "viewer")
    page = browser.new_page()
    page.goto(f"{network.base_url}/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "wrong e-mail or password"
    assert page.get_by_label("Email").input_value() == email
    page.close()


def test_the_inbox_updates_live_when_a_rule_acts(network: Network, browser: Any) -> None:
    email = person(network, network.oem.org_id, "purchasing")
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{network.base_url}/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{network.base_url}/console/network")
    page.goto(f"{network.base_url}/console/inbox")
    assert page.locator("#inbox-rows").inner_text().strip() == "Nothing in the inbox."
    page.wait_for_function(
        "() => document.querySelector('[sse-connect]')['htmx-internal-data']?.sseEventSource?.readyState === 1"
    )

    reporting = network.reporting()
    downgrade(network, reporting)  # three bad weeks: the rule lowers the tier and tells purchasing

    # No reload: the event stream tells htmx, which fetches the rows again.
    page.locator("#inbox-rows td", has_text="purchasing").first.wait_for(timeout=10_000)
    assert problems == []
    page.close()


def test_the_pages_have_no_accessibility_violations(network: Network, browser: Any) -> None:
    reporting = network.reporting()
    downgrade(network, reporting)
    email = person(network, network.oem.org_id, "admin")
    # axe is injected by the test, not served: only this context may run script the policy would refuse.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{network.base_url}/console/sign-in")
    found = {"sign-in": violations(page)}
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{network.base_url}/console/network")
    for name, path in (
        ("network", "/console/network"),
        ("scorecard", f"/console/suppliers/{reporting.supplier.org_id}"),
        ("inbox", "/console/inbox"),
        ("containment", "/console/containment"),
        ("people", "/console/people"),
    ):
        page.goto(f"{network.base_url}{path}")
        found[name] = violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
