"""``client.genealogy``: upload part types, plants, lots, serial parts, links, shipments and inventory.

:class:`Genealogy` wraps ``POST /v1/genealogy:import`` (scope ``genealogy:write``). A file is streamed from disk
in :data:`CHUNK_SIZE` pieces (memory stays bounded whatever its size); in-memory records are encoded as NDJSON
line by line. The hub answers with an :class:`~protocol.models.genealogy.ImportReport`: counts per record type
and every rejected row with its line, field and reason; the other rows are kept. Imports are idempotent on
natural keys, so the client's retries (and a re-run of the same file) change nothing twice.

Formats (``format=`` or the file's extension, see :func:`import_format`): ``ndjson`` (``.ndjson``, ``.jsonl``:
one record a line with a ``type``), ``csv`` (``.csv``: one record type a file, ``record_type=`` or a ``type``
column) and ``catenax`` (``.json``: Catena-X ``Batch``, ``SerialPart``, ``SingleLevelBomAsBuilt``).

Example::

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        report = hub.genealogy.import_file("lots.ndjson")
        print(report.accepted, report.rejected)
        for row in report.rejections:
            print(row.line, row.field, row.reason)
        hub.genealogy.import_records([BatchRecord(batch_id="LOT-1", manufacturer_part_id="CAP-100")])
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from protocol.models.genealogy import ImportReport, RecordType

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

ImportFormat = Literal["ndjson", "csv", "catenax"]
"""The three import formats: NDJSON records, CSV rows of one record type, Catena-X aspect JSON.

Example:
    >>> ImportFormat.__args__
    ('ndjson', 'csv', 'catenax')
"""

MEDIA_TYPES: dict[str, str] = {
    "ndjson": "application/x-ndjson",
    "csv": "text/csv",
    "catenax": "application/json",
}
"""The ``Content-Type`` each format is sent with.

Example:
    >>> MEDIA_TYPES["csv"]
    'text/csv'
"""

EXTENSIONS: dict[str, str] = {".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv", ".json": "catenax"}
"""The format a file's extension stands for (a trailing ``.gz`` is not understood: the hub wants plain text).

Example:
    >>> EXTENSIONS[".jsonl"]
    'ndjson'
"""

CHUNK_SIZE = 256 * 1024
"""Bytes read from the file and sent per piece of the request body.

Example:
    >>> CHUNK_SIZE
    262144
"""

IMPORT_TIMEOUT = 900.0
"""Seconds to wait for the hub's answer: it reports only once the whole file is written.

Example:
    >>> IMPORT_TIMEOUT >= 60
    True
"""

Progress = Callable[[int], None]
"""A callback given the number of bytes sent so far (it starts again at 0 if the client retries).

Example:
    >>> sent: list[int] = []
    >>> callback: Progress = sent.append
"""


def import_format(path: str | Path, format: str | None = None) -> ImportFormat:
    """The import format: ``format`` if given, else the one the file's extension stands for.

    Raises:
        ValueError: ``format`` is not one of the three, or the extension names none.

    Example:
        >>> import_format("lots.ndjson"), import_format("bom.JSON"), import_format("x.txt", "csv")
        ('ndjson', 'catenax', 'csv')
        >>> import_format("lots.txt")
        Traceback (most recent call last):
        ...
        ValueError: cannot tell the format of 'lots.txt' from its extension: pass format= ndjson, csv or catenax
    """
    if format is not None:
        if format not in MEDIA_TYPES:
            raise ValueError(f"format must be ndjson, csv or catenax, not {format!r}")
        return format  # type: ignore[return-value]
    found = EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        raise ValueError(
            f"cannot tell the format of {Path(path).name!r} from its extension: pass format= ndjson, csv or catenax"
        )
    return found  # type: ignore[return-value]


def file_pieces(
    path: Path, *, on_progress: Progress | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The file's bytes in pieces of ``chunk_size``, calling ``on_progress`` with the running total.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(suffix=".ndjson") as handle:
        ...     _ = handle.write(b"0123456789"); handle.flush()
        ...     seen = []
        ...     [len(p) for p in file_pieces(Path(handle.name), on_progress=seen.append, chunk_size=4)], seen
        ([4, 4, 2], [0, 4, 8, 10])
    """
    sent = 0
    if on_progress is not None:
        on_progress(0)
    with path.open("rb") as handle:
        while piece := handle.read(chunk_size):
            sent += len(piece)
            yield piece
            if on_progress is not None:
                on_progress(sent)


def ndjson_lines(records: Iterable[BaseModel | Mapping[str, Any]]) -> Iterator[bytes]:
    """Each record as one NDJSON line (pydantic models in their JSON form, mappings as they are).

    Example:
        >>> from protocol.models.genealogy import PlantRecord
        >>> list(ndjson_lines([PlantRecord(code="P1", name="Nord"), {"type": "plant", "code": "P2", "name": "Süd"}]))
        [b'{"type":"plant","code":"P1","name":"Nord"}\\n', b'{"type": "plant", "code": "P2", "name": "S\\\\u00fcd"}\\n']
        >>> list(ndjson_lines([{"quantity": Decimal("2.5"), "shipped_on": date(2026, 11, 2)}]))
        [b'{"quantity": "2.5", "shipped_on": "2026-11-02"}\\n']
    """
    for record in records:
        if isinstance(record, BaseModel):
            yield record.model_dump_json(exclude_none=True).encode() + b"\n"
        else:
            yield json.dumps(dict(record), default=_plain).encode() + b"\n"


def _plain(value: object) -> str:
    """Decimals, UUIDs, dates and times in a mapping, as the hub reads them (ISO 8601 for moments)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class Genealogy:
    """The genealogy import (``client.genealogy``), on one :class:`~supplier_sdk.requester.Requester`.

    Example::

        report = hub.genealogy.import_file("bom_as_built.json")          # Catena-X SingleLevelBomAsBuilt
        report = hub.genealogy.import_file("lots.csv", record_type="batch")
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def import_file(
        self,
        path: str | Path,
        *,
        format: ImportFormat | str | None = None,
        record_type: RecordType | str | None = None,
        on_progress: Progress | None = None,
        timeout: float = IMPORT_TIMEOUT,
    ) -> ImportReport:
        """Stream a file to the hub and return its import report.

        Args:
            path: the file (NDJSON, CSV or Catena-X JSON).
            format: ``ndjson``, ``csv`` or ``catenax``; default from the extension (:func:`import_format`).
            record_type: CSV only: the record type of every row when the file has no ``type`` column.
            on_progress: called with the bytes sent so far (a progress bar).
            timeout: seconds to wait for the report.

        Raises:
            ValueError: the format cannot be told; FileNotFoundError: no such file.
            InvalidRequest: the hub refused the file as a whole (wrong content type, a CSV without a type, too
                large); single bad rows are not errors, they are in ``report.rejections``.

        Example::

            report = hub.genealogy.import_file("lots.ndjson", on_progress=lambda sent: print(sent, "bytes"))
            assert report.rejected == 0, report.rejections
        """
        file = Path(path)
        chosen = import_format(file, format)
        if not file.is_file():
            raise FileNotFoundError(f"no such file: {file}")
        return self._post(
            lambda: file_pieces(file, on_progress=on_progress),
            format=chosen,
            record_type=record_type,
            timeout=timeout,
        )

    def import_records(
        self,
        records: Iterable[BaseModel | Mapping[str, Any]],
        *,
        timeout: float = IMPORT_TIMEOUT,
    ) -> ImportReport:
        """Import records held in memory (as NDJSON): the records of :mod:`protocol.models.genealogy` or dicts.

        ``records`` is materialized once so that a retry can send it again.

        Example::

            report = hub.genealogy.import_records([
                PlantRecord(code="BPNS-1", name="Werk Nord"),
                BatchRecord(batch_id="LOT-7", manufacturer_part_id="CAP-100", quantity=Decimal(5000), unit="pcs"),
                {"type": "link", "parent": "batch/LOT-7", "child": f"{supplier_id}/batch/W-12", "quantity": 2},
            ])
        """
        lines = list(ndjson_lines(records))
        return self._post(lambda: iter(lines), format="ndjson", record_type=None, timeout=timeout)

    def _post(
        self,
        body: Callable[[], Iterator[bytes]],
        *,
        format: ImportFormat,
        record_type: str | None,
        timeout: float,
    ) -> ImportReport:
        params = None if record_type is None else {"type": record_type}
        response = self._requester.send(
            "POST",
            "/v1/genealogy:import",
            params=params,
            content=body,
            headers={"Content-Type": MEDIA_TYPES[format]},
            timeout=timeout,
        )
        return ImportReport.model_validate(response.json())


__all__ = [
    "CHUNK_SIZE",
    "EXTENSIONS",
    "IMPORT_TIMEOUT",
    "MEDIA_TYPES",
    "Genealogy",
    "ImportFormat",
    "Progress",
    "file_pieces",
    "import_format",
    "ndjson_lines",
]
