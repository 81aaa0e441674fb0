"""Containment: an alert on lots puts every affected inventory position on hold and opens one action per plant.

``place`` runs when an ALERT is sent: the forward trace (hub.trace) finds every asset made from the alert's lots;
one ``INSERT … SELECT`` holds every inventory position of those assets, and a second opens one containment action
per plant holding them, addressed to the plant's organization, with the quantity held there. Nothing loops over
rows in Python, so a million-lot network takes a few statements (the ≤ 2 s target). ``release`` is one
``UPDATE``, run only when the alert is closed or cancelled.

A plant's organization acknowledges its action (naming its owner) and closes it with a result. It sees only its
own actions: another organization's is not there (404). The alert's parties see progress as counts.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Uuid,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.db import one_or_not_found
from hub.errors import Conflict
from hub.events import service as events
from hub.models import (
    Asset,
    ContainmentAction,
    Hold,
    InventoryPosition,
    NotificationAsset,
    Plant,
    QualityNotification,
)
from hub.models.base import utcnow
from hub.pagination import decode_cursor, page_of
from hub.trace import service as trace
from protocol.models import containment as wire
from protocol.models.containment import ContainmentKind, ContainmentStatus

SQLITE_CHUNK = 5000  # SQLite binds one parameter per id; PostgreSQL takes the whole list as one array
MAX_HOLDS_SHOWN = 1000
OPEN = ContainmentStatus.OPEN.value
ACKNOWLEDGED = ContainmentStatus.ACKNOWLEDGED.value
CLOSED = ContainmentStatus.CLOSED.value


def _new_id(dialect: str) -> ColumnElement[Any]:
    """A fresh random (version 4) UUID computed by the database for each inserted row.

    SQLite stores UUIDs as 32 hex digits and has no UUID function: random hex with the version nibble 4 and
    the RFC 9562 variant (8, 9, a or b), as PostgreSQL's ``gen_random_uuid()`` makes them.
    """
    if dialect == "postgresql":
        return func.gen_random_uuid()

    def random_hex(size: int) -> ColumnElement[str]:
        return func.hex(func.randomblob(size), type_=String)

    variant = func.substr("89ab", 1 + func.abs(func.random()) % 4, 1, type_=String)
    three_hex = func.substr(random_hex(2), 2, type_=String)
    return func.lower(random_hex(6) + "4" + three_hex + variant + three_hex + random_hex(6), type_=String)


def _position_filters(dialect: str, position_ids: Sequence[uuid.UUID]) -> list[ColumnElement[bool]]:
    if dialect == "postgresql":
        ids = bindparam("position_ids", value=list(position_ids), type_=postgresql.ARRAY(Uuid()))
        return [InventoryPosition.id == any_(ids)]
    return [
        InventoryPosition.id.in_(position_ids[start : start + SQLITE_CHUNK])
        for start in range(0, len(position_ids), SQLITE_CHUNK)
    ]


def place(session: Session, *, caller: Caller, alert: QualityNotification, now: datetime) -> int:
    """Hold every inventory position of every asset downstream of the alert's lots; one action per plant.

    Returns how many actions were opened. Each plant's organization hears of its action as an event."""
    dialect = session.get_bind().dialect.name
    roots = list(
        session.scalars(
            select(NotificationAsset.asset_id).where(NotificationAsset.notification_id == alert.id)
        )
    )
    affected = trace.affected_assets(session, roots=roots, direction="forward")
    asset_ids = set(affected.asset_ids) | set(roots)
    alert.affected_count = len(asset_ids)
    position_ids = sorted({position.position_id for position in affected.positions})
    for condition in _position_filters(dialect, position_ids):
        positions = select(
            _new_id(dialect),
            InventoryPosition.id,
            literal(alert.id, Uuid()),
            InventoryPosition.quantity,
            literal(now, Hold.placed_at.type),
        ).where(condition, InventoryPosition.quantity > 0)
        session.execute(
            insert(Hold).from_select(
                ["id", "inventory_position_id", "notification_id", "quantity", "placed_at"], positions
            )
        )
    unit = case(
        (
            func.min(InventoryPosition.unit) == func.max(InventoryPosition.unit),
            func.min(InventoryPosition.unit),
        ),
        else_=literal("mixed"),
    )
    per_plant = (
        select(
            _new_id(dialect),
            literal(alert.id, Uuid()),
            Plant.id,
            Plant.organization_id,
            literal(alert.containment_kind or ContainmentKind.HOLD.value),
            literal(OPEN),
            func.sum(Hold.quantity),
            unit,
            func.count(),
            literal(alert.containment_due_date, ContainmentAction.due_date.type),
            literal(now, ContainmentAction.created_at.type),
            literal(now, ContainmentAction.updated_at.type),
        )
        .select_from(Hold)
        .join(InventoryPosition, InventoryPosition.id == Hold.inventory_position_id)
        .join(Plant, Plant.id == InventoryPosition.plant_id)
        .where(Hold.notification_id == alert.id, Hold.released_at.is_(None))
        .group_by(Plant.id, Plant.organization_id)
    )
    columns = [
        "id",
        "notification_id",
        "plant_id",
        "organization_id",
        "kind",
        "status",
        "quantity",
        "unit",
        "positions",
        "due_date",
        "created_at",
        "updated_at",
    ]
    session.execute(insert(ContainmentAction).from_select(columns, per_plant))
    actions = _actions_with_plants(session, alert_id=alert.id)
    for action, plant in actions:
        _tell_plant_owner(session, action, plant=plant, alert=alert, event="opened")
    progress_now = progress(session, alert=alert)
    audit.record_for(
        session,
        caller,
        action="containment.placed",
        subject_type="quality_notification",
        subject_id=alert.id,
        data={
            "affected_assets": len(asset_ids),
            "actions": len(actions),
            "holds": progress_now.holds_active if progress_now else 0,
        },
    )
    return len(actions)


def _tell_plant_owner(
    session: Session, action: ContainmentAction, *, plant: Plant, alert: QualityNotification, event: str
) -> None:
    """The action's event for its plant's organization alone (placing and releasing are summed up for the
    alert's sender by the audit entry and its progress counts)."""
    view = action_as_wire(action, plant=plant, alert=alert).model_dump(mode="json")
    events.publish(
        session,
        type=f"containment_action.{event}",
        subject_id=action.id,
        views={action.organization_id: view},
    )


def release(
    session: Session, *, caller: Caller, alert: QualityNotification, reason: str, now: datetime
) -> int:
    """Release the alert's holds (one UPDATE) and close the actions still open; returns holds released."""
    if alert.affected_count is None:  # never sent: nothing was held
        return 0
    released = session.execute(
        update(Hold)
        .where(Hold.notification_id == alert.id, Hold.released_at.is_(None))
        .values(released_at=now, release_reason=reason)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(released, "rowcount", 0) or 0)
    unfinished = [
        (action, plant)
        for action, plant in _actions_with_plants(session, alert_id=alert.id)
        if action.status != CLOSED
    ]
    for action, plant in unfinished:
        action.status, action.closed_at, action.updated_at = CLOSED, now, now
        action.result = f"closed with the alert: {reason}"
        _tell_plant_owner(session, action, plant=plant, alert=alert, event="closed")
    audit.record_for(
        session,
        caller,
        action="containment.released",
        subject_type="quality_notification",
        subject_id=alert.id,
        data={"holds": count, "actions_closed": len(unfinished), "reason": reason},
    )
    return count


def progress(session: Session, *, alert: QualityNotification) -> wire.ContainmentProgress | None:
    """Counts and quantities only: the parties of an alert do not learn which third-party plants hold stock."""
    if alert.affected_count is None:
        return None
    by_status: dict[str, int] = defaultdict(int)
    for status, count in session.execute(
        select(ContainmentAction.status, func.count())
        .where(ContainmentAction.notification_id == alert.id)
        .group_by(ContainmentAction.status)
    ):
        by_status[status] = count
    held: list[wire.HeldQuantity] = []
    active = released = 0
    for unit, is_active, count, quantity in session.execute(
        select(InventoryPosition.unit, Hold.released_at.is_(None), func.count(), func.sum(Hold.quantity))
        .join(InventoryPosition, InventoryPosition.id == Hold.inventory_position_id)
        .where(Hold.notification_id == alert.id)
        .group_by(InventoryPosition.unit, Hold.released_at.is_(None))
        .order_by(InventoryPosition.unit)
    ):
        if is_active:
            active += count
            held.append(wire.HeldQuantity(unit=unit, quantity=Decimal(quantity).normalize()))
        else:
            released += count
    return wire.ContainmentProgress(
        kind=ContainmentKind(alert.containment_kind or ContainmentKind.HOLD.value),
        due_date=alert.containment_due_date,
        affected_assets=alert.affected_count,
        plants=sum(by_status.values()),
        actions_open=by_status[OPEN],
        actions_acknowledged=by_status[ACKNOWLEDGED],
        actions_closed=by_status[CLOSED],
        holds_active=active,
        holds_released=released,
        held=held,
    )


def _actions_with_plants(session: Session, *, alert_id: uuid.UUID) -> list[tuple[ContainmentAction, Plant]]:
    rows = session.execute(
        select(ContainmentAction, Plant)
        .join(Plant, Plant.id == ContainmentAction.plant_id)
        .where(ContainmentAction.notification_id == alert_id)
        .order_by(ContainmentAction.id)
    )
    return [(action, plant) for action, plant in rows]


def action_as_wire(
    action: ContainmentAction,
    *,
    plant: Plant,
    alert: QualityNotification,
    holds: list[wire.ContainmentHold] | None = None,
) -> wire.ContainmentAction:
    return wire.ContainmentAction(
        id=action.id,
        notification_id=action.notification_id,
        alert_title=alert.title,
        severity=alert.severity,
        plant_id=action.plant_id,
        plant_code=plant.code,
        kind=ContainmentKind(action.kind),
        status=ContainmentStatus(action.status),
        quantity=Decimal(action.quantity).normalize(),
        unit=action.unit,
        positions=action.positions,
        due_date=action.due_date,
        owner=action.owner,
        result=action.result,
        created_at=action.created_at,
        acknowledged_at=action.acknowledged_at,
        closed_at=action.closed_at,
        holds=holds,
    )


def list_actions(
    session: Session,
    *,
    caller: Caller,
    status: ContainmentStatus | None = None,
    notification_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[wire.ContainmentAction], str | None]:
    """The caller's own plants' actions, in id order, cursor-paginated."""
    query = (
        select(ContainmentAction, Plant, QualityNotification)
        .join(Plant, Plant.id == ContainmentAction.plant_id)
        .join(QualityNotification, QualityNotification.id == ContainmentAction.notification_id)
        .where(ContainmentAction.organization_id == caller.org_id)
    )
    if status is not None:
        query = query.where(ContainmentAction.status == status.value)
    if notification_id is not None:
        query = query.where(ContainmentAction.notification_id == notification_id)
    if cursor:
        query = query.where(ContainmentAction.id > decode_cursor(cursor))
    rows = list(session.execute(query.order_by(ContainmentAction.id).limit(limit + 1)).all())
    page, next_cursor = page_of(rows, limit, last_id=lambda row: row[0].id)
    return [action_as_wire(action, plant=plant, alert=alert) for action, plant, alert in page], next_cursor


def _own(
    session: Session, *, caller: Caller, action_id: uuid.UUID, for_update: bool = False
) -> tuple[ContainmentAction, Plant, QualityNotification]:
    query = select(ContainmentAction).where(
        ContainmentAction.id == action_id, ContainmentAction.organization_id == caller.org_id
    )
    action = one_or_not_found(session, query, missing="containment action not found", for_update=for_update)
    plant = session.get(Plant, action.plant_id)
    alert = session.get(QualityNotification, action.notification_id)
    assert plant is not None and alert is not None
    return action, plant, alert


def get_action(session: Session, *, caller: Caller, action_id: uuid.UUID) -> wire.ContainmentAction:
    """One of the caller's actions with the positions it holds (the first 1,000)."""
    action, plant, alert = _own(session, caller=caller, action_id=action_id)
    rows = session.execute(
        select(Hold, InventoryPosition, Asset.local_id)
        .join(InventoryPosition, InventoryPosition.id == Hold.inventory_position_id)
        .join(Asset, Asset.id == InventoryPosition.asset_id)
        .where(Hold.notification_id == action.notification_id, InventoryPosition.plant_id == action.plant_id)
        .order_by(InventoryPosition.location, Asset.local_id)
        .limit(MAX_HOLDS_SHOWN)
    )
    holds = [
        wire.ContainmentHold(
            inventory_position_id=position.id,
            asset_id=position.asset_id,
            local_id=local_id,
            location=position.location,
            quantity=Decimal(hold.quantity).normalize(),
            unit=position.unit,
            released_at=hold.released_at,
        )
        for hold, position, local_id in rows
    ]
    return action_as_wire(action, plant=plant, alert=alert, holds=holds)


def acknowledge(
    session: Session, *, caller: Caller, action_id: uuid.UUID, owner: str
) -> wire.ContainmentAction:
    """The plant's organization takes the action on: ``owner`` is the person responsible."""
    action, plant, alert = _own(session, caller=caller, action_id=action_id, for_update=True)
    if action.status != OPEN:
        raise Conflict(f"an {action.status} containment action cannot be acknowledged; only an open one")
    now = utcnow()
    action.status, action.owner, action.acknowledged_at, action.updated_at = ACKNOWLEDGED, owner, now, now
    return _changed(session, caller=caller, action=action, plant=plant, alert=alert, event="acknowledged")


def close(session: Session, *, caller: Caller, action_id: uuid.UUID, result: str) -> wire.ContainmentAction:
    """The plant's organization closes its acknowledged action with what it did and found."""
    action, plant, alert = _own(session, caller=caller, action_id=action_id, for_update=True)
    if action.status != ACKNOWLEDGED:
        raise Conflict(f"an {action.status} containment action cannot be closed; acknowledge it first")
    now = utcnow()
    action.status, action.result, action.closed_at, action.updated_at = CLOSED, result, now, now
    return _changed(session, caller=caller, action=action, plant=plant, alert=alert, event="closed")


def _changed(
    session: Session,
    *,
    caller: Caller,
    action: ContainmentAction,
    plant: Plant,
    alert: QualityNotification,
    event: str,
) -> wire.ContainmentAction:
    session.flush()
    audit.record_for(
        session,
        caller,
        action=f"containment_action.{event}",
        subject_type="containment_action",
        subject_id=action.id,
        data={"notification_id": str(alert.id), "status": action.status, "owner": action.owner},
    )
    view = action_as_wire(action, plant=plant, alert=alert)
    views: dict[uuid.UUID, dict[str, Any]] = {action.organization_id: view.model_dump(mode="json")}
    # The alert's sender follows progress as counts: which plant moved is not its to know.
    summary = progress(session, alert=alert)
    if alert.sender_id != action.organization_id and summary is not None:
        views[alert.sender_id] = {
            "notification_id": str(alert.id),
            "progress": summary.model_dump(mode="json"),
        }
    events.publish(session, type=f"containment_action.{event}", subject_id=action.id, views=views)
    return view
