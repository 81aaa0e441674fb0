"""The trace explorer over the notification tests' chain (capacitor → ECU → OEM): the same answer as
``POST /v1/trace``, tables and graph, exports, the API's message next to the field, and no third party named."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.console import i18n
from hub.console.trace_graph import MAX_NODES, PER_LEVEL, genealogy_graph
from hub.models import Asset
from protocol.models.common import OrgKind
from protocol.models.trace import TraceResult
from tests.hub.conftest import make_org
from tests.hub.console.conftest import person_in, sign_in, signed_in_client
from tests.hub.notifications.chain import Chain, build_chain


@pytest.fixture
def chain(db: Session, client: TestClient) -> Chain:
    return build_chain(db, client)


def local_id(db: Session, chain: Chain, name: str) -> str:
    asset = db.get(Asset, chain.assets[name])
    assert asset is not None
    return asset.local_id


def test_the_ecu_maker_traces_its_lot_forward_to_models_and_plants(
    client: TestClient, db: Session, chain: Chain
) -> None:
    lot = local_id(db, chain, "E1")
    api = chain.ecu.post("/v1/trace", json={"roots": [{"local_id": lot}], "direction": "forward"}).json()
    signed_in_client(client, db, chain.ecu.org, role="plant")
    page = client.get("/console/trace", params={"lot": lot, "direction": "forward"})
    assert page.status_code == 200, page.text
    assert "ID.4 2026" in page.text and 'class="genealogy"' in page.text
    assert [g["model"] for g in api["by_model"]] == ["ID.4 2026"]

    query = {"lot": lot, "kind": "batch", "direction": "forward"}
    models = list(csv.DictReader(io.StringIO(client.get("/console/trace/models.csv", params=query).text)))
    assert models == [{"model": g["model"], "serials": str(g["serials"])} for g in api["by_model"]]
    plants = list(csv.DictReader(io.StringIO(client.get("/console/trace/plants.csv", params=query).text)))
    assert sorted({p["code"] for p in plants}) == sorted(g["code"] for g in api["by_plant"])
    assert "OEM-1" in {p["code"] for p in plants}
    bins = list(csv.DictReader(io.StringIO(client.get("/console/trace/bins.csv", params=query).text)))
    assert [(b["plant"], b["location"]) for b in bins] == [
        (g["code"], g["location"]) for g in api["by_location"]
    ]
    assert (
        client.get("/console/trace/products.xlsx", params=query)
        .headers["content-type"]
        .startswith("application/vnd.openxmlformats")
    )
    assert client.get("/console/trace/secrets.csv", params=query).status_code == 422


def test_a_tier_further_up_sees_the_vehicles_only_as_counts(
    client: TestClient, db: Session, chain: Chain
) -> None:
    lot = local_id(db, chain, "C1")
    signed_in_client(client, db, chain.capacitor.org, role="viewer")
    page = client.get("/console/trace", params={"lot": lot})
    assert page.status_code == 200
    assert (
        chain.oem.org.name not in page.text and "ID.4 2026" not in page.text
    )  # the OEM and its model: counts
    assert "at 1 other organizations" in page.text
    assert chain.ecu.org.name in page.text  # the direct customer is named, as the API names it
    for name in ("V1", "V2"):
        assert local_id(db, chain, name) not in page.text


def test_a_bad_or_foreign_lot_is_the_apis_message_next_to_the_field(
    client: TestClient, db: Session, chain: Chain
) -> None:
    signed_in_client(client, db, chain.connector.org, role="sqe")
    typo = client.get("/console/trace", params={"lot": "NO-SUCH-LOT"})
    assert typo.status_code == 404 and 'id="lot-error"' in typo.text
    assert "no lot or serial part" in typo.text and "NO-SUCH-LOT" in typo.text
    # The capacitor maker's lot, by its hub id: the connector maker has no link to it.
    foreign = client.get("/console/trace", params={"lot": str(chain.assets["C1"])})
    assert foreign.status_code == 404 and 'id="lot-error"' in foreign.text
    assert local_id(db, chain, "C1") not in foreign.text and chain.capacitor.org.name not in foreign.text
    assert client.get("/console/trace", params={"lot": "x", "direction": "sideways"}).status_code == 422
    assert client.get("/console/trace/models.csv", params={"lot": "NO-SUCH-LOT"}).status_code == 404


def test_without_trace_read_the_page_is_forbidden(client: TestClient, db: Session) -> None:
    lab = make_org(db, OrgKind.LAB)
    person = person_in(db, lab, role="admin")
    assert sign_in(client, person.email).status_code == 303
    page = client.get("/console/trace", params={"lot": "L-1"})
    assert page.status_code == 403 and "trace:read" in page.text


def test_the_graph_collapses_beyond_its_bound_and_counts_the_undisclosed() -> None:
    import uuid

    owner = uuid.uuid4()
    nodes = [
        {
            "asset_id": str(uuid.uuid4()),
            "organization_id": str(owner),
            "kind": "serial",
            "local_id": f"V{i}",
            "manufacturer_part_id": "CAR",
            "depth": 1 if i else 0,
            "root": i == 0,
        }
        for i in range(60)
    ]
    hidden = {
        "batches": 3,
        "serials": 2,
        "organizations": 2,
        "part_types": 0,
        "models": 1,
        "plants": 0,
        "positions": 0,
    }
    result = TraceResult.model_validate(
        {
            "direction": "forward",
            "depth": 100,
            "answer": "yes",
            "complete": True,
            "affected_batches": 0,
            "affected_serials": 59,
            "nodes": nodes,
            "undisclosed": hidden,
        }
    )
    svg = str(genealogy_graph(result, {owner: "Aurora"}))
    assert (
        svg.count('class="node') == 1 + PER_LEVEL + 1
    )  # the root, a full column with its "+ n more", the counts
    assert f"+ {59 - (PER_LEVEL - 1)} more" in svg and "3 lots, 2 serial parts" in svg
    assert MAX_NODES >= PER_LEVEL
    with i18n.speaking("de"):
        german = str(genealogy_graph(result, {owner: "Aurora"}))
    assert "weitere" in german and "bei 2 anderen Organisationen" in german
