"""``client.notifications`` and ``client.containment``: quality notifications and the plants' containment actions.

:class:`Notifications` wraps ``/v1/quality-notifications`` (scopes ``alerts:read``, ``alerts:write``): create an
INVESTIGATION (customer → supplier, about the supplier's lots) or an ALERT (supplier → customer, about your own
lots), list and read them, and move them through the Catena-X states: the sender sends, closes and cancels; the
receiver receives, acknowledges, accepts ("issue confirmed") or declines ("no issue found") and may forward an
investigation to its own supplier(s). Accept, decline and close need a reason.

:class:`Containment` wraps ``/v1/containment-actions``: the actions an alert opened at your organization's
plants, which you acknowledge naming an owner and close with a result (scope ``containment:write``). Another
organization's action is a :class:`~supplier_sdk.errors.NotFound`; a transition the state does not allow a
:class:`~supplier_sdk.errors.ConflictError`; the other party's transition a
:class:`~supplier_sdk.errors.PermissionDenied`. A transition whose target state is reached already (your own
earlier attempt went through unanswered) returns the current notification or action instead of raising
(:data:`TRANSITION_TARGETS`).

Example::

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        for investigation in hub.notifications.list(type="INVESTIGATION", role="receiver", status="SENT"):
            hub.notifications.receive(investigation.id)
            hub.notifications.acknowledge(investigation.id)
            hub.notifications.accept(investigation.id, reason="lot W-12 solder voids confirmed")
        for action in hub.containment.list(status="open"):
            hub.containment.acknowledge(action.id, owner="Jana Novak, plant quality")
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from protocol.models import containment as cwire
from protocol.models import notifications as wire
from supplier_sdk.errors import ConflictError

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

NOTIFICATIONS_PATH = "/v1/quality-notifications"
"""Where the hub keeps quality notifications.

Example:
    >>> NOTIFICATIONS_PATH
    '/v1/quality-notifications'
"""

ACTIONS_PATH = "/v1/containment-actions"
"""Where the hub keeps containment actions.

Example:
    >>> ACTIONS_PATH
    '/v1/containment-actions'
"""

TRANSITION_TARGETS: dict[str, wire.NotificationStatus] = {
    "send": wire.NotificationStatus.SENT,
    "receive": wire.NotificationStatus.RECEIVED,
    "acknowledge": wire.NotificationStatus.ACKNOWLEDGED,
    "accept": wire.NotificationStatus.ACCEPTED,
    "decline": wire.NotificationStatus.DECLINED,
    "close": wire.NotificationStatus.CLOSED,
    "cancel": wire.NotificationStatus.CANCELED,
}
"""The status each transition leads to. A transition the hub refuses as a conflict while the notification is
already in that status is taken as done (the hub keeps no Idempotency-Key for transitions, so a retry whose first
attempt went through unanswered meets the new state): the method returns the notification instead of raising.

Example:
    >>> TRANSITION_TARGETS["accept"].value
    'ACCEPTED'
"""

Role = Literal["sender", "receiver"]
"""Which side of a notification your organization is on, to filter lists.

Example:
    >>> Role.__args__
    ('sender', 'receiver')
"""


def _id(value: uuid.UUID | str) -> uuid.UUID:
    return uuid.UUID(str(value))


class Notifications:
    """The quality notifications of one client (``client.notifications``).

    Example::

        alert = hub.notifications.create(type="ALERT", title="Withstand voltage 38 V", severity="CRITICAL",
                                         affected_asset_ids=[lot_id], containment={"kind": "hold"})
        hub.notifications.send(alert.id, reason="found at final test")
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def create(
        self,
        *,
        type: wire.NotificationType | str,
        title: str,
        affected_asset_ids: Iterable[uuid.UUID | str],
        description: str = "",
        severity: wire.Severity | str = wire.Severity.MINOR,
        target_date: datetime | None = None,
        receiver_ids: Iterable[uuid.UUID | str] | None = None,
        containment: cwire.ContainmentRequest | dict[str, Any] | None = None,
        id: uuid.UUID | str | None = None,
    ) -> wire.QualityNotification:
        """Create an investigation or alert (status CREATED; :meth:`send` sends it).

        Args:
            type: ``INVESTIGATION`` (to your suppliers, about their lots) or ``ALERT`` (about your own lots).
            title, description, severity, target_date: as Catena-X has them.
            affected_asset_ids: hub asset ids (from a trace's nodes); a receiver is told only its own.
            receiver_ids: whom to send to; default the assets' makers (investigation) or customers (alert).
                Several receivers make a case with one child notification each.
            containment: for an alert, the action plants get on :meth:`send` (``kind``, ``due_date``).
            id: a client-chosen id, also the request's Idempotency-Key (a retry never creates a second one).

        Raises:
            InvalidRequest: an affected asset the receiver cannot know, a bad field (``fields`` names it).

        Example::

            case = hub.notifications.create(type="INVESTIGATION", title="Voids in solder joints",
                                            affected_asset_ids=[module_lot_id], severity="MAJOR")
        """
        body = wire.QualityNotificationCreate(
            id=None if id is None else _id(id),
            type=wire.NotificationType(type),
            title=title,
            description=description,
            severity=wire.Severity(severity),
            target_date=target_date,
            affected_asset_ids=[_id(item) for item in affected_asset_ids],
            receiver_ids=None if receiver_ids is None else [_id(item) for item in receiver_ids],
            containment=None if containment is None else cwire.ContainmentRequest.model_validate(containment),
        )
        answer = self._requester.request(
            "POST",
            NOTIFICATIONS_PATH,
            json=body.model_dump(mode="json", exclude_none=True),
            idempotency_key=None if id is None else str(body.id),
        )
        return wire.QualityNotification.model_validate(answer)

    def list(
        self,
        *,
        type: wire.NotificationType | str | None = None,
        status: wire.NotificationStatus | str | None = None,
        role: Role | None = None,
        page_size: int = 100,
    ) -> Iterator[wire.QualityNotification]:
        """The notifications your organization sent or received, newest pages fetched as you iterate.

        Example::

            waiting = [n for n in hub.notifications.list(role="receiver", status="SENT")]
        """
        params: dict[str, Any] = {
            "type": None if type is None else wire.NotificationType(type).value,
            "status": None if status is None else wire.NotificationStatus(status).value,
            "role": role,
        }
        for item in self._requester.pages(NOTIFICATIONS_PATH, params=params, page_size=page_size):
            yield wire.QualityNotification.model_validate(item)

    def get(self, notification_id: uuid.UUID | str) -> wire.QualityNotification:
        """One notification with its messages, a case's children and an alert's containment progress.

        Example::

            alert = hub.notifications.get(alert_id)
            print(alert.status, alert.containment.actions_closed if alert.containment else None)
        """
        answer = self._requester.request("GET", f"{NOTIFICATIONS_PATH}/{_id(notification_id)}")
        return wire.QualityNotification.model_validate(answer)

    def _move(
        self, notification_id: uuid.UUID | str, name: str, reason: str | None
    ) -> wire.QualityNotification:
        body = None if reason is None else wire.NotificationReason(reason=reason).model_dump(mode="json")
        return self._transition(notification_id, name, body)

    def _answer(self, notification_id: uuid.UUID | str, name: str, reason: str) -> wire.QualityNotification:
        body = wire.NotificationAnswer(reason=reason).model_dump(mode="json")
        return self._transition(notification_id, name, body)

    def _transition(
        self, notification_id: uuid.UUID | str, name: str, body: dict[str, Any] | None
    ) -> wire.QualityNotification:
        nid = _id(notification_id)
        try:
            answer = self._requester.request("POST", f"{NOTIFICATIONS_PATH}/{nid}/{name}", json=body)
        except ConflictError:
            # A retry whose first attempt went through but went unanswered meets the new state: that is done.
            current = self.get(nid)
            if current.status is not TRANSITION_TARGETS[name]:
                raise
            return current
        return wire.QualityNotification.model_validate(answer)

    def send(
        self, notification_id: uuid.UUID | str, *, reason: str | None = None
    ) -> wire.QualityNotification:
        """Send it (sender): CREATED → SENT. An alert places holds and opens containment actions now.

        Example::

            hub.notifications.send(alert.id, reason="withstand voltage 38 V instead of 50 V")
        """
        return self._move(notification_id, "send", reason)

    def receive(
        self, notification_id: uuid.UUID | str, *, reason: str | None = None
    ) -> wire.QualityNotification:
        """Confirm receipt (receiver): SENT → RECEIVED.

        Example::

            hub.notifications.receive(investigation.id)
        """
        return self._move(notification_id, "receive", reason)

    def acknowledge(
        self, notification_id: uuid.UUID | str, *, reason: str | None = None
    ) -> wire.QualityNotification:
        """Acknowledge (receiver): SENT or RECEIVED → ACKNOWLEDGED; the sender may no longer cancel.

        Example::

            hub.notifications.acknowledge(investigation.id, reason="analysis started")
        """
        return self._move(notification_id, "acknowledge", reason)

    def accept(self, notification_id: uuid.UUID | str, *, reason: str) -> wire.QualityNotification:
        """Accept, issue confirmed (receiver): ACKNOWLEDGED → ACCEPTED, with a reason.

        Example::

            hub.notifications.accept(investigation.id, reason="voids confirmed on lot W-12, 8D opened")
        """
        return self._answer(notification_id, "accept", reason)

    def decline(self, notification_id: uuid.UUID | str, *, reason: str) -> wire.QualityNotification:
        """Decline, no issue found (receiver): ACKNOWLEDGED → DECLINED, with a reason.

        Example::

            hub.notifications.decline(investigation.id, reason="X-ray of 50 retained samples: no voids")
        """
        return self._answer(notification_id, "decline", reason)

    def close(self, notification_id: uuid.UUID | str, *, reason: str) -> wire.QualityNotification:
        """Close (sender only), with a reason; an alert's holds are released.

        Example::

            hub.notifications.close(alert.id, reason="all affected stock sorted")
        """
        return self._answer(notification_id, "close", reason)

    def cancel(
        self, notification_id: uuid.UUID | str, *, reason: str | None = None
    ) -> wire.QualityNotification:
        """Withdraw (sender) before the receiver acknowledges; an alert's holds are released.

        Example::

            hub.notifications.cancel(alert.id, reason="raised on the wrong lot")
        """
        return self._move(notification_id, "cancel", reason)

    def forward(
        self,
        notification_id: uuid.UUID | str,
        *,
        affected_asset_ids: Iterable[uuid.UUID | str],
        receiver_ids: Iterable[uuid.UUID | str] | None = None,
        title: str | None = None,
        description: str | None = None,
        severity: wire.Severity | str | None = None,
        target_date: datetime | None = None,
        reason: str | None = None,
    ) -> wire.QualityNotification:
        """Forward a received investigation to your own supplier(s): a new investigation, sent at once.

        Its answer comes back into the original as a message, without naming the next-tier supplier.

        Example::

            forwarded = hub.notifications.forward(investigation.id, affected_asset_ids=[capacitor_lot_id],
                                                  reason="capacitor lot suspected")
        """
        body = wire.NotificationForward(
            affected_asset_ids=[_id(item) for item in affected_asset_ids],
            receiver_ids=None if receiver_ids is None else [_id(item) for item in receiver_ids],
            title=title,
            description=description,
            severity=None if severity is None else wire.Severity(severity),
            target_date=target_date,
            reason=reason,
        )
        answer = self._requester.request(
            "POST",
            f"{NOTIFICATIONS_PATH}/{_id(notification_id)}/forward",
            json=body.model_dump(mode="json", exclude_none=True),
        )
        return wire.QualityNotification.model_validate(answer)


class Containment:
    """The containment actions at your organization's plants (``client.containment``).

    Example::

        for action in hub.containment.list(status="open"):
            print(action.plant_code, action.kind, action.quantity, action.unit)
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(
        self,
        *,
        status: cwire.ContainmentStatus | str | None = None,
        notification_id: uuid.UUID | str | None = None,
        page_size: int = 100,
    ) -> Iterator[cwire.ContainmentAction]:
        """Your plants' actions, optionally by status or alert, fetched page by page as you iterate.

        Example::

            open_actions = list(hub.containment.list(status="open"))
        """
        params: dict[str, Any] = {
            "status": None if status is None else cwire.ContainmentStatus(status).value,
            "notification_id": None if notification_id is None else str(_id(notification_id)),
        }
        for item in self._requester.pages(ACTIONS_PATH, params=params, page_size=page_size):
            yield cwire.ContainmentAction.model_validate(item)

    def get(self, action_id: uuid.UUID | str) -> cwire.ContainmentAction:
        """One action with the inventory positions it holds.

        Example::

            for hold in hub.containment.get(action_id).holds or []:
                print(hold.local_id, hold.location, hold.quantity)
        """
        return cwire.ContainmentAction.model_validate(
            self._requester.request("GET", f"{ACTIONS_PATH}/{_id(action_id)}")
        )

    def acknowledge(self, action_id: uuid.UUID | str, *, owner: str) -> cwire.ContainmentAction:
        """Acknowledge the action, naming the person who owns it at the plant.

        Example::

            hub.containment.acknowledge(action.id, owner="Jana Novak, plant quality")
        """
        body = cwire.ContainmentAcknowledge(owner=owner).model_dump(mode="json")
        return self._transition(action_id, "acknowledge", body, cwire.ContainmentStatus.ACKNOWLEDGED)

    def close(self, action_id: uuid.UUID | str, *, result: str) -> cwire.ContainmentAction:
        """Close an acknowledged action with its result.

        Example::

            hub.containment.close(action.id, result="350 pcs sorted, 12 scrapped")
        """
        body = cwire.ContainmentClose(result=result).model_dump(mode="json")
        return self._transition(action_id, "close", body, cwire.ContainmentStatus.CLOSED)

    def _transition(
        self, action_id: uuid.UUID | str, name: str, body: dict[str, Any], target: cwire.ContainmentStatus
    ) -> cwire.ContainmentAction:
        aid = _id(action_id)
        try:
            answer = self._requester.request("POST", f"{ACTIONS_PATH}/{aid}/{name}", json=body)
        except ConflictError:
            current = self.get(aid)  # already in the state asked for (an unanswered first attempt): done
            if current.status is not target:
                raise
            return current
        return cwire.ContainmentAction.model_validate(answer)


__all__ = ["ACTIONS_PATH", "NOTIFICATIONS_PATH", "TRANSITION_TARGETS", "Containment", "Notifications", "Role"]
