"""Quality notifications after Catena-X (Trace-X): investigations and alerts between organizations.

An **INVESTIGATION** goes from a customer to a supplier about the supplier's lots it suspects; an **ALERT** goes
from a supplier to its customers about its own lots. States (Catena-X), and who moves them:

    CREATED ──send (sender)──▶ SENT ──receive──▶ RECEIVED ──acknowledge──▶ ACKNOWLEDGED ──accept──▶ ACCEPTED
       │                        │                   │                           │   └──decline──▶ DECLINED
       └──cancel (sender)       └─acknowledge───────┴───────────────────────────┘
    SENT, RECEIVED, ACKNOWLEDGED, ACCEPTED, DECLINED ──close (sender)──▶ CLOSED
    CREATED, SENT, RECEIVED ──cancel (sender)──▶ CANCELED

The receiver receives, acknowledges, accepts and declines; the sender sends, closes and cancels (only the sender
closes). Catena-X cancels only drafts; here the sender may also withdraw an alert sent by mistake until the
receiver acknowledges it, which releases its holds. Accept ("issue confirmed"), decline ("no issue found") and close
need a reason; every change writes a :class:`NotificationMessage` with it. Texts are at most 1,000 characters.

Beyond Catena-X: a notification to several receivers is a **case**, a parent (no receiver of its own) with one
child per receiver; the sender sends, closes or cancels the case, and each receiver answers its child. A receiver
**forwards** an investigation to its own supplier (``POST .../{id}/forward``): the new investigation's answer comes
back into the original as a message. A **target date** that passes with no answer escalates the notification: its
severity goes up one step and both parties hear of it.

Errors: a client-chosen ``id`` already used is 409; an affected asset the receiver cannot know is 422.

Example:
    >>> body = QualityNotificationCreate(type="ALERT", title="Capacitor lot C-77: low withstand voltage",
    ...     severity="CRITICAL", affected_asset_ids=["0190b0a8-0000-7000-8000-000000000001"])
    >>> body.type.value, body.severity.value
    ('ALERT', 'CRITICAL')
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from protocol.models.common import WireModel, WireTime
from protocol.models.containment import ContainmentProgress, ContainmentRequest

MAX_TEXT_LENGTH = 1000
"""The longest free text (description, reason) a notification carries (Catena-X: 1,000 characters).

Example:
    >>> MAX_TEXT_LENGTH
    1000
"""

MAX_AFFECTED_ASSETS = 1000
"""The most assets one notification may name.

Example:
    >>> MAX_AFFECTED_ASSETS
    1000
"""


class NotificationType(StrEnum):
    """INVESTIGATION (customer → supplier, about the supplier's parts) or ALERT (supplier → customer, own parts).

    Example:
        >>> NotificationType("ALERT") is NotificationType.ALERT
        True
    """

    INVESTIGATION = "INVESTIGATION"
    ALERT = "ALERT"


class NotificationStatus(StrEnum):
    """Catena-X quality-notification states.

    Example:
        >>> NotificationStatus.ACKNOWLEDGED.value
        'ACKNOWLEDGED'
    """

    CREATED = "CREATED"
    SENT = "SENT"
    RECEIVED = "RECEIVED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    CLOSED = "CLOSED"
    CANCELED = "CANCELED"


class Severity(StrEnum):
    """How bad the issue is, in Catena-X's four steps; escalation raises it one step.

    Example:
        >>> Severity("LIFE-THREATENING").name
        'LIFE_THREATENING'
    """

    MINOR = "MINOR"
    MAJOR = "MAJOR"
    CRITICAL = "CRITICAL"
    LIFE_THREATENING = "LIFE-THREATENING"


class QualityNotificationCreate(WireModel):
    """A new notification (status CREATED until the sender sends it).

    Args:
        id: a client-chosen id (optional); one already used is refused with 409.
        type: INVESTIGATION or ALERT.
        title, description: what it is about (description ≤ 1,000 characters).
        severity: MINOR, MAJOR, CRITICAL or LIFE-THREATENING.
        target_date: when an answer is expected; passing it escalates.
        affected_asset_ids: the lots or serial parts concerned. An INVESTIGATION names supplier lots the sender
            received or built in; an ALERT names the sender's own lots.
        receiver_ids: the receivers. Default: the lots' manufacturers (INVESTIGATION) or the direct customers that
            received the lots (ALERT). Several receivers make a case with one child notification each.
        containment: for an ALERT, what every affected plant is asked to do once it is sent.

    Example:
        >>> QualityNotificationCreate(type="INVESTIGATION", title="Field returns: leaking seal",
        ...     affected_asset_ids=["0190b0a8-0000-7000-8000-000000000002"]).severity.value
        'MINOR'
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "ALERT",
                    "title": "Capacitor lot C-2291: leakage above 38 V",
                    "description": "Leakage current above specification in incoming inspection.",
                    "severity": "CRITICAL",
                    "affected_asset_ids": ["7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098"],
                    "containment": {"kind": "hold"},
                }
            ]
        }
    )

    id: UUID | None = None
    type: NotificationType
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=MAX_TEXT_LENGTH)
    severity: Severity = Severity.MINOR
    target_date: WireTime | None = None
    affected_asset_ids: list[UUID] = Field(min_length=1, max_length=MAX_AFFECTED_ASSETS)
    receiver_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=100)
    containment: ContainmentRequest | None = None

    @model_validator(mode="after")
    def _containment_only_for_alerts(self) -> QualityNotificationCreate:
        if self.containment is not None and self.type is not NotificationType.ALERT:
            raise ValueError("containment: only an ALERT asks plants for containment")
        if len(set(self.affected_asset_ids)) != len(self.affected_asset_ids):
            raise ValueError("affected_asset_ids: an asset is named twice")
        return self


class NotificationReason(WireModel):
    """The reason given with a state change (send, receive, acknowledge, cancel: optional).

    Example:
        >>> NotificationReason(reason="Received, routing to incoming inspection").reason[:8]
        'Received'
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "field failures at three dealers"}]})

    reason: str | None = Field(default=None, max_length=MAX_TEXT_LENGTH)


class NotificationAnswer(WireModel):
    """The reason that accepting, declining and closing require.

    Example:
        >>> NotificationAnswer(reason="Confirmed: dielectric thinner than specified").reason[:9]
        'Confirmed'
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "confirmed: the lot was built with the wrong dielectric"}]}
    )

    reason: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)


class NotificationForward(WireModel):
    """A receiver forwards an investigation to its own supplier(s): a new investigation, sent at once.

    Args:
        affected_asset_ids: the next tier's lots the forwarder suspects (ones it received or built in).
        receiver_ids: the next-tier suppliers (default: those lots' manufacturers).
        title, description, severity, target_date: default to the original's.
        reason: why it is forwarded (recorded on the original).

    Example:
        >>> NotificationForward(affected_asset_ids=["0190b0a8-0000-7000-8000-000000000003"]).title is None
        True
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "affected_asset_ids": ["7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098"],
                    "receiver_ids": ["a4b5c6d7-e8f9-4a0b-9c1d-2e3f4a5b6c7d"],
                    "reason": "the motor comes from our sub-supplier",
                }
            ]
        }
    )

    affected_asset_ids: list[UUID] = Field(min_length=1, max_length=MAX_AFFECTED_ASSETS)
    receiver_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=100)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=MAX_TEXT_LENGTH)
    severity: Severity | None = None
    target_date: WireTime | None = None
    reason: str | None = Field(default=None, max_length=MAX_TEXT_LENGTH)

    @model_validator(mode="after")
    def _assets_once(self) -> NotificationForward:
        if len(set(self.affected_asset_ids)) != len(self.affected_asset_ids):
            raise ValueError("affected_asset_ids: an asset is named twice")
        return self


class NotificationMessage(WireModel):
    """One entry of a notification's history: a state change, a forward, an answer from the next tier or an
    escalation, with its reason.

    Args:
        event: created, sent, received, acknowledged, accepted, declined, closed, canceled, forwarded, answered
            or escalated.
        status: the notification's status after it.
        author_org_id: the organization that made the change (``None``: the hub, e.g. an escalation).

    Example:
        >>> NotificationMessage.model_fields["event"].annotation
        <class 'str'>
    """

    id: UUID
    event: str
    status: NotificationStatus
    author_org_id: UUID | None
    reason: str | None
    created_at: datetime


class CaseChild(WireModel):
    """One receiver's child notification of a case, as the case's sender sees it.

    Example:
        >>> CaseChild.model_fields["status"].annotation.__name__
        'NotificationStatus'
    """

    id: UUID
    receiver_id: UUID
    status: NotificationStatus
    severity: Severity


class QualityNotification(WireModel):
    """A notification as one of its parties sees it.

    Args:
        role: ``sender`` or ``receiver``: which party the caller is.
        receiver_id: ``None`` for a case (its children have the receivers).
        parent_id: the case this notification belongs to (shown to the sender only).
        forwarded_from_id: the investigation this one forwards (shown to its sender only).
        sent_at: when it was sent (the receiver sees it from then on, also once cancelled).
        affected_asset_ids: the assets concerned (for a case's child: those of its receiver).
        messages: the history, oldest first.
        children: a case's child notifications (sender only).
        containment: an ALERT's containment progress once sent (counts only).

    Example:
        >>> QualityNotification.model_fields["role"].annotation
        <class 'str'>
    """

    id: UUID
    type: NotificationType
    status: NotificationStatus
    severity: Severity
    title: str
    description: str
    role: str
    sender_id: UUID
    receiver_id: UUID | None
    parent_id: UUID | None
    forwarded_from_id: UUID | None
    target_date: datetime | None
    sent_at: datetime | None = None
    escalated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    affected_asset_ids: list[UUID]
    messages: list[NotificationMessage] = Field(default_factory=list)
    children: list[CaseChild] | None = None
    containment: ContainmentProgress | None = None


__all__ = [
    "MAX_AFFECTED_ASSETS",
    "MAX_TEXT_LENGTH",
    "CaseChild",
    "NotificationAnswer",
    "NotificationForward",
    "NotificationMessage",
    "NotificationReason",
    "NotificationStatus",
    "NotificationType",
    "QualityNotification",
    "QualityNotificationCreate",
    "Severity",
]
