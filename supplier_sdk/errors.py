"""Every error the supplier SDK raises, as one tree (catch a branch to handle a whole family)::

    QualinkError                      base of everything below
    ├── HubError                      the hub answered with an error (http_status, error, detail, request_id, fields)
    │   ├── AuthenticationError       401, or the token endpoint's invalid_client: wrong client id or key
    │   ├── PermissionDenied          403 (InsufficientScope, Forbidden), or the token endpoint's unauthorized_client
    │   ├── NotFound                  404: absent, or another organization's (the hub does not say which)
    │   ├── ConflictError             409: DuplicateReport, ReplayedNonce, Conflict, IdempotencyKeyInFlight
    │   ├── Gone                      410: it existed and was deleted for good (DatasetShredded)
    │   ├── InvalidRequest            400, 413, 422: InvalidInput, InvalidSignature, StaleSignature, UnknownKey,
    │   │                             RevokedKey, ProofRequired, IdempotencyKeyReused, invalid_scope, ...
    │   ├── RateLimited               429: the hub asks to slow down (``retry_after`` says how long)
    │   └── ServerError               5xx: the hub failed (after the client's retries)
    ├── HubUnreachable                no answer at all: refused connection, DNS, TLS, timeouts (after retries)
    ├── AgreementMismatch             a report asks for what its agreement does not cover (also a ValueError)
    ├── WebhookVerificationError      a webhook delivery's signature, timestamp or body does not check out
    └── ConfigError                   the hub URL, client id or key file is missing or unusable (also a ValueError)

:func:`error_from_response` turns an error response into the right :class:`HubError` subclass: first by the
``error`` name in the hub's uniform body ``{"error", "detail", "request_id", "fields"?}`` (or the RFC 6749
``error`` code at ``/oauth/token``), then by HTTP status. Bad input to the KPI math itself is
:class:`supplier_sdk.kpi.KpiInputError`, a ``ValueError`` outside this tree.

Example:
    >>> import httpx
    >>> response = httpx.Response(409, json={"error": "DuplicateReport", "detail": "exists", "request_id": "r1"})
    >>> error = error_from_response(response)
    >>> type(error).__name__, error.error, error.retryable
    ('ConflictError', 'DuplicateReport', False)
"""

from __future__ import annotations

import email.utils
import math
from datetime import UTC, datetime
from typing import Any

import httpx

from protocol.models.errors import FieldError

PERMANENT_CONFLICTS: frozenset[str] = frozenset(
    {"Conflict", "DuplicateReport", "ReplayedNonce", "IdempotencyKeyReused"}
)
"""Names of 409 answers that asking again cannot change, so the client never retries them.

``Conflict`` (a lasting state: an agreement that is not active, a key registered already), ``DuplicateReport``
(that supplier·agreement·characteristic·KPI·period has a report), ``ReplayedNonce`` (the envelope's nonce was
used before) and ``IdempotencyKeyReused`` (the key went with another body; the hub sends it as 422, listed here
for any hub that sends 409) describe the request itself. Every other 409 is retried with backoff, in particular
``IdempotencyKeyInFlight``, which the hub answers while another request with the same Idempotency-Key has not
finished — the very answer a client gets when its own retry overtakes its first attempt. One refinement lives
in the client's retries: a ``DuplicateReport`` or ``ReplayedNonce`` answering a *retried* POST whose earlier
attempt got no definite answer may be our own first attempt, so the client asks once more with the same key
(see :mod:`supplier_sdk.retry`).

Example:
    >>> "DuplicateReport" in PERMANENT_CONFLICTS, "IdempotencyKeyInFlight" in PERMANENT_CONFLICTS
    (True, False)
"""


class QualinkError(Exception):
    """Base of every error the SDK raises on purpose.

    Example:
        >>> issubclass(HubUnreachable, QualinkError), issubclass(NotFound, QualinkError)
        (True, True)
    """


class HubError(QualinkError):
    """The hub answered with an error status.

    Attributes:
        http_status: the HTTP status code.
        error: the error's name from the body (``DuplicateReport``, ``invalid_client``, ...), or ``HTTP <status>``
            when the body has none.
        detail: the hub's one-line explanation.
        request_id: the hub's request id, to quote when asking the operator (``None`` if absent).
        fields: the invalid input fields (``loc``, ``msg``), for validation errors.
        retry_after: seconds the hub asked to wait (``Retry-After``), or ``None``.

    Example:
        >>> error = HubError(http_status=422, error="StaleSignature", detail="signed_at too old", request_id="r7")
        >>> str(error)
        'StaleSignature: signed_at too old (HTTP 422, request r7)'
    """

    def __init__(
        self,
        *,
        http_status: int,
        error: str,
        detail: str,
        request_id: str | None = None,
        fields: list[FieldError] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.http_status = http_status
        self.error = error
        self.detail = detail
        self.request_id = request_id
        self.fields = list(fields or [])
        self.retry_after = retry_after
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"HTTP {self.http_status}" + (f", request {self.request_id}" if self.request_id else "")
        return f"{self.error}: {self.detail} ({where})"

    @property
    def retryable(self) -> bool:
        """Whether the client asks again: 429, 5xx, and 409s not in :data:`PERMANENT_CONFLICTS`.

        Example:
            >>> HubError(http_status=503, error="ServiceUnavailable", detail="down").retryable
            True
            >>> HubError(http_status=409, error="ReplayedNonce", detail="seen").retryable
            False
        """
        if self.http_status == 409:
            return self.error not in PERMANENT_CONFLICTS
        return self.unavailable

    @property
    def unavailable(self) -> bool:
        """Whether the hub could not serve the request at all (5xx, 429): what the outbox queues for later.

        A 409 is retryable but not "unavailable": the hub is up and answered about the request itself.

        Example:
            >>> HubError(http_status=502, error="HTTP 502", detail="bad gateway").unavailable
            True
            >>> HubError(http_status=409, error="IdempotencyKeyInFlight", detail="key in flight").unavailable
            False
        """
        return self.http_status == 429 or self.http_status >= 500


class AuthenticationError(HubError):
    """The hub does not know the caller: HTTP 401, or ``invalid_client`` at the token endpoint.

    Example:
        >>> type(error_from_response(httpx.Response(401, json={"error": "invalid_client"}))).__name__
        'AuthenticationError'
    """


class PermissionDenied(HubError):
    """The caller is known but may not do this (HTTP 403: ``InsufficientScope``, ``Forbidden``).

    Example:
        >>> type(error_from_response(httpx.Response(403, json={"error": "InsufficientScope"}))).__name__
        'PermissionDenied'
    """


class NotFound(HubError):
    """HTTP 404: the thing does not exist, or belongs to an organization the caller may not see.

    Example:
        >>> error_from_response(httpx.Response(404, json={"error": "NotFound", "detail": "agreement not found"}))
        NotFound('NotFound: agreement not found (HTTP 404)')
    """


class ConflictError(HubError):
    """HTTP 409: the request breaks a state or uniqueness rule (``DuplicateReport``, ``ReplayedNonce``, ...).

    Example:
        >>> error_from_response(httpx.Response(409, json={"error": "ReplayedNonce"})).retryable
        False
    """


class Gone(HubError):
    """HTTP 410: what was asked for existed and is deleted for good (``DatasetShredded``: a closed room's data).

    Example:
        >>> type(error_from_response(httpx.Response(410, json={"error": "DatasetShredded"}))).__name__
        'Gone'
    """


class InvalidRequest(HubError):
    """HTTP 400, 413 or 422: the hub refuses the request as it is (``fields`` names bad input).

    Example:
        >>> body = {"error": "InvalidInput", "detail": "bad", "fields": [{"loc": "body.kpi", "msg": "unknown"}]}
        >>> error_from_response(httpx.Response(422, json=body)).fields[0].loc
        'body.kpi'
    """


class RateLimited(HubError):
    """HTTP 429: too many requests; ``retry_after`` says how long the hub asked to wait.

    Example:
        >>> error_from_response(httpx.Response(429, headers={"Retry-After": "3"})).retry_after
        3.0
    """


class ServerError(HubError):
    """HTTP 5xx: the hub (or a proxy in front of it) failed; retried by the client before it is raised.

    Example:
        >>> error_from_response(httpx.Response(502, text="Bad Gateway")).error
        'HTTP 502'
    """


class HubUnreachable(QualinkError):
    """No HTTP answer at all after the client's retries: connection refused, DNS or TLS failure, timeout.

    Example:
        >>> str(HubUnreachable("http://127.0.0.1:9", "connection refused"))
        'hub at http://127.0.0.1:9 is unreachable: connection refused'
    """

    def __init__(self, base_url: str, reason: str) -> None:
        self.base_url = base_url
        self.reason = reason
        super().__init__(f"hub at {base_url} is unreachable: {reason}")


class AgreementMismatch(QualinkError, ValueError):
    """A report would claim something its supply agreement does not cover (characteristic, KPI, period, status).

    Example:
        >>> isinstance(AgreementMismatch("the agreement has no KPI 'mtbf'"), ValueError)
        True
    """


class ConfigError(QualinkError, ValueError):
    """Where to find the hub or the credentials is missing or unusable; the message says how to fix it.

    Example:
        >>> str(ConfigError("no hub URL: set QUALINK_HUB_URL or pass --hub"))
        'no hub URL: set QUALINK_HUB_URL or pass --hub'
    """


class WebhookVerificationError(QualinkError):
    """A webhook delivery failed :func:`supplier_sdk.webhooks.verify`: a header is missing, no signature matches
    the secret, the timestamp is outside the tolerance, or the body is not an event. Answer such a request with
    4xx and do not act on it.

    Example:
        >>> str(WebhookVerificationError("no signature matches the secret"))
        'no signature matches the secret'
    """


_BY_NAME: dict[str, type[HubError]] = {
    "invalid_client": AuthenticationError,
    "invalid_grant": AuthenticationError,
    "Unauthenticated": AuthenticationError,
    "unauthorized_client": PermissionDenied,
    "InsufficientScope": PermissionDenied,
    "Forbidden": PermissionDenied,
    "NotFound": NotFound,
    "DuplicateReport": ConflictError,
    "ReplayedNonce": ConflictError,
    "Conflict": ConflictError,
    "DatasetShredded": Gone,
    "InvalidInput": InvalidRequest,
    "InvalidSignature": InvalidRequest,
    "StaleSignature": InvalidRequest,
    "UnknownKey": InvalidRequest,
    "RevokedKey": InvalidRequest,
    "ProofRequired": InvalidRequest,
    "IdempotencyKeyReused": InvalidRequest,
}

_BY_STATUS: dict[int, type[HubError]] = {
    400: InvalidRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: ConflictError,
    410: Gone,
    413: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
}


def _error_class(status: int, name: str) -> type[HubError]:
    if status >= 500:
        return ServerError
    if status == 429:
        return RateLimited
    return _BY_NAME.get(name) or _BY_STATUS.get(status, HubError)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read a ``Retry-After`` header (delta seconds or an HTTP date) as seconds from now, ``None`` if unusable.

    Args:
        value: the header's value, or ``None``.
        now: the current time for an HTTP date (default: now, UTC).

    Example:
        >>> parse_retry_after("2"), parse_retry_after("soon"), parse_retry_after(None)
        (2.0, None, None)
        >>> parse_retry_after("Wed, 25 Nov 2026 12:00:30 GMT", now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
        30.0
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _fields(raw: Any) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    return [
        FieldError(loc=str(item.get("loc", "")), msg=str(item.get("msg", "")))
        for item in raw
        if isinstance(item, dict)
    ]


def error_from_response(response: httpx.Response) -> HubError:
    """Build the typed :class:`HubError` for an error response (it is returned, not raised).

    The class comes from the body's ``error`` name when the SDK knows it, else from the HTTP status (5xx is
    always :class:`ServerError`, 429 :class:`RateLimited`). ``detail`` falls back to RFC 6749's
    ``error_description`` and then to the start of the response text; ``request_id`` to the
    ``X-Request-ID`` header.

    Args:
        response: an ``httpx.Response`` whose status is 400 or above.

    Example:
        >>> body = {"error": "StaleSignature", "detail": "signed_at is 400 s old", "request_id": "abc"}
        >>> error = error_from_response(httpx.Response(422, json=body))
        >>> isinstance(error, InvalidRequest), error.error, error.request_id
        (True, 'StaleSignature', 'abc')
    """
    status = response.status_code
    body = _body(response)
    name = body.get("error")
    name = name if isinstance(name, str) and name else f"HTTP {status}"
    detail = body.get("detail") or body.get("error_description")
    if not isinstance(detail, str) or not detail:
        detail = " ".join(response.text.split())[:200] or response.reason_phrase or "no detail"
    request_id = body.get("request_id") or response.headers.get("x-request-id")
    return _error_class(status, name)(
        http_status=status,
        error=name,
        detail=detail,
        request_id=request_id if isinstance(request_id, str) and request_id not in ("", "-") else None,
        fields=_fields(body.get("fields")),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


__all__ = [
    "PERMANENT_CONFLICTS",
    "AgreementMismatch",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "Gone",
    "HubError",
    "HubUnreachable",
    "InvalidRequest",
    "NotFound",
    "PermissionDenied",
    "QualinkError",
    "RateLimited",
    "ServerError",
    "error_from_response",
    "parse_retry_after",
]
