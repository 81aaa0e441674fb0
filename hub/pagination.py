"""Keyset pagination over time-ordered ids (UUIDv7): a page is the rows after the cursor in ascending id order.

One order, by id, keeps a cursor stable while rows are added behind it. The cursor is the last id of a page,
base64url without padding: opaque to clients, and a cursor this hub did not issue is a 422 naming
``query.cursor``, not a 500.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from hub.errors import InvalidInput

Row = TypeVar("Row")


def encode_cursor(last_id: uuid.UUID) -> str:
    """The cursor of the page that follows the row with ``last_id``."""
    return base64.urlsafe_b64encode(last_id.bytes).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> uuid.UUID:
    """The id a cursor continues after; :class:`InvalidInput` for one this hub did not issue."""
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("cursor is not one this hub issued", loc="query.cursor") from exc


def page_of(
    rows: Sequence[Row], limit: int, *, last_id: Callable[[Row], uuid.UUID]
) -> tuple[list[Row], str | None]:
    """The first ``limit`` of ``rows`` (queried with ``limit + 1``, so one more says there is a next page) and
    the cursor of that next page, ``None`` at the end."""
    page = list(rows[:limit])
    return page, encode_cursor(last_id(page[-1])) if len(rows) > limit and page else None
