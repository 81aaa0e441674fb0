"""Every list of the hub pages with the one cursor scheme: ``limit`` and ``cursor`` in, ``Page`` out.

The table below seeds each list with rows and pages through it two at a time; a test over the OpenAPI document
fails for a new list that answers a bare array or forgets ``cursor`` and ``limit``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.models import InboxNotification, Standing
from hub.orgs import settings as org_settings
from protocol.encoding import b64url_encode
from protocol.models.common import OrgKind
from protocol.models.rules import STANDARD_RULE_TEMPLATE
from tests.hub.agreements.test_agreements import terms
from tests.hub.asserts import assert_error, field_locs
from tests.hub.certificates.conftest import make_certifier
from tests.hub.conftest import Actor, make_actor, make_org
from tests.hub.labs.conftest import TODAY, accredit, agreement_body, make_lab_setup
from tests.hub.rooms.conftest import Member, dataset_body, make_member, open_room

Order = Literal["created", "newest", "sorted"]

# Lists that do not page, and why: a fixed, short set that no organization's data can grow.
UNPAGED = {
    "/v1/rules/templates": "the hub's built-in rule templates, a fixed handful",
    "/v1/rooms/{room_id}/8d": "the 8D record has exactly eight steps, D1 to D8",
}


@dataclass
class Seeded:
    actor: Actor
    path: str
    made: list[Any]  # identities of the seeded rows, in creation order
    identity: Callable[[dict[str, Any]], Any]
    order: Order = "created"
    params: dict[str, str] | None = None


def _id(item: dict[str, Any]) -> Any:
    return item["id"]


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def rule_body(name: str) -> dict[str, Any]:
    body = copy.deepcopy(STANDARD_RULE_TEMPLATE)
    body["name"] = name
    return body


def seed_organizations(db: Session, http: TestClient) -> Seeded:
    operator = make_actor(db, http, OrgKind.OPERATOR)
    made = [
        _created(operator.post("/v1/organizations", json={"name": f"Tier {n} GmbH", "kind": "supplier"}))[
            "id"
        ]
        for n in range(5)
    ]
    return Seeded(operator, "/v1/organizations", made, _id, params={"kind": "supplier"})


def seed_keys(db: Session, http: TestClient) -> Seeded:
    supplier = make_actor(db, http, OrgKind.SUPPLIER)
    made = []
    for use in ("sig", "sig", "enc", "sig", "enc"):
        raw = os.urandom(32)  # any 32 bytes decode as an X25519 key; Ed25519 needs a real point
        if use == "sig":
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            raw = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        body = {"use": use, "public_key": b64url_encode(raw)}
        made.append(_created(supplier.post("/v1/keys", json=body))["key_id"])
    return Seeded(
        supplier, f"/v1/organizations/{supplier.org.id}/keys", made, lambda k: k["key_id"], order="sorted"
    )


def seed_clients(db: Session, http: TestClient) -> Seeded:
    oem = make_actor(db, http, OrgKind.OEM)
    made = [
        _created(oem.post("/v1/clients", json={"name": f"line {n}"}))["client"]["client_id"] for n in range(4)
    ]
    return Seeded(oem, "/v1/clients", made, lambda c: c["client_id"])


def seed_agreements(db: Session, http: TestClient) -> Seeded:
    oem, supplier = make_actor(db, http, OrgKind.OEM), make_actor(db, http, OrgKind.SUPPLIER)
    made = [
        _created(oem.post("/v1/agreements", json=terms(supplier, title=f"Shaft {n}")))["id"] for n in range(5)
    ]
    return Seeded(oem, "/v1/agreements", made, _id)


def seed_rules(db: Session, http: TestClient) -> Seeded:
    oem = make_actor(db, http, OrgKind.OEM)
    made = [_created(oem.post("/v1/rules", json=rule_body(f"CPK rule {n}")))["id"] for n in range(5)]
    return Seeded(oem, "/v1/rules", made, _id)


def seed_rule_versions(db: Session, http: TestClient) -> Seeded:
    oem = make_actor(db, http, OrgKind.OEM)
    rule = _created(oem.post("/v1/rules", json=rule_body("CPK rule v1")))
    for n in range(2, 6):
        saved = oem.http.put(
            f"/v1/rules/{rule['id']}", json=rule_body(f"CPK rule v{n}"), headers=oem.headers()
        )
        assert saved.status_code == 200, saved.text
    return Seeded(oem, f"/v1/rules/{rule['id']}/versions", [1, 2, 3, 4, 5], lambda v: v["version"])


def seed_standings(db: Session, http: TestClient) -> Seeded:
    # Standings are the rules engine's to make; their list only reads them, so rows stand in for its work.
    oem = make_actor(db, http, OrgKind.OEM)
    suppliers = [make_org(db, OrgKind.SUPPLIER) for _ in range(5)]
    for supplier in suppliers:
        db.add(Standing(oem_id=oem.org.id, supplier_id=supplier.id))
        db.flush()
    db.commit()
    return Seeded(oem, "/v1/standings", [str(s.id) for s in suppliers], lambda s: s["supplier_id"])


def seed_inbox(db: Session, http: TestClient) -> Seeded:
    oem = make_actor(db, http, OrgKind.OEM)
    rows = []
    for n in range(5):
        row = InboxNotification(
            organization_id=oem.org.id, role="purchasing", kind="standing.changed", title=f"#{n}", body={}
        )
        db.add(row)
        db.flush()
        rows.append(str(row.id))
    db.commit()
    return Seeded(oem, "/v1/inbox", rows, _id, order="newest")


def seed_webhooks(db: Session, http: TestClient) -> Seeded:
    oem = make_actor(db, http, OrgKind.OEM)
    made = [
        _created(oem.post("/v1/webhooks", json={"url": f"https://plant{n}.example/hook"}))["webhook"]["id"]
        for n in range(5)
    ]
    return Seeded(oem, "/v1/webhooks", made, _id)


def seed_rooms(db: Session, http: TestClient) -> Seeded:
    owner = make_member(db, http, OrgKind.OEM)
    made = [open_room(owner)["id"] for _ in range(5)]
    return Seeded(owner.actor, "/v1/rooms", made, _id, order="newest")


def _room_of_four(db: Session, http: TestClient) -> tuple[Member, list[Member], dict[str, Any]]:
    owner = make_member(db, http, OrgKind.OEM)
    guests = [make_member(db, http, OrgKind.SUPPLIER) for _ in range(3)]
    return owner, guests, open_room(owner, dict.fromkeys(guests, "contributor"))


def seed_members(db: Session, http: TestClient) -> Seeded:
    owner, guests, room = _room_of_four(db, http)
    made = [str(m.id) for m in (owner, *guests)]
    return Seeded(owner.actor, f"/v1/rooms/{room['id']}/members", made, lambda m: m["organization_id"])


def seed_datasets(db: Session, http: TestClient) -> Seeded:
    owner, guests, room = _room_of_four(db, http)
    path = f"/v1/rooms/{room['id']}/datasets"
    made = []
    for n in range(5):
        body = dataset_body(guests[0], room["id"], [owner, *guests], b"c" * (40 + n))
        made.append(_created(guests[0].post(path, json=body))["id"])
    return Seeded(owner.actor, path, made, _id, order="sorted")


def seed_annotations(db: Session, http: TestClient) -> Seeded:
    owner = make_member(db, http, OrgKind.OEM)
    room = open_room(owner)
    path = f"/v1/rooms/{room['id']}/annotations"
    made = [
        _created(owner.post(path, json={"body": f"note {n}", "tag": "hypothesis"}))["id"] for n in range(5)
    ]
    return Seeded(owner.actor, path, made, _id)


def seed_accreditations(db: Session, http: TestClient) -> Seeded:
    operator, lab = make_actor(db, http, OrgKind.OPERATOR), make_actor(db, http, OrgKind.LAB)
    made = [
        accredit(
            operator, lab, valid_from=TODAY - timedelta(days=n), valid_until=TODAY + timedelta(days=365)
        )["id"]
        for n in range(5)
    ]
    return Seeded(operator, f"/v1/labs/{lab.org.id}/accreditations", made, _id)


def seed_lab_assignments(db: Session, http: TestClient) -> Seeded:
    operator, oem = make_actor(db, http, OrgKind.OPERATOR), make_actor(db, http, OrgKind.OEM)
    supplier, lab = make_actor(db, http, OrgKind.SUPPLIER), make_actor(db, http, OrgKind.LAB)
    accredit(operator, lab, valid_from=TODAY - timedelta(days=365), valid_until=TODAY + timedelta(days=365))
    made = [
        _created(oem.post("/v1/agreements", json=agreement_body(supplier.org.id, lab.org.id)))["id"]
        for _ in range(5)
    ]
    return Seeded(lab, "/v1/lab/assignments", made, lambda a: a["agreement_id"])


def seed_lab_measurements(db: Session, http: TestClient) -> Seeded:
    setup = make_lab_setup(
        db,
        http,
        make_actor(db, http, OrgKind.OPERATOR),
        make_actor(db, http, OrgKind.OEM),
        make_actor(db, http, OrgKind.SUPPLIER),
    )
    made = [_created(setup.lab.post("/v1/lab/measurements", json=setup.issue_body()))["id"] for _ in range(5)]
    # The lab chooses the id its openings are sealed to (the SDK a random one), so id order is not creation order.
    return Seeded(setup.supplier, "/v1/lab-measurements", made, _id, order="sorted")


def seed_rule_approvals(db: Session, http: TestClient) -> Seeded:
    oem = make_actor(db, http, OrgKind.OEM)
    org_settings.set_four_eyes(db, actor="test", actor_org_id=None, org_id=oem.org.id, on=True)
    db.commit()
    asked = [oem.post("/v1/rules", json=rule_body(f"CPK rule {n}")) for n in range(5)]
    assert all(response.status_code == 202 for response in asked), asked[0].text
    return Seeded(oem, "/v1/rules/approvals", [response.json()["id"] for response in asked], _id)


def seed_certificates(db: Session, http: TestClient) -> Seeded:
    certifier, supplier = make_certifier(db, http), make_actor(db, http, OrgKind.SUPPLIER)
    made = [certifier.issue(supplier)["certificate_id"] for _ in range(5)]
    return Seeded(supplier, "/v1/certificates", made, lambda c: c["certificate_id"])


SEEDS: dict[str, Callable[[Session, TestClient], Seeded]] = {
    "/v1/organizations": seed_organizations,
    "/v1/organizations/{org_id}/keys": seed_keys,
    "/v1/clients": seed_clients,
    "/v1/agreements": seed_agreements,
    "/v1/rules": seed_rules,
    "/v1/rules/{rule_id}/versions": seed_rule_versions,
    "/v1/rules/approvals": seed_rule_approvals,
    "/v1/standings": seed_standings,
    "/v1/inbox": seed_inbox,
    "/v1/webhooks": seed_webhooks,
    "/v1/rooms": seed_rooms,
    "/v1/rooms/{room_id}/members": seed_members,
    "/v1/rooms/{room_id}/datasets": seed_datasets,
    "/v1/rooms/{room_id}/annotations": seed_annotations,
    "/v1/labs/{lab_id}/accreditations": seed_accreditations,
    "/v1/lab/assignments": seed_lab_assignments,
    "/v1/lab-measurements": seed_lab_measurements,
    "/v1/certificates": seed_certificates,
}


# Lists that paged before this table and have their own paging tests beside their domain.
PAGED_ELSEWHERE = {
    "/v1/kpi-reports",
    "/v1/quality-notifications",
    "/v1/containment-actions",
    "/v1/webhooks/{webhook_id}/deliveries",
    "/v1/rooms/{room_id}/timeline",
}


def _lists(app: FastAPI) -> dict[str, dict[str, Any]]:
    """Every GET whose answer is a JSON array or a Page, by path."""
    spec = app.openapi()
    found = {}
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        schema = (
            get["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        )
        if schema.get("type") == "array" or schema.get("$ref", "").split("/")[-1].startswith("Page_"):
            found[path] = get
    return found


def test_every_list_pages_or_says_why_not(app: FastAPI) -> None:
    lists = _lists(app)
    assert set(lists) == set(SEEDS) | PAGED_ELSEWHERE | set(UNPAGED), "a list is new: page it, or say why not"
    for path, operation in lists.items():
        if path in UNPAGED:
            continue
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema.get("$ref", "").split("/")[-1].startswith("Page_"), f"{path} answers a bare array"
        params = {p["name"]: p["schema"] for p in operation.get("parameters", [])}
        assert {"cursor", "limit"} <= params.keys(), f"{path} lacks cursor or limit"
        limit, cursor = params["limit"], params["cursor"]["anyOf"][0]
        assert (limit["minimum"], limit["maximum"], cursor["maxLength"]) == (1, 1000, 512), path


def _page(seeded: Seeded, **params: Any) -> Any:
    return seeded.actor.get(seeded.path, params={**(seeded.params or {}), **params})


@pytest.mark.parametrize("path", sorted(SEEDS))
def test_paging_through_returns_every_row_once_in_order(db: Session, client: TestClient, path: str) -> None:
    seeded = SEEDS[path](db, client)
    whole = _page(seeded, limit=1000)
    assert whole.status_code == 200, whole.text
    assert whole.json()["next_cursor"] is None
    everything = [seeded.identity(item) for item in whole.json()["items"]]

    paged: list[Any] = []
    cursor: str | None = None
    while True:
        page = _page(seeded, limit=2, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        items, cursor = page.json()["items"], page.json()["next_cursor"]
        assert len(items) <= 2
        paged.extend(seeded.identity(item) for item in items)
        if cursor is None:
            break
        assert len(items) == 2  # only the last page is short

    assert paged == everything and len(set(paged)) == len(paged)
    mine = [item for item in paged if item in set(seeded.made)]
    expected = {
        "created": seeded.made,
        "newest": seeded.made[::-1],
        "sorted": sorted(seeded.made),
    }[seeded.order]
    assert mine == expected


@pytest.mark.parametrize("path", sorted(SEEDS))
def test_a_cursor_the_hub_did_not_issue_is_422_naming_it(db: Session, client: TestClient, path: str) -> None:
    seeded = SEEDS[path](db, client)
    for forged in ("@@@@", b64url_encode(b"\xff\xfe\xfd"), "x" * 513):
        body = assert_error(_page(seeded, cursor=forged), 422, "InvalidInput")
        assert "query.cursor" in field_locs(body) or "cursor" in body["detail"], body


@pytest.mark.parametrize("path", sorted(SEEDS))
def test_limit_is_bounded(db: Session, client: TestClient, path: str) -> None:
    seeded = SEEDS[path](db, client)
    for limit in (0, 1001):
        body = assert_error(_page(seeded, limit=limit), 422, "InvalidInput")
        assert "query.limit" in field_locs(body), body


def test_a_cursor_from_one_list_of_a_kind_continues_only_after_its_row(
    db: Session, client: TestClient
) -> None:
    """A cursor is a position, not a permission: another organization's cursor shows only the caller's rows."""
    mine = seed_webhooks(db, client)
    theirs = seed_webhooks(db, client)
    first = _page(theirs, limit=1).json()["next_cursor"]
    after = _page(mine, limit=1000, cursor=first).json()["items"]
    assert first is not None
    assert {hook["id"] for hook in after} <= set(mine.made)
