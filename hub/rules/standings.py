"""Reading standings (with their history and reasons) and the notification inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.db import insert_or_ignore
from hub.errors import InvalidInput, NotFound
from hub.events import service as events
from hub.models import InboxNotification, PeriodOutcome, Standing, StandingChange
from hub.models.base import uuid7
from hub.pagination import keyset, page_of
from protocol.models import rules as wire
from protocol.models.common import OrgKind

INITIAL_TIER, INITIAL_STATUS = wire.Tier.A, wire.StandingStatus.APPROVED
"""Where a supplier starts at an OEM: the first tier, approved, until a rule says otherwise."""


def open_standing(
    session: Session, *, oem_id: uuid.UUID, supplier_id: uuid.UUID, now: datetime
) -> Standing | None:
    """Give the supplier its standing at the OEM as an agreement between them takes effect, so purchasing sees
    a good supplier as tier A from the first day, not only once a rule has acted. Returns the new standing, or
    ``None`` when they had one already (a later agreement keeps the standing earned under earlier ones)."""
    opened = insert_or_ignore(
        session,
        Standing,
        {
            "id": uuid7(),
            "oem_id": oem_id,
            "supplier_id": supplier_id,
            "tier": INITIAL_TIER.value,
            "status": INITIAL_STATUS.value,
            "updated_at": now,
        },
        conflict=["oem_id", "supplier_id"],
    )
    if not opened:
        return None
    standing = session.scalars(
        select(Standing).where(Standing.oem_id == oem_id, Standing.supplier_id == supplier_id)
    ).one()
    view = as_wire(standing).model_dump(mode="json", exclude={"history"})
    events.publish(
        session, type="standing.opened", subject_id=standing.id, views={oem_id: view, supplier_id: view}
    )
    return standing


def _visible(caller: Caller) -> ColumnElement[bool]:
    if caller.org_kind is OrgKind.OEM:
        return Standing.oem_id == caller.org_id
    if caller.org_kind is OrgKind.SUPPLIER:
        return Standing.supplier_id == caller.org_id
    return false()


def list_standings(
    session: Session, *, caller: Caller, cursor: str | None, limit: int
) -> tuple[list[Standing], str | None]:
    """An OEM's suppliers, or a supplier's standing at each OEM it supplies, in the order they were first
    judged: a standing's id never changes when it does, so pages stay exact while standings move."""
    query = keyset(select(Standing).where(_visible(caller)), Standing.id, cursor=cursor, limit=limit)
    return page_of(list(session.scalars(query)), limit, last_id=lambda standing: standing.id)


def get_standing(
    session: Session, *, caller: Caller, supplier_id: uuid.UUID, oem_id: uuid.UUID | None = None
) -> Standing:
    """One supplier's standing. An OEM asks about its supplier; a supplier about itself, at ``oem_id``
    (which may be left out while it supplies a single OEM with a standing)."""
    query = select(Standing).where(Standing.supplier_id == supplier_id, _visible(caller))
    if oem_id is not None:
        query = query.where(Standing.oem_id == oem_id)
    found = list(session.scalars(query.limit(2)))
    if not found:
        raise NotFound("standing not found")
    if len(found) > 1:
        raise InvalidInput("you have a standing at several OEMs: name one with oem_id", loc="query.oem_id")
    return found[0]


def history(session: Session, *, standing: Standing, limit: int = 100) -> list[StandingChange]:
    return list(
        session.scalars(
            select(StandingChange)
            .where(StandingChange.standing_id == standing.id)
            .order_by(StandingChange.id.desc())
            .limit(limit)
        )
    )


def last_changes(session: Session, *, standings: list[Standing]) -> dict[uuid.UUID, StandingChange]:
    """The newest change of each standing, in one query (an overview of hundreds of suppliers needs them all)."""
    if not standings:
        return {}
    newest = (
        select(func.max(StandingChange.id))
        .where(StandingChange.standing_id.in_([s.id for s in standings]))
        .group_by(StandingChange.standing_id)
    )
    rows = session.scalars(select(StandingChange).where(StandingChange.id.in_(newest.scalar_subquery())))
    return {row.standing_id: row for row in rows}


def as_wire(standing: Standing, changes: list[StandingChange] | None = None) -> wire.Standing:
    return wire.Standing(
        oem_id=standing.oem_id,
        supplier_id=standing.supplier_id,
        tier=wire.Tier(standing.tier),
        status=wire.StandingStatus(standing.status),
        updated_at=standing.updated_at,
        history=[
            wire.StandingChange(
                at=c.at,
                from_tier=wire.Tier(c.from_tier),
                to_tier=wire.Tier(c.to_tier),
                from_status=wire.StandingStatus(c.from_status),
                to_status=wire.StandingStatus(c.to_status),
                rule_id=c.rule_id,
                rule_version=c.rule_version,
                reason=c.reason,
                causes=c.causes,
            )
            for c in changes or []
        ],
    )


def missing_periods(session: Session, *, caller: Caller, since: datetime) -> dict[uuid.UUID, int]:
    """Per supplier, how many periods starting at or after ``since`` were due and never reported (the sweep
    marked them missing): for an OEM its suppliers, for a supplier itself."""
    if caller.org_kind is OrgKind.OEM:
        mine = PeriodOutcome.oem_id == caller.org_id
    elif caller.org_kind is OrgKind.SUPPLIER:
        mine = PeriodOutcome.supplier_id == caller.org_id
    else:
        return {}
    query = (
        select(PeriodOutcome.supplier_id, func.count())
        .where(mine, PeriodOutcome.missing.is_(True), PeriodOutcome.period_start >= since)
        .group_by(PeriodOutcome.supplier_id)
    )
    return {supplier: int(count) for supplier, count in session.execute(query).all()}


def notification_as_wire(row: InboxNotification) -> wire.InboxNotification:
    return wire.InboxNotification(
        id=row.id,
        organization_id=row.organization_id,
        role=wire.RecipientRole(row.role),
        kind=row.kind,
        title=row.title,
        body=row.body,
        created_at=row.created_at,
        done_at=row.done_at,
        done_by=row.done_by,
    )
