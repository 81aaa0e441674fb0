"""The OpenAPI document tells the truth: readable operation ids, every error status a route can answer declared
with the uniform ``ErrorBody``, the right ``Allow`` on a 405, an example for every request body."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

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
