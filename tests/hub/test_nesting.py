"""JSON nesting is bounded at the door: the gauge measures depth in pieces without parsing, and every JSON body
the app reads deeper than the bound is a 400 with the uniform body, never a 500 from recursion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from hub.nesting import MAX_DEPTH, NestingGauge, TooDeep, value_depth
from tests.hub.conftest import Actor

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}\n', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='k"\\[{', max_size=4), inner, max_size=3)
    ),
    max_leaves=40,
)


@given(
    value=_json, limit=st.integers(min_value=0, max_value=8), cuts=st.lists(st.integers(1, 7), max_size=40)
)
def test_the_gauge_agrees_with_the_parsed_depth_however_the_text_is_cut(
    value: Any, limit: int, cuts: list[int]
) -> None:
    text, gauge, start = json.dumps(value).encode(), NestingGauge(limit), 0
    try:
        for size in [*cuts, len(text)]:
            gauge.feed(text[start : start + size])
            start += size
    except TooDeep:
        assert value_depth(value) > limit
    else:
        assert value_depth(value) <= limit


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_a_json_body_nested_too_deep_is_a_400_naming_the_bound(supplier: Actor, depth: int) -> None:
    body = '{"title": "x", "terms": ' + "[" * depth + "]" * depth + "}"
    for content_type in ("application/json", None):
        headers = {**supplier.headers(), **({"Content-Type": content_type} if content_type else {})}
        response = supplier.http.post("/v1/agreements", content=body, headers=headers)
        assert response.status_code == 400, response.text
        answer = response.json()
        assert answer["error"] == "BadRequest" and f"deeper than {MAX_DEPTH}" in answer["detail"]
        assert answer["request_id"] == response.headers["x-request-id"]


def test_a_body_at_the_bound_is_read_and_judged_as_usual(client: TestClient, supplier: Actor) -> None:
    inner = MAX_DEPTH - 1  # the outer object is one level
    body = '{"title": "x", "terms": ' + "[" * inner + "]" * inner + "}"
    response = supplier.http.post(
        "/v1/agreements", content=body, headers={**supplier.headers(), "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["error"] == "InvalidInput", response.text
