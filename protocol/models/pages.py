"""Cursor pagination: one page of a list the hub returns, and where the next page starts."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import Field

from protocol.models.common import WireModel

T = TypeVar("T")


class Page(WireModel, Generic[T]):
    """One page of results. ``next_cursor`` is opaque; pass it back to get the next page, ``None`` at the end.

    Example:
        >>> from protocol.models.orgs import OrganizationCreate
        >>> page = Page[OrganizationCreate](items=[OrganizationCreate(name="Acme", kind="oem")])
        >>> page.model_dump(mode="json")
        {'items': [{'name': 'Acme', 'kind': 'oem'}], 'next_cursor': None}
    """

    items: list[T]
    next_cursor: str | None = Field(default=None, min_length=1, max_length=512)


__all__ = ["Page"]
