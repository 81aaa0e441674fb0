"""The incremental readers: the same records whatever the chunking, bounded lines, Catena-X arrays item by item."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from hub.genealogy import formats
from hub.genealogy.formats import ParseError, catenax_records, csv_records, ndjson_records


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


NDJSON = b'{"type":"plant","code":"P1","name":"N\xc3\xb6rd"}\n\n{"type":"plant","code":"P2","name":"S"}\nnope\n[1]\n{"a":1}'


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_ndjson_lines_survive_any_chunking(size: int) -> None:
    rows = list(ndjson_records(chunked(NDJSON, size)))
    assert rows == [
        (1, b'{"type":"plant","code":"P1","name":"N\xc3\xb6rd"}'),
        (3, b'{"type":"plant","code":"P2","name":"S"}'),
        (4, b"nope"),
        (5, b"[1]"),
        (6, b'{"a":1}'),
    ]


def test_an_overlong_line_is_refused_without_being_buffered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_LINE_BYTES", 16)
    data = b'{"a":1}\n' + b"x" * 100 + b'\n{"b":2}\n'
    rows = list(ndjson_records(chunked(data, 5)))
    assert rows[0] == (1, b'{"a":1}')
    assert rows[1][0] == 2 and isinstance(rows[1][1], ParseError) and "longer than 16" in rows[1][1].reason
    assert rows[2] == (3, b'{"b":2}')


@pytest.mark.parametrize("size", [1, 5, 1000])
def test_csv_rows_with_quoted_commas_and_newlines(size: int) -> None:
    data = '\ufeffcode,name\nP1,"Nord, Halle 1"\nP2,"two\nlines"\nP3\n'.encode()
    rows = list(csv_records(chunked(data, size), record_type="plant"))
    assert rows[0] == (2, {"type": "plant", "code": "P1", "name": "Nord, Halle 1"})
    assert rows[1][1] == {"type": "plant", "code": "P2", "name": "two\nlines"}
    assert isinstance(rows[2][1], ParseError) and "1 cells where the header names 2" in rows[2][1].reason


def test_csv_without_a_type_says_so() -> None:
    rows = list(csv_records([b"code,name\nP1,N\n"], record_type=None))
    assert rows == [(1, ParseError("the record type is neither given (?type=) nor a column", field="type"))]


def item(n: int) -> dict[str, object]:
    return {
        "catenaXId": f"urn:uuid:{n}",
        "localIdentifiers": [{"key": "batchId", "value": f"L{n}"}],
        "partTypeInformation": {"manufacturerPartId": "P", "nameAtManufacturer": "part"},
    }


@pytest.mark.parametrize("size", [1, 3, 17, 100_000])
def test_catenax_arrays_are_read_item_by_item(size: int) -> None:
    bom = {
        "catenaXId": "urn:uuid:0",
        "childItems": [{"catenaXId": "urn:uuid:1"}, {"catenaXId": "urn:uuid:2"}],
    }
    data = json.dumps([item(1), item(2), bom, {"localIdentifiers": []}], indent=1).encode()
    rows = list(catenax_records(chunked(data, size)))
    assert [r[1]["type"] for r in rows[:4]] == ["catenax_batch"] * 2 + ["catenax_child"] * 2  # type: ignore[index]
    assert rows[2] == (
        3,
        {"type": "catenax_child", "parent": "urn:uuid:0", "item": {"catenaXId": "urn:uuid:1"}},
    )
    assert rows[4][0] == 4 and isinstance(rows[4][1], ParseError) and rows[4][1].field == "localIdentifiers"


def test_catenax_single_object_and_broken_arrays() -> None:
    assert [r[1]["type"] for r in catenax_records([json.dumps(item(1)).encode()])] == ["catenax_batch"]  # type: ignore[index]
    broken = list(catenax_records([b'[{"catenaXId": "x", "childItems": []} {']))
    assert isinstance(broken[-1][1], ParseError) and "expected ','" in broken[-1][1].reason
    unclosed = list(catenax_records([json.dumps([item(1)]).encode()[:-1]]))
    assert isinstance(unclosed[-1][1], ParseError) and "not closed" in unclosed[-1][1].reason
    assert list(catenax_records([b"  "])) == []
