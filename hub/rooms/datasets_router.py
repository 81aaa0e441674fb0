"""``/v1/rooms/{room_id}/datasets``: announcing, uploading, downloading and re-wrapping encrypted datasets.

The content routes stream: an upload is read from the socket piece by piece and written in ~1 MiB rows, a
download is sent row by row, so neither holds a dataset in memory. The generic request-size limit does not
apply to the upload (see :data:`CONTENT_PATH`); ``HUB_ROOM_DATASET_MAX_BYTES`` and the announced size do."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.config import Settings
from hub.db import SessionDep, StreamingSessionDep
from hub.errors import ERROR_RESPONSES, BadRequest
from hub.idempotency_header import IdempotentPost
from hub.models.base import utcnow
from hub.pagination_query import DEFAULT_LIMIT, CursorParam, LimitParam
from hub.rooms import datasets
from protocol.models import rooms as schemas
from protocol.models.errors import ErrorBody
from protocol.models.pages import Page

router = APIRouter(prefix="/v1/rooms/{room_id}/datasets", tags=["rooms"], responses=ERROR_RESPONSES)

Reader = Annotated[Caller, Depends(require("rooms:read"))]
Writer = Annotated[Caller, Depends(require("rooms:write"))]
# A download streams after the endpoint returns: its session must live until the response is sent.
StreamingSession = StreamingSessionDep
StreamingReader = Annotated[Caller, Depends(require("rooms:read", streaming=True))]

CONTENT_PATH = re.compile(r"^/v1/rooms/[^/]+/datasets/[^/]+/content$")
"""Upload paths whose body size the route bounds itself (the middleware's generic limit steps aside)."""


def _body(request: Request) -> Iterator[bytes]:
    """The request body, piece by piece, read from the event loop by this worker thread."""
    stream = request.stream()
    while True:
        try:
            piece = anyio.from_thread.run(stream.__anext__)
        except StopAsyncIteration:
            return
        except ClientDisconnect as exc:
            raise BadRequest("the client went away during the upload") from exc
        if piece:
            yield piece


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


@router.post(
    "",
    status_code=201,
    summary="Announce a dataset: signed manifest and a wrapped key for every accepted member; content follows",
)
def create_dataset(
    room_id: uuid.UUID,
    body: schemas.DatasetCreate,
    request: Request,
    session: SessionDep,
    caller: Writer,
    once: IdempotentPost,
) -> schemas.Dataset:
    settings: Settings = request.app.state.settings
    dataset = once(
        session,
        caller,
        body,
        create=lambda: datasets.create_dataset(
            session,
            caller=caller,
            room_id=room_id,
            data=body,
            max_bytes=settings.room_dataset_max_bytes,
            now=utcnow(),
        ),
        replay=lambda dataset_id: datasets.get_dataset(
            session, caller=caller, room_id=room_id, dataset_id=dataset_id
        ),
    )
    return datasets.datasets_as_wire(session, [dataset], org_id=caller.org_id)[0]


@router.get(
    "",
    summary="The room's datasets, each with the key wrapped for your organization, in id order, cursor-paginated",
)
def list_datasets(
    room_id: uuid.UUID,
    session: SessionDep,
    caller: Reader,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[schemas.Dataset]:
    rows, next_cursor = datasets.list_datasets(
        session, caller=caller, room_id=room_id, cursor=cursor, limit=limit
    )
    return Page[schemas.Dataset](
        items=datasets.datasets_as_wire(session, rows, org_id=caller.org_id), next_cursor=next_cursor
    )


@router.get(
    "/{dataset_id}", summary="A dataset's metadata, manifest signature and your organization's wrapped key"
)
def get_dataset(
    room_id: uuid.UUID, dataset_id: uuid.UUID, session: SessionDep, caller: Reader
) -> schemas.Dataset:
    dataset = datasets.get_dataset(session, caller=caller, room_id=room_id, dataset_id=dataset_id)
    return datasets.datasets_as_wire(session, [dataset], org_id=caller.org_id)[0]


@router.put(
    "/{dataset_id}/content",
    summary="Upload the ciphertext (raw body, streamed); size and SHA-256 must match the announcement",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "(the AES-256-GCM ciphertext the SDK made, ciphertext_size bytes)",
                }
            }
        }
    },
)
def upload_content(
    room_id: uuid.UUID, dataset_id: uuid.UUID, request: Request, session: SessionDep, caller: Writer
) -> schemas.Dataset:
    dataset = datasets.upload_content(
        session,
        caller=caller,
        room_id=room_id,
        dataset_id=dataset_id,
        pieces=_body(request),
        declared_size=_content_length(request),
        now=utcnow(),
    )
    return datasets.datasets_as_wire(session, [dataset], org_id=caller.org_id)[0]


@router.get(
    "/{dataset_id}/content",
    summary="Download the ciphertext, streamed; decrypt it with your wrapped key in the SDK",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        410: {"model": ErrorBody, "description": "DatasetShredded: the room closed and its data was deleted"},
    },
)
def download_content(
    room_id: uuid.UUID, dataset_id: uuid.UUID, session: StreamingSession, caller: StreamingReader
) -> StreamingResponse:
    dataset, rows = datasets.open_content(session, caller=caller, room_id=room_id, dataset_id=dataset_id)
    headers = {
        "content-length": str(dataset.ciphertext_size),
        "x-ciphertext-sha256": dataset.ciphertext_sha256,
    }
    return StreamingResponse(rows, media_type="application/octet-stream", headers=headers)


@router.post(
    "/{dataset_id}/wrapped-keys",
    summary="Add the data key wrapped for members that joined after the upload (a member that holds it)",
)
def add_wrapped_keys(
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    body: schemas.WrappedKeysAdd,
    session: SessionDep,
    caller: Writer,
) -> schemas.Dataset:
    dataset = datasets.add_wrapped_keys(
        session, caller=caller, room_id=room_id, dataset_id=dataset_id, data=body, now=utcnow()
    )
    return datasets.datasets_as_wire(session, [dataset], org_id=caller.org_id)[0]
