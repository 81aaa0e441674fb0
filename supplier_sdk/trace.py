"""``client.trace``: forward and backward traces through the hub, with minimal disclosure.

``POST /v1/trace`` (scope ``trace:read``) starts from one or many roots and answers with a
:class:`~protocol.models.trace.TraceResult`: ``answer`` yes / no / unknown, the affected set grouped by
organization, part, vehicle model, plant and bin, and counts for what the caller may not see (``undisclosed``).

A root is a :class:`~protocol.models.trace.TraceRoot` or anything :func:`root` understands: an asset id (a
UUID), a catenaXId (``urn:uuid:…``), a natural key ``<organization id>/<batch|serial>/<local id>``, your own
``<batch|serial>/<local id>``, or a bare local id (your own lot). :func:`by_id`, :func:`by_catenax_id` and
:func:`by_local_id` build one explicitly.

Example::

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        result = hub.trace.forward(["CAP-L00012345"])             # "is my lot in your vehicles?"
        print(result.answer, result.affected_serials, result.undisclosed.models)
        upstream = hub.trace.backward([by_local_id("VIN-1", kind="serial")], depth=3)
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterable
from datetime import datetime

from protocol.models.trace import AssetKind, TraceDirection, TraceRequest, TraceResult, TraceRoot
from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.requester import Requester

RootLike = TraceRoot | uuid.UUID | str
"""What a trace root may be given as: a :class:`~protocol.models.trace.TraceRoot`, an asset id or a string.

Example:
    >>> root("LOT-7").local_id
    'LOT-7'
"""

_KINDS: tuple[AssetKind, ...] = ("batch", "serial")


def by_id(asset_id: uuid.UUID | str) -> TraceRoot:
    """A root by the hub's asset id (``asset_id`` of a trace node or an import).

    Example:
        >>> by_id("0190a1b2-0000-7000-8000-000000000001").asset_id.hex[:8]
        '0190a1b2'
    """
    return TraceRoot(asset_id=uuid.UUID(str(asset_id)))


def by_catenax_id(catenax_id: str) -> TraceRoot:
    """A root by its Catena-X id.

    Example:
        >>> by_catenax_id("urn:uuid:580d3adf-1981-44a0-a214-13d6ceed9379").catenax_id[-4:]
        '9379'
    """
    return TraceRoot(catenax_id=catenax_id)


def by_local_id(
    local_id: str, *, kind: AssetKind = "batch", organization_id: uuid.UUID | str | None = None
) -> TraceRoot:
    """A root by natural key: the batchId or partInstanceId, its kind and maker (default: your organization).

    Example:
        >>> by_local_id("VIN-1", kind="serial").kind
        'serial'
        >>> str(by_local_id("W-12", organization_id="00000000-0000-0000-0000-00000000000a").organization_id)[-2:]
        '0a'
    """
    org = None if organization_id is None else uuid.UUID(str(organization_id))
    return TraceRoot(local_id=local_id, kind=kind, organization_id=org)


def root(value: RootLike) -> TraceRoot:
    """A :class:`~protocol.models.trace.TraceRoot` from an id, a catenaXId, a natural key or a local id.

    Strings are read as: a UUID → asset id; ``urn:…`` → catenaXId; ``<org uuid>/<kind>/<local id>`` or
    ``<kind>/<local id>`` (``kind`` ``batch`` or ``serial``) → natural key; anything else → your own lot.

    Raises:
        ValueError: a string with slashes that is none of the keys above.

    Example:
        >>> root("urn:uuid:580d3adf-1981-44a0-a214-13d6ceed9379").catenax_id is not None
        True
        >>> root("serial/VIN-1").kind, root("serial/VIN-1").local_id
        ('serial', 'VIN-1')
        >>> r = root("00000000-0000-0000-0000-00000000000a/batch/W-12")
        >>> r.organization_id.int, r.local_id
        (10, 'W-12')
        >>> root("00000000-0000-0000-0000-000000000001").asset_id.int
        1
    """
    if isinstance(value, TraceRoot):
        return value
    if isinstance(value, uuid.UUID):
        return by_id(value)
    text = value.strip()
    if text.startswith("urn:"):  # before the UUID: uuid.UUID() also reads "urn:uuid:…"
        return by_catenax_id(text)
    try:
        return by_id(uuid.UUID(text))
    except ValueError:
        pass
    parts = text.split("/")
    if len(parts) == 1:
        return by_local_id(text)
    if len(parts) == 2 and parts[0] in _KINDS:
        return by_local_id(parts[1], kind=parts[0])
    if len(parts) == 3 and parts[1] in _KINDS:
        try:
            org = uuid.UUID(parts[0])
        except ValueError:
            org = None
        if org is not None:
            return by_local_id(parts[2], kind=parts[1], organization_id=org)
    raise ValueError(
        f"{value!r} is not an asset id, a catenaXId, <org id>/<batch|serial>/<local id>, "
        "<batch|serial>/<local id> or a local id"
    )


def trace_request(
    roots: Iterable[RootLike],
    *,
    direction: TraceDirection = "forward",
    depth: int | None = None,
    as_of: datetime | None = None,
) -> TraceRequest:
    """The body of ``POST /v1/trace`` (validated here: 1 to 1000 roots, depth 1 to 100, a tz-aware ``as_of``).

    Example:
        >>> trace_request(["LOT-7", "serial/VIN-1"], direction="backward", depth=2).model_dump(
        ...     mode="json", exclude_none=True)["roots"][1]
        {'kind': 'serial', 'local_id': 'VIN-1'}
    """
    return TraceRequest(roots=[root(item) for item in roots], direction=direction, depth=depth, as_of=as_of)


def run_trace(
    requester: Requester,
    roots: Iterable[RootLike],
    *,
    direction: TraceDirection = "forward",
    depth: int | None = None,
    as_of: datetime | None = None,
) -> TraceResult:
    """Trace through ``requester`` (what ``client.trace.run`` does).

    Raises:
        NotFound: a root that does not exist or that you have no relation to.
        PermissionDenied: the client lacks ``trace:read``.

    Example::

        result = run_trace(hub.requester, ["LOT-7"], depth=5)
        print(result.answer)
    """
    body = trace_request(roots, direction=direction, depth=depth, as_of=as_of)
    answer = requester.request("POST", "/v1/trace", json=body.model_dump(mode="json", exclude_none=True))
    return TraceResult.model_validate(answer)


class Trace:
    """Lot genealogy through the hub (``client.trace``): what a lot went into, and what went into it.

    You see your own and your partners' assets, counts for the rest.

    Example::

        affected = hub.trace.forward(["CAP-L00012345"])
        print(affected.answer)
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def run(
        self,
        roots: Iterable[RootLike],
        *,
        direction: TraceDirection = "forward",
        depth: int | None = None,
        as_of: datetime | None = None,
    ) -> TraceResult:
        """Trace the roots (as :func:`root` reads them) ``forward`` (what contains them) or ``backward``.

        Example: ``print(hub.trace.run(["CAP-L00012345"], direction="backward").answer)``
        """
        return run_trace(self._requester, roots, direction=direction, depth=depth, as_of=as_of)

    def forward(
        self, roots: Iterable[RootLike], *, depth: int | None = None, as_of: datetime | None = None
    ) -> TraceResult:
        """What contains the roots: lots, products, vehicle models, plants and inventory downstream.

        Example: ``hub.trace.forward(["CAP-L00012345"], depth=5).nodes``
        """
        return self.run(roots, direction="forward", depth=depth, as_of=as_of)

    def backward(
        self, roots: Iterable[RootLike], *, depth: int | None = None, as_of: datetime | None = None
    ) -> TraceResult:
        """What went into the roots: the supplier lots upstream.

        Example: ``hub.trace.backward(["VIN-WAUZZZ8V5KA000001"]).nodes``
        """
        return self.run(roots, direction="backward", depth=depth, as_of=as_of)

    def __call__(
        self,
        roots: Iterable[RootLike],
        *,
        direction: TraceDirection = "forward",
        depth: int | None = None,
        as_of: datetime | None = None,
    ) -> TraceResult:
        # Client.trace(...) was a method before it became this resource: it still answers for one release.
        warnings.warn(
            "Client.trace(...) is deprecated and will be removed in the next release;"
            " use client.trace.run(...), .forward(...) or .backward(...)",
            SdkDeprecationWarning,
            stacklevel=2,
        )
        return self.run(roots, direction=direction, depth=depth, as_of=as_of)


__all__ = ["RootLike", "Trace", "by_catenax_id", "by_id", "by_local_id", "root", "run_trace", "trace_request"]
