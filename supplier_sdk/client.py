"""The hub client: OAuth client credentials with ``private_key_jwt``, retries, idempotency, typed models out.

One :class:`Client` wraps one ``httpx.Client``. It fetches an access token with a fresh RFC 7523 client
assertion signed by the organization's Ed25519 key (:mod:`supplier_sdk.tokens`), caches it until 30 s before it
expires and fetches a new one once when the hub answers 401. Every POST carries an ``Idempotency-Key`` (a UUID4 unless the caller gives
one) that stays the same across the client's retries, so a retried POST never creates a second resource.

Connection errors, timeouts, 429, 5xx and the 409s a wait can change are retried with capped, jittered
backoff as the client's :class:`RetryPolicy` says (:mod:`supplier_sdk.retry` has the policy in full); anything
else is raised at once as the matching :class:`~supplier_sdk.errors.HubError`, and no answer after the last
retry as :class:`~supplier_sdk.errors.HubUnreachable`.

Example::

    from supplier_sdk import Client, build_capability_report
    from protocol.signing import load_private_key

    key = load_private_key(open("supplier.key").read())
    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        agreement = hub.agreement("0193…")
        payload = build_capability_report(agreement=agreement, characteristic="DIA-01", period="2026-W48",
                                          kpi="cpk", values=diameters)
        report = hub.submit_report(payload)
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.encoding import b64url_encode
from protocol.models.agreements import Agreement, AgreementDecision
from protocol.models.common import AgreementStatus, KeyStatus, KeyUse
from protocol.models.orgs import Organization, OrgKey, OrgKeyRegister
from protocol.models.trace import TraceDirection, TraceResult
from protocol.signing import key_id_for, public_key_raw
from supplier_sdk.errors import ConflictError
from supplier_sdk.events import StreamEvent, follow
from supplier_sdk.genealogy import Genealogy
from supplier_sdk.kpi_reports import KpiReports
from supplier_sdk.notifications import Containment, Notifications
from supplier_sdk.retry import RetryPolicy, exchange
from supplier_sdk.tokens import AccessToken, request_token
from supplier_sdk.trace import RootLike, run_trace

if TYPE_CHECKING:
    from supplier_sdk.lab import Lab
    from supplier_sdk.org_keys import Keys
    from supplier_sdk.rooms.client import Rooms
    from supplier_sdk.standings import Standings
    from supplier_sdk.webhook_subscriptions import Webhooks


PAGE_SIZE = 100
"""Items per request when :meth:`Client.pages` follows a paged list."""


def _sdk_version() -> str:
    try:
        return version("qualink")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
        return "0.0.0+unknown"


SDK_VERSION = _sdk_version()
"""This SDK's version: sent in ``User-Agent`` and, by default, as ``sdk_version`` in every report.

Example:
    >>> SDK_VERSION.count(".") >= 2
    True
"""

DEFAULT_USER_AGENT = f"qualink-supplier-sdk/{SDK_VERSION} python-httpx/{httpx.__version__}"
"""The ``User-Agent`` a :class:`Client` sends unless told otherwise.

Example:
    >>> DEFAULT_USER_AGENT.startswith("qualink-supplier-sdk/")
    True
"""

TOKEN_REFRESH_MARGIN = 30.0
"""Seconds before its expiry at which a cached access token is no longer used.

Example:
    >>> TOKEN_REFRESH_MARGIN
    30.0
"""


class Client(KpiReports):
    """A connection to the Qualink hub for one API client of a supplier organization.

    Args:
        base_url: the hub's URL, e.g. ``https://hub.example`` (a trailing ``/`` is ignored).
        client_id: the API client's id (``qlc_…``), registered with the public half of ``private_key``.
        private_key: the organization's Ed25519 key: it signs the client assertions and the KPI reports.
        signing_key_id: the key id reports are signed under; default the key's RFC 7638 thumbprint, which is
            the id the hub gives it at registration (:meth:`register_signing_key`).
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
            for agreement in hub.agreements(status="active"):
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
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError(f"private_key must be an Ed25519 private key, not {type(private_key).__name__}")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.scope = scope
        self.retry = RetryPolicy(
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retry_after=max_retry_after,
        )
        self._private_key = private_key
        self._encryption_key = encryption_key
        self._signing_key_id = signing_key_id or key_id_for(public_key_raw(private_key))
        self._sleep = sleep
        self._token: AccessToken | None = None
        self._token_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )

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
                hub.agreements()
            finally:
                hub.close()
        """
        self._http.close()

    @property
    def signing_key_id(self) -> str:
        """The key id this client signs reports under.

        Example::

            hub.signing_key_id == hub.register_signing_key()   # True for a freshly registered key
        """
        return self._signing_key_id

    @property
    def token_url(self) -> str:
        """The token endpoint, which is also the audience of the client assertions.

        Example::

            Client(base_url="https://hub.example/", ...).token_url == "https://hub.example/oauth/token"
        """
        return f"{self.base_url}/oauth/token"

    @property
    def rooms(self) -> Rooms:
        """The joint investigation rooms (:class:`~supplier_sdk.rooms.client.Rooms`), with ``encryption_key``.

        Example::

            room = hub.rooms.open(title="Compressor noise", expires_at=in_30_days)
        """
        from supplier_sdk.rooms.client import Rooms  # the rooms module builds on this one

        return Rooms(self, encryption_key=self._encryption_key)

    @property
    def lab(self) -> Lab:
        """Labs and lab-attested measurements (:class:`~supplier_sdk.lab.Lab`), with ``encryption_key``.

        Example::

            context = hub.lab.measurement_context(agreement_id, kpi="cpk", part_number="SH-1", period="2026-W48")
        """
        from supplier_sdk.lab import Lab  # the lab module builds on the attest and rooms modules

        return Lab(self, encryption_key=self._encryption_key)

    @property
    def genealogy(self) -> Genealogy:
        """The genealogy import (:class:`~supplier_sdk.genealogy.Genealogy`).

        Example: ``report = hub.genealogy.import_file("lots.ndjson")``
        """
        return Genealogy(self)

    @property
    def notifications(self) -> Notifications:
        """Investigations and alerts (:class:`~supplier_sdk.notifications.Notifications`).

        Example: ``hub.notifications.accept(investigation_id, reason="voids confirmed on lot W-12")``
        """
        return Notifications(self)

    @property
    def containment(self) -> Containment:
        """Your plants' containment actions (:class:`~supplier_sdk.notifications.Containment`).

        Example: ``hub.containment.acknowledge(action_id, owner="Jana Novak, plant quality")``
        """
        return Containment(self)

    @property
    def standings(self) -> Standings:
        """Your standing at each OEM with its causes (:class:`~supplier_sdk.standings.Standings`).

        Example: ``for standing in hub.standings.mine(): print(standing.tier)``
        """
        from supplier_sdk.standings import Standings

        return Standings(self)

    @property
    def webhooks(self) -> Webhooks:
        """Webhook subscriptions (:class:`~supplier_sdk.webhook_subscriptions.Webhooks`).

        Example: ``secret = hub.webhooks.create(url="https://mes.example/hook").secret``
        """
        from supplier_sdk.webhook_subscriptions import Webhooks

        return Webhooks(self)

    @property
    def keys(self) -> Keys:
        """Your organization's public keys and API clients (:class:`~supplier_sdk.org_keys.Keys`).

        Example: ``hub.keys.register(new_encryption_key)``
        """
        from supplier_sdk.org_keys import Keys  # builds on the key files, which build on the config

        return Keys(self)

    def trace(
        self,
        roots: Iterable[RootLike],
        *,
        direction: TraceDirection = "forward",
        depth: int | None = None,
        as_of: datetime | None = None,
    ) -> TraceResult:
        """Trace lots or serial parts forward (what contains them) or backward (what went into them); roots as
        :func:`supplier_sdk.trace.root` reads them. You see your own and your partners' assets, counts for the rest.

        Example: ``print(hub.trace(["CAP-L00012345"]).answer)``
        """
        return run_trace(self, roots, direction=direction, depth=depth, as_of=as_of)

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _exchange(
        self,
        send: Callable[[], httpx.Response],
        *,
        reauthenticate: Callable[[], bool] | None = None,
        resolve_own_duplicates: bool = False,
    ) -> httpx.Response:
        """``send`` through :func:`~supplier_sdk.retry.exchange` under this client's policy, URL and sleep."""
        return exchange(
            send,
            policy=self.retry,
            base_url=self.base_url,
            sleep=self._sleep,
            reauthenticate=reauthenticate,
            resolve_own_duplicates=resolve_own_duplicates,
        )

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token is None or not self._token.usable(margin=TOKEN_REFRESH_MARGIN):
                self._token = request_token(
                    self._http,
                    client_id=self.client_id,
                    private_key=self._private_key,
                    token_url=self.token_url,
                    scope=self.scope,
                    exchange=self._exchange,
                )
            return self._token.value

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        content: Callable[[], Iterator[bytes]] | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One request with token, retries and error mapping. ``content`` makes a fresh body per attempt;
        with ``stream`` the successful response's body is left unread (the caller closes it)."""
        extra: dict[str, str] = dict(headers or {})
        is_post = method.upper() == "POST"
        if is_post:
            extra["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        refreshed = False

        def send() -> httpx.Response:
            bearer = {"Authorization": f"Bearer {self._access_token()}"}
            request = self._http.build_request(
                method,
                path,
                params=params,
                json=json,
                content=None if content is None else content(),
                headers={**extra, **bearer},
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout),
            )
            response = self._http.send(request, stream=stream)
            if stream and response.status_code >= 400:
                response.read()  # the error body, for error_from_response
                response.close()
            return response

        def reauthenticate() -> bool:
            nonlocal refreshed
            if refreshed:
                return False
            refreshed = True
            with self._token_lock:
                self._token = None
            return True

        return self._exchange(send, reauthenticate=reauthenticate, resolve_own_duplicates=is_post)

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

        For endpoints the SDK does not wrap yet. A POST carries ``idempotency_key`` (a new UUID4 if ``None``).
        Returns ``None`` for an empty body.

        Args:
            method: ``GET``, ``POST``, ...
            path: the path under the base URL, e.g. ``/v1/organizations/me``.
            params: query parameters.
            json: a JSON body.
            idempotency_key: the POST's ``Idempotency-Key``.

        Raises:
            HubError: the matching subclass for an error answer.
            HubUnreachable: no answer after the retries.

        Example::

            me = hub.request("GET", "/v1/organizations/me")
            print(me["name"])
        """
        response = self._send(method, path, params=params, json=json, idempotency_key=idempotency_key)
        return response.json() if response.content else None

    def pages(
        self, path: str, *, params: dict[str, Any] | None = None, page_size: int = PAGE_SIZE
    ) -> Iterator[Any]:
        """Iterate over every item of a paged hub list, fetching one page at a time as the iterator is read.

        Every list of the hub answers ``{"items": [...], "next_cursor": ...}``; this asks with ``limit`` and
        follows ``next_cursor`` until the hub gives none. Items are the parsed JSON, in the hub's order.

        Args:
            path: the list's path, e.g. ``/v1/agreements``.
            params: the list's filters (``None`` values are left out).
            page_size: items per request, 1 to 1000.

        Raises:
            HubError: the matching subclass for an error answer (a 422 for a cursor the hub did not issue).
            HubUnreachable: no answer after the retries.

        Example::

            for rule in hub.pages("/v1/rules", params={"status": "active"}):
                print(rule["name"])
        """
        query: dict[str, Any] = {key: value for key, value in (params or {}).items() if value is not None}
        query["limit"] = page_size
        while True:
            page = self.request("GET", path, params=query)
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    # -- organizations and agreements ------------------------------------------------------------------------

    def organization(self) -> Organization:
        """The organization this client belongs to.

        Example::

            print(hub.organization().name)
        """
        return Organization.model_validate(self.request("GET", "/v1/organizations/me"))

    def agreements(self, *, status: AgreementStatus | str | None = None) -> list[Agreement]:
        """The supply agreements this organization is party to, optionally only those with ``status``.

        Args:
            status: ``proposed``, ``active``, ``declined`` or ``terminated``; ``None`` for all.

        Example::

            active = hub.agreements(status="active")
        """
        params = None if status is None else {"status": AgreementStatus(status).value}
        return [Agreement.model_validate(item) for item in self.pages("/v1/agreements", params=params)]

    def agreement(self, agreement_id: uuid.UUID | str) -> Agreement:
        """One agreement by id (:class:`~supplier_sdk.errors.NotFound` if it is not this organization's).

        Example::

            agreement = hub.agreement("01937c5e-…")
            print(agreement.kpis[0].threshold)
        """
        return Agreement.model_validate(self.request("GET", f"/v1/agreements/{uuid.UUID(str(agreement_id))}"))

    def accept_agreement(self, agreement_id: uuid.UUID | str, *, reason: str = "") -> Agreement:
        """Accept a proposed agreement named to your organization; it becomes active.

        Raises:
            NotFound: not an agreement of yours. ConflictError: it is no longer proposed.

        Example: ``hub.accept_agreement("01937c5e-…", reason="terms agreed in the Q4 review")``
        """
        return self._decide(agreement_id, "accept", reason)

    def decline_agreement(self, agreement_id: uuid.UUID | str, *, reason: str = "") -> Agreement:
        """Decline a proposed agreement named to your organization, with a reason the OEM sees.

        Example: ``hub.decline_agreement("01937c5e-…", reason="capacity booked until Q3")``
        """
        return self._decide(agreement_id, "decline", reason)

    def _decide(self, agreement_id: uuid.UUID | str, decision: str, reason: str) -> Agreement:
        body = AgreementDecision(reason=reason).model_dump(mode="json")
        path = f"/v1/agreements/{uuid.UUID(str(agreement_id))}/{decision}"
        return Agreement.model_validate(self.request("POST", path, json=body))

    def register_signing_key(self) -> str:
        """Register the public half of ``private_key`` as the organization's Ed25519 signing key; return its id.

        The hub retires the organization's previous signing key (it still verifies what it signed). Registering
        a key that is already this organization's active signing key is not an error: its id is returned.
        Needs the ``org:admin`` scope.

        Example::

            key_id = hub.register_signing_key()
            assert key_id == hub.signing_key_id
        """
        raw = public_key_raw(self._private_key)
        body = OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(raw))
        try:
            return OrgKey.model_validate(
                self.request("POST", "/v1/keys", json=body.model_dump(mode="json"))
            ).key_id
        except ConflictError:
            wanted = key_id_for(raw)
            org = self.organization()
            for item in self.pages(f"/v1/organizations/{org.id}/keys"):
                key = OrgKey.model_validate(item)
                if key.key_id == wanted and key.use is KeyUse.SIGNING and key.status is KeyStatus.ACTIVE:
                    return key.key_id
            raise

    # -- events -----------------------------------------------------------------------------------------------

    def events(
        self, *, after: int | None = None, types: list[str] | None = None, once: bool = False
    ) -> Iterator[StreamEvent]:
        """Iterate over this organization's events as they happen (``GET /v1/events``), oldest first.

        The iterator follows the hub's Server-Sent Events stream and, when the connection drops, reconnects
        with ``Last-Event-ID`` set to the last position it yielded, after a capped, jittered backoff: each
        event is yielded once, in order. Delivery from the hub is at least once overall; deduplicate by
        ``event.id`` if you store ``event.position`` yourself and restart from it. Needs ``events:read``.

        Args:
            after: start after this position (``None``: from the first event the organization has).
            types: only these event types, e.g. ``["kpi_report.accepted"]``.
            once: yield what is there now and stop, instead of waiting for new events.

        Raises:
            HubError: the hub refused the stream (403 without ``events:read``, 422 for a bad cursor).
            HubUnreachable: with ``once``, no answer after the retries.

        Example::

            for event in hub.events(types=["standing.changed"]):
                print(event.position, event.payload["tier"])
                save_cursor(event.position)
        """

        def forget_token() -> None:
            with self._token_lock:
                self._token = None

        return follow(
            self._http,
            access_token=self._access_token,
            forget_token=forget_token,
            policy=self.retry,
            sleep=self._sleep,
            after=after,
            types=types,
            once=once,
        )


__all__ = ["DEFAULT_USER_AGENT", "SDK_VERSION", "TOKEN_REFRESH_MARGIN", "Client", "RetryPolicy"]
