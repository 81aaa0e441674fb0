"""The console speaks English, German and Simplified Chinese: each person in their own locale, every message of
every template translated, and the compiled catalogues current."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.console import i18n
from hub.people import service
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org
from tests.hub.console.conftest import sign_in
from tests.hub.people.helpers import PASSWORD

CONSOLE = Path(i18n.__file__).parent


def _template_messages() -> set[str]:
    found = extract_from_dir(
        CONSOLE / "templates",
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


@pytest.mark.parametrize("locale", ["de", "zh"])
def test_every_template_message_is_translated_and_compiled(locale: str) -> None:
    folder = CONSOLE / "locale" / locale / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        source = {m.id: m.string for m in read_po(handle) if m.id}
    with (folder / "messages.mo").open("rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    wanted = _template_messages()
    assert wanted and wanted <= {msgid for msgid, text in source.items() if text}
    assert compiled == source  # `pybabel compile -d hub/console/locale` after every change to a .po


@pytest.mark.parametrize(
    ("locale", "heading", "nav"),
    [
        ("en", "Network overview", "Sign out"),
        ("de", "Netzwerkübersicht", "Abmelden"),
        ("zh", "网络概览", "退出登录"),
    ],
)
def test_a_person_sees_the_console_in_their_language(
    client: TestClient, db: Session, locale: str, heading: str, nav: str
) -> None:
    org = make_org(db, OrgKind.OEM)
    service.create_person(
        db,
        actor="test",
        actor_org_id=None,
        org_id=org.id,
        email=f"{locale}@example.com",
        role="sqe",
        password=PASSWORD,
        locale=locale,
        time_zone="Asia/Shanghai" if locale == "zh" else "Europe/Berlin",
    )
    db.commit()
    assert sign_in(client, f"{locale}@example.com").status_code == 303
    page = client.get("/console/network")
    assert page.status_code == 200
    assert f"<h1>{heading}</h1>" in page.text and nav in page.text
    assert f'<html lang="{locale}">' in page.text
    # The sign-in page, before anyone is known, stays English (the labels the issue names).
    assert '<label for="email">Email</label>' in client.get("/console/sign-in").text
