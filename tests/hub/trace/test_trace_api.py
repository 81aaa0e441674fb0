"""``POST /v1/trace`` over HTTP: roots by natural key, scope, 404 for others' roots, 422 naming the field."""

from __future__ import annotations

import uuid

import pytest

from tests.hub.trace.conftest import Parties


def local(parties: Parties, name: str) -> str:
    return parties.net.assets[name].local_id


def test_a_supplier_traces_its_own_lot_by_batch_id_and_gets_yes_and_counts(parties: Parties) -> None:
    t3 = parties.actors["T3"]
    response = t3.post("/v1/trace", json={"roots": [{"local_id": local(parties, "C1")}]}, scope="trace:read")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"] == "yes" and body["complete"] is True
    assert body["undisclosed"]["serials"] == 4 and body["undisclosed"]["organizations"] == 2
    assert {n["local_id"] for n in body["nodes"]} == {local(parties, "C1"), local(parties, "M1")}
    text = response.text
    net = parties.net
    for name in ("I1", "I2", "S1", "V1", "V2", "V3"):
        assert net.assets[name].local_id not in text and str(net.assets[name].id) not in text
    for org in ("T1", "OEM", "T3B"):
        assert str(net.orgs[org].id) not in text and net.orgs[org].name not in text
    for plant in ("P-T1", "P-OEM"):
        assert net.plants[plant].code not in text and str(net.plants[plant].id) not in text


def test_roots_by_catenax_id_and_by_another_organizations_natural_key(parties: Parties) -> None:
    oem, net = parties.actors["OEM"], parties.net
    by_cx = oem.post(
        "/v1/trace",
        json={"roots": [{"catenax_id": net.assets["V2"].catenax_id}], "direction": "backward", "depth": 1},
        scope="trace:read",
    )
    assert by_cx.status_code == 200, by_cx.text
    assert {n["local_id"] for n in by_cx.json()["nodes"]} == {local(parties, "V2"), local(parties, "I2")}
    assert by_cx.json()["incomplete_reasons"] == ["depth_limit"]
    shipped_to_me = {"organization_id": str(net.orgs["T1"].id), "local_id": local(parties, "I1")}
    by_key = oem.post("/v1/trace", json={"roots": [shipped_to_me]}, scope="trace:read")
    assert by_key.status_code == 200, by_key.text
    assert by_key.json()["by_model"] == [{"model": "Aurora 2026", "serials": 1}]


def test_tracing_from_a_lot_of_an_unrelated_organization_is_a_404_naming_the_root(parties: Parties) -> None:
    oem, net = parties.actors["OEM"], parties.net
    root = {"organization_id": str(net.orgs["T3"].id), "local_id": local(parties, "C1")}
    response = oem.post("/v1/trace", json={"roots": [root]}, scope="trace:read")
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"
    assert "roots[0]" in response.json()["detail"] and local(parties, "C1") in response.json()["detail"]
    by_id = oem.post("/v1/trace", json={"roots": [{"asset_id": str(net.id("C1"))}]}, scope="trace:read")
    unknown = oem.post("/v1/trace", json={"roots": [{"asset_id": str(uuid.uuid4())}]}, scope="trace:read")
    assert by_id.status_code == unknown.status_code == 404
    assert "CAP" not in by_id.text and net.orgs["T3"].name not in by_id.text


def test_missing_scope_is_403(parties: Parties) -> None:
    response = parties.actors["T3"].post(
        "/v1/trace", json={"roots": [{"local_id": local(parties, "C1")}]}, scope="org:read"
    )
    assert response.status_code == 403
    assert "trace:read" in response.json()["detail"]


def test_no_token_is_401(parties: Parties) -> None:
    response = parties.actors["T3"].http.post("/v1/trace", json={"roots": [{"local_id": "x"}]})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"roots": []}, "body.roots"),
        ({}, "body.roots"),
        ({"roots": [{"local_id": "L"}], "depth": 0}, "body.depth"),
        ({"roots": [{"local_id": "L"}], "depth": 101}, "body.depth"),
        ({"roots": [{"local_id": "L"}], "direction": "sideways"}, "body.direction"),
        ({"roots": [{"local_id": "L", "catenax_id": "urn:x"}]}, "body.roots.0"),
        ({"roots": [{"asset_id": "not-a-uuid"}]}, "body.roots.0.asset_id"),
        ({"roots": [{"local_id": "L"}], "as_of": "2026-01-01T00:00:00"}, "body.as_of"),
        ({"roots": [{"local_id": "L", "kind": "pallet"}]}, "body.roots.0.kind"),
        ({"roots": [{"local_id": "L"}], "colour": "red"}, "body.colour"),
    ],
)
def test_malformed_requests_are_422_naming_the_field(
    parties: Parties, body: dict[str, object], field: str
) -> None:
    response = parties.actors["T3"].post("/v1/trace", json=body, scope="trace:read")
    assert response.status_code == 422, response.text
    locs = [f["loc"] for f in response.json()["fields"]]
    assert any(loc.startswith(field) for loc in locs), locs


def test_several_roots_in_one_request_and_the_404_names_the_one_refused(parties: Parties) -> None:
    t1, net = parties.actors["T1"], parties.net
    both = t1.post(
        "/v1/trace",
        json={"roots": [{"local_id": local(parties, "I1")}, {"local_id": local(parties, "I2")}]},
        scope="trace:read",
    )
    assert both.status_code == 200, both.text
    listed = {n["local_id"]: (n["depth"], n["root"]) for n in both.json()["nodes"]}
    assert listed[local(parties, "I1")] == (0, True) and listed[local(parties, "I2")] == (0, True)
    assert listed[local(parties, "S1")] == (0, False)  # a serial part of lot I1 sits at its lot's level
    assert {local(parties, v) for v in ("V1", "V2", "V3")} <= set(listed)
    refused = t1.post(
        "/v1/trace",
        json={"roots": [{"local_id": local(parties, "I1")}, {"asset_id": str(net.id("C2"))}]},
        scope="trace:read",
    )
    assert refused.status_code == 404
    assert refused.json()["detail"].startswith("roots[1]")


def test_a_serial_part_as_root_by_its_part_instance_id(parties: Parties) -> None:
    oem = parties.actors["OEM"]
    response = oem.post(
        "/v1/trace",
        json={"roots": [{"local_id": local(parties, "V1"), "kind": "serial"}], "direction": "backward"},
        scope="trace:read",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # S1 went into V1; its lot I1 was shipped to the OEM; M1 and its two component lots are only counted.
    assert {n["local_id"] for n in body["nodes"]} == {local(parties, v) for v in ("V1", "S1", "I1")}
    assert body["undisclosed"]["batches"] == 3
    wrong_kind = oem.post(
        "/v1/trace", json={"roots": [{"local_id": local(parties, "V1")}]}, scope="trace:read"
    )  # kind defaults to batch: there is no lot by that id
    assert wrong_kind.status_code == 404
