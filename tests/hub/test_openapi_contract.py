"""The OpenAPI document tells the truth: readable operation ids, every error status a route can answer declared
with the uniform ``ErrorBody``, the right ``Allow`` on a 405, an example for every request body."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

import protocol.models
from hub.app import create_app
from tests.conftest import make_settings
from tests.hub.asserts import assert_error
from tests.hub.conftest import Actor

_SPEC = create_app(make_settings("sqlite://")).openapi()
_OPERATIONS = [
    (method.upper(), path, op)
    for path, ops in _SPEC["paths"].items()
    for method, op in ops.items()
    if method != "parameters"
]
_ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
_READ_ONLY_POSTS = {"trace.trace", "rules.dry_run", "audit.verify", "oauth.token"}
# Routes that take no database session: nothing there can be busy. (The event stream reads the database only
# once its 200 has been sent.)
_NO_DATABASE = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/.well-known/jwks.json",
    "/.well-known/oauth-authorization-server",
    "/v1/rules/templates",
    "/v1/events",
}


def _label(method: str, path: str) -> str:
    return f"{method} {path}"


def test_operation_ids_are_domain_dot_function_and_unique() -> None:
    ids = [op["operationId"] for _, _, op in _OPERATIONS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    bad = [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*", i)]
    assert not bad, bad
    by_route = {_label(m, p): op["operationId"] for m, p, op in _OPERATIONS}
    assert by_route["POST /v1/kpi-reports"] == "kpi_reports.submit"
    assert by_route["GET /v1/quality-notifications/{notification_id}"] == (
        "quality_notifications.get_notification"
    )
    assert by_route["POST /oauth/token"] == "oauth.token"


def test_every_error_status_carries_the_error_body() -> None:
    missing = []
    for method, path, op in _OPERATIONS:
        for status, response in op["responses"].items():
            if status.isdigit() and int(status) >= 400:
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema != _ERROR_BODY:
                    missing.append(f"{_label(method, path)} {status}: {schema}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(("method", "path", "op"), _OPERATIONS, ids=[_label(m, p) for m, p, _ in _OPERATIONS])
def test_each_route_declares_what_the_machinery_before_it_can_answer(
    method: str, path: str, op: dict[str, Any]
) -> None:
    declared = set(op["responses"])
    expected = {"422"}  # the app-wide NUL check reads any query parameter
    if op.get("security"):
        expected |= {"401", "403"}
    if "{" in path:
        expected.add("404")
    if method in {"POST", "PUT", "PATCH"}:
        expected |= {"400", "413"}
    if path not in _NO_DATABASE:
        expected.add("503")  # the database is busy or unreachable
    if method in {"POST", "PUT", "PATCH", "DELETE"} and op["operationId"] not in _READ_ONLY_POSTS:
        expected.add("409")
    assert expected <= declared, sorted(expected - declared)


def test_readiness_declares_its_503() -> None:
    assert _SPEC["paths"]["/readyz"]["get"]["responses"]["503"]["content"]["application/json"]["schema"] == (
        _ERROR_BODY
    )


def test_a_405_names_every_method_of_the_path_in_allow(client: TestClient) -> None:
    """Starlette names only the first route that matched; GET and POST on /v1/rules are two routes."""
    response = client.options("/v1/rules")
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "GET, HEAD, POST"
    response = client.delete("/v1/webhooks")
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "GET, HEAD, POST"
    response = client.options("/v1/rooms/3f2b0e3c-4d1a-4f6e-9a51-0c7a2b8d9e10/annotations/x")
    assert response.headers["allow"] == "GET, HEAD, PATCH"


def test_a_fixed_path_refuses_a_method_it_lacks_that_a_parameterised_sibling_takes(
    client: TestClient, oem: Actor
) -> None:
    """PUT /v1/rules/templates would reach PUT /v1/rules/{rule_id}: the templates resource has no PUT."""
    response = client.put("/v1/rules/templates", json={}, headers=oem.headers())
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "GET, HEAD"
    assert client.options("/v1/rules/templates").headers["allow"] == "GET, HEAD"
    # A malformed id on the parameterised path is still a 422 naming it.
    assert_error(client.put("/v1/rules/not-a-uuid", json={}, headers=oem.headers()), 422, "InvalidInput")


@pytest.mark.parametrize(("page", "assets"), [("/docs", 2), ("/redoc", 1)])
def test_docs_load_every_asset_from_the_hub_itself(client: TestClient, page: str, assets: int) -> None:
    """On a plant network without internet the docs still render: no script, style or font from elsewhere."""
    html = client.get(page)
    assert html.status_code == 200, html.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
    urls += re.findall(r"""url:\s*["']([^"']+)["']""", html.text)
    foreign = [u for u in urls if re.match(r"(https?:)?//", u)]
    assert not foreign, foreign
    scripts_and_styles = [u for u in urls if u.endswith((".js", ".css"))]
    assert len(scripts_and_styles) >= assets, urls
    for url in scripts_and_styles:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 10_000, url  # the real bundle, not a stub
    assert "/openapi.json" in html.text


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            schema = next(s for s in schema[key] if s.get("type") != "null")
    if "$ref" in schema:
        return dict(_SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    return schema


_BODIES = [
    (f"{method} {path} {media}", media_spec)
    for method, path, op in _OPERATIONS
    for media, media_spec in op.get("requestBody", {}).get("content", {}).items()
]


@pytest.mark.parametrize(("where", "media"), _BODIES, ids=[w for w, _ in _BODIES])
def test_every_request_body_has_an_example(where: str, media: dict[str, Any]) -> None:
    has = "example" in media or "examples" in media or "examples" in _resolve(media.get("schema", {}))
    assert has, where


def _request_models() -> dict[str, type[BaseModel]]:
    models: dict[str, type[BaseModel]] = {}
    for module in [
        *(
            importlib.import_module(m.name)
            for m in pkgutil.iter_modules(protocol.models.__path__, "protocol.models.")
        ),
        importlib.import_module("hub.orgs.router"),
    ]:
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseModel):
                models.setdefault(name, value)
    return models


def test_every_request_example_is_accepted_by_its_model() -> None:
    """An example a reader copies must pass the wire model's own checks (patterns, validators, signatures'
    form): every example of every request body schema."""
    models = _request_models()
    checked = 0
    for _, media in _BODIES:
        schema = media.get("schema", {})
        ref = next((s["$ref"] for s in [schema, *schema.get("anyOf", [])] if "$ref" in s), None)
        if ref is None:
            continue
        name = ref.rsplit("/", 1)[-1]
        for example in _resolve(schema).get("examples", []):
            models[name].model_validate(example)
            checked += 1
    assert checked >= 25, checked


def test_the_example_kpi_report_is_signed_by_its_key() -> None:
    """The example envelope is a real one: its signature verifies under the key it names."""
    from protocol.models.kpi import KpiReportSubmit
    from protocol.signing import load_private_key, verify_envelope

    example = KpiReportSubmit.model_json_schema()["examples"][0]
    envelope = KpiReportSubmit.model_validate(example).envelope
    verify_envelope(envelope, load_private_key(bytes(range(32))).public_key())


@pytest.mark.parametrize("media", ["application/x-ndjson", "text/csv", "application/json"])
def test_the_genealogy_import_examples_import_cleanly(
    client: TestClient, supplier: Actor, media: str
) -> None:
    spec = _SPEC["paths"]["/v1/genealogy:import"]["post"]["requestBody"]["content"][media]
    example = spec["example"]
    content = json.dumps(example) if media == "application/json" else example
    params = {"type": "plant"} if media == "text/csv" else {}
    headers = {**supplier.headers(), "content-type": media}
    response = client.post("/v1/genealogy:import", content=content.encode(), params=params, headers=headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rejected"] == 0 and report["rows"] >= 1, report


def test_an_action_path_refuses_a_method_its_less_specific_sibling_takes(
    client: TestClient, oem: Actor
) -> None:
    """GET …/approvals/{id}:approve would reach GET …/approvals/{id} and fail its UUID: the action has only POST."""
    action = "/v1/rules/approvals/01a253b4-aaff-793a-b63e-aa176537f9f9:approve"
    response = client.get(action, headers=oem.headers())
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "POST"
    assert client.options(action).headers["allow"] == "POST"
    # A malformed id on the plain path is still a 422 naming it.
    assert_error(client.get("/v1/rules/approvals/not-a-uuid", headers=oem.headers()), 422, "InvalidInput")
