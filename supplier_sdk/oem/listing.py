"""One paged hub list, walked lazily by cursor: iterate it, take ``.all()``, or read it ``.pages()`` at a time.

Every list of the hub answers ``{"items": [...], "next_cursor": ...}``. A :class:`Listing` asks with ``limit``
and follows ``next_cursor`` until the hub gives none, turning each item into the list's wire model. Nothing is
fetched until it is read, and each read starts again from the first page.

Example::

    reports = oem.kpi_reports.list(kpi="cpk", page_size=50)
    for report in reports:          # one request per 50 reports
        print(report.period, report.meets)
    everything = reports.all()      # the same walk, into a list
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

Model = TypeVar("Model", bound=BaseModel)


class Listing(Generic[Model]):
    """The items of one hub list under fixed filters, as ``model`` instances, every page by cursor.

    Args:
        requester: the :class:`~supplier_sdk.requester.Requester` whose token, retries and errors it uses.
        path: the list's path, e.g. ``/v1/kpi-reports``.
        model: the wire model of one item.
        params: the filters (``None`` values are left out).
        page_size: items per request, 1 to 1000.

    Example::

        listing = Listing(requester, "/v1/agreements", Agreement, params={"status": "active"})
        first_page, cursor = next(listing.pages())
    """

    def __init__(
        self,
        requester: Requester,
        path: str,
        model: type[Model],
        *,
        params: dict[str, Any] | None = None,
        page_size: int = 100,
    ) -> None:
        self._requester = requester
        self.path = path
        self.model = model
        self.params = {key: value for key, value in (params or {}).items() if value is not None}
        self.page_size = page_size

    def pages(self) -> Iterator[tuple[builtins.list[Model], str | None]]:
        """Each page as ``(items, next_cursor)``, the last with ``next_cursor`` ``None``.

        Example: ``sizes = [len(items) for items, _ in oem.kpi_reports.list(page_size=10).pages()]``
        """
        query = {**self.params, "limit": self.page_size}
        while True:
            page = self._requester.request("GET", self.path, params=query)
            cursor = page.get("next_cursor") or None
            yield [self.model.model_validate(item) for item in page["items"]], cursor
            if cursor is None:
                return
            query["cursor"] = cursor

    def __iter__(self) -> Iterator[Model]:
        for items, _ in self.pages():
            yield from items

    def all(self) -> builtins.list[Model]:
        """Every item of every page, in the hub's order.

        Example: ``active = oem.agreements.list(status="active").all()``
        """
        return builtins.list(self)

    def first(self) -> Model | None:
        """The first item, or ``None`` for an empty list (one request).

        Example: ``newest_rule = oem.rules.list().first()``
        """
        return next(iter(self), None)


__all__ = ["Listing"]
