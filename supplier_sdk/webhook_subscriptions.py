"""``client.webhooks``: your organization's webhook subscriptions and their deliveries (``/v1/webhooks``).

Create a subscription for a URL and the event types to send there; the hub answers its signing secret
(``whsec_…``) once, on creation and on each rotation: store it to check deliveries with
:func:`supplier_sdk.webhooks.verify`. Deleting a subscription disables it (nothing more is sent); its record
and deliveries stay. A dead delivery can be sent again (:meth:`Webhooks.replay`). Needs ``webhooks:admin``;
another organization's subscription is a :class:`~supplier_sdk.errors.NotFound`.

Example::

    made = hub.webhooks.create(url="https://mes.example/qualink", event_types=["standing.changed"])
    store_secret(made.secret)
    for delivery in hub.webhooks.deliveries(made.webhook.id, status="dead"):
        hub.webhooks.replay(made.webhook.id, delivery.id)
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from protocol.models import webhooks as wire

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

WEBHOOKS_PATH = "/v1/webhooks"
"""Where the hub keeps webhook subscriptions.

Example:
    >>> WEBHOOKS_PATH
    '/v1/webhooks'
"""


def _path(webhook_id: uuid.UUID | str, *rest: str) -> str:
    return "/".join([WEBHOOKS_PATH, str(uuid.UUID(str(webhook_id))), *rest])


class Webhooks:
    """The webhook subscriptions of one client's organization (``client.webhooks``).

    Example::

        for webhook in hub.webhooks.list():
            print(webhook.url, webhook.disabled_at)
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(self) -> builtins.list[wire.Webhook]:
        """Every subscription, disabled ones included.

        Example: ``urls = [w.url for w in hub.webhooks.list()]``
        """
        return [wire.Webhook.model_validate(item) for item in self._requester.pages(WEBHOOKS_PATH)]

    def get(self, webhook_id: uuid.UUID | str) -> wire.Webhook:
        """One subscription.

        Example: ``hub.webhooks.get(webhook_id).event_types``
        """
        return wire.Webhook.model_validate(self._requester.request("GET", _path(webhook_id)))

    def create(self, *, url: str, event_types: Iterable[str] = ()) -> wire.WebhookWithSecret:
        """Subscribe ``url`` to ``event_types`` (empty: every type); the answer carries the secret, once.

        Raises:
            InvalidRequest: a URL the hub does not send to (not https, or a private address).

        Example: ``secret = hub.webhooks.create(url="https://mes.example/hook").secret``
        """
        body = wire.WebhookCreate(url=url, event_types=list(event_types))
        answer = self._requester.request("POST", WEBHOOKS_PATH, json=body.model_dump(mode="json"))
        return wire.WebhookWithSecret.model_validate(answer)

    def delete(self, webhook_id: uuid.UUID | str) -> None:
        """Disable a subscription: nothing more is sent to it.

        Example: ``hub.webhooks.delete(webhook_id)``
        """
        self._requester.request("DELETE", _path(webhook_id))

    def rotate_secret(
        self, webhook_id: uuid.UUID | str, *, overlap_seconds: int = 86400
    ) -> wire.WebhookWithSecret:
        """A new secret, shown once; the previous one keeps signing for ``overlap_seconds``.

        Example: ``new_secret = hub.webhooks.rotate_secret(webhook_id, overlap_seconds=3600).secret``
        """
        body = wire.SecretRotate(overlap_seconds=overlap_seconds)
        answer = self._requester.request(
            "POST", _path(webhook_id, "rotate-secret"), json=body.model_dump(mode="json")
        )
        return wire.WebhookWithSecret.model_validate(answer)

    def deliveries(
        self, webhook_id: uuid.UUID | str, *, status: wire.DeliveryStatus | None = None
    ) -> builtins.list[wire.WebhookDelivery]:
        """A subscription's deliveries, newest first, optionally only ``pending``, ``delivered`` or ``dead``.

        Example: ``dead = hub.webhooks.deliveries(webhook_id, status="dead")``
        """
        items = self._requester.pages(_path(webhook_id, "deliveries"), params={"status": status})
        return [wire.WebhookDelivery.model_validate(item) for item in items]

    def replay(self, webhook_id: uuid.UUID | str, delivery_id: uuid.UUID | str) -> wire.WebhookDelivery:
        """Send a dead or delivered delivery again, from a fresh retry schedule.

        Example: ``hub.webhooks.replay(webhook_id, delivery.id).status == "pending"``
        """
        path = _path(webhook_id, "deliveries", str(uuid.UUID(str(delivery_id))), "replay")
        return wire.WebhookDelivery.model_validate(self._requester.request("POST", path))


__all__ = ["WEBHOOKS_PATH", "Webhooks"]
