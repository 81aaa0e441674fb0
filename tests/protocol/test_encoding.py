"""Canonical bytes (RFC 8785 known answers and strictness), base64url and SHA-256."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from protocol.encoding import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    b64url_decode,
    b64url_encode,
    canonical_bytes,
    format_utc,
    sha256_hex,
)
from protocol.errors import CanonicalizationError, EncodingError, ProtocolError

# --- RFC 8785 known answers -------------------------------------------------------------------------


def test_rfc8785_sorting_example_orders_keys_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: the emoji (surrogate pair D83D DE00) sorts before U+FB33, unlike code point order.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonical_bytes(value) == expected.encode("utf-8")


def test_rfc8785_main_example_without_its_numbers() -> None:
    # RFC 8785 §3.2.2 input (the "numbers" member is binary floats, which QX/1 refuses: see below).
    parsed = json.loads(
        '{"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", '
        '"literals": [null, true, false]}'
    )
    expected = '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical_bytes(parsed) == expected.encode("utf-8")


def test_rfc8785_main_example_numbers_are_refused_with_their_path() -> None:
    parsed = json.loads('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000001], "literals": [null]}')
    with pytest.raises(CanonicalizationError) as caught:
        canonical_bytes(parsed)
    assert caught.value.path == "$.numbers[0]"
    assert "binary float" in str(caught.value)


def test_rfc8785_string_escaping() -> None:
    # Only " \ and U+0000..U+001F are escaped; \b \t \n \f \r have short forms, the rest \u00xx lowercase.
    text = '"\\\b\t\n\f\r\x00\x1f\x7f/é\u2028'
    expected = '"\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001f\x7f/é\u2028"'
    assert canonical_bytes(text) == expected.encode("utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, b"0"),
        (-1, b"-1"),
        (9007199254740991, b"9007199254740991"),
        (-9007199254740991, b"-9007199254740991"),
        (True, b"true"),
        (False, b"false"),
        (None, b"null"),
        ([], b"[]"),
        ({}, b"{}"),
        ((1, 2), b"[1,2]"),
    ],
)
def test_rfc8785_scalars_and_empty_containers(value: Any, expected: bytes) -> None:
    assert canonical_bytes(value) == expected


def test_nested_objects_are_sorted_at_every_level_and_have_no_whitespace() -> None:
    value = {"b": {"z": 1, "a": [{"y": None, "x": "1.30"}]}, "a": ""}
    assert canonical_bytes(value) == b'{"a":"","b":{"a":[{"x":"1.30","y":null}],"z":1}}'


def test_pydantic_models_are_dumped_as_json_first() -> None:
    class Claim(BaseModel):
        value: Decimal
        at: datetime
        tags: list[str]

    claim = Claim(value=Decimal("1.3300"), at=datetime(2026, 11, 23, tzinfo=UTC), tags=["b", "a"])
    assert canonical_bytes(claim) == b'{"at":"2026-11-23T00:00:00Z","tags":["b","a"],"value":"1.3300"}'


# --- strictness --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (1.0, "$"),
        ({"claim": {"value": 1.5}}, "$.claim.value"),
        ({"a": [0, [1, 2.0]]}, "$.a[1][1]"),
        ({"odd key": {"x": float("nan")}}, '$["odd key"].x'),
        ({'q"k': 0.1}, '$["q\\"k"]'),
        ([float("inf")], "$[0]"),
    ],
)
def test_binary_floats_are_refused_anywhere_naming_the_path(value: Any, path: str) -> None:
    with pytest.raises(CanonicalizationError) as caught:
        canonical_bytes(value)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: binary floats are not allowed")


def test_a_float_field_of_a_model_is_refused() -> None:
    class Reading(BaseModel):
        value: float

    with pytest.raises(CanonicalizationError, match=r"^\$\.value: binary floats"):
        canonical_bytes(Reading(value=2.5))


@pytest.mark.parametrize(
    ("value", "path", "fragment"),
    [
        (MAX_SAFE_INTEGER + 1, "$", "integer outside"),
        ({"n": -MAX_SAFE_INTEGER - 1}, "$.n", "integer outside"),
        ({1: "x"}, "$", "not a string"),
        ({"d": Decimal("1.33")}, "$.d", "Decimal is not a JSON value"),
        ({"t": datetime(2026, 1, 1, tzinfo=UTC)}, "$.t", "datetime is not a JSON value"),
        ({"b": b"raw"}, "$.b", "bytes is not a JSON value"),
        ({"s": {1, 2}}, "$.s", "set is not a JSON value"),
        ({"s": "\ud800"}, "$.s", "lone surrogate"),
        ({"\udfff": 1}, "$", "lone surrogate"),
    ],
)
def test_values_without_a_canonical_form_are_refused(value: Any, path: str, fragment: str) -> None:
    with pytest.raises(CanonicalizationError) as caught:
        canonical_bytes(value)
    assert caught.value.path == path
    assert fragment in str(caught.value)


def test_canonicalization_error_is_a_value_error_and_a_protocol_error() -> None:
    with pytest.raises(ValueError):
        canonical_bytes(0.5)
    with pytest.raises(ProtocolError):
        canonical_bytes(0.5)


def test_nesting_is_limited() -> None:
    ok: Any = "leaf"
    for _ in range(MAX_DEPTH):
        ok = [ok]
    assert canonical_bytes(ok).startswith(b"[[[")
    with pytest.raises(CanonicalizationError, match="nested deeper"):
        canonical_bytes([ok])


# --- properties -------------------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text()
)
json_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@given(json_values)
def test_canonical_bytes_is_idempotent_over_parse_and_re_encode(value: Any) -> None:
    once = canonical_bytes(value)
    assert canonical_bytes(json.loads(once)) == once
    assert json.loads(once) == value


# Keys below U+D800 sort the same by UTF-16 code unit and by code point, so json.dumps is an oracle there.
_bmp_keys = st.text(alphabet=st.characters(max_codepoint=0xD7FF), max_size=6)
oracle_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_bmp_keys, children, max_size=4),
    max_leaves=20,
)


@given(oracle_values)
def test_canonical_bytes_matches_sorted_compact_json_for_bmp_keys(value: Any) -> None:
    oracle = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical_bytes(value) == oracle


@given(st.dictionaries(st.text(max_size=4), st.integers(0, 9), max_size=6), st.randoms())
def test_key_insertion_order_does_not_matter(value: dict[str, int], random: Any) -> None:
    items = list(value.items())
    random.shuffle(items)
    assert canonical_bytes(dict(items)) == canonical_bytes(value)


# --- base64url ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"f", "Zg"),
        (b"fo", "Zm8"),
        (b"foo", "Zm9v"),
        (b"foob", "Zm9vYg"),
        (b"\xfb\xff\xbf", "-_-_"),
    ],
)
def test_b64url_known_answers(data: bytes, text: str) -> None:
    assert b64url_encode(data) == text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Zg==", "padding"),
        ("Zm8=", "padding"),
        ("Zm9v+g", "may only contain"),
        ("Zm9v/g", "may only contain"),
        ("Zm9v Yg", "may only contain"),
        ("Zm9vYg\n", "may only contain"),
        ("Zé", "may only contain"),
        ("Zm9vY", "impossible length"),
        ("Zh", "trailing bits"),
        ("Zm9", "trailing bits"),
    ],
)
def test_b64url_decode_refuses_non_canonical_text(text: str, fragment: str) -> None:
    with pytest.raises(EncodingError, match=fragment):
        b64url_decode(text)


def test_b64url_decode_errors_are_value_errors_and_refuse_bytes() -> None:
    with pytest.raises(ValueError):
        b64url_decode("Zg==")
    with pytest.raises(EncodingError, match="must be a str"):
        b64url_decode(b"Zg")  # type: ignore[arg-type]


@given(st.binary(max_size=80))
def test_b64url_round_trips_and_has_one_text_form(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode(text) == data


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=12))
def test_b64url_decode_accepts_only_what_encode_produces(text: str) -> None:
    try:
        data = b64url_decode(text)
    except EncodingError:
        return
    assert b64url_encode(data) == text


# --- sha256 and timestamps ---------------------------------------------------------------------------


def test_sha256_hex_known_answers() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 23, 8, 30, tzinfo=UTC), "2026-11-23T08:30:00Z"),
        (datetime(2026, 11, 23, 8, 30, 5, 1, tzinfo=UTC), "2026-11-23T08:30:05.000001Z"),
        (datetime(2026, 11, 23, 8, 30, 5, 500000, tzinfo=UTC), "2026-11-23T08:30:05.500000Z"),
        (datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2026-12-31T23:30:00Z"),
        (datetime(2026, 1, 1, 20, 0, tzinfo=timezone(-timedelta(hours=5))), "2026-01-02T01:00:00Z"),
        (datetime(999, 1, 2, tzinfo=UTC), "0999-01-02T00:00:00Z"),
    ],
)
def test_format_utc_renders_one_canonical_form(moment: datetime, text: str) -> None:
    assert format_utc(moment) == text


def test_format_utc_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_utc(datetime(2026, 11, 23, 8, 30))
