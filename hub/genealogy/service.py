"""Genealogy import as the API and the command line run it: one streaming import in the caller's transaction,
one audit entry with its counts, one event to the importing organization."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Literal

from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.errors import InvalidInput, PayloadTooLarge
from hub.events import service as events
from hub.genealogy.bulk import fewer_collections
from hub.genealogy.formats import catenax_records, csv_records, ndjson_records
from hub.genealogy.importer import BATCH_ROWS, Importer
from protocol.models.genealogy import ImportReport, RecordType

Format = Literal["ndjson", "csv", "catenax"]
CSV_TYPES = ("part_type", "plant", "batch", "serial_part", "link", "shipment", "inventory")

_MEDIA_TYPES: dict[str, Format] = {
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "text/csv": "csv",
    "application/json": "catenax",
}


def format_of(content_type: str | None) -> Format:
    """The import format a Content-Type names (parameters such as charset are ignored)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in _MEDIA_TYPES:
        raise InvalidInput(
            "Content-Type must be application/x-ndjson, text/csv or application/json (Catena-X)",
            loc="header.content-type",
        )
    return _MEDIA_TYPES[media]


def _limited(chunks: Iterable[bytes], limit: int) -> Iterable[bytes]:
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"import body exceeds {limit} bytes")
        yield chunk


def import_genealogy(
    session: Session,
    *,
    caller: Caller | None,
    chunks: Iterable[bytes],
    format: Format,
    record_type: RecordType | None = None,
    organization_id: uuid.UUID | None = None,
    max_bytes: int | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a stream of genealogy records, keeping what is valid and reporting the rest.

    ``caller`` is the API client (it imports for its own organization). Without one this is the operator's
    import: ``organization_id`` imports as that organization, ``None`` lets each record name its own."""
    if record_type is not None and format != "csv":
        raise InvalidInput("type is given only for a CSV import", loc="query.type")
    if record_type is not None and record_type not in CSV_TYPES:
        raise InvalidInput(f"type must be one of {', '.join(CSV_TYPES)}", loc="query.type")
    org = caller.org_id if caller is not None else organization_id
    if max_bytes is not None:
        chunks = _limited(chunks, max_bytes)
    if format == "ndjson":
        rows = ndjson_records(chunks)
    elif format == "csv":
        rows = csv_records(chunks, record_type=record_type)
    else:
        rows = catenax_records(chunks)
    importer = Importer(session, organization_id=org, format=format, batch_rows=batch_rows, progress=progress)
    with fewer_collections():
        importer.feed(rows)
        report = importer.finish()
    counts = {
        "format": format,
        "rows": report.rows,
        "accepted": report.accepted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "links_resolved": report.links_resolved,
    }
    subject = uuid.uuid4()
    if caller is not None:
        audit.record_for(
            session,
            caller,
            action="genealogy.import",
            subject_type="genealogy_import",
            subject_id=subject,
            data=counts,
        )
    else:
        audit.record(
            session,
            actor="cli:operator",
            actor_org_id=org,
            action="genealogy.import",
            subject_type="genealogy_import",
            subject_id=subject,
            data=counts,
        )
    recipients = {org} if org is not None else importer.touched
    if recipients and (report.accepted or report.updated):
        events.publish(
            session, type="genealogy.imported", subject_id=subject, views={o: counts for o in recipients}
        )
    session.flush()
    return report
