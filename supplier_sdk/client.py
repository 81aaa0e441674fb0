"""The hub client: resource objects on one requester, for one API client of a supplier organization.

A :class:`Client` is a thin front: it makes one :class:`~supplier_sdk.requester.Requester` (the ``httpx``
connection, ``private_key_jwt`` tokens, retries, ``Idempotency-Key`` on every POST, error mapping) and one
:class:`~supplier_sdk.signer.Signer` (the organization's Ed25519 key), and hangs the resources on them, each
knowing its own endpoints and nothing of the client:

=========================  ======================================================================
``client.kpi_reports``     sign, submit (one, a batch, or to the outbox), read KPI reports
``client.agreements``      list, get, accept, decline supply agreements
``client.organizations``   your own organization
``client.standings``       your standing at each OEM, with its causes
``client.keys``            public keys and API clients (register, rotate, revoke)
``client.webhooks``        webhook subscriptions and deliveries
``client.rooms``           joint investigation rooms and their encrypted datasets
``client.lab``             labs and lab-attested measurements
``client.notifications``   investigations and alerts; ``client.containment`` the plants' actions
``client.trace``           forward and backward traces
``client.genealogy``       genealogy imports
``client.certificates``    certificates
``client.events``          the organization's event stream
=========================  ======================================================================

The methods the client had before (``submit_report``, ``agreement``, ``accept_agreement``, ``reports``, …, and
calling ``client.agreements(...)``, ``client.trace(...)`` or ``client.events(...)``) still work for one release
and raise a ``DeprecationWarning`` that names the new spelling.

Example::

    from supplier_sdk import Client, build_capability_report
    from protocol.signing import load_private_key

    key = load_private_key(open("supplier.key").read())
    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        agreement = hub.agreements.get("0193…")
        payload = build_capability_report(agreement=agreement, characteristic="DIA-01", period="2026-W48",
                                          kpi="cpk", values=diameters)
        report = hub.kpi_reports.submit(payload)
"""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.models.agreements import Agreement
from protocol.models.common import KpiName
from protocol.models.kpi import KpiReport, KpiReportBatchResult, KpiReportPayload
from protocol.models.orgs import Organization
from protocol.signing import SignedEnvelope
from protocol.zk.attestation import BindingContext
from supplier_sdk.agreements import Agreements
from supplier_sdk.certificates import Certificates
from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.events import Events
from supplier_sdk.genealogy import Genealogy
from supplier_sdk.kpi_reports import KpiReports
from supplier_sdk.notifications import Containment, Notifications
from supplier_sdk.org_keys import Keys
from supplier_sdk.organizations import Organizations
from supplier_sdk.requester import (
    DEFAULT_USER_AGENT,
    PAGE_SIZE,
    SDK_VERSION,
    TOKEN_REFRESH_MARGIN,
    Requester,
)
from supplier_sdk.retry import RetryPolicy
from supplier_sdk.rooms.client import Rooms
from supplier_sdk.signer import Signer
from supplier_sdk.standings import Standings
from supplier_sdk.trace import Trace
from supplier_sdk.webhook_subscriptions import Webhooks

if TYPE_CHECKING:
    from supplier_sdk.lab import Lab
    from supplier_sdk.outbox import Outbox, QueuedReport


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"Client.{old} is deprecated and will be removed in the next release; use client.{new}",
        SdkDeprecationWarning,
        stacklevel=3,  # the caller of the deprecated method
    )


class Client:
    """A connection to the Qualink hub for one API client of a supplier organization.

    Args:
        base_url: the hub's URL, e.g. ``https://hub.example`` (a trailing ``/`` is ignored).
        client_id: the API client's id (``qlc_…``), registered with the public half of ``private_key``.
        private_key: the organization's Ed25519 key: it signs the client assertions and the KPI reports.
        signing_key_id: the key id reports are signed under; default the key's RFC 7638 thumbprint, which is
            the id the hub gives it at registration (``client.keys.register_signing_key()``).
        scope: space-separated scopes to ask for; default all the client was granted.
        transport: an ``httpx`` transport to use instead of the network (``httpx.MockTransport`` in tests).
        timeout: seconds for connecting, and for each read and write.
        max_retries, backoff_base, backoff_cap, max_retry_after: the :class:`RetryPolicy`.
        user_agent: the ``User-Agent`` header.
        sleep: how to wait between attempts (``time.sleep``; tests record the waits instead).
        encryption_key: the organization's X25519 private key, for room datasets (:attr:`rooms`); optional.

    Use it as a context manager, or call :meth:`close`. One client may be shared by threads.

    Example::

        with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
            for agreement in hub.agreements.list(status="active"):
                print(agreement.title)
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        private_key: Ed25519PrivateKey,
        signing_key_id: str | None = None,
        scope: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 5.0,
        max_retry_after: float = 60.0,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        encryption_key: X25519PrivateKey | None = None,
    ) -> None:
        self.requester = Requester(
            base_url=base_url,
            client_id=client_id,
            private_key=private_key,
            scope=scope,
            transport=transport,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retry_after=max_retry_after,
            user_agent=user_agent,
            sleep=sleep,
        )
        self.signer = Signer(private_key, key_id=signing_key_id)
        self._encryption_key = encryption_key
        requester, signer = self.requester, self.signer
        self.kpi_reports = KpiReports(requester, signer)
        self.agreements = Agreements(requester)
        self.organizations = Organizations(requester)
        self.standings = Standings(requester)
        self.keys = Keys(requester, signer=signer)
        self.webhooks = Webhooks(requester)
        self.rooms = Rooms(requester, signer=signer, encryption_key=encryption_key)
        self.notifications = Notifications(requester)
        self.containment = Containment(requester)
        self.trace = Trace(requester)
        self.genealogy = Genealogy(requester)
        self.certificates = Certificates(requester)
        self.events = Events(requester)

    # -- life cycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connections (a ``with`` block does it for you).

        Example::

            hub = Client(base_url=url, client_id=cid, private_key=key)
            try:
                hub.agreements.list()
            finally:
                hub.close()
        """
        self.requester.close()

    # -- what the connection is -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The hub's URL, without a trailing ``/``.

        Example: ``Client(base_url="https://hub.example/", ...).base_url == "https://hub.example"``
        """
        return self.requester.base_url

    @property
    def client_id(self) -> str:
        """The API client's id.

        Example: ``hub.client_id.startswith("qlc_")``
        """
        return self.requester.client_id

    @property
    def scope(self) -> str | None:
        """The scopes asked for (``None``: all the client was granted).

        Example: ``hub.scope``
        """
        return self.requester.scope

    @property
    def retry(self) -> RetryPolicy:
        """The :class:`RetryPolicy` every request is sent under.

        Example: ``hub.retry.max_retries``
        """
        return self.requester.retry

    @property
    def signing_key_id(self) -> str:
        """The key id this client signs reports under.

        Example::

            hub.signing_key_id == hub.keys.register_signing_key()   # True for a freshly registered key
        """
        return self.signer.key_id

    @property
    def token_url(self) -> str:
        """The token endpoint, which is also the audience of the client assertions.

        Example::

            Client(base_url="https://hub.example/", ...).token_url == "https://hub.example/oauth/token"
        """
        return self.requester.token_url

    @cached_property
    def lab(self) -> Lab:
        """Labs and lab-attested measurements (:class:`~supplier_sdk.lab.Lab`), with ``encryption_key``.

        Example::

            context = hub.lab.measurement_context(agreement_id, kpi="cpk", part_number="SH-1", period="2026-W48")
        """
        from supplier_sdk.lab import Lab  # the zero-knowledge lab proofs load only when asked for

        return Lab(self.requester, encryption_key=self._encryption_key)

    # -- any endpoint -----------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Call any hub endpoint with this client's token, retries and error mapping; return the parsed JSON.

        For endpoints the SDK does not wrap yet (:meth:`Requester.request
        <supplier_sdk.requester.Requester.request>`). A POST carries ``idempotency_key`` (a new UUID4 if
        ``None``). Returns ``None`` for an empty body.

        Raises:
            HubError: the matching subclass for an error answer.
            HubUnreachable: no answer after the retries.

        Example::

            me = hub.request("GET", "/v1/organizations/me")
            print(me["name"])
        """
        return self.requester.request(method, path, params=params, json=json, idempotency_key=idempotency_key)

    def pages(
        self, path: str, *, params: dict[str, Any] | None = None, page_size: int = PAGE_SIZE
    ) -> Iterator[Any]:
        """Iterate over every item of a paged hub list (:meth:`Requester.pages
        <supplier_sdk.requester.Requester.pages>`), one page at a time as the iterator is read.

        Example::

            for rule in hub.pages("/v1/rules", params={"status": "active"}):
                print(rule["name"])
        """
        return self.requester.pages(path, params=params, page_size=page_size)

    # -- deprecated names, removed in the next release ----------------------------------------------------------

    def organization(self) -> Organization:
        """Deprecated: ``client.organizations.me()``.

        Example: ``hub.organizations.me().name``
        """
        _deprecated("organization()", "organizations.me()")
        return self.organizations.me()

    def agreement(self, agreement_id: uuid.UUID | str) -> Agreement:
        """Deprecated: ``client.agreements.get(agreement_id)``.

        Example: ``hub.agreements.get(agreement_id)``
        """
        _deprecated("agreement()", "agreements.get()")
        return self.agreements.get(agreement_id)

    def accept_agreement(self, agreement_id: uuid.UUID | str, *, reason: str = "") -> Agreement:
        """Deprecated: ``client.agreements.accept(agreement_id, reason=...)``.

        Example: ``hub.agreements.accept(agreement_id, reason="terms agreed")``
        """
        _deprecated("accept_agreement()", "agreements.accept()")
        return self.agreements.accept(agreement_id, reason=reason)

    def decline_agreement(self, agreement_id: uuid.UUID | str, *, reason: str = "") -> Agreement:
        """Deprecated: ``client.agreements.decline(agreement_id, reason=...)``.

        Example: ``hub.agreements.decline(agreement_id, reason="capacity booked")``
        """
        _deprecated("decline_agreement()", "agreements.decline()")
        return self.agreements.decline(agreement_id, reason=reason)

    def register_signing_key(self) -> str:
        """Deprecated: ``client.keys.register_signing_key()``.

        Example: ``hub.keys.register_signing_key()``
        """
        _deprecated("register_signing_key()", "keys.register_signing_key()")
        return self.keys.register_signing_key()

    def sign_report(self, payload: KpiReportPayload) -> SignedEnvelope:
        """Deprecated: ``client.kpi_reports.sign(payload)``.

        Example: ``hub.kpi_reports.sign(payload)``
        """
        _deprecated("sign_report()", "kpi_reports.sign()")
        return self.kpi_reports.sign(payload)

    def submit_envelope(self, envelope: SignedEnvelope, *, idempotency_key: str) -> KpiReport:
        """Deprecated: ``client.kpi_reports.submit_envelope(envelope, idempotency_key=...)``.

        Example: ``hub.kpi_reports.submit_envelope(envelope, idempotency_key="k")``
        """
        _deprecated("submit_envelope()", "kpi_reports.submit_envelope()")
        return self.kpi_reports.submit_envelope(envelope, idempotency_key=idempotency_key)

    def submit_batch(self, reports: list[tuple[KpiReportPayload, str]]) -> list[KpiReportBatchResult]:
        """Deprecated: ``client.kpi_reports.submit_batch(reports)``.

        Example: ``hub.kpi_reports.submit_batch([(payload, "k-1")])``
        """
        _deprecated("submit_batch()", "kpi_reports.submit_batch()")
        return self.kpi_reports.submit_batch(reports)

    def submit_report(
        self, payload: KpiReportPayload, *, idempotency_key: str | None = None, outbox: Outbox | None = None
    ) -> KpiReport | QueuedReport:
        """Deprecated: ``client.kpi_reports.submit(payload, idempotency_key=..., outbox=...)``.

        Example: ``hub.kpi_reports.submit(payload, outbox=outbox)``
        """
        _deprecated("submit_report()", "kpi_reports.submit()")
        if outbox is None:
            return self.kpi_reports.submit(payload, idempotency_key=idempotency_key)
        return self.kpi_reports.submit(payload, idempotency_key=idempotency_key, outbox=outbox)

    def attestation_context(
        self,
        agreement_id: uuid.UUID | str,
        *,
        kpi: KpiName | str,
        period: str,
        characteristic: str | None = None,
    ) -> BindingContext:
        """Deprecated: ``client.kpi_reports.attestation_context(...)``.

        Example: ``hub.kpi_reports.attestation_context(agreement_id, kpi="cpk", period="2026-W48")``
        """
        _deprecated("attestation_context()", "kpi_reports.attestation_context()")
        return self.kpi_reports.attestation_context(
            agreement_id, kpi=kpi, period=period, characteristic=characteristic
        )

    def report(self, report_id: uuid.UUID | str) -> KpiReport:
        """Deprecated: ``client.kpi_reports.get(report_id)``.

        Example: ``hub.kpi_reports.get(report_id)``
        """
        _deprecated("report()", "kpi_reports.get()")
        return self.kpi_reports.get(report_id)

    def reports(self, **filters: Any) -> Iterator[KpiReport]:
        """Deprecated: ``client.kpi_reports.list(**filters)``.

        Example: ``list(hub.kpi_reports.list(kpi="cpk", meets=False))``
        """
        _deprecated("reports()", "kpi_reports.list()")
        return self.kpi_reports.list(**filters)


__all__ = ["DEFAULT_USER_AGENT", "SDK_VERSION", "TOKEN_REFRESH_MARGIN", "Client", "RetryPolicy"]
