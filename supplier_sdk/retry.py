"""When the SDK asks the hub again: the retry policy, and the exchange loop that applies it to every request.

A :class:`~supplier_sdk.requester.Requester` sends each request, the token request included, through
:func:`exchange` under its :class:`RetryPolicy` (at most ``max_retries`` extra attempts):

- **connection errors and timeouts**, **429** and **5xx** are retried;
- **409** is retried unless its ``error`` is one of :data:`~supplier_sdk.errors.PERMANENT_CONFLICTS`
  (``Conflict``, ``DuplicateReport``, ``ReplayedNonce``, ``IdempotencyKeyReused``): those describe the request
  itself and no wait changes them. ``IdempotencyKeyInFlight`` is retried: it is what the hub answers while
  another request with the same Idempotency-Key is still in flight (typically the client's own first attempt,
  overtaken by its retry);
- one refinement: when a POST's earlier attempt got *no definite answer* (a timeout or 5xx after the request
  may have reached the hub) and the retry is answered ``DuplicateReport`` or ``ReplayedNonce``, the duplicate
  may be that very first attempt, committed meanwhile; the client asks once more with the same key, and the
  hub then answers the first report again (``Idempotent-Replayed: true``) — or the same conflict, now raised;
- the wait before retry *k* (0-based) is "full jitter": uniform in ``[0, min(backoff_cap, backoff_base·2^k)]``,
  unless the answer carried ``Retry-After``: then exactly that many seconds, when at most
  ``max_retry_after``; a longer requested wait ends the retries and raises the error.

Everything else (400, 401 after the refresh, 403, 404, 422) is raised at once as the matching
:class:`~supplier_sdk.errors.HubError`; transport failures after the last retry as
:class:`~supplier_sdk.errors.HubUnreachable`.

Example:
    >>> import httpx
    >>> answers = iter([httpx.Response(503), httpx.Response(200, json={"ok": True})])
    >>> waits = []
    >>> response = exchange(lambda: next(answers), policy=RetryPolicy(), base_url="http://hub", sleep=waits.append)
    >>> response.json()
    {'ok': True}
    >>> len(waits), 0.0 <= waits[0] <= 0.2
    (1, True)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from supplier_sdk.errors import HubUnreachable, error_from_response

# Failures after which the request certainly never reached the hub: a duplicate seen later cannot be our own.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
_MAYBE_OWN_DUPLICATE = frozenset({"DuplicateReport", "ReplayedNonce"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long the client waits before asking again (see the module docstring).

    Attributes:
        max_retries: extra attempts after the first (0 disables retries).
        backoff_base: the first retry waits up to this many seconds; each further one doubles the ceiling.
        backoff_cap: the ceiling never exceeds this many seconds.
        max_retry_after: the longest ``Retry-After`` honoured; a longer one ends the retries.

    Example:
        >>> policy = RetryPolicy(max_retries=3, backoff_base=0.2, backoff_cap=5.0)
        >>> [policy.ceiling(k) for k in range(7)]
        [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
        >>> policy.delay(0, retry_after=2.0), policy.delay(0, retry_after=600.0)
        (2.0, None)
    """

    max_retries: int = 3
    backoff_base: float = 0.2
    backoff_cap: float = 5.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise ValueError(f"max_retries must be a whole number ≥ 0, not {self.max_retries!r}")
        for name in ("backoff_base", "backoff_cap", "max_retry_after"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be ≥ 0")

    def ceiling(self, attempt: int) -> float:
        """The longest backoff before retry ``attempt`` (0-based): ``min(backoff_cap, backoff_base·2^attempt)``.

        Example:
            >>> RetryPolicy(backoff_base=1.0, backoff_cap=3.0).ceiling(2)
            3.0
        """
        return min(self.backoff_cap, self.backoff_base * 2.0 ** min(attempt, 62))

    def backoff(self, attempt: int, *, rng: random.Random | None = None) -> float:
        """A full-jitter wait before retry ``attempt``: uniform in ``[0, ceiling(attempt)]``.

        Example:
            >>> 0.0 <= RetryPolicy().backoff(1) <= 0.4
            True
        """
        return (rng or random).uniform(0.0, self.ceiling(attempt))

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """The wait before retry ``attempt``: ``retry_after`` if given and honoured, else :meth:`backoff`.

        Returns ``None`` when the hub asked for a longer wait than ``max_retry_after`` (stop retrying).

        Example:
            >>> RetryPolicy(max_retry_after=10).delay(1, retry_after=11.0) is None
            True
        """
        if retry_after is None:
            return self.backoff(attempt)
        return retry_after if retry_after <= self.max_retry_after else None


def _describe(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


def exchange(
    send: Callable[[], httpx.Response],
    *,
    policy: RetryPolicy,
    base_url: str,
    sleep: Callable[[float], None] = time.sleep,
    reauthenticate: Callable[[], bool] | None = None,
    resolve_own_duplicates: bool = False,
) -> httpx.Response:
    """Call ``send`` until it answers below 400, retrying as ``policy`` says; raise the last error otherwise.

    Args:
        send: makes one attempt; called again for every retry (so it can refresh a token or an assertion).
        policy: how often and how long to wait.
        base_url: the hub's URL, named in :class:`~supplier_sdk.errors.HubUnreachable`.
        sleep: how to wait between attempts.
        reauthenticate: called on a 401; when it returns ``True`` the request is sent again at once (not
            counted as a retry), when ``False`` the 401 is raised.
        resolve_own_duplicates: ask once more on a ``DuplicateReport`` or ``ReplayedNonce`` that may answer an
            earlier attempt of this very request (see the module docstring); for POSTs.

    Raises:
        HubError: the matching subclass for the last error answer.
        HubUnreachable: no answer after the retries.

    Example:
        >>> import httpx
        >>> def refused() -> httpx.Response:
        ...     raise httpx.ConnectError("connection refused")
        >>> exchange(refused, policy=RetryPolicy(max_retries=0), base_url="http://hub")
        Traceback (most recent call last):
        ...
        supplier_sdk.errors.HubUnreachable: hub at http://hub is unreachable: ConnectError: connection refused
    """
    attempt = 0
    outcome_unknown = False  # an earlier attempt may have reached the hub without our hearing its answer
    while True:
        try:
            response = send()
        except httpx.TransportError as exc:
            if attempt >= policy.max_retries:
                raise HubUnreachable(base_url, _describe(exc)) from exc
            outcome_unknown = outcome_unknown or not isinstance(exc, _NOT_SENT)
            sleep(policy.backoff(attempt))
            attempt += 1
            continue
        if response.status_code < 400:
            return response
        error = error_from_response(response)
        if response.status_code == 401 and reauthenticate is not None and reauthenticate():
            continue
        maybe_own = resolve_own_duplicates and outcome_unknown and error.error in _MAYBE_OWN_DUPLICATE
        if attempt < policy.max_retries and (error.retryable or maybe_own):
            delay = policy.delay(attempt, error.retry_after)
            if delay is not None:
                outcome_unknown = False if maybe_own else outcome_unknown or error.http_status >= 500
                sleep(delay)
                attempt += 1
                continue
        raise error


__all__ = ["RetryPolicy", "exchange"]
