"""What the quality-notification pages work out from a form or a notification: the lots a person typed, the
field a validation error belongs to, the changes the caller's side may make, and the next tier's lots a received
investigation can be forwarded about (one trace level back, as the trace service discloses them)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from pydantic import ValidationError
from sqlalchemy.orm import Session

from hub.console.trace_pages import root_of
from hub.console.web import Viewer
from hub.errors import InvalidInput
from hub.notifications.states import OPEN_FOR_RECEIVER, RECEIVER, TRANSITIONS
from hub.trace import service as trace
from protocol.models import notifications as wire


def assets(session: Session, viewer: Viewer, lots: str) -> list[uuid.UUID]:
    """The lots as typed, one a line: hub ids, catenaXIds or the organization's own lot and serial numbers."""
    references = [line.strip() for line in lots.splitlines() if line.strip()]
    if not references:
        raise InvalidInput("lots: name at least one lot or serial part", loc="lots")
    try:
        roots = [root_of(reference, "batch") for reference in references]
    except ValidationError as exc:
        raise InvalidInput(f"lots: {exc.errors()[0]['msg']}", loc="lots") from exc
    return trace.resolve_roots(session, caller=viewer.caller, roots=roots)


def field_of(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    where = str(first["loc"][0]) if first["loc"] else "form"
    return ("lots" if where == "affected_asset_ids" else where), f"{where}: {first['msg']}"


def target(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(23, 59), tzinfo=UTC)
    except ValueError:
        raise InvalidInput("target_date: a date as YYYY-MM-DD", loc="target_date") from None


def steps(notification: wire.QualityNotification) -> list[str]:
    """The changes the caller's side may make from where the notification stands, in the machine's order."""
    return [
        name
        for name, step in TRANSITIONS.items()
        if step.party == notification.role and notification.status in step.sources
    ]


def forward_candidates(
    session: Session, viewer: Viewer, notification: wire.QualityNotification
) -> list[tuple[uuid.UUID, str]]:
    """The next tier's lots in the caller's lots of a received investigation: one level back, as the trace
    service discloses them (the direct suppliers' lots are named, anything further is not)."""
    if not forwardable(notification):
        return []
    result = trace.trace(
        session, caller=viewer.caller, roots=notification.affected_asset_ids, direction="backward", depth=1
    )
    named = {g.organization_id: g.name for g in result.by_organization}
    return [
        (
            node.asset_id,
            f"{node.local_id} · {node.manufacturer_part_id} · {named.get(node.organization_id, '')}",
        )
        for node in result.nodes
        if node.depth == 1 and node.organization_id != viewer.caller.org_id
    ]


def forwardable(notification: wire.QualityNotification) -> bool:
    return (
        notification.role == RECEIVER
        and notification.type is wire.NotificationType.INVESTIGATION
        and notification.status in OPEN_FOR_RECEIVER
    )
