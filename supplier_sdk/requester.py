"""The requester: one authenticated, retried, idempotent HTTP exchange with the hub, and nothing else.

A :class:`Requester` owns one ``httpx.Client`` and does what every call to the hub needs, whoever makes it:

- an access token from the client-credentials grant with ``private_key_jwt`` (:mod:`supplier_sdk.tokens`),
  cached until :data:`TOKEN_REFRESH_MARGIN` seconds before it expires and fetched again once on a 401;
- retries with capped, jittered backoff under its :class:`~supplier_sdk.retry.RetryPolicy`
  (:func:`supplier_sdk.retry.exchange`);
- an ``Idempotency-Key`` on every POST (a UUID4 unless the caller gives one), the same on every retry;
- error answers mapped to the :class:`~supplier_sdk.errors.HubError` tree, no answer to
  :class:`~supplier_sdk.errors.HubUnreachable`.

It knows no endpoint: the resource objects (``client.kpi_reports``, ``client.agreements``, ``oem.rules``, …)
are built on it and name the paths and the wire models; the ``httpx`` transport below it is swappable
(``httpx.MockTransport`` in tests), as stripe-python's services share one requester and httpx's clients one
transport. Signing reports and manifests is not its business either (:class:`supplier_sdk.signer.Signer`);
its private key only signs the client assertions that get it a token.

Example::

    with Requester(base_url="https://hub.example", client_id="qlc_…", private_key=key) as requester:
        me = requester.request("GET", "/v1/organizations/me")
        for rule in requester.pages("/v1/rules", params={"status": "active"}):
            print(rule["name"])
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from supplier_sdk.retry import RetryPolicy, exchange
from supplier_sdk.tokens import AccessToken, request_token

PAGE_SIZE = 100
"""Items per request when :meth:`Requester.pages` follows a paged list.

Example:
    >>> PAGE_SIZE
    100
"""


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
"""The ``User-Agent`` a :class:`Requester` sends unless told otherwise.

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


class Requester:
    """The connection to the hub that every resource object sends through.

    Args:
        base_url: the hub's URL, e.g. ``https://hub.example`` (a trailing ``/`` is ignored).
        client_id: the API client's id (``qlc_…``), registered with the public half of ``private_key``.
        private_key: the Ed25519 key the client assertions are signed with (``private_key_jwt``).
        scope: space-separated scopes to ask for; default all the client was granted.
        transport: an ``httpx`` transport to use instead of the network (``httpx.MockTransport`` in tests).
        timeout: seconds for connecting, and for each read and write.
        max_retries, backoff_base, backoff_cap, max_retry_after: the :class:`~supplier_sdk.retry.RetryPolicy`.
        user_agent: the ``User-Agent`` header.
        sleep: how to wait between attempts (``time.sleep``; tests record the waits instead).

    One requester may be shared by threads. Use it as a context manager, or call :meth:`close`.

    Example:
        >>> import httpx
        >>> def hub(request: httpx.Request) -> httpx.Response:
        ...     if request.url.path == "/oauth/token":
        ...         return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer",
        ...                                          "expires_in": 600, "scope": ""})
        ...     return httpx.Response(200, json={"name": "Acme", "auth": request.headers["authorization"]})
        >>> with Requester(base_url="https://hub.example", client_id="qlc_1",
        ...                private_key=Ed25519PrivateKey.generate(), transport=httpx.MockTransport(hub)) as r:
        ...     r.request("GET", "/v1/organizations/me")
        {'name': 'Acme', 'auth': 'Bearer t'}
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        private_key: Ed25519PrivateKey,
        scope: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 5.0,
        max_retry_after: float = 60.0,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
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
        self.sleep = sleep
        self._private_key = private_key
        self._token: AccessToken | None = None
        self._token_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )

    # -- life cycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> Requester:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connections (a ``with`` block does it for you).

        Example: ``requester.close()``
        """
        self._http.close()

    @property
    def http(self) -> httpx.Client:
        """The ``httpx.Client`` underneath, for what keeps a connection open itself (the event stream).

        Example: ``requester.http.base_url``
        """
        return self._http

    @property
    def token_url(self) -> str:
        """The token endpoint, which is also the audience of the client assertions.

        Example::

            Requester(base_url="https://hub.example/", ...).token_url == "https://hub.example/oauth/token"
        """
        return f"{self.base_url}/oauth/token"

    # -- tokens -----------------------------------------------------------------------------------------------

    def access_token(self) -> str:
        """A bearer token: the cached one while it is fresh, else a new one from the token endpoint.

        Raises:
            HubError: the token endpoint refused (``invalid_client``, ...). HubUnreachable: no answer.

        Example: ``headers = {"Authorization": f"Bearer {requester.access_token()}"}``
        """
        with self._token_lock:
            if self._token is None or not self._token.usable(margin=TOKEN_REFRESH_MARGIN):
                self._token = request_token(
                    self._http,
                    client_id=self.client_id,
                    private_key=self._private_key,
                    token_url=self.token_url,
                    scope=self.scope,
                    exchange=self.exchange,
                )
            return self._token.value

    def forget_token(self) -> None:
        """Drop the cached token (the hub refused it); the next request fetches a new one.

        Example: ``requester.forget_token()``
        """
        with self._token_lock:
            self._token = None

    # -- requests ---------------------------------------------------------------------------------------------

    def exchange(
        self,
        send: Callable[[], httpx.Response],
        *,
        reauthenticate: Callable[[], bool] | None = None,
        resolve_own_duplicates: bool = False,
    ) -> httpx.Response:
        """``send`` through :func:`~supplier_sdk.retry.exchange` under this requester's policy, URL and sleep.

        Example: ``response = requester.exchange(lambda: requester.http.get("/health"))``
        """
        return exchange(
            send,
            policy=self.retry,
            base_url=self.base_url,
            sleep=self.sleep,
            reauthenticate=reauthenticate,
            resolve_own_duplicates=resolve_own_duplicates,
        )

    def send(
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
        """One request with token, retries, ``Idempotency-Key`` and error mapping; the successful response.

        Args:
            method, path, params, json: the request (``path`` under the base URL).
            idempotency_key: a POST's ``Idempotency-Key``, the same on every retry (a new UUID4 if ``None``).
            content: makes a fresh body for each attempt (a streamed upload).
            headers: extra headers.
            stream: leave the successful response's body unread (the caller reads and closes it).
            timeout: seconds for this request instead of the requester's.

        Raises:
            HubError: the matching subclass for an error answer. HubUnreachable: no answer after the retries.

        Example::

            response = requester.send("POST", "/v1/kpi-reports", json=body, idempotency_key="shaft-W48")
            replayed = response.headers.get("idempotent-replayed") == "true"
        """
        extra: dict[str, str] = dict(headers or {})
        is_post = method.upper() == "POST"
        if is_post:
            extra["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        refreshed = False

        def attempt() -> httpx.Response:
            bearer = {"Authorization": f"Bearer {self.access_token()}"}
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
            self.forget_token()
            return True

        return self.exchange(attempt, reauthenticate=reauthenticate, resolve_own_duplicates=is_post)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """:meth:`send`, and the parsed JSON of the answer (``None`` for an empty body).

        Raises:
            HubError: the matching subclass for an error answer. HubUnreachable: no answer after the retries.

        Example::

            me = requester.request("GET", "/v1/organizations/me")
            print(me["name"])
        """
        response = self.send(method, path, params=params, json=json, idempotency_key=idempotency_key)
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

            for rule in requester.pages("/v1/rules", params={"status": "active"}):
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


__all__ = ["DEFAULT_USER_AGENT", "PAGE_SIZE", "SDK_VERSION", "TOKEN_REFRESH_MARGIN", "Requester"]
