"""Rules in a real browser: an SQE writes a rule (the condition's error shows its line and column as they type),
dry-runs it on history as a timeline and activates it under four-eyes; a second person approves it."""

from __future__ import annotations

import random
import re
from typing import Any

from hub.db import make_engine, make_session_factory
from hub.models.base import utcnow
from hub.orgs import settings as org_settings
from protocol.periods import Period
from supplier_sdk.reports import build_capability_report
from tests.hub.console.browsing import BROWSER_MARKS, sign_in_page, violations
from tests.hub.console.served import person
from tests.supplier_sdk.test_client_support import Network

pytestmark = BROWSER_MARKS


def _four_eyes_on(network: Network) -> None:
    engine = make_engine(network.hub.settings)
    try:
        with make_session_factory(engine).begin() as session:
            org_settings.set_four_eyes(
                session, actor="cli:operator", actor_org_id=None, org_id=network.oem.org_id, on=True
            )
    finally:
        engine.dispose()


def _three_bad_weeks(network: Network) -> None:
    """History for the dry run: a supplier whose process is far too wide three weeks running (no rule yet)."""
    reporting = network.reporting()
    supplier = network.client(reporting.supplier)
    week = Period.week(*utcnow().isocalendar()[:2]).previous().previous().previous()
    rng = random.Random(11)
    for _ in range(3):
        payload = build_capability_report(
            agreement=reporting.agreement,
            characteristic="DIA-01",
            period=str(week),
            kpi="cpk",
            values=[rng.gauss(25.0, 0.02) for _ in range(50)],
            subgroup_size=5,
        )
        supplier.kpi_reports.submit(payload)
        week = week.next()


def test_write_check_dry_run_activate_under_four_eyes_and_a_second_person_approves(
    network: Network, browser: Any
) -> None:
    _three_bad_weeks(network)
    _four_eyes_on(network)
    author, approver = person(network, network.oem.org_id, "sqe"), person(network, network.oem.org_id, "sqe")
    context = browser.new_context(bypass_csp=True)  # only so that axe-core can be injected
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, network, author, "/console/network")

    page.get_by_role("link", name="Rules").click()
    page.wait_for_url(f"{network.base_url}/console/rules")
    page.get_by_label("Start from the template").select_option(index=0)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r".*/console/rules/new\?template=0$"))
    page.get_by_label("Name").fill("CPK watch, three weeks")
    condition = page.get_by_label("Condition (CEL: true means the period is bad)")
    condition.fill("missing ||\n  !met &&")
    check = page.locator("#condition-check")
    check.get_by_text("Line 2, column").wait_for(timeout=10_000)
    assert "does not parse" in check.inner_text()
    condition.fill("missing || !met")
    check.get_by_text("The condition is valid CEL.").wait_for(timeout=10_000)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/console/rules/[0-9a-f-]{36}$"))
    assert page.locator("#rule-status").inner_text() == "draft"

    page.get_by_role("button", name="Dry run on history").click()
    timeline = page.locator("#dry-run ol.timeline")
    timeline.get_by_text("would have downgraded A → B").first.wait_for(timeout=10_000)
    assert "would have notified" in timeline.inner_text()
    assert violations(page) == []

    page.get_by_role("button", name="Activate (needs a second approval)").click()
    page.wait_for_url(re.compile(r".*\?asked=1$"))
    assert "Waiting for second approval" in page.locator("#pending").inner_text()
    assert page.locator("#rule-status").inner_text() == "draft"
    rule_url = page.url.removesuffix("?asked=1")

    second = browser.new_context(bypass_csp=True)
    other = second.new_page()
    other.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(other, network, approver, "/console/network")
    other.goto(f"{network.base_url}/console/rules/approvals")
    assert violations(other) == []
    other.get_by_role("button", name="Approve the change of CPK watch, three weeks").click()
    other.wait_for_url(rule_url)
    assert other.locator("#rule-status").inner_text() == "active"

    page.goto(f"{network.base_url}/console/rules")
    assert "active" in page.get_by_role("row", name=re.compile("CPK watch, three weeks")).inner_text()
    assert errors == []
    context.close()
    second.close()
