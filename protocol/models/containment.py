"""Containment: what an alert on lots does at every plant that holds affected stock.

Sending an ALERT runs a forward trace from its lots, places a hold on every affected inventory position and opens
one :class:`ContainmentAction` per affected plant, addressed to the organization that runs the plant. That
organization acknowledges the action (naming the person who owns it) and closes it with a result. Holds are
released only when the alert is closed or cancelled.

Minimal disclosure: a plant's organization sees its own actions; the alert's sender and its direct customers see
:class:`ContainmentProgress` (counts and quantities), never which third-party plants hold the stock.

Example:
    >>> ContainmentRequest(kind="sort").kind.value
    'sort'
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import ConfigDict, Field

from protocol.models.common import ComputedDecimal, WireModel, WireTime

MAX_RESULT_LENGTH = 1000
"""The longest free text (an action's result), as Catena-X limits notification texts.

Example:
    >>> MAX_RESULT_LENGTH
    1000
"""


class ContainmentKind(StrEnum):
    """What a plant is asked to do with the affected stock it holds.

    Example:
        >>> [kind.value for kind in ContainmentKind]
        ['hold', 'sort', 'rework', 'scrap', 'stop_shipment']
    """

    HOLD = "hold"
    SORT = "sort"
    REWORK = "rework"
    SCRAP = "scrap"
    STOP_SHIPMENT = "stop_shipment"


class ContainmentStatus(StrEnum):
    """Where a containment action stands: opened by the alert, acknowledged by the plant, closed with a result.

    Example:
        >>> ContainmentStatus.OPEN.value
        'open'
    """

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class ContainmentRequest(WireModel):
    """What an alert asks of every affected plant: the kind of action and when it is due.

    Args:
        kind: the action each affected plant takes (default ``hold``).
        due_date: when the actions are due (default: the alert's target date).

    Example:
        >>> ContainmentRequest().kind.value
        'hold'
    """

    kind: ContainmentKind = ContainmentKind.HOLD
    due_date: WireTime | None = None


class ContainmentAcknowledge(WireModel):
    """A plant's acknowledgement of its action: the person who owns it from now on.

    Example:
        >>> ContainmentAcknowledge(owner="J. Weber, quality lead plant 2").owner
        'J. Weber, quality lead plant 2'
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"owner": "Plant Leipzig, incoming quality gate"}]}
    )

    owner: str = Field(min_length=1, max_length=200)


class ContainmentClose(WireModel):
    """How a plant closes its action: what it did and found (≤ 1,000 characters).

    Example:
        >>> ContainmentClose(result="412 pcs sorted, 3 rejected and scrapped").result[:3]
        '412'
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"result": "412 parts sorted, 9 rejected and scrapped; hold released"}]
        }
    )

    result: str = Field(min_length=1, max_length=MAX_RESULT_LENGTH)


class HeldQuantity(WireModel):
    """A quantity on hold, in one unit.

    Example:
        >>> HeldQuantity(unit="pcs", quantity="1200").model_dump(mode="json")
        {'unit': 'pcs', 'quantity': '1200'}
    """

    unit: str
    quantity: ComputedDecimal


class ContainmentHold(WireModel):
    """One held inventory position of a plant, as its own organization sees it in the action.

    Example:
        >>> ContainmentHold.model_fields["location"].annotation
        <class 'str'>
    """

    inventory_position_id: UUID
    asset_id: UUID
    local_id: str
    location: str
    quantity: ComputedDecimal
    unit: str
    released_at: datetime | None = None


class ContainmentAction(WireModel):
    """One plant's containment action, as the organization running the plant sees it.

    Args:
        id: the action's id.
        notification_id: the alert that opened it.
        alert_title: the alert's title, so the plant knows what it is about.
        severity: the alert's severity (MINOR … LIFE-THREATENING).
        plant_id: the plant holding affected stock; plant_code its site id.
        kind: what the plant is asked to do.
        status: open, acknowledged or closed.
        quantity: how much is held there (``unit``: the positions' unit, ``mixed`` if they differ).
        positions: how many inventory positions are held there.
        due_date: when the action is due.
        owner: the person who owns the action (set on acknowledgement).
        result: what the plant did (set on closing).
        holds: the held positions (only when one action is read).

    Example:
        >>> ContainmentAction.model_fields["status"].annotation.__name__
        'ContainmentStatus'
    """

    id: UUID
    notification_id: UUID
    alert_title: str
    severity: str
    plant_id: UUID
    plant_code: str
    kind: ContainmentKind
    status: ContainmentStatus
    quantity: ComputedDecimal
    unit: str
    positions: int
    due_date: datetime | None
    owner: str | None
    result: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    holds: list[ContainmentHold] | None = None


class ContainmentProgress(WireModel):
    """How far containment of an alert has come, in counts and quantities (no plant identities).

    Args:
        kind: the action asked of every plant; due_date: when it is due.
        affected_assets: how many assets (lots, products, vehicles) the forward trace found, the alert's own
            lots included.
        plants: how many plants hold affected stock.
        actions_open, actions_acknowledged, actions_closed: the actions by status.
        holds_active, holds_released: held positions still blocked, and released.
        held: the quantity on hold per unit (active holds only).

    Example:
        >>> ContainmentProgress(kind="hold", due_date=None, affected_assets=3, plants=1, actions_open=1,
        ...     actions_acknowledged=0, actions_closed=0, holds_active=2, holds_released=0,
        ...     held=[{"unit": "pcs", "quantity": "40"}]).held[0].quantity
        Decimal('40')
    """

    kind: ContainmentKind
    due_date: datetime | None
    affected_assets: int
    plants: int
    actions_open: int
    actions_acknowledged: int
    actions_closed: int
    holds_active: int
    holds_released: int
    held: list[HeldQuantity]


__all__ = [
    "MAX_RESULT_LENGTH",
    "ContainmentAcknowledge",
    "ContainmentAction",
    "ContainmentClose",
    "ContainmentHold",
    "ContainmentKind",
    "ContainmentProgress",
    "ContainmentRequest",
    "ContainmentStatus",
    "HeldQuantity",
]
