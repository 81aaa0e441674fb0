"""In Chromium: an admin invites by the form's labels, the invitee accepts through the link and is signed in, a
person saves their mail choices; the new pages have no serious or critical axe finding."""

from __future__ import annotations

import uuid
from typing import Any

from hub.db import make_engine, make_session_factory
from hub.models import Person
from hub.models.base import utcnow
from hub.people import invitations
from tests.hub.console.browsing import BROWSER_MARKS, browser, network, sign_in_page, violations
from tests.hub.console.served import person
from tests.supplier_sdk.test_client_support import Network

pytestmark = BROWSER_MARKS
__all__ = ["browser", "network"]


def _invitation(network: Network, admin_email: str, email: str) -> str:
    """An invitation made by the admin as the console makes one; returns its token (the link's secret)."""
    engine = make_engine(network.hub.settings)
    try:
        with make_session_factory(engine).begin() as session:
            admin = session.query(Person).filter(Person.email_key == admin_email).one()
            invited = invitations.invite(
                session, inviter=admin, email=email, role="plant", link_base="http://x", now=utcnow()
            )
            return invited.token
    finally:
        engine.dispose()


def test_invite_accept_and_choose_mail_without_accessibility_findings(network: Network, browser: Any) -> None:
    admin = person(network, network.oem.org_id, "admin")
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in_page(page, network, admin, "/console/network")
    found: dict[str, Any] = {}

    page.goto(f"{network.base_url}/console/people")
    page.get_by_label("Email", exact=True).first.fill(f"invited-{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_role("button", name="Invite", exact=True).click()
    page.get_by_text("An invitation was sent to").wait_for()
    found["people"] = violations(page)

    page.goto(f"{network.base_url}/console/notifications")
    page.get_by_label("Escalations", exact=False).uncheck()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your choices are saved.").wait_for()
    assert not page.get_by_label("Escalations", exact=False).is_checked()
    found["notifications"] = violations(page)
    context.close()

    invitee = f"invitee-{uuid.uuid4().hex[:6]}@example.com"
    token = _invitation(network, admin, invitee)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{network.base_url}/console/invitations/{token}")
    found["invitation"] = violations(page)
    page.get_by_label("Password", exact=True).fill("a password of my own choosing")
    page.get_by_label("Password again").fill("a password of my own choosing")
    page.get_by_role("button", name="Accept and sign in").click()
    page.wait_for_url(f"{network.base_url}/console/**")
    assert page.get_by_role("button", name="Sign out").count() == 1
    page.goto(f"{network.base_url}/console/invitations/{token}")
    page.get_by_text("used already").wait_for()
    found["invitation-used"] = violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
