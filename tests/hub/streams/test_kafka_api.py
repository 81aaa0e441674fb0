"""/v1/streams/kafka: opt in with a topic, read it back, opt out; per organization; one topic per organization."""

from __future__ import annotations

import pytest

from tests.hub.asserts import assert_error, field_locs
from tests.hub.conftest import Actor


def _put(actor: Actor, body: object) -> object:
    return actor.http.put("/v1/streams/kafka", json=body, headers=actor.headers())


def test_opt_in_read_move_and_opt_out(oem: Actor) -> None:
    created = _put(oem, {"topic": "qualink.aurora"})
    assert created.status_code == 201, created.text  # type: ignore[attr-defined]
    body = created.json()  # type: ignore[attr-defined]
    assert body["topic"] == "qualink.aurora" and body["position"] == 0 and body["published_at"] is None
    assert oem.get("/v1/streams/kafka").json() == body
    again = _put(oem, {"topic": "qualink.aurora"})
    assert again.status_code == 200 and again.json() == body  # type: ignore[attr-defined]
    moved = _put(oem, {"topic": "aurora-events"})
    assert moved.status_code == 200 and moved.json()["topic"] == "aurora-events"  # type: ignore[attr-defined]
    assert oem.http.delete("/v1/streams/kafka", headers=oem.headers()).status_code == 204
    assert_error(oem.get("/v1/streams/kafka"), 404, "NotFound")
    assert_error(oem.http.delete("/v1/streams/kafka", headers=oem.headers()), 404, "NotFound")


def test_nats_and_kafka_opt_ins_are_independent(oem: Actor) -> None:
    assert _put(oem, {"topic": "qualink.aurora"}).status_code == 201  # type: ignore[attr-defined]
    assert_error(oem.get("/v1/streams/nats"), 404, "NotFound")
    nats = oem.http.put("/v1/streams/nats", json={"subject_prefix": "qualink.aurora"}, headers=oem.headers())
    assert nats.status_code == 201
    assert oem.http.delete("/v1/streams/nats", headers=oem.headers()).status_code == 204
    assert oem.get("/v1/streams/kafka").json()["topic"] == "qualink.aurora"


def test_another_organization_sees_nothing_and_cannot_take_the_topic(oem: Actor, supplier: Actor) -> None:
    assert _put(oem, {"topic": "qualink.aurora"}).status_code == 201  # type: ignore[attr-defined]
    assert_error(supplier.get("/v1/streams/kafka"), 404, "NotFound")
    assert_error(supplier.http.delete("/v1/streams/kafka", headers=supplier.headers()), 404, "NotFound")
    for colliding in ("qualink.aurora", "qualink_aurora", "Qualink.Aurora"):
        assert_error(_put(supplier, {"topic": colliding}), 409, "Conflict")  # type: ignore[arg-type]
    assert _put(supplier, {"topic": "qualink.borealis"}).status_code == 201  # type: ignore[attr-defined]
    assert oem.get("/v1/streams/kafka").json()["topic"] == "qualink.aurora"


# The missing scope is tested for both platforms in test_streams_api.py.


@pytest.mark.parametrize(
    "body",
    [{"topic": "a b"}, {"topic": "a/b"}, {"topic": "."}, {"topic": ".."}, {"topic": ""}, {"topic": "a" * 250},
     {"topic": 7}, {}],
)  # fmt: skip
def test_malformed_topic_is_422_naming_the_field(oem: Actor, body: dict[str, object]) -> None:
    response = _put(oem, body)
    assert "body.topic" in field_locs(assert_error(response, 422, "InvalidInput"))  # type: ignore[arg-type]
