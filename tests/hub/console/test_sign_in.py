"""Signing in and out of the console, the cookie, CSRF, security headers and the API by session cookie."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, BrowserSession, SignInFailure
from hub.models.base import utcnow
from hub.people import service
from hub.people.sessions import COOKIE, CSRF_HEADER
from protocol.models.common import OrgKind
from tests.hub.conftest import Actor, make_org
from tests.hub.console.conftest import hidden, person_in, sign_in, signed_in_client


def test_the_sign_in_page_has_the_labelled_fields_and_a_strict_policy(client: TestClient) -> None:
    page = client.get("/console/sign-in")
    assert page.status_code == 200
    assert '<label for="email">Email</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert '<button type="submit">Sign in</button>' in page.text
    policy = page.headers["content-security-policy"]
    assert (
        "default-src 'self'" in policy and "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    )
    assert "<script>" not in page.text and "style=" not in page.text and " on" + "click" not in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_static_assets_are_served_from_the_package(client: TestClient) -> None:
    htmx = client.get("/console/static/vendor/htmx.min.js")
    css = client.get("/console/static/console.css")
    assert htmx.status_code == 200 and "htmx" in htmx.text
    assert css.status_code == 200 and "svg.chart" in css.text
    assert len(htmx.content) + len(css.content) < 250_000


def test_sign_in_sets_a_strict_cookie_and_lands_on_the_organizations_home(
    client: TestClient, db: Session
) -> None:
    person = person_in(db, make_org(db, OrgKind.OEM), email="Sqe@Aurora.example")
    response = sign_in(client, "sqe@aurora.example")

    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # development mode over plain http; production sets Secure
    home = client.get("/console/", follow_redirects=False)
    assert home.headers["location"] == "/console/network"
    network = client.get("/console/network")
    assert network.status_code == 200 and person.display_name in network.text
    assert db.scalar(select(func.count()).select_from(BrowserSession)) == 1


def test_a_wrong_password_is_the_form_again_with_a_message_and_counted(
    client: TestClient, db: Session
) -> None:
    person_in(db, make_org(db, OrgKind.OEM), email="w@example.com")
    response = sign_in(client, "w@example.com", "not the password")
    assert response.status_code == 401
    assert "wrong e-mail or password" in response.text and 'value="w@example.com"' in response.text
    assert COOKIE not in response.headers.get("set-cookie", "")
    assert db.scalar(select(func.count()).select_from(SignInFailure)) == 2  # per e-mail and per address


def test_login_is_rate_limited_with_a_message_on_the_form(client: TestClient, db: Session) -> None:
    person_in(db, make_org(db, OrgKind.OEM), email="limited@example.com")
    for _ in range(5):  # the default limit per e-mail
        assert sign_in(client, "limited@example.com", "guess guess guess").status_code == 401
    response = sign_in(client, "limited@example.com")  # the right password, too late
    assert response.status_code == 429 and "too many failed sign-ins" in response.text
    assert 1 <= int(response.headers["retry-after"]) <= 900  # the oldest failure leaves the 15-minute window


def test_the_sign_in_form_needs_its_own_token(client: TestClient, db: Session) -> None:
    person_in(db, make_org(db, OrgKind.OEM), email="f@example.com")
    client.get("/console/sign-in")
    forged = client.post(
        "/console/sign-in",
        data={"email": "f@example.com", "password": "correct horse battery staple", "form_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 400 and COOKIE not in forged.headers.get("set-cookie", "")


def test_an_oversized_value_is_refused_with_a_message(client: TestClient) -> None:
    page = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"email": "a@b.example", "password": "x" * 5000, "form_token": hidden(page.text, "form_token")},
    )
    assert (
        response.status_code == 422
        and "password" in response.text
        and "text/html" in response.headers["content-type"]
    )


def test_sign_out_needs_the_csrf_token_and_then_ends_the_session(client: TestClient, db: Session) -> None:
    _, csrf = signed_in_client(client, db, make_org(db, OrgKind.OEM))

    refused = client.post("/console/sign-out", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/console/sign-in?reason=stale"
    assert client.get("/console/inbox", follow_redirects=False).status_code == 200  # still signed in

    out = client.post("/console/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.headers["location"] == "/console/sign-in?reason=bye"
    row = db.scalars(select(BrowserSession)).one()
    assert row.revoked_at is not None
    after = client.get("/console/inbox", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/console/sign-in")


def test_without_a_session_every_page_redirects_to_sign_in(client: TestClient) -> None:
    for path in (
        "/console/",
        "/console/network",
        "/console/inbox",
        "/console/containment",
        "/console/nothing",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/console/sign-in?reason=signed-out"


def test_a_disabled_person_is_signed_out_at_the_next_request(client: TestClient, db: Session) -> None:
    person, _ = signed_in_client(client, db, make_org(db, OrgKind.OEM))
    service.disable_person(db, actor="test", actor_org_id=None, person=person, now=utcnow())
    db.commit()
    response = client.get("/console/network", follow_redirects=False)
    assert response.headers["location"] == "/console/sign-in?reason=ended"


def test_an_unknown_console_page_is_the_404_page(client: TestClient, db: Session) -> None:
    signed_in_client(client, db, make_org(db, OrgKind.OEM))
    response = client.get("/console/no-such-page")
    assert response.status_code == 404 and "<h1>Not found</h1>" in response.text


def test_the_api_accepts_the_session_cookie_as_the_same_caller(
    client: TestClient, db: Session, supplier: Actor
) -> None:
    org = make_org(db, OrgKind.OEM)
    person, csrf = signed_in_client(client, db, org, role="sqe")

    me = client.get("/v1/organizations/me")
    assert me.status_code == 200 and me.json()["id"] == str(org.id)
    # A change by cookie without the CSRF header is refused, and nothing is written ...
    template = client.get("/v1/rules/templates").json()[0]
    refused = client.post("/v1/rules", json=template)
    assert refused.status_code == 403 and CSRF_HEADER in refused.json()["detail"]
    # ... with it, the person acts, and the audit names the person.
    assert client.get("/v1/rules").json() == [] or "items" in client.get("/v1/rules").json()
    created = client.post("/v1/rules", json=template, headers={CSRF_HEADER: csrf})
    assert created.status_code == 201, created.text
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "rule.created")).one()
    assert entry.actor == f"person:{person.id}" and entry.actor_org_id == org.id


def test_a_role_without_the_scope_gets_403_from_the_api(client: TestClient, db: Session) -> None:
    _, csrf = signed_in_client(client, db, make_org(db, OrgKind.OEM), role="viewer")
    template = client.get("/v1/rules/templates")
    assert template.status_code == 200
    response = client.post("/v1/rules", json=template.json()[0], headers={CSRF_HEADER: csrf})
    assert response.status_code == 403 and response.json()["error"] == "InsufficientScope"
    assert client.get("/v1/rules").status_code == 200


def test_signing_in_again_ends_the_browsers_earlier_session(client: TestClient, db: Session) -> None:
    org = make_org(db, OrgKind.OEM)
    first, _ = signed_in_client(client, db, org)
    second = person_in(db, org, role="viewer")
    assert sign_in(client, second.email).status_code == 303
    rows = db.scalars(select(BrowserSession).order_by(BrowserSession.created_at)).all()
    assert [(row.person_id, row.revoked_at is not None) for row in rows] == [
        (first.id, True),
        (second.id, False),
    ]


def test_the_cookie_is_secure_outside_development(migrated_database: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hub.app import create_app
    from tests.conftest import make_settings

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    settings = make_settings(migrated_database).model_copy(
        update={
            "environment": "production",
            "token_signing_key": pem.decode(),
            "issuer": "https://hub.example",
        }
    )
    with TestClient(create_app(settings), base_url="https://hub.example") as secure:
        page = secure.get("/console/sign-in")
    assert page.status_code == 200
    assert "secure" in page.headers["set-cookie"].lower()
