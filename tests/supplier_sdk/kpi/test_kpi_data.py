"""read_measurements: the accepted CSV shapes and one clear error per malformed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplier_sdk.kpi import KpiInputError, read_measurements


def write(tmp_path: Path, text: str, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_one_value_per_line_without_header(tmp_path: Path) -> None:
    m = read_measurements(write(tmp_path, "10.1\n10.3\n\n9.9\n"))
    assert m.values.tolist() == [10.1, 10.3, 9.9]
    assert m.labels is None and m.column is None


def test_header_with_a_single_column(tmp_path: Path) -> None:
    m = read_measurements(write(tmp_path, "diameter\n1\n2.5\n-3e-1\n"))
    assert m.values.tolist() == [1.0, 2.5, -0.3] and m.column == "diameter"


def test_named_columns_and_subgroup_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufefflot, diameter ,operator\nA,10.1,x\nA,10.3,y\nB,9.9,x\n")
    m = read_measurements(path, column="diameter", subgroup_column="lot")
    assert m.values.tolist() == [10.1, 10.3, 9.9]
    assert m.labels == ["A", "A", "B"]


def test_the_only_column_besides_the_subgroup_column_is_the_default(tmp_path: Path) -> None:
    m = read_measurements(write(tmp_path, "lot,width\n1,5\n1,6\n"), subgroup_column="lot")
    assert m.column == "width" and m.labels == ["1", "1"]


def test_semicolon_and_tab_separated_files(tmp_path: Path) -> None:
    semi = read_measurements(write(tmp_path, "lot;x\nA;1.5\nB;2.5\n"), column="x")
    tab = read_measurements(write(tmp_path, "lot\tx\nA\t1.5\nB\t2.5\n", name="t.tsv"), column="x")
    assert semi.values.tolist() == tab.values.tolist() == [1.5, 2.5]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("", {}, r"data file is empty"),
        ("\n\n", {}, r"data file is empty"),
        ("x\n", {}, r"header but no values"),
        ("1.0\n2.0\nabc\n", {}, r"line 3, column 1: 'abc' is not a number"),
        ("x,y\n1,2\n3,oops\n", {"column": "y"}, r"line 3, column 'y': 'oops' is not a number"),
        ("x,y\n1,2\n3,\n", {"column": "y"}, r"line 3, column 'y': empty cell"),
        ("x\n1\nnan\n", {}, r"line 3, column 'x': 'nan' is not a finite number"),
        ("x\n1\n-inf\n", {}, r"line 3, column 'x': '-inf' is not a finite number"),
        ("x,y\n1,2\n", {}, r"several columns \('x', 'y'\): choose the measurement column"),
        ("x,y\n1,2\n", {"column": "z"}, r"no column 'z' in the header \(columns: 'x', 'y'\)"),
        ("x,y\n1,2\n", {"column": "x", "subgroup_column": "x"}, r"both the measurements and the subgroup"),
        ("x,y\n1,2,3\n", {"column": "x"}, r"line 2: 3 cells, but the header names 2"),
        (
            "lot,x\n,1\n",
            {"column": "x", "subgroup_column": "lot"},
            r"line 2, column 'lot': empty subgroup label",
        ),
        ("x,x\n1,2\n", {}, r"names column 'x' twice"),
        ("1\n2\n", {"column": "x"}, r"no header row"),
        ("1,2\n3,4\n", {}, r"line 1: 2 cells, but a file without a header row must hold one value per line"),
    ],
)
def test_malformed_files_name_the_problem(
    tmp_path: Path, text: str, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(KpiInputError, match=message) as caught:
        read_measurements(write(tmp_path, text), **kwargs)
    assert "\n" not in str(caught.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(KpiInputError, match="data file not found"):
        read_measurements(tmp_path / "nope.csv")
    with pytest.raises(KpiInputError, match="is a directory"):
        read_measurements(tmp_path)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("maß\n1\n".encode("latin-1"))
    with pytest.raises(KpiInputError, match="not UTF-8"):
        read_measurements(path)
