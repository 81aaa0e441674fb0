"""Incremental readers for the three import formats: bytes in (in chunks), ``(line, record)`` out (a record is a
dict, or for NDJSON the line's bytes).

Memory stays bounded by the longest line (NDJSON, CSV) or the largest item (Catena-X JSON), never the file.
A line that cannot be read becomes ``(line, ParseError)`` so the importer reports it and goes on.
"""

from __future__ import annotations

import codecs
import csv
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from hub.nesting import MAX_DEPTH, TooDeep, check_depth, value_depth
from protocol.models import genealogy as wire

MAX_LINE_BYTES = 1024 * 1024
MAX_ITEM_CHARS = 16 * 1024 * 1024
TOO_LONG = b"\x00too long"


@dataclass(frozen=True)
class ParseError:
    """A line or item that is not well-formed."""

    reason: str
    field: str | None = None


Parsed = tuple[int, dict[str, Any] | bytes | ParseError]


def _lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Split a byte stream into lines (numbered from 1), refusing lines over MAX_LINE_BYTES without buffering them."""
    pending = b""  # the unfinished line carried over from the previous chunk
    number = 0
    skipping = False  # inside a line already found too long
    for chunk in chunks:
        parts = chunk.split(b"\n")
        for part in parts[:-1]:
            number += 1
            if skipping:
                skipping = False
                yield number, TOO_LONG
                continue
            line = pending + part if pending else part
            pending = b""
            yield number, TOO_LONG if len(line) > MAX_LINE_BYTES else line
        tail = parts[-1]
        if skipping:
            continue
        pending = pending + tail if pending else tail
        if len(pending) > MAX_LINE_BYTES:
            pending = b""
            skipping = True
    if skipping:
        yield number + 1, TOO_LONG
    elif pending.strip():
        yield number + 1, pending


def ndjson_records(chunks: Iterable[bytes]) -> Iterator[Parsed]:
    """One JSON object per line, handed on as the line's bytes (the importer parses and validates them in one step,
    in pydantic's Rust JSON parser); blank lines are skipped."""
    for number, line in _lines(chunks):
        if line is TOO_LONG:
            yield number, ParseError(f"line longer than {MAX_LINE_BYTES} bytes")
        elif line.strip():
            try:
                check_depth(line)
            except TooDeep as exc:
                yield number, ParseError(str(exc))
                continue
            yield number, line


def csv_records(chunks: Iterable[bytes], *, record_type: str | None) -> Iterator[Parsed]:
    """A header line naming the fields, then one record per row; empty cells are absent fields.

    The record type comes from ``record_type`` or a ``type`` column. Line numbers count the header as line 1."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")

    def text_lines() -> Iterator[str]:
        for _number, line in _lines(chunks):
            yield decoder.decode(line + b"\n")

    reader = csv.reader(text_lines())
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, ParseError(f"unreadable CSV header: {exc}")
        return
    if record_type is None and "type" not in header:
        yield (
            1,
            ParseError("the record type is neither given (?type=) nor a column", field="type"),
        )
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, ParseError(f"unreadable CSV row: {exc}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield (
                reader.line_num,
                ParseError(f"{len(row)} cells where the header names {len(header)}"),
            )
            continue
        record: dict[str, Any] = {name: cell for name, cell in zip(header, row, strict=True) if cell != ""}
        if record_type is not None:
            record.setdefault("type", record_type)
        yield reader.line_num, record


def catenax_items(chunks: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any] | ParseError]]:
    """A JSON object, or an array of objects, read one item at a time. ``line`` is the item's position (1-based)."""
    decoder = json.JSONDecoder()
    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    source = iter(chunks)
    buffer = ""
    exhausted = False

    def more() -> bool:
        nonlocal buffer, exhausted
        for chunk in source:
            buffer += text_decoder.decode(chunk)
            return True
        exhausted = True
        return False

    def skip_blanks() -> None:
        nonlocal buffer
        while True:
            buffer = buffer.lstrip()
            if buffer or exhausted or not more():
                return

    try:
        skip_blanks()
        if not buffer:
            return
        in_array = buffer[0] == "["
        if in_array:
            buffer = buffer[1:]
        position = 0
        while True:
            skip_blanks()
            if in_array and buffer.startswith("]"):
                return
            if not buffer:
                if in_array:
                    yield position + 1, ParseError("the JSON array is not closed")
                return
            try:
                value, end = decoder.raw_decode(buffer)
            except ValueError as exc:
                if not exhausted and len(buffer) < MAX_ITEM_CHARS and more():
                    continue
                yield position + 1, ParseError(f"not JSON: {exc}")
                return
            except RecursionError:
                # Nested past the interpreter's stack: no end of the item to resume after, so the rest goes too.
                yield position + 1, ParseError(f"JSON nested deeper than {MAX_DEPTH} levels")
                return
            # A number or literal may have been cut by the chunk boundary: only an object or array is whole.
            buffer = buffer[end:]
            position += 1
            if not isinstance(value, dict):
                yield position, ParseError("an item must be a JSON object")
            elif value_depth(value) > MAX_DEPTH:
                yield position, ParseError(f"JSON nested deeper than {MAX_DEPTH} levels")
            else:
                yield position, value
            if not in_array:
                return
            skip_blanks()
            if buffer.startswith(","):
                buffer = buffer[1:]
            elif not buffer:
                yield position + 1, ParseError("the JSON array is not closed")
                return
            elif not buffer.startswith("]"):
                yield position + 1, ParseError("expected ',' or ']' between items")
                return
    except UnicodeDecodeError as exc:
        yield 1, ParseError(f"not UTF-8: {exc}")


def catenax_records(chunks: Iterable[bytes]) -> Iterator[Parsed]:
    """Catena-X ``Batch`` / ``SerialPart`` / ``SingleLevelBomAsBuilt`` items as import records (a BOM gives one
    ``link`` record per child). Items are validated against the wire models by the importer."""
    for position, item in catenax_items(chunks):
        if isinstance(item, ParseError):
            yield position, item
            continue
        if "childItems" in item:
            children = item.get("childItems")
            if not isinstance(children, list):
                yield (
                    position,
                    ParseError("childItems must be a list", field="childItems"),
                )
                continue
            for child in children:
                yield (
                    position,
                    {
                        "type": "catenax_child",
                        "parent": item.get("catenaXId"),
                        "item": child,
                    },
                )
            continue
        identifiers = item.get("localIdentifiers")
        keys = (
            {i.get("key") for i in identifiers if isinstance(i, dict)}
            if isinstance(identifiers, list)
            else set()
        )
        if "partInstanceId" in keys:
            yield position, {"type": "catenax_serial_part", "item": item}
        elif "batchId" in keys:
            yield position, {"type": "catenax_batch", "item": item}
        else:
            yield (
                position,
                ParseError(
                    "neither a Batch (batchId), a SerialPart (partInstanceId) nor a SingleLevelBomAsBuilt "
                    "(childItems)",
                    field="localIdentifiers",
                ),
            )


def records_from_catenax(raw: dict[str, Any]) -> list[Any]:
    """A Catena-X item (validated against the aspect model) as import records."""
    kind = raw["type"]
    if kind == "catenax_child":
        child = wire.ChildItem.model_validate(raw["item"])
        parent = raw.get("parent")
        if not isinstance(parent, str):
            raise ValidationError.from_exception_data(
                "SingleLevelBomAsBuilt",
                [{"type": "missing", "loc": ("catenaXId",), "input": raw}],
            )
        return [
            wire.LinkRecord(
                parent=parent,
                child=child.catenaXId,
                quantity=child.quantity.value if child.quantity else None,
                unit=child.quantity.unit if child.quantity else None,
                created_on=child.createdOn,
            )
        ]
    item = wire.CatenaXItem.model_validate(raw["item"])
    ids = {i.key: i.value for i in item.localIdentifiers}
    organization_id = None
    manufacturer = ids.get("manufacturerId")
    if manufacturer is not None:
        try:
            organization_id = uuid.UUID(manufacturer)
        except ValueError:
            organization_id = None  # a BPNL: the hub keeps no BPNs, the caller's own organization is meant
    info = item.manufacturingInformation
    common: dict[str, Any] = {
        "organization_id": organization_id,
        "catenax_id": item.catenaXId,
        "manufacturer_part_id": item.partTypeInformation.manufacturerPartId,
        "name_at_manufacturer": item.partTypeInformation.nameAtManufacturer,
        "production_date": info.date if info else None,
        "site": info.sites[0].catenaXsiteId if info and info.sites else None,
    }
    if kind == "catenax_batch":
        return [wire.BatchRecord(batch_id=ids["batchId"], **common)]
    return [
        wire.SerialPartRecord(
            part_instance_id=ids["partInstanceId"],
            batch_id=ids.get("batchId"),
            # A vehicle (it has a VAN) is grouped by its model, which Catena-X names in the part type.
            model=item.partTypeInformation.nameAtManufacturer if "van" in ids else None,
            **common,
        )
    ]
