"""Keyset pagination, one scheme for every list: a page is the rows after the cursor in the order of one unique key.

One order, by a unique key, keeps a cursor exact while rows are added behind it. The key is the row's id (a
UUIDv7, so id order is creation order) wherever the table has one; a table keyed otherwise pages by that key (an
integer sequence, a key id). A list that people read newest first pages the same key descending. The cursor is
the last key of a page, base64url without padding: opaque to clients, and a cursor this hub did not issue is a 422
naming ``query.cursor``, not a 500.

A router takes ``cursor: CursorParam`` and ``limit: LimitParam`` (:mod:`hub.pagination_query`) and answers
``protocol.models.pages.Page``; its service narrows the query with :func:`keyset` and cuts the page with
:func:`page_of`.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from hub.errors import InvalidInput

Row = TypeVar("Row")
KeyKind = type[uuid.UUID] | type[int] | type[str]
Selected = TypeVar("Selected", bound=Select[*tuple[Any, ...]])

MAX_LIMIT = 1000
_INT_BYTES = 8
_MAX_TEXT_KEY = 200


def encode_cursor(last: uuid.UUID | int | str) -> str:
    """The cursor of the page that follows the row whose key is ``last``."""
    if isinstance(last, uuid.UUID):
        raw = last.bytes
    elif isinstance(last, int):
        raw = last.to_bytes(_INT_BYTES, "big", signed=True)
    else:
        raw = last.encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@overload
def decode_cursor(cursor: str, kind: type[uuid.UUID] = ...) -> uuid.UUID: ...
@overload
def decode_cursor(cursor: str, kind: type[int]) -> int: ...
@overload
def decode_cursor(cursor: str, kind: type[str]) -> str: ...
@overload
def decode_cursor(cursor: str, kind: KeyKind) -> uuid.UUID | int | str: ...


def decode_cursor(cursor: str, kind: KeyKind = uuid.UUID) -> uuid.UUID | int | str:
    """The key a cursor continues after; :class:`InvalidInput` for one this hub did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if kind is uuid.UUID:
            return uuid.UUID(bytes=raw)
        if kind is int:
            if len(raw) != _INT_BYTES:
                raise ValueError("an integer cursor is 8 bytes")
            return int.from_bytes(raw, "big", signed=True)
        text = raw.decode()
        if not 0 < len(text) <= _MAX_TEXT_KEY or not text.isprintable():
            raise ValueError("not a key")
        return text
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInput("cursor is not one this hub issued", loc="query.cursor") from exc


def keyset(
    query: Selected,
    key: InstrumentedAttribute[Any],
    *,
    cursor: str | None,
    limit: int,
    kind: KeyKind = uuid.UUID,
    newest_first: bool = False,
) -> Selected:
    """``query`` narrowed to the rows after ``cursor`` in ``key`` order, one more than ``limit`` (so
    :func:`page_of` can tell whether a next page exists)."""
    if cursor is not None:
        after = decode_cursor(cursor, kind)
        query = query.where(key < after if newest_first else key > after)
    return query.order_by(key.desc() if newest_first else key).limit(limit + 1)


def page_of(
    rows: Sequence[Row], limit: int, *, last_id: Callable[[Row], uuid.UUID | int | str]
) -> tuple[list[Row], str | None]:
    """The first ``limit`` of ``rows`` (queried with ``limit + 1``, so one more says there is a next page) and
    the cursor of that next page, ``None`` at the end."""
    page = list(rows[:limit])
    return page, encode_cursor(last_id(page[-1])) if len(rows) > limit and page else None


def every(fetch: Callable[[str | None], tuple[list[Row], str | None]]) -> list[Row]:
    """Every row of a paged service listing: ``fetch(cursor)`` answers one page and the next page's cursor (the
    console shows whole tables; the API hands out pages)."""
    rows, cursor = fetch(None)
    while cursor is not None:
        more, cursor = fetch(cursor)
        rows.extend(more)
    return rows
