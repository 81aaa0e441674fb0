"""The query parameters of every paged list, in one place so that each list bounds them alike (:mod:`hub.pagination`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from hub.pagination import MAX_LIMIT

CursorParam = Annotated[
    str | None, Query(min_length=1, max_length=512, description="`next_cursor` of the previous page")
]
LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page, 1 to {MAX_LIMIT}")]
DEFAULT_LIMIT = 100
