""":class:`OemClient`: the hub API as an OEM's quality and purchasing systems use it, typed end to end.

It is a set of resource objects on one :class:`~supplier_sdk.requester.Requester`, the SDK's requester: the
same ``private_key_jwt`` token handling, retries with capped jittered backoff, ``Idempotency-Key`` on every
POST and error classes (:mod:`supplier_sdk.errors`), so an OEM and a supplier meet the same behaviour and the
same exceptions, and there is no second HTTP stack. Resources the supplier side already has (rooms, webhooks,
notifications, containment, trace, the event stream) are the very same classes; what only an OEM does (propose
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

from typing import Any, Protocol

from protocol.models import notifications as wire
from supplier_sdk.events import Events
from supplier_sdk.notifications import Containment, Notifications
from supplier_sdk.oem.agreements import Agreements
from supplier_sdk.oem.reports import KpiReports, Proofs
from supplier_sdk.oem.rules import Rules
from supplier_sdk.oem.standings import SupplierStandings
from supplier_sdk.requester import Requester
from supplier_sdk.rooms.client import Rooms
from supplier_sdk.signer import Signer
from supplier_sdk.trace import Trace
from supplier_sdk.webhook_subscriptions import Webhooks


class _Connected(Protocol):
    """What OemClient takes of a :class:`~supplier_sdk.client.Client` it is built on (no import of it)."""

    @property
    def requester(self) -> Requester: ...  # pragma: no cover

    @property
    def rooms(self) -> Rooms: ...  # pragma: no cover


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
        client: a :class:`~supplier_sdk.client.Client` whose requester (and rooms) to share: its connection
            is then yours to close. Otherwise one requester is made from ``options``: ``base_url``,
            ``client_id``, ``private_key`` and the rest of :class:`~supplier_sdk.requester.Requester`'s keyword
            arguments (retries, transport, timeout, …), plus ``signing_key_id`` and ``encryption_key`` for
            room datasets, as :class:`~supplier_sdk.client.Client` takes them.

    Use it as a context manager, or call :meth:`close`.

    Example::

        with OemClient(base_url="https://hub.example", client_id="qlc_…", private_key=key) as oem:
            for standing in oem.standings.list():
                print(standing.supplier_id, standing.tier)
    """

    def __init__(self, *, client: _Connected | None = None, **options: Any) -> None:
        if client is not None and options:
            raise TypeError("give either client or the Client's options, not both")
        self._owned = client is None
        self.client = client
        if client is not None:
            self.requester = client.requester
            self.rooms = client.rooms
        else:
            signing_key_id = options.pop("signing_key_id", None)
            encryption_key = options.pop("encryption_key", None)
            self.requester = Requester(**options)
            signer = Signer(options["private_key"], key_id=signing_key_id)
            self.rooms = Rooms(self.requester, signer=signer, encryption_key=encryption_key)
        requester = self.requester
        self.agreements = Agreements(requester)
        self.rules = Rules(requester)
        self.standings = SupplierStandings(requester)
        self.kpi_reports = KpiReports(requester)
        self.proofs = Proofs(requester)
        self.trace = Trace(requester)
        self.notifications = QualityNotifications(requester)
        self.containment = Containment(requester)
        self.webhooks = Webhooks(requester)
        self.events = Events(requester)

    def __enter__(self) -> OemClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection, if this client made it.

        Example: ``oem.close()``
        """
        if self._owned:
            self.requester.close()


__all__ = ["OemClient", "QualityNotifications", "Trace"]
