"""The OpenAPI contract, kept true in one place.

- ``errors(409, 410)``: the ``responses=`` entries for statuses a route answers beyond the ones every route of
  its kind can (``declare_error_statuses`` declares those), each with the uniform ``ErrorBody``.
- ``declare_error_statuses(router)``: before a router is included, each of its routes declares what the machinery in
  front of it can answer: 422 (the app-wide NUL check reads any query), 401/403 where a token is needed, 404
  where a path names a row, 503 where the database is used (busy or unreachable), and for writes 400 (a body
  that is not JSON), 413 (the body limit) and 409 (a state or uniqueness rule), except for the few POSTs that
  only read. A status a route declared already keeps its description; it gains the ``ErrorBody`` schema.
- ``operation_id(route)``: ``<tag>.<endpoint function>``, e.g. ``kpi_reports.submit``, stable and readable.
- ``allowed_methods(request)``: the methods the schema lists for a request's path, for a 405's ``Allow``;
  ``refused_method(request)``: a path (``/v1/rules/templates``, ``…/{id}:approve``) refuses a method only a
  less specific sibling takes.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

ERROR_BODY_REF = "#/components/schemas/ErrorBody"

STATUS_TEXT: dict[int, str] = {
    400: "The body is not well-formed (e.g. not JSON), or a request rule is broken",
    401: "Missing, malformed or expired access token",
    403: "The token lacks the scope this endpoint needs, or your organization may not do this",
    404: "Not found, or not visible to your organization",
    409: "Conflicts with the resource's state or a uniqueness rule",
    410: "Gone: the content was deleted for good (crypto-shredded)",
    413: "The request body exceeds the hub's limit",
    415: "The body's media type is not one this endpoint takes",
    422: "Malformed input; `fields` names each invalid field",
    429: "Too many requests; retry after `Retry-After` seconds",
    503: "The database is busy or unreachable; nothing was changed, retry after `Retry-After` seconds",
}

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BODIES = frozenset({"POST", "PUT", "PATCH"})
# POSTs that compute an answer and change nothing: no state to conflict with.
READ_ONLY_POSTS = frozenset({"trace.trace", "rules.dry_run", "audit.verify", "oauth.token"})


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One ``responses=`` entry: ``description`` (or the standard text for ``status``) and ``ErrorBody``."""
    return {
        "description": description or STATUS_TEXT[status],
        "content": {"application/json": {"schema": {"$ref": ERROR_BODY_REF}}},
    }


def errors(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=errors(409, 410)`` in a route decorator; ``errors(409, s409="DuplicateReport or ...")``
    gives a status its own description."""
    return {status: error_response(status, descriptions.get(f"s{status}")) for status in statuses}


def operation_id(route: APIRoute) -> str:
    """``<tag>.<endpoint function name>``: the first tag in snake case, then the function's name."""
    tag = route.tags[0] if route.tags else "hub"
    domain = re.sub(r"[^a-z0-9]+", "_", str(getattr(tag, "value", tag)).lower()).strip("_")
    return f"{domain}.{route.name}"


def _calls(dependant: Dependant, name: str) -> bool:
    """Whether ``dependant`` depends, at any depth, on a function called ``name`` (by name: hub.db and
    hub.auth import hub.errors, which imports this module)."""
    return any(
        getattr(sub.call, "__name__", "") == name or _calls(sub, name) for sub in dependant.dependencies
    )


def _statuses(route: APIRoute) -> set[int]:
    methods = route.methods or set()
    statuses = {422}
    if _calls(route.dependant, "_authenticate"):
        statuses |= {401, 403}
    if route.dependant.path_params:
        statuses.add(404)
    if _calls(route.dependant, "get_session"):
        statuses.add(503)
        if methods & _WRITES and operation_id(route) not in READ_ONLY_POSTS:
            statuses.add(409)
    if methods & _BODIES:
        statuses |= {400, 413}
    return statuses


def declare_error_statuses(router: APIRouter) -> APIRouter:
    """Complete the ``responses`` of every route of ``router`` with the error statuses the machinery in front of
    it can answer; call it before the router is included (``app.include_router(declare_error_statuses(r))``)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        for status in _statuses(route):
            route.responses.setdefault(status, error_response(status))
        for code, spec in list(route.responses.items()):
            if int(code) >= 400 and "model" not in spec and "content" not in spec:
                route.responses[code] = {**spec, **error_response(int(code), spec.get("description"))}
    return router


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"({[^}]+})", path)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$")


def _literal_length(path: str) -> int:
    return len(re.sub(r"{[^}]+}", "", path))


def _most_specific(paths: dict[str, Any], here: str) -> list[str]:
    """The schema's paths for ``here``: itself when it is one, else the matching templates with the most fixed
    characters (``/{id}:approve`` over ``/{id}``, which matches it too)."""
    if here in paths:
        return [here]
    matching = [path for path in paths if _template(path).match(here)]
    if not matching:
        return []
    most = max(_literal_length(path) for path in matching)
    return [path for path in matching if _literal_length(path) == most]


def allowed_methods(request: Request) -> str | None:
    """The ``Allow`` value for the request's path, or None for a path the schema does not describe.

    A path that is a fixed resource (``/v1/rules/templates``) has its own methods, even where a parameterised
    sibling (``/v1/rules/{rule_id}``) would also match it; otherwise the methods of the most specific matching
    paths (the most fixed characters: ``/{id}:approve`` over ``/{id}``). HEAD goes with GET, as Starlette serves
    it."""
    paths: dict[str, Any] = request.app.openapi()["paths"]
    methods = {
        method.upper()
        for path in _most_specific(paths, request.url.path)
        for method in paths[path]
        if method != "parameters"
    }
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods)) or None


def refused_method(request: Request) -> str | None:
    """For a request to a path with a method it lacks, that a less specific sibling took (and then refused its
    path parameter): ``GET /v1/rules/templates`` taken by ``/v1/rules/{rule_id}``, ``GET …/{id}:approve`` by
    ``…/{id}``. The ``Allow`` of the path asked for, to answer 405 with; else None."""
    paths: dict[str, Any] = request.app.openapi()["paths"]
    specific = _most_specific(paths, request.url.path)
    if not specific or any(request.method.lower() in paths[path] for path in specific):
        return None
    return allowed_methods(request)
