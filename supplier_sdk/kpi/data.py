"""Reading measurement files (CSV) for ``kpi capability`` now, and ``report submit`` / ``attest`` later.

Accepted files (UTF-8, an optional byte-order mark; comma-separated, or ``;`` / tab when the first line has no
comma):

- **one value per line**, no header: every line is one number;
- **a header row** naming the columns: the measurement column is ``column`` (or the only column besides the
  subgroup column), and ``subgroup_column`` optionally gives each value's subgroup label.

A first line whose cells are all numbers is data, otherwise it is the header. Blank lines are skipped. Every
other problem is a :class:`~supplier_sdk.kpi.errors.KpiInputError` naming the file, line and column: a missing
or empty file, an unknown column, an empty cell, a cell that is not a finite number. Nothing is silently
dropped: a KPI claim must cover exactly the rows in the file.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from supplier_sdk.kpi.errors import KpiInputError
from supplier_sdk.kpi.subgroups import FloatArray

_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Measurements:
    """Values read from a measurement file, in file order, with their subgroup labels if a column gave them.

    Attributes:
        values: the measurements as a float64 numpy array.
        labels: one subgroup label per value, or ``None`` without a subgroup column.
        column: the name of the measurement column (``None`` for a file without header).

    Example:
        >>> m = Measurements(values=np.array([1.0, 2.0]), labels=None, column=None)
        >>> m.values.size
        2
    """

    values: FloatArray
    labels: list[str] | None
    column: str | None = None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_value(text: str, *, where: str) -> float:
    cell = text.strip()
    if not cell:
        raise KpiInputError(f"{where}: empty cell, expected a number")
    try:
        value = float(cell)
    except ValueError:
        raise KpiInputError(f"{where}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise KpiInputError(f"{where}: {cell!r} is not a finite number")
    return value


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, stripped cells) for each non-blank CSV record."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise KpiInputError(f"data file not found: {path}") from None
    except IsADirectoryError:
        raise KpiInputError(f"data file is a directory, not a file: {path}") from None
    except OSError as exc:
        raise KpiInputError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            first = handle.readline()
            delimiter = next((d for d in _DELIMITERS if d in first), ",")
            handle.seek(0)
            reader = csv.reader(handle, delimiter=delimiter)
            for record in reader:
                cells = [cell.strip() for cell in record]
                if any(cells):
                    yield reader.line_num, cells
        except UnicodeDecodeError:
            raise KpiInputError(f"data file is not UTF-8 text: {path}") from None
        except csv.Error as exc:
            raise KpiInputError(f"{path} line {reader.line_num}: malformed CSV ({exc})") from None


def _pick_columns(
    path: Path, header: list[str], column: str | None, subgroup_column: str | None
) -> tuple[int, int | None]:
    for name in header:
        if not name:
            raise KpiInputError(f"{path} line 1: the header has an empty column name")
        if header.count(name) > 1:
            raise KpiInputError(f"{path}: the header names column {name!r} twice")
    known = ", ".join(repr(name) for name in header)
    for wanted in (column, subgroup_column):
        if wanted is not None and wanted not in header:
            raise KpiInputError(f"{path}: no column {wanted!r} in the header (columns: {known})")
    if column is None:
        candidates = [name for name in header if name != subgroup_column]
        if len(candidates) != 1:
            raise KpiInputError(f"{path} has several columns ({known}): choose the measurement column")
        column = candidates[0]
    if column == subgroup_column:
        raise KpiInputError(f"column {column!r} cannot be both the measurements and the subgroup column")
    return header.index(column), None if subgroup_column is None else header.index(subgroup_column)


def read_measurements(
    path: str | Path, *, column: str | None = None, subgroup_column: str | None = None
) -> Measurements:
    """Read measurement values (and optional subgroup labels) from a CSV file.

    Args:
        path: the CSV file: one value per line, or a header row and columns.
        column: name of the measurement column; may be omitted when only one column is left besides
            ``subgroup_column``. Needs a header row.
        subgroup_column: name of the column holding each value's subgroup label. Needs a header row.

    Returns:
        :class:`Measurements` with the values in file order.

    Raises:
        KpiInputError: the file is missing, empty or malformed, a column is unknown, or a cell (named by line
            and column) is empty or not a finite number.

    Example:
        >>> import tempfile, os
        >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        ...     _ = f.write("lot,diameter\\nA,10.1\\nA,10.3\\nB,9.9\\n")
        >>> m = read_measurements(f.name, column="diameter", subgroup_column="lot")
        >>> m.values.tolist(), m.labels
        ([10.1, 10.3, 9.9], ['A', 'A', 'B'])
        >>> os.unlink(f.name)
    """
    source = Path(path)
    rows = _rows(source)
    first = next(rows, None)
    if first is None:
        raise KpiInputError(f"data file is empty: {source}")
    _, first_cells = first
    has_header = not all(_is_number(cell) for cell in first_cells)
    values: list[float] = []
    labels: list[str] | None = None
    if not has_header:
        if column is not None or subgroup_column is not None:
            raise KpiInputError(f"{source} has no header row, so columns cannot be chosen by name")
        for line, cells in [first, *rows]:
            if len(cells) != 1:
                raise KpiInputError(
                    f"{source} line {line}: {len(cells)} cells, but a file without a header row must hold "
                    "one value per line"
                )
            values.append(_parse_value(cells[0], where=f"{source} line {line}, column 1"))
        return Measurements(values=np.asarray(values, dtype=np.float64), labels=None, column=None)

    header = first_cells
    value_index, label_index = _pick_columns(source, header, column, subgroup_column)
    value_name = header[value_index]
    labels = [] if label_index is not None else None
    for line, cells in rows:
        if len(cells) > len(header):
            raise KpiInputError(
                f"{source} line {line}: {len(cells)} cells, but the header names {len(header)}"
            )
        cells = cells + [""] * (len(header) - len(cells))
        values.append(_parse_value(cells[value_index], where=f"{source} line {line}, column {value_name!r}"))
        if labels is not None and label_index is not None:
            label = cells[label_index]
            if not label:
                raise KpiInputError(
                    f"{source} line {line}, column {header[label_index]!r}: empty subgroup label"
                )
            labels.append(label)
    if not values:
        raise KpiInputError(f"data file has a header but no values: {source}")
    return Measurements(values=np.asarray(values, dtype=np.float64), labels=labels, column=value_name)


__all__ = ["Measurements", "read_measurements"]
