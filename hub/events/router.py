"""``GET /v1/events``: the caller's organization's events as Server-Sent Events, resumable by position.

The cursor is the position of the last event the reader saw. ``Last-Event-ID`` wins over ``?after=``: a
browser's ``EventSource`` reconnects to the same URL (still carrying the first ``after``) with the header set
to the last id it received, and it must resume there, not start over.

The stream holds no database session: each poll opens a short one (in a worker thread, so the event loop
never waits on the database), reads what is new and closes it again.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES, InvalidInput
from hub.events import retention
from hub.events import service as events

router = APIRouter(prefix="/v1", tags=["events"], responses=ERROR_RESPONSES)

POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
# What _cursor accepts, for the schema: an event position (blank means "from the start"). Positions are BIGINT on
# PostgreSQL and INTEGER on SQLite (both 64-bit signed): a larger cursor can name no event, and binding it would
# overflow in the driver after the 200 had already been sent.
MAX_POSITION = 10**18 - 1
_POSITION = r"^\s*[0-9]{0,18}\s*$"


def _cursor(text: str | None, loc: str) -> int | None:
    if text is None or text.strip() == "":
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidInput(f"{loc} must be an event position (an integer), not {text!r}", loc=loc) from None
    if value < 0:
        raise InvalidInput(f"{loc} must not be negative", loc=loc)
    if value > MAX_POSITION:
        # Past any position the hub will ever number, and past what a database integer holds.
        raise InvalidInput(f"{loc} must be at most {MAX_POSITION}", loc=loc)
    return value


def _read(
    factory: sessionmaker[Session], org_id: uuid.UUID, after: int, types: list[str] | None
) -> list[tuple[int, str, dict[str, Any]]]:
    with factory() as session:
        found = events.positioned_after(session, org_id=org_id, after=after, types=types)
        return [(e.position or 0, e.type, events.as_message(e)) for e in found]


def _frame(position: int, type: str, message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":"))
    return f"id: {position}\nevent: {type}\ndata: {data}\n\n".encode()


async def _stream(
    request: Request, *, org_id: uuid.UUID, after: int, types: list[str] | None, once: bool
) -> AsyncIterator[bytes]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    # Tell EventSource clients to come back quickly after a drop; they resume with Last-Event-ID.
    yield b"retry: 1000\n\n"
    last_sent = time.monotonic()
    while True:
        batch = await run_in_threadpool(_read, factory, org_id, after, types)
        for position, type, message in batch:
            yield _frame(position, type, message)
            after = position
        if batch:
            last_sent = time.monotonic()
            if len(batch) >= events.STREAM_BATCH:
                continue  # more backlog waiting: read it before sleeping
        if once:
            return
        if await request.is_disconnected():
            return
        if time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
            yield b": keepalive\n\n"
            last_sent = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)


@router.get(
    "/events",
    summary="Your organization's events as Server-Sent Events, resumable with Last-Event-ID",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An SSE stream"}},
)
async def stream_events(
    request: Request,
    caller: Annotated[Caller, Depends(require("events:read"))],
    session: SessionDep,
    after: Annotated[
        str | None,
        Query(
            description="Send events after this position; Last-Event-ID, when present, wins",
            json_schema_extra={"pattern": _POSITION},
        ),
    ] = None,
    types: Annotated[
        str | None, Query(description="Comma-separated event types, e.g. kpi_report.accepted")
    ] = None,
    once: Annotated[bool, Query(description="Send what is there now and close")] = False,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", json_schema_extra={"pattern": _POSITION})
    ] = None,
) -> StreamingResponse:
    query, header = _cursor(after, "query.after"), _cursor(last_event_id, "header.last-event-id")
    cursor = header if header is not None else (query or 0)
    if header is not None or query is not None:
        # A reader resuming below what retention kept is told so (410), never handed a silent gap. On the
        # request's own session: on SQLite every transaction holds the write turn, so a second one would wait
        # for this one to end, which it does only when this function returns.
        await run_in_threadpool(retention.require_retained, session, org_id=caller.org_id, after=cursor)
    wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
    body = _stream(request, org_id=caller.org_id, after=cursor, types=wanted, once=once)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)
