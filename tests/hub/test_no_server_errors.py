"""No input makes the hub answer 500: every route of ``app.openapi()`` gets a deterministic battery of bad requests.

For each route and method, with a token of an OEM and of a supplier holding every scope of their kind: malformed
JSON, a JSON array/number/string instead of an object, each required field missing, each field replaced by a value
of the wrong type or out of range (huge and negative integers, empty, 10k-character and NUL-carrying strings,
invalid UUIDs, naive and non-UTC datetimes, years 1 and 9999), random UUIDs and garbage in path parameters, bad
query parameters and wrong content types. Bodies start from an example built from the route's own JSON Schema,
with ids that point at real rows of the caller's world (its partner organization, its room, its notification, its
lots), so a bad value in one field gets past the others to the service and the database.

Every answer must be below 500; a 4xx must be the uniform ``{"error", "detail", "request_id"}`` and a 422 must
name a field in ``fields``.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from hub.app import create_app
from protocol.models.common import OrgKind
from protocol.models.genealogy import ImportRecord
from protocol.models.rules import STANDARD_RULE_TEMPLATE
from tests.conftest import make_settings
from tests.hub.conftest import Actor
from tests.hub.notifications.chain import Chain, build_chain
from tests.hub.rooms.conftest import make_member, open_room, register_keys, upload

_SPEC = create_app(make_settings("sqlite://")).openapi()
_SCHEMAS: dict[str, Any] = _SPEC["components"]["schemas"]
_ROUTES = [
    (method.upper(), path, op)
    for path, ops in _SPEC["paths"].items()
    for method, op in ops.items()
    if method in {"get", "post", "put", "patch", "delete"}
    # The event stream reads on its own connection, which waits on the test's open transaction; its input
    # checks are tested in tests/hub/events against a real server; /readyz likewise waits on its own connection.
    and path not in {"/v1/events", "/readyz"}
]

NUL = "a\u0000b"
LONG = "x" * 10_000
BAD_VALUES: list[Any] = [
    None,
    "",
    LONG,
    NUL,
    10**40,
    2**63,
    -1,
    1.5,
    {"a": 1},
    [],
    "not-a-uuid",
    "2026-06-01T00:00:00",
    "2026-06-01T00:00:00+05:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31",
    "0001-01-01",
]
# Inside arrays and nested objects: fewer, the most telling ones.
NESTED_BAD: list[Any] = [
    None,
    "",
    LONG,
    NUL,
    10**40,
    2**63,
    -1,
    {"a": 1},
    "9999-12-31T23:59:59Z",
    "0001-01-01",
]
QUERY_BAD = ["garbage", "-1", str(10**9), str(2**63), "a\x00b", "9999-12-31T23:59:59Z"]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            variants = [v for v in schema[key] if _resolve(v).get("type") != "null"]
            if variants:
                return _resolve(variants[0])
    return schema


@dataclass
class World:
    """What one caller owns or may name: ids a valid body refers to, ids for path parameters."""

    actor: Actor
    ids: dict[str, str] = field(default_factory=dict)
    token: str = ""


def _example(schema: dict[str, Any], name: str, world: World, depth: int = 0) -> Any:
    s = _resolve(schema)
    if "const" in s:
        return s["const"]
    if "enum" in s:
        return s["enum"][0]
    if "discriminator" in schema or "oneOf" in schema:
        pass
    kind = s.get("type")
    if kind == "object" or "properties" in s:
        props = s.get("properties", {})
        return {
            key: _example(sub, key, world, depth + 1)
            for key, sub in props.items()
            if key in s.get("required", []) or key in world.ids
        }
    if kind == "array":
        item = _example(s.get("items", {}), name.removesuffix("s"), world, depth + 1)
        if name in world.ids and isinstance(item, str):
            item = world.ids[name]
        return [item] * max(s.get("minItems", 1), 1) if depth < 4 else []
    if kind == "integer" or kind == "number":
        low = s.get("minimum", s.get("exclusiveMinimum", 0))
        return int(low) + 1 if s.get("maximum", 10**9) > low else int(low)
    if kind == "boolean":
        return True
    if kind == "string":
        if name in world.ids:
            return world.ids[name]
        fmt = s.get("format")
        if fmt == "uuid":
            return str(uuid.uuid4())
        if fmt == "date-time":
            return (datetime.now(UTC) + timedelta(days=10)).isoformat()
        if fmt == "date":
            return date.today().isoformat()
        if fmt == "email":
            return "a@example.com"
        if fmt in {"uri", "url"} or "url" in name:
            return "https://example.com/hook"
        return "x" * max(s.get("minLength", 1), 3)
    return "x"


def _mutations(
    body: Any, schema: dict[str, Any], prefix: str = "", depth: int = 0
) -> Iterator[tuple[str, Any]]:
    """(description, body) pairs: each field of ``body`` (and of its first array items) missing or wrong."""
    s = _resolve(schema)
    if not isinstance(body, dict):
        return
    props = s.get("properties", {})
    values = BAD_VALUES if depth == 0 else NESTED_BAD
    for key in props:
        where = f"{prefix}{key}"
        if key in body:
            yield f"missing {where}", {k: v for k, v in body.items() if k != key}
        for bad in values:
            yield f"{where}={str(bad)[:40]!r}", {**body, key: bad}
        sub = _resolve(props[key])
        if depth < 2 and key in body:
            if sub.get("type") == "array" and isinstance(body[key], list) and body[key]:
                items = _resolve(sub.get("items", {}))
                if items.get("type") == "string":
                    for bad in NESTED_BAD:
                        yield f"{where}[0]={str(bad)[:40]!r}", {**body, key: [bad]}
                for desc, item in _mutations(body[key][0], sub.get("items", {}), f"{where}[0].", depth + 1):
                    yield desc, {**body, key: [item, *body[key][1:]]}
            elif isinstance(body[key], dict):
                for desc, inner in _mutations(body[key], props[key], f"{where}.", depth + 1):
                    yield desc, {**body, key: inner}


@dataclass
class Probe:
    http: TestClient
    failures: list[str] = field(default_factory=list)
    sent: int = 0

    def send(self, world: World, method: str, url: str, what: str, **kw: Any) -> int:
        headers = {"Authorization": f"Bearer {world.token}", **kw.pop("headers", {})}
        self.sent += 1
        try:
            response = self.http.request(method, url, headers=headers, **kw)
        except Exception as exc:  # a crash in the transport is as bad as a 500
            self.failures.append(f"{method} {url} [{what}]: raised {exc!r}"[:400])
            return 599
        status = response.status_code
        problem = None
        if status >= 500:
            problem = f"{status} {response.text[:200]}"
        elif status >= 400:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            if not isinstance(payload, dict) or not {"error", "detail", "request_id"} <= payload.keys():
                problem = f"{status} without the uniform error body: {response.text[:200]}"
            elif status == 422 and not (
                payload.get("fields") and all(f.get("loc") for f in payload["fields"])
            ):
                problem = f"422 naming no field: {response.text[:200]}"
        if problem:
            self.failures.append(f"{method} {url} [{what}]: {problem}"[:500])
        return status


def _fill(path: str, world: World, override: dict[str, str] | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if override and name in override:
            return override[name]
        return world.ids.get(f"path:{name}", str(uuid.uuid4()))

    return re.sub(r"{([^}]+)}", value, path)


def _body_schema(op: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return "application/json", content["application/json"].get("schema", {})
    for media, spec in content.items():
        return media, spec.get("schema", {})
    return None


def _probe_route(probe: Probe, world: World, method: str, path: str, op: dict[str, Any]) -> None:
    url = _fill(path, world)
    # Path parameters: random and foreign UUIDs, garbage, NUL bytes.
    for name in re.findall(r"{([^}]+)}", path):
        for bad in [
            str(uuid.uuid4()),
            world.ids.get("foreign", str(uuid.uuid4())),
            "garbage",
            "%00",
            "1" * 300,
        ]:
            probe.send(world, method, _fill(path, world, {name: bad}), f"path {name}={bad[:20]}", json={})
    # Query parameters, declared and not.
    params = [p for p in op.get("parameters", []) if p["in"] == "query"] + [
        {"name": "cursor"},
        {"name": "limit"},
    ]
    for param in params:
        for bad in QUERY_BAD:
            probe.send(world, method, url, f"query {param['name']}={bad[:20]!r}", params={param["name"]: bad})
    for header in [p for p in op.get("parameters", []) if p["in"] == "header"]:
        for bad in ["", LONG[:4000], "-1", str(10**40)]:
            probe.send(world, method, url, f"header {header['name']}", headers={header["name"]: bad})
    body_spec = _body_schema(op)
    if method in {"POST", "PUT", "PATCH"}:
        # Malformed and wrongly shaped bodies, wrong content types.
        for raw, ctype in [
            (b"{not json", "application/json"),
            (b"[]", "application/json"),
            (b"42", "application/json"),
            (b'"text"', "application/json"),
            (b"null", "application/json"),
            (b'{"a": NaN}', "application/json"),
            (b"\xff\xfe\x00", "application/json"),
            (b"a=b", "application/x-www-form-urlencoded"),
            (b"<x/>", "application/xml"),
            (b"{}", "text/plain"),
        ]:
            probe.send(
                world,
                method,
                url,
                f"raw {raw[:10]!r} as {ctype}",
                content=raw,
                headers={"content-type": ctype},
            )
    if body_spec is None:
        return
    media, schema = body_spec
    if media != "application/json" or _resolve(schema).get("type") == "array":
        return
    body = _seed_body(method, path, world) or _example(schema, "", world)
    probe.send(world, method, url, "example body", json=body)
    for what, mutated in _mutations(body, schema):
        probe.send(world, method, url, what, json=mutated)


def _probe_import(probe: Probe, world: World) -> None:
    """The genealogy import reports bad rows instead of refusing the request: none of them may be a 500."""
    url = "/v1/genealogy:import"
    adapter_schema = TypeAdapter(ImportRecord).json_schema()
    defs = adapter_schema.get("$defs", {})
    _SCHEMAS.update({k: v for k, v in defs.items() if k not in _SCHEMAS})
    rows: list[str] = []
    for variant in adapter_schema["oneOf"]:
        record_schema = _resolve({"$ref": variant["$ref"]})
        record = _example(record_schema, "", world)
        rows.append(json.dumps(record))
        for _, mutated in _mutations(record, record_schema):
            rows.append(json.dumps(mutated))
    rows += ["{not json", "[]", "42", '"x"', "null", '{"type": "nope"}', "\x00"]
    for ctype in ["application/x-ndjson", "application/json", "text/csv"]:
        probe.send(
            world,
            "POST",
            url,
            f"import {ctype}",
            content="\n".join(rows).encode(),
            headers={"content-type": ctype},
        )
    probe.send(
        world,
        "POST",
        url,
        "csv",
        content=b"code,name\nP\x00,\xff\n",
        params={"type": "plant"},
        headers={"content-type": "text/csv"},
    )
    probe.send(world, "POST", url, "json array", json=[{"catenaXId": NUL}, 10**40, None])


def _created(actor: Actor, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = actor.post(url, json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


@pytest.fixture
def worlds(db: Session, client: TestClient) -> tuple[World, World]:
    """An OEM and a supplier that share a room, an agreement, lots, an investigation and containment actions, and
    an outsider's room."""
    chain: Chain = build_chain(db, client)
    oem, supplier = register_keys(db, chain.oem), register_keys(db, chain.ecu)
    outsider = make_member(db, client, OrgKind.SUPPLIER)
    room = open_room(oem, {supplier: "contributor"})
    dataset = upload(oem, room["id"], [oem, supplier])
    annotation = _created(chain.oem, f"/v1/rooms/{room['id']}/annotations", {"body": "noise at 41 C"})
    foreign_room = open_room(outsider)
    case = {"type": "INVESTIGATION", "title": "bad ECU", "affected_asset_ids": [chain.asset("E1")]}
    investigation = _created(chain.oem, "/v1/quality-notifications", case)
    _created(chain.oem, f"/v1/quality-notifications/{investigation['id']}/send", {"reason": "field failures"})
    caps = {
        "type": "ALERT",
        "title": "caps",
        "severity": "CRITICAL",
        "affected_asset_ids": [chain.asset("C1")],
    }
    alert = _created(chain.capacitor, "/v1/quality-notifications", caps)
    _created(chain.capacitor, f"/v1/quality-notifications/{alert['id']}/send", {"reason": "38 V"})
    agreement = _created(chain.oem, "/v1/agreements", _agreement_terms(str(chain.ecu.org.id)))
    rule = _created(chain.oem, "/v1/rules", copy.deepcopy(STANDARD_RULE_TEMPLATE))
    worlds = []
    for actor, partner in ((chain.oem, chain.ecu), (chain.ecu, chain.oem)):
        actions = actor.get("/v1/containment-actions").json()["items"]
        hook = _created(actor, "/v1/webhooks", {"url": "https://receiver.example/hook", "event_types": []})
        ids = {
            "supplier_id": str(chain.ecu.org.id),
            "oem_id": str(chain.oem.org.id),
            "organization_id": str(partner.org.id),
            "customer_organization_id": str(partner.org.id),
            "receiver_ids": str(partner.org.id),
            "affected_asset_ids": chain.asset("E1"),
            "notification_id": investigation["id"],
            "dataset_id": dataset["id"],
            "path:room_id": room["id"],
            "path:dataset_id": dataset["id"],
            "path:annotation_id": annotation["id"],
            "path:notification_id": investigation["id"],
            "path:agreement_id": agreement["id"],
            "path:rule_id": rule["id"],
            "path:webhook_id": hook["webhook"]["id"],
            "path:org_id": str(actor.org.id),
            "path:organization_id": str(partner.org.id),
            "path:supplier_id": str(chain.ecu.org.id),
            "path:client_id": actor.client_id,
            "path:step": "D1",
            "foreign": foreign_room["id"],
        }
        if actions:
            ids["path:action_id"] = actions[0]["id"]
        worlds.append(World(actor, ids, actor.token()))
    return worlds[0], worlds[1]


def _agreement_terms(supplier_id: str) -> dict[str, Any]:
    return {
        "supplier_id": supplier_id,
        "title": "Drive shaft quality agreement",
        "parts": [{"part_number": "SH-4410", "name": "Drive shaft"}],
        "characteristics": [
            {"code": "DIA-01", "part_number": "SH-4410", "unit": "mm", "lsl": "24.980", "usl": "25.020"}
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"},
            {"kpi": "ppm", "threshold": "100"},
        ],
        "period": "week",
        "valid_from": "2026-01-01",
    }


def _seed_body(method: str, path: str, world: World) -> dict[str, Any] | None:
    """A known-valid body for the routes whose schema alone does not make one."""
    if (method, path) == ("POST", "/v1/agreements"):
        return _agreement_terms(world.ids["supplier_id"])
    if (method, path) in {("POST", "/v1/rules"), ("PUT", "/v1/rules/{rule_id}")}:
        return copy.deepcopy(STANDARD_RULE_TEMPLATE)
    if (method, path) == ("POST", "/v1/rooms"):
        return {
            "title": "Compressor noise",
            "description": "from the field",
            "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "people": [{"name": "Anna Berg", "email": "anna@oem.example", "role": "8D lead"}],
            "members": [{"organization_id": world.ids["organization_id"], "role": "observer"}],
        }
    if (method, path) == ("POST", "/v1/trace"):
        return {
            "roots": [{"asset_id": world.ids["affected_asset_ids"]}],
            "as_of": datetime.now(UTC).isoformat(),
        }
    if (method, path) == ("POST", "/v1/webhooks"):
        return {"url": "https://receiver.example/hook", "event_types": []}
    return None


_GROUPS: dict[str, list[tuple[str, str]]] = {}
for _method, _path, _op in _ROUTES:
    _GROUPS.setdefault((_op.get("tags") or ["other"])[0], []).append((_method, _path))


@pytest.mark.parametrize("group", sorted(_GROUPS))
def test_no_route_answers_500(client: TestClient, worlds: tuple[World, World], group: str) -> None:
    """One test per tag: the world is made once for all of the tag's routes."""
    probe = Probe(client)
    for method, path in _GROUPS[group]:
        op = _SPEC["paths"][path][method.lower()]
        for world in worlds:
            if path == "/v1/genealogy:import":
                _probe_import(probe, world)
            _probe_route(probe, world, method, path, op)
    assert probe.sent > 0
    assert not probe.failures, f"{len(probe.failures)} of {probe.sent} requests failed:\n" + "\n".join(
        dict.fromkeys(probe.failures)
    )


_NEW_DOMAINS = {"rooms", "genealogy", "trace", "quality notifications", "containment"}
_NEW_ROUTES = [(m, p) for group in sorted(_NEW_DOMAINS) for m, p in _GROUPS[group]]


def test_new_domains_refuse_a_token_without_their_scope_naming_it(
    client: TestClient, worlds: tuple[World, World]
) -> None:
    oem = worlds[0]
    narrow = World(oem.actor, oem.ids, oem.actor.token("org:read"))
    for method, path in _NEW_ROUTES:
        url = _fill(path, narrow)
        response = client.request(method, url, json={}, headers={"Authorization": f"Bearer {narrow.token}"})
        assert response.status_code == 403, (method, path, response.text)
        body = response.json()
        assert body["error"] == "InsufficientScope" and "needs the scope '" in body["detail"], (path, body)


def test_new_domains_answer_404_for_another_organizations_rows(
    client: TestClient, worlds: tuple[World, World], other_supplier: Actor
) -> None:
    """An outsider holding every scope, naming the OEM's room, dataset, notification or action: 404, never 403."""
    oem = worlds[0]
    token = other_supplier.token()
    not_found = 0
    for method, path in _NEW_ROUTES:
        if "{" not in path:
            continue
        url = _fill(path, oem)
        spec = _body_schema(_SPEC["paths"][path][method.lower()])
        body = None
        if spec and spec[0] == "application/json":
            body = _seed_body(method, path, oem) or _example(spec[1], "", oem)
        response = client.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (404, 422), (method, path, response.text)
        if response.status_code == 422:  # the example body was refused first: the path must not be the reason
            assert all(not f["loc"].startswith("path") for f in response.json()["fields"]), response.text
        else:
            assert response.json()["error"] == "NotFound", response.text
            not_found += 1
    assert not_found >= 25, not_found
