"""``POST /v1/genealogy:import``: the request body streams into the importer, which runs in a worker thread."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import anyio
import anyio.from_thread
from fastapi import APIRouter, Depends, Query, Request

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.config import Settings
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.genealogy import service
from protocol.models.genealogy import ImportReport, RecordType

router = APIRouter(prefix="/v1", tags=["genealogy"], responses=ERROR_RESPONSES)

Writer = Annotated[Caller, Depends(require("genealogy:write"))]

IMPORT_PATH = "/v1/genealogy:import"


def _blocking(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body, read chunk by chunk from the worker thread the import runs in."""

    async def chunk() -> bytes:
        return await stream.__anext__()

    while True:
        try:
            yield anyio.from_thread.run(chunk)
        except StopAsyncIteration:
            return


_RAW_TEXT = {"type": "string", "format": "binary"}
_NDJSON_EXAMPLE = (
    '{"type": "part_type", "manufacturer_part_id": "CAP-100", "name_at_manufacturer": "film capacitor"}\n'
    '{"type": "plant", "code": "BPNS0001", "name": "Plant Leipzig"}\n'
)
_CATENAX_BATCH_EXAMPLE = {
    "catenaXId": "urn:uuid:5f0d2a8e-1c3b-4d7e-9f60-7a8b9c0d1e2f",
    "localIdentifiers": [
        {"key": "manufacturerId", "value": "BPNL000000000001"},
        {"key": "batchId", "value": "C-2291"},
    ],
    "partTypeInformation": {"manufacturerPartId": "CAP-100", "nameAtManufacturer": "film capacitor"},
}


@router.post(
    "/genealogy:import",
    summary="Import part types, plants, lots, serial parts, links, shipments and inventory (NDJSON, CSV or "
    "Catena-X JSON), streaming; rejected rows are reported, the rest is kept",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                # Raw text, read row by row as it streams in: a row that does not parse is reported, not refused.
                "application/x-ndjson": {"schema": _RAW_TEXT, "example": _NDJSON_EXAMPLE},
                "text/csv": {"schema": _RAW_TEXT, "example": "code,name\nBPNS0001,Plant Leipzig\n"},
                "application/json": {
                    # Any JSON is taken: what is not a Catena-X object is reported as a rejected row.
                    "schema": {"description": "Catena-X items: an array of them, or one"},
                    "example": [_CATENAX_BATCH_EXAMPLE],
                },
            },
        }
    },
)
async def import_genealogy(
    request: Request,
    session: SessionDep,
    caller: Writer,
    type: Annotated[RecordType | None, Query(description="CSV only: the record type of every row")] = None,
) -> ImportReport:
    settings: Settings = request.app.state.settings
    format = service.format_of(request.headers.get("content-type"))
    chunks = _blocking(request.stream().__aiter__())
    return await anyio.to_thread.run_sync(
        lambda: service.import_genealogy(
            session,
            caller=caller,
            chunks=chunks,
            format=format,
            record_type=type,
            max_bytes=settings.genealogy_import_max_body_bytes,
        )
    )
