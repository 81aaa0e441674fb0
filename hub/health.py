"""Liveness, readiness and metrics: what an orchestrator and a Prometheus scraper ask."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from hub import migrate
from hub.observability import current_request_id
from hub.openapi import errors

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers and its schema is at the migrations' head",
    responses=errors(503, s503="NotReady: the database is unreachable or its schema is behind"),
)
def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.current_revision(engine)
    except Exception as exc:  # any failure to reach the database means "not ready", never a 500
        body = {"error": "NotReady", "detail": f"database unreachable: {type(exc).__name__}"}
        return JSONResponse({**body, "request_id": current_request_id()}, status_code=503)
    head = request.app.state.migration_head
    # A schema newer than this code (a revision it does not know) is ready: during a rolling upgrade the old
    # replicas keep serving after the migration job ran. A missing or older schema is not.
    if current != head and (current is None or migrate.is_known_revision(current)):
        detail = f"schema at {current}, migrations head is {head}: run `hub db upgrade`"
        return JSONResponse(
            {"error": "NotReady", "detail": detail, "request_id": current_request_id()}, status_code=503
        )
    return JSONResponse({"status": "ready", "schema": current})


@router.get("/metrics", summary="Prometheus text exposition", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
