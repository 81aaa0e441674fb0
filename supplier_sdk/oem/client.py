""":class:`OemClient`: the hub API as an OEM's quality and purchasing systems use it, typed end to end.

It is a set of resource objects on one :class:`~supplier_sdk.client.Client`, the SDK's requester: the same
``private_key_jwt`` token handling, retries with capped jittered backoff, ``Idempotency-Key`` on every POST
and error classes (:mod:`supplier_sdk.errors`), so an OEM and a supplier meet the same behaviour and the same
exceptions, and there is no second HTTP stack. Resources the supplier side already has (rooms, webhooks,
notifications, containment, the event stream) are the very same objects; what only an OEM does (propose
agreements, write rules, read its suppliers' reports, standings and proofs) lives in this package. Every list
is a :class:`~supplier_sdk.oem.listing.Listing` (iterate it or ``.all()``: every page by cursor), every answer a
``protocol`` wire model.

Example::

    from supplier_sdk.oem import OemClient

    with OemClient(base_url="https://hub.example", client_id="qlc_…", private_key=key) as oem:
        agreement = oem.agreements.propose(terms)
        rule = oem.rules.create(oem.rules.templates()[0])
        oem.rules.activate(rule.id)
        for report in oem.kpi_reports.list(agreement_id=agreement.id):
            if report.has_proof:
                oem.proofs.verify_offline(report)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from protocol.models import notifications as wire
from protocol.models.trace import TraceResult
from supplier_sdk.client import Client
from supplier_sdk.events import StreamEvent
from supplier_sdk.notifications import Containment, Notifications
from supplier_sdk.oem.agreements import Agreements
from supplier_sdk.oem.reports import KpiReports, Proofs
from supplier_sdk.oem.rules import Rules
from supplier_sdk.oem.standings import SupplierStandings
from supplier_sdk.rooms.client import Rooms
from supplier_sdk.trace import RootLike, run_trace
from supplier_sdk.webhook_subscriptions import Webhooks


class Trace:
    """Lot genealogy from the OEM's side (``oem.trace``): what a lot went into, and what went into it.

    Example::

        affected = oem.trace.forward(["CAP-L00012345"])
        print(affected.answer)
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def forward(
        self, roots: Iterable[RootLike], *, depth: int | None = None, as_of: datetime | None = None
    ) -> TraceResult:
        """What contains the roots: lots, products, vehicle models, plants and inventory downstream.

        Example: ``oem.trace.forward(["CAP-L00012345"], depth=5).nodes``
        """
        return run_trace(self._client, roots, direction="forward", depth=depth, as_of=as_of)

    def backward(
        self, roots: Iterable[RootLike], *, depth: int | None = None, as_of: datetime | None = None
    ) -> TraceResult:
        """What went into the roots: the supplier lots upstream.

        Example: ``oem.trace.backward(["VIN-WAUZZZ8V5KA000001"]).nodes``
        """
        return run_trace(self._client, roots, direction="backward", depth=depth, as_of=as_of)


class QualityNotifications(Notifications):
    """Quality notifications with the OEM's one-step raise (``oem.notifications``); every transition of
    :class:`~supplier_sdk.notifications.Notifications` (send, close, cancel, …) is there too.

    Example::

        case = oem.notifications.raise_notification(type="INVESTIGATION", title="Voids in solder joints",
                                                    affected_asset_ids=[lot_id], severity="MAJOR")
    """

    def raise_notification(self, **fields: Any) -> wire.QualityNotification:
        """Create a notification and send it at once (CREATED → SENT); ``fields`` as
        :meth:`~supplier_sdk.notifications.Notifications.create` takes them.

        Retried safely: pass ``id=`` to make the create idempotent, and a send that already went through is
        answered with the notification as it is.

        Example: ``oem.notifications.raise_notification(type="ALERT", title="Withstand voltage", affected_asset_ids=[lot])``
        """
        made = self.create(**fields)
        return self.send(made.id)


class OemClient:
    """A connection to the Qualink hub for one API client of an OEM organization.

    Args:
        client: a :class:`~supplier_sdk.client.Client` to use (its connection is then yours to close);
            otherwise one is made from ``options``: ``base_url``, ``client_id``, ``private_key`` and the rest of
            :class:`~supplier_sdk.client.Client`'s keyword arguments (retries, transport, timeout, …).

    Use it as a context manager, or call :meth:`close`.

    Example::

        with OemClient(base_url="https://hub.example", client_id="qlc_…", private_key=key) as oem:
            for standing in oem.standings.list():
                print(standing.supplier_id, standing.tier)
    """

    def __init__(self, *, client: Client | None = None, **options: Any) -> None:
        if client is not None and options:
            raise TypeError("give either client or the Client's options, not both")
        self._owned = client is None
        self.client = client if client is not None else Client(**options)
        self.agreements = Agreements(self.client)
        self.rules = Rules(self.client)
        self.standings = SupplierStandings(self.client)
        self.kpi_reports = KpiReports(self.client)
        self.proofs = Proofs(self.client)
        self.trace = Trace(self.client)
        self.notifications = QualityNotifications(self.client)
        self.containment = Containment(self.client)
        self.webhooks = Webhooks(self.client)

    def __enter__(self) -> OemClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection, if this client made it.

        Example: ``oem.close()``
        """
        if self._owned:
            self.client.close()

    @property
    def rooms(self) -> Rooms:
        """Joint investigation rooms (create with ``open``, ``invite``, ``list``); datasets need the
        requester's ``encryption_key``.

        Example: ``room = oem.rooms.open(title="Compressor noise", expires_at=in_30_days)``
        """
        return self.client.rooms

    def events(
        self, *, after: int | None = None, types: list[str] | None = None, once: bool = False
    ) -> Iterator[StreamEvent]:
        """The organization's event stream, oldest first, resumed after position ``after``; reconnects on
        its own (:meth:`supplier_sdk.client.Client.events`). Needs ``events:read``.

        Example::

            for event in oem.events(after=load_position(), types=["standing.changed"]):
                save_position(event.position)
        """
        return self.client.events(after=after, types=types, once=once)


__all__ = ["OemClient", "QualityNotifications", "Trace"]
