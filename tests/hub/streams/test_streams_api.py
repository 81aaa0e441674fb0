"""/v1/streams/nats: opt in with a subject prefix, read it back, opt out; per organization."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hub.streams import service as streams
from tests.hub.asserts import assert_error, field_locs
from tests.hub.conftest import Actor


def _put(actor: Actor, prefix: str, **kw: object) -> object:
    return actor.http.put(
        "/v1/streams/nats",
        json={"subject_prefix": prefix},
        headers=actor.headers(),
        **kw,  # type: ignore[arg-type]
    )


def test_opt_in_read_and_opt_out(oem: Actor, db: Session) -> None:
    created = _put(oem, "qualink.aurora")
    assert created.status_code == 201, created.text  # type: ignore[attr-defined]
    body = created.json()  # type: ignore[attr-defined]
    assert body["subject_prefix"] == "qualink.aurora"
    assert body["stream"] == streams.stream_name(oem.org.id)
    assert body["position"] == 0 and body["published_at"] is None
    assert oem.get("/v1/streams/nats").json() == body

    again = _put(oem, "qualink.aurora")
    assert again.status_code == 200 and again.json() == body  # type: ignore[attr-defined]
    renamed = _put(oem, "aurora.events")
    assert renamed.status_code == 200 and renamed.json()["subject_prefix"] == "aurora.events"  # type: ignore[attr-defined]

    gone = oem.http.delete("/v1/streams/nats", headers=oem.headers())
    assert gone.status_code == 204
    assert_error(oem.get("/v1/streams/nats"), 404, "NotFound")
    assert_error(oem.http.delete("/v1/streams/nats", headers=oem.headers()), 404, "NotFound")


def test_another_organization_sees_nothing_and_cannot_take_overlapping_subjects(
    oem: Actor, supplier: Actor
) -> None:
    assert _put(oem, "qualink.aurora").status_code == 201  # type: ignore[attr-defined]
    assert_error(supplier.get("/v1/streams/nats"), 404, "NotFound")
    assert_error(supplier.http.delete("/v1/streams/nats", headers=supplier.headers()), 404, "NotFound")
    for overlapping in ("qualink.aurora", "qualink", "qualink.aurora.more"):
        assert_error(_put(supplier, overlapping), 409, "Conflict")  # type: ignore[arg-type]
    assert _put(supplier, "qualink.borealis").status_code == 201  # type: ignore[attr-defined]
    assert oem.get("/v1/streams/nats").json()["subject_prefix"] == "qualink.aurora"


@pytest.mark.parametrize(
    ("platform", "body"), [("nats", {"subject_prefix": "a.b"}), ("kafka", {"topic": "a.b"})]
)
def test_missing_scope_is_403(oem: Actor, platform: str, body: dict[str, str]) -> None:
    """Every platform's routes (NATS, Kafka) want ``webhooks:admin``."""
    token = oem.headers("events:read")
    path = f"/v1/streams/{platform}"
    for response in (
        oem.http.put(path, json=body, headers=token),
        oem.http.get(path, headers=token),
        oem.http.delete(path, headers=token),
    ):
        assert_error(response, 403, "InsufficientScope", detail="webhooks:admin")


@pytest.mark.parametrize(
    "body",
    [
        {"subject_prefix": "qualink.>"},
        {"subject_prefix": "qualink.*"},
        {"subject_prefix": "qualink aurora"},
        {"subject_prefix": "qualink..aurora"},
        {"subject_prefix": ".qualink"},
        {"subject_prefix": "qualink."},
        {"subject_prefix": ""},
        {"subject_prefix": "a" * 201},
        {"subject_prefix": 7},
        {},
    ],
)
def test_malformed_subject_prefix_is_422_naming_the_field(oem: Actor, body: dict[str, object]) -> None:
    response = oem.http.put("/v1/streams/nats", json=body, headers=oem.headers())
    assert "body.subject_prefix" in field_locs(assert_error(response, 422, "InvalidInput"))
