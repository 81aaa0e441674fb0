"""The ``Idempotency-Key`` header for every POST that creates something (:mod:`hub.idempotency` has the rules).

A route takes ``once: IdempotentPost`` and hands it its one service call::

    def create_thing(body: ThingCreate, session: SessionDep, caller: Writer, once: IdempotentPost) -> Thing:
        row = once(session, caller, body, create=lambda: service.create(...), replay=lambda id: service.get(...))
        return service.as_wire(row)

The key is scoped to the caller's organization and the route's path template; the fingerprint covers the path
parameters and the parsed body.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hub import idempotency
from hub.auth.tokens import Caller

Made = TypeVar("Made")

HEADER_DESCRIPTION = (
    "Any unique string (a UUID), 1 to 200 printable characters. A repeat with the same key and request within "
    "24 hours answers what the first made (same id and status, `Idempotent-Replayed: true`) and makes nothing "
    "more; the same key with another request is 422 IdempotencyKeyReused; while the first is still running, "
    "409 IdempotencyKeyInFlight. Keys are per organization."
)


def _row_id(made: Any) -> uuid.UUID:
    row_id: uuid.UUID = made.id
    return row_id


class Once:
    """One POST's ``Idempotency-Key``, ready to wrap the route's service call."""

    def __init__(self, *, key: str | None, endpoint: str, path: dict[str, Any], response: Response) -> None:
        self.key = key
        self.endpoint = endpoint
        self.path = path
        self._response = response

    def __call__(
        self,
        session: Session,
        caller: Caller,
        body: BaseModel | None,
        *,
        create: Callable[[], Made],
        replay: Callable[[uuid.UUID], Made],
        resource_id: Callable[[Made], uuid.UUID] = _row_id,
    ) -> Made:
        """``create()``, or on a repeat ``replay(id)`` of what the first request made."""
        request_hash = idempotency.fingerprint(
            path=self.path, body=None if body is None else body.model_dump(mode="json")
        )
        outcome = idempotency.once(
            session,
            org_id=caller.org_id,
            request=idempotency.KeyedRequest(key=self.key, endpoint=self.endpoint, request_hash=request_hash),
            create=create,
            resource_id=resource_id,
            replay=replay,
        )
        if outcome.replayed:
            self._response.headers["Idempotent-Replayed"] = "true"
        return outcome.made


def _once(
    request: Request,
    response: Response,
    key: Annotated[str | None, Header(alias="Idempotency-Key", description=HEADER_DESCRIPTION)] = None,
) -> Once:
    route = request.scope.get("route")
    endpoint = getattr(route, "path", request.url.path)
    return Once(
        key=idempotency.check_key(key),
        endpoint=endpoint,
        path={name: str(value) for name, value in request.path_params.items()},
        response=response,
    )


IdempotentPost = Annotated[Once, Depends(_once)]
