"""Following the hub's event stream: Server-Sent Events parsed into typed events, resumed after a drop.

``GET /v1/events`` sends the organization's events as SSE frames (``id:`` the event's position, ``event:``
its type, ``data:`` a :class:`~protocol.models.events.EventMessage`). :func:`follow` reads them and, when the
connection drops, connects again with ``Last-Event-ID`` set to the position of the last event it yielded,
after a capped, jittered backoff (the client's :class:`~supplier_sdk.retry.RetryPolicy`), so the consumer
sees each event once and in order. Use it through ``client.events.follow()`` (:class:`Events`), which brings
the requester's connection, token and retry policy.

Delivery from the hub is at least once: should the same event ever arrive twice (a consumer that persists
its own cursor and restarts, say), it carries the same ``id``; deduplicate by it.

Example:
    >>> frames = ["id: 7", "event: agreement.accepted",
    ...           'data: {"id": "00000000-0000-0000-0000-000000000001", "type": "agreement.accepted",',
    ...           'data:  "occurred_at": "2026-11-25T10:00:00Z", "subject_id": "a-1", "payload": {}}', ""]
    >>> [(e.position, e.type) for e in parse_stream(frames)]
    [(7, 'agreement.accepted')]
"""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from protocol.models.events import EventMessage
from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.errors import HubUnreachable, error_from_response
from supplier_sdk.requester import Requester
from supplier_sdk.retry import RetryPolicy

STREAM_READ_TIMEOUT = 60.0
"""Seconds of silence after which a stream counts as dropped; the hub sends a keepalive every 15 s.

Example:
    >>> STREAM_READ_TIMEOUT > 15
    True
"""


@dataclass(frozen=True)
class StreamEvent:
    """One event from the stream: its position (the resume cursor) and the :class:`EventMessage` fields.

    Args:
        position: the event's place in this organization's stream; resume after it with ``after=position``.
        id: the event's id, the same on every delivery: deduplicate by it.
        type: e.g. ``kpi_report.accepted``.
        occurred_at: when the change committed.
        subject_id: what changed (a report, an agreement, a standing, a notification id).
        payload: the organization's view of the subject, as the API answers it.

    Example:
        >>> from datetime import UTC, datetime
        >>> event = StreamEvent(position=3, id=uuid.UUID(int=1), type="standing.changed",
        ...                     occurred_at=datetime(2026, 11, 25, tzinfo=UTC), subject_id="s-1",
        ...                     payload={"tier": "B"})
        >>> event.payload["tier"]
        'B'
    """

    position: int
    id: uuid.UUID
    type: str
    occurred_at: datetime
    subject_id: str
    payload: dict[str, Any] = field(default_factory=dict)


def parse_stream(lines: Iterable[str]) -> Iterator[StreamEvent]:
    """Turn the stream's lines into events; comments (keepalives), ``retry:`` and id-less frames are skipped.

    Args:
        lines: the response body split into lines, without their line endings.

    Example:
        >>> list(parse_stream([": keepalive", "", "retry: 1000", ""]))
        []
    """
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if line == "":
            if "id" in fields and data:
                message = EventMessage.model_validate(json.loads("\n".join(data)))
                yield StreamEvent(
                    position=int(fields["id"]),
                    id=message.id,
                    type=message.type,
                    occurred_at=message.occurred_at,
                    subject_id=message.subject_id,
                    payload=message.payload,
                )
            fields, data = {}, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        else:
            fields[name] = value


def follow(
    http: httpx.Client,
    *,
    access_token: Callable[[], str],
    forget_token: Callable[[], None],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    after: int | None = None,
    types: list[str] | None = None,
    once: bool = False,
) -> Iterator[StreamEvent]:
    """Iterate over the stream, reconnecting after a drop from the last position yielded.

    A live stream (``once=False``) reconnects for as long as it is iterated; ``once=True`` reads what is there
    and stops, giving up with :class:`~supplier_sdk.errors.HubUnreachable` after ``policy.max_retries``
    failed attempts in a row. An error answer other than 5xx/429 (403 without ``events:read``, 422 for a bad
    cursor) is raised as its :class:`~supplier_sdk.errors.HubError`; one 401 fetches a new token first.

    Example::

        for event in follow(http, access_token=token, forget_token=reset, policy=RetryPolicy(), sleep=time.sleep):
            print(event.position, event.type)
    """
    last = after
    params: dict[str, str] = {}
    if types:
        params["types"] = ",".join(types)
    if once:
        params["once"] = "true"
    failures = 0
    refreshed = False
    base_url = str(http.base_url)
    while True:
        reason = "the stream ended"
        headers = {"Authorization": f"Bearer {access_token()}", "Accept": "text/event-stream"}
        if last is not None:
            headers["Last-Event-ID"] = str(last)
        try:
            timeout = httpx.Timeout(http.timeout.connect or 10.0, read=STREAM_READ_TIMEOUT)
            with http.stream(
                "GET", "/v1/events", params=params, headers=headers, timeout=timeout
            ) as response:
                if response.status_code == 401 and not refreshed:
                    refreshed = True
                    forget_token()
                    continue
                if response.status_code >= 400:
                    response.read()
                    error = error_from_response(response)
                    if not error.unavailable:
                        raise error
                    reason = str(error)
                else:
                    refreshed = False
                    for event in parse_stream(response.iter_lines()):
                        if last is not None and event.position <= last:
                            continue  # a resumed stream never goes back, but a consumer must never see one twice
                        failures = 0
                        last = event.position
                        yield event
                    if once:
                        return
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if once and failures >= policy.max_retries:
            raise HubUnreachable(base_url, reason)
        sleep(policy.backoff(failures))
        failures += 1


class Events:
    """The organization's event stream (``client.events``), on the requester's connection and token.

    Example::

        for event in hub.events.follow(types=["standing.changed"]):
            print(event.position, event.payload["tier"])
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def follow(
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

            for event in hub.events.follow(types=["standing.changed"]):
                print(event.position, event.payload["tier"])
                save_cursor(event.position)
        """
        requester = self._requester
        return follow(
            requester.http,
            access_token=requester.access_token,
            forget_token=requester.forget_token,
            policy=requester.retry,
            sleep=requester.sleep,
            after=after,
            types=types,
            once=once,
        )

    def __call__(
        self, *, after: int | None = None, types: list[str] | None = None, once: bool = False
    ) -> Iterator[StreamEvent]:
        # client.events(...) was a method before it became this resource: it still answers for one release.
        warnings.warn(
            "client.events(...) is deprecated and will be removed in the next release; use client.events.follow(...)",
            SdkDeprecationWarning,
            stacklevel=2,
        )
        return self.follow(after=after, types=types, once=once)


__all__ = ["STREAM_READ_TIMEOUT", "Events", "StreamEvent", "follow", "parse_stream"]
