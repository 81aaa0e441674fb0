"""The trace explorer: a lot or serial number, forward or backward, answered by the trace service exactly as
``POST /v1/trace`` answers it (the same roots check and minimal disclosure; nothing is queried here). Tables of
the affected products, vehicle models, plants and bins, a graph of the genealogy, and every table as CSV/XLSX.

A reference that names nothing the person's organization may trace from (a typo, or another organization's lot)
is the API's message next to the field, and nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.console import i18n
from hub.console.export import table_response
from hub.console.trace_graph import genealogy_graph
from hub.console.web import PREFIX, ConsoleRoute, SignedIn, Viewer, need, render, templates
from hub.db import SessionDep
from hub.errors import HubError, InvalidInput
from hub.trace import service
from protocol.models.trace import TraceRequest, TraceResult, TraceRoot

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def quantity(value: Decimal | None) -> str:
    """A quantity as a person writes it: 50, not 50.0000 (the database's scale)."""
    if value is None:
        return ""
    return f"{value.normalize():f}"


templates.env.filters["qty"] = quantity

Reference = Annotated[str, Query(max_length=128, description="Lot or serial number, hub id or catenaXId")]
Kind = Annotated[str, Query(pattern="^(batch|serial)$")]
Direction = Annotated[str, Query(pattern="^(forward|backward)$")]


def root_of(reference: str, kind: str) -> TraceRoot:
    """A hub id, a catenaXId (``urn:…``), else the organization's own lot or serial number."""
    try:
        return TraceRoot(asset_id=uuid.UUID(reference))
    except ValueError:
        pass
    if reference.startswith("urn:"):
        return TraceRoot(catenax_id=reference)
    return TraceRoot(local_id=reference, kind=kind)


def _trace(session: Session, viewer: Viewer, reference: str, kind: str, direction: str) -> TraceResult:
    need(viewer, "trace:read")
    reference = reference.strip()
    if not reference:
        raise InvalidInput("lot: give a lot or serial number", loc="lot")
    try:
        request = TraceRequest(roots=[root_of(reference, kind)], direction=direction)
    except ValidationError as exc:
        raise InvalidInput(f"lot: {exc.errors()[0]['msg']}", loc="lot") from exc
    return service.trace_request(session, caller=viewer.caller, request=request)


def _names(result: TraceResult) -> dict[uuid.UUID, str]:
    return {group.organization_id: group.name for group in result.by_organization}


# Each exported table: its header and its rows, from the trace's answer alone.
TABLES: dict[str, tuple[Sequence[str], Callable[[TraceResult], list[list[Any]]]]] = {
    "products": (
        ["manufacturer_part_id", "customer_part_id", "name", "organization", "assets"],
        lambda r: [
            [
                g.manufacturer_part_id,
                g.customer_part_id or "",
                g.name,
                _names(r).get(g.organization_id, ""),
                g.assets,
            ]
            for g in r.by_part
        ],
    ),
    "models": (["model", "serials"], lambda r: [[g.model, g.serials] for g in r.by_model]),
    "plants": (
        ["code", "name", "organization", "positions", "unit", "quantity", "held", "shipped"],
        lambda r: [
            [
                g.code,
                g.name,
                _names(r).get(g.organization_id, ""),
                g.positions,
                q.unit,
                q.quantity,
                q.held,
                q.shipped,
            ]
            for g in r.by_plant
            for q in g.quantities or []
        ],
    ),
    "bins": (
        ["plant", "location", "unit", "positions", "quantity", "held"],
        lambda r: [[g.code, g.location, g.unit, g.positions, g.quantity, g.held] for g in r.by_location],
    ),
    "organizations": (
        ["organization", "lots", "serials"],
        lambda r: [[g.name, g.batches, g.serials] for g in r.by_organization],
    ),
}


@router.get("/trace")
def trace_explorer(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    lot: Reference = "",
    kind: Kind = "batch",
    direction: Direction = "forward",
) -> HTMLResponse:
    need(viewer, "trace:read")
    context: dict[str, Any] = {
        "nav": "trace",
        "lot": lot,
        "kind": kind,
        "direction": direction,
        "error": None,
    }
    status = 200
    if lot:
        try:
            result = _trace(session, viewer, lot, kind, direction)
        except HubError as exc:
            if exc.status_code not in (404, 422):
                raise
            # The API's own words, next to the field: a 404 says as little as the API's 404 does.
            context["error"], status = exc.detail, exc.status_code
        else:
            with i18n.speaking(viewer.person.locale):
                graph = genealogy_graph(result, _names(result))
            context.update(result=result, names=_names(result), graph=graph)
    return render(request, "trace.html", context, viewer=viewer, status_code=status)


@router.get("/trace/{table}.{fmt}")
def trace_export(
    table: str,
    fmt: str,
    session: SessionDep,
    viewer: SignedIn,
    lot: Reference,
    kind: Kind = "batch",
    direction: Direction = "forward",
) -> Response:
    if table not in TABLES:
        raise InvalidInput(f"table: one of {', '.join(TABLES)}", loc="path.table")
    header, rows = TABLES[table]
    result = _trace(session, viewer, lot, kind, direction)
    return table_response(f"trace-{table}", fmt, header, rows(result))
