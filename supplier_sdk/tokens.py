"""Access tokens from the hub's token endpoint: the OAuth client-credentials grant with ``private_key_jwt``.

:func:`request_token` asks ``/oauth/token`` for a token, authenticated by a client assertion
(:func:`supplier_sdk.auth.token_request_form`) signed with the organization's Ed25519 key. Every attempt gets
a fresh assertion, because the hub refuses an assertion's ``jti`` twice. :class:`AccessToken` records when the
token expires; how long before that a :class:`~supplier_sdk.requester.Requester` stops using it is
:data:`~supplier_sdk.requester.TOKEN_REFRESH_MARGIN`. Building the assertions, without HTTP, is
:mod:`supplier_sdk.auth`.

Example:
    >>> token = AccessToken("eyJ…", expires_at=1_000.0)
    >>> token.usable(margin=30.0, now=960.0), token.usable(margin=30.0, now=980.0)
    (True, False)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.models.orgs import TokenResponse
from supplier_sdk.auth import token_request_form


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when it expires.

    Attributes:
        value: the token, for ``Authorization: Bearer …``.
        expires_at: its expiry on the ``time.monotonic()`` clock.

    Example:
        >>> AccessToken("t", expires_at=time.monotonic() + 600).usable(margin=30.0)
        True
    """

    value: str
    expires_at: float

    def usable(self, *, margin: float, now: float | None = None) -> bool:
        """Whether the token is still more than ``margin`` seconds from expiring (at ``now``, default now).

        Example:
            >>> AccessToken("t", expires_at=100.0).usable(margin=30.0, now=70.0)
            False
        """
        return (time.monotonic() if now is None else now) < self.expires_at - margin


def request_token(
    http: httpx.Client,
    *,
    client_id: str,
    private_key: Ed25519PrivateKey,
    token_url: str,
    scope: str | None,
    exchange: Callable[[Callable[[], httpx.Response]], httpx.Response],
) -> AccessToken:
    """Ask the hub for a new access token (a POST to ``/oauth/token`` under ``http``'s base URL).

    Args:
        http: the connection to the hub.
        client_id: the API client's id (``qlc_…``).
        private_key: the key the client was registered with; it signs the assertions.
        token_url: the token endpoint's full URL, the audience of the assertions.
        scope: space-separated scopes to ask for; ``None`` for all the client was granted.
        exchange: sends a request with retries and error mapping (the client's
            :func:`supplier_sdk.retry.exchange`).

    Raises:
        HubError: the token endpoint refused (``invalid_client``, ``invalid_scope``, ...).
        HubUnreachable: no answer after the retries.

    Example:
        >>> answer = {"access_token": "t1", "token_type": "Bearer", "expires_in": 600, "scope": ""}
        >>> hub = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
        >>> with httpx.Client(base_url="https://hub.example", transport=hub) as http:
        ...     token = request_token(http, client_id="qlc_1", private_key=Ed25519PrivateKey.generate(),
        ...                           token_url="https://hub.example/oauth/token", scope=None,
        ...                           exchange=lambda send: send())
        >>> token.value, token.usable(margin=30.0)
        ('t1', True)
    """
    # Every POST carries a key; the token endpoint ignores it, the rule stays simple for proxies and logs.
    headers = {"Idempotency-Key": str(uuid.uuid4())}

    def send() -> httpx.Response:
        # A fresh assertion for every attempt: the hub refuses a client assertion's jti twice.
        form = token_request_form(
            client_id=client_id, private_key=private_key, token_url=token_url, scope=scope
        )
        return http.post("/oauth/token", data=form, headers=headers)

    asked_at = time.monotonic()
    answer = TokenResponse.model_validate(exchange(send).json())
    return AccessToken(answer.access_token, asked_at + answer.expires_in)


__all__ = ["AccessToken", "request_token"]
