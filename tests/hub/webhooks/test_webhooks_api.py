"""/v1/webhooks: subscriptions, secrets shown once, rotation, deliveries and replay, per organization."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Webhook, WebhookDelivery
from hub.models.base import utcnow
from hub.webhooks import service as webhooks
from tests.hub.asserts import assert_error, audit_actions, field_locs
from tests.hub.conftest import Actor
from tests.hub.webhooks.helpers import make_events, make_webhook

HOOK = "https://plant.example/qualink"


def _create(actor: Actor, **body: object) -> dict[str, object]:
    response = actor.post("/v1/webhooks", json={"url": HOOK, **body})
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_create_shows_the_secret_once_and_audits(oem: Actor, db: Session) -> None:
    created = _create(oem, event_types=["report.accepted", "standing.changed", "report.accepted"])

    secret = created["secret"]
    assert isinstance(secret, str) and secret.startswith("whsec_")
    hook = created["webhook"]
    assert isinstance(hook, dict)
    assert hook["url"] == HOOK
    assert hook["event_types"] == ["report.accepted", "standing.changed"]
    assert hook["disabled_at"] is None
    one = oem.get(f"/v1/webhooks/{hook['id']}")
    listed = oem.get("/v1/webhooks")
    assert one.status_code == 200 and listed.status_code == 200
    assert one.json() == hook
    assert listed.json()["items"] == [hook]
    assert secret not in one.text + listed.text
    assert db.get_one(Webhook, uuid.UUID(str(hook["id"]))).secret == secret
    assert audit_actions(db, hook["id"]) == ["webhook.created"]


def test_empty_event_types_mean_every_type(supplier: Actor) -> None:
    hook = _create(supplier)["webhook"]
    assert isinstance(hook, dict) and hook["event_types"] == []


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"url": "ftp://plant.example/x"}, "body.url"),
        ({"url": "http://plant.example/x"}, "body.url"),
        ({"url": "https://"}, "body.url"),
        ({"url": "https://user:pw@plant.example/x"}, "body.url"),
        ({"url": "not a url"}, "body.url"),
        ({"url": ""}, "body.url"),
        ({"url": HOOK, "event_types": ["Report Accepted"]}, "body.event_types.0"),
        ({"url": HOOK, "event_types": "report.accepted"}, "body.event_types"),
        ({"url": HOOK, "secret": "whsec_mine"}, "body.secret"),
        ({}, "body.url"),
    ],
)
def test_malformed_input_is_422_naming_the_field(oem: Actor, body: dict[str, object], loc: str) -> None:
    body_out = assert_error(oem.post("/v1/webhooks", json=body), 422, "InvalidInput")
    assert loc in field_locs(body_out)


def test_plain_http_to_localhost_only_in_development() -> None:
    for url in ("http://127.0.0.1:9000/hook", "http://localhost/hook"):
        webhooks.check_url(url, development=True)
        with pytest.raises(webhooks.InvalidInput):
            webhooks.check_url(url, development=False)
    webhooks.check_url(HOOK, development=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
        "https://db.internal/hook",
    ],
)
def test_outside_development_a_receiver_must_not_be_an_internal_address(url: str) -> None:
    """The hub must not become a way into its own network (SSRF)."""
    with pytest.raises(webhooks.InvalidInput, match="loopback, private or link-local"):
        webhooks.check_url(url, development=False)
    webhooks.check_url("https://8.8.8.8/hook", development=False)  # a public address is fine


def test_every_endpoint_needs_the_webhooks_admin_scope(oem: Actor) -> None:
    hook_id = _create(oem)["webhook"]["id"]  # type: ignore[index]
    headers = oem.headers("org:read")
    calls = [
        ("POST", "/v1/webhooks", {"url": HOOK}),
        ("GET", "/v1/webhooks", None),
        ("GET", f"/v1/webhooks/{hook_id}", None),
        ("DELETE", f"/v1/webhooks/{hook_id}", None),
        ("POST", f"/v1/webhooks/{hook_id}/rotate-secret", {}),
        ("GET", f"/v1/webhooks/{hook_id}/deliveries", None),
        ("POST", f"/v1/webhooks/{hook_id}/deliveries/{uuid.uuid4()}/replay", None),
    ]
    for method, url, body in calls:
        response = oem.http.request(method, url, headers=headers, json=body)
        assert_error(response, 403, "InsufficientScope", detail="webhooks:admin")


def test_another_organizations_webhook_is_404(oem: Actor, supplier: Actor, db: Session) -> None:
    hook_id = _create(oem)["webhook"]["id"]  # type: ignore[index]
    for method, url in [
        ("GET", f"/v1/webhooks/{hook_id}"),
        ("DELETE", f"/v1/webhooks/{hook_id}"),
        ("POST", f"/v1/webhooks/{hook_id}/rotate-secret"),
        ("GET", f"/v1/webhooks/{hook_id}/deliveries"),
        ("POST", f"/v1/webhooks/{hook_id}/deliveries/{uuid.uuid4()}/replay"),
    ]:
        assert_error(supplier.http.request(method, url, headers=supplier.headers()), 404, "NotFound")
    assert supplier.get("/v1/webhooks").json()["items"] == []
    assert db.get_one(Webhook, uuid.UUID(hook_id)).disabled_at is None
    assert_error(oem.get(f"/v1/webhooks/{uuid.uuid4()}"), 404, "NotFound")


def test_delete_disables_and_dead_letters_what_was_pending(oem: Actor, db: Session) -> None:
    webhook, _ = make_webhook(db, oem.org)
    (event,) = make_events(db, oem.org, "report.accepted")
    assert webhooks.fan_out(db, events=[event]) == 1
    db.commit()

    response = oem.http.delete(f"/v1/webhooks/{webhook.id}", headers=oem.headers())

    assert response.status_code == 204 and response.content == b""
    assert oem.get(f"/v1/webhooks/{webhook.id}").json()["disabled_at"] is not None
    delivery = db.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)).one()
    assert (delivery.status, delivery.last_error) == ("dead", "webhook disabled")
    assert webhooks.fan_out(db, events=make_events(db, oem.org, "report.accepted")) == 0
    assert audit_actions(db, webhook.id) == ["webhook.created", "webhook.disabled"]


def test_rotation_returns_a_new_secret_once_and_keeps_the_old_one_signing_for_the_overlap(
    oem: Actor, db: Session
) -> None:
    created = _create(oem)
    hook_id, old_secret = created["webhook"]["id"], created["secret"]  # type: ignore[index]
    before = utcnow()

    response = oem.post(f"/v1/webhooks/{hook_id}/rotate-secret", json={"overlap_seconds": 3600})

    assert response.status_code == 200, response.text
    new_secret = response.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    webhook = db.get_one(Webhook, uuid.UUID(hook_id))
    expires = webhook.previous_secret_expires_at
    assert expires is not None and before + timedelta(seconds=3599) < expires < utcnow() + timedelta(
        seconds=3601
    )
    assert webhooks.signing_secrets(webhook, now=expires - timedelta(seconds=1)) == [new_secret, old_secret]
    assert webhooks.signing_secrets(webhook, now=expires) == [new_secret]
    assert new_secret not in oem.get(f"/v1/webhooks/{hook_id}").text
    assert audit_actions(db, hook_id) == ["webhook.created", "webhook.secret_rotated"]


def test_rotation_defaults_to_a_day_of_overlap_and_zero_means_none(oem: Actor, db: Session) -> None:
    hook_id = _create(oem)["webhook"]["id"]  # type: ignore[index]
    response = oem.post(f"/v1/webhooks/{hook_id}/rotate-secret")
    assert response.status_code == 200, response.text
    webhook = db.get_one(Webhook, uuid.UUID(hook_id))
    assert webhook.previous_secret_expires_at is not None
    assert webhook.previous_secret_expires_at - utcnow() > timedelta(hours=23, minutes=59)

    response = oem.post(f"/v1/webhooks/{hook_id}/rotate-secret", json={"overlap_seconds": 0})
    db.refresh(webhook)
    assert webhooks.signing_secrets(webhook, now=utcnow()) == [response.json()["secret"]]
    bad = oem.post(f"/v1/webhooks/{hook_id}/rotate-secret", json={"overlap_seconds": -1})
    assert "body.overlap_seconds" in field_locs(assert_error(bad, 422, "InvalidInput"))


def test_deliveries_are_listed_newest_first_filtered_and_paged(oem: Actor, db: Session) -> None:
    webhook, _ = make_webhook(db, oem.org)
    made = make_events(db, oem.org, "a.one", "a.two", "a.three")
    webhooks.fan_out(db, events=made)
    deliveries = list(
        db.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.event_seq)
        )
    )
    deliveries[0].status = "dead"
    db.commit()
    url = f"/v1/webhooks/{webhook.id}/deliveries"

    everything = oem.get(url).json()
    first = oem.get(url, params={"limit": 2}).json()
    rest = oem.get(url, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    dead = oem.get(url, params={"status": "dead"}).json()

    assert [d["event_type"] for d in everything["items"]] == ["a.three", "a.two", "a.one"]
    assert everything["next_cursor"] is None
    assert [d["id"] for d in first["items"] + rest["items"]] == [d["id"] for d in everything["items"]]
    assert rest["next_cursor"] is None
    assert [(d["event_id"], d["status"]) for d in dead["items"]] == [(str(made[0].id), "dead")]
    assert everything["items"][0]["status"] == "pending" and everything["items"][0]["next_attempt_at"]
    assert_error(oem.get(url, params={"status": "lost"}), 422, "InvalidInput")
    assert_error(oem.get(url, params={"cursor": "abc"}), 422, "InvalidInput")


def test_replay_makes_a_dead_delivery_pending_again_from_scratch(oem: Actor, db: Session) -> None:
    webhook, _ = make_webhook(db, oem.org)
    webhooks.fan_out(db, events=make_events(db, oem.org, "report.accepted"))
    delivery = db.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)).one()
    delivery.status, delivery.attempts, delivery.last_error = "dead", 8, "HTTP 500"
    db.commit()
    url = f"/v1/webhooks/{webhook.id}/deliveries/{delivery.id}/replay"

    response = oem.post(url)

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    db.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 0, None)
    assert delivery.next_attempt_at <= utcnow()
    assert_error(oem.post(url), 409, "Conflict", detail="pending")
    assert audit_actions(db, delivery.id) == ["webhook.delivery_replayed"]
    other, _ = make_webhook(db, oem.org)
    db.commit()
    assert_error(oem.post(f"/v1/webhooks/{other.id}/deliveries/{delivery.id}/replay"), 404, "NotFound")


def test_the_openapi_documents_the_webhook_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= paths["/v1/webhooks"].keys()
    assert "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay" in paths


def test_a_deliveries_cursor_beyond_64_bits_is_422_naming_it(oem: Actor) -> None:
    hook = oem.post("/v1/webhooks", json={"url": "https://receiver.example/hook", "event_types": []})
    assert hook.status_code == 201, hook.text
    url = f"/v1/webhooks/{hook.json()['webhook']['id']}/deliveries"
    body = assert_error(oem.get(url, params={"cursor": str(2**63)}), 422, "InvalidInput")
    assert field_locs(body) == ["query.cursor"]
