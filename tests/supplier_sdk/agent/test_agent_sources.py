"""Sources and schedule without a hub: time-zone windows, European CSV, the content-hash memory, commands."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from protocol.models.common import PeriodKind
from protocol.periods import parse_period
from supplier_sdk.agent.config import SourceConfig
from supplier_sdk.agent.schedule import closed_windows, next_close, window_of
from supplier_sdk.agent.sources import FolderReader, SourceError, command_table, csv_table
from tests.supplier_sdk.agent.agent_support import ZONE, european_csv, times_in

FOLDER = SourceConfig(
    name="exports", kind="folder", decimal=",", time_column="Zeitpunkt", time_format="%d.%m.%Y %H:%M"
)


def test_a_week_closes_at_local_midnight_and_waits_for_the_close_delay() -> None:
    week = window_of(parse_period("2026-W48"), ZONE)
    assert week.start.isoformat() == "2026-11-23T00:00:00+01:00"
    just_after = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # 00:30 Monday in Berlin: W48 has closed there
    assert [str(w.period) for w in closed_windows(just_after, PeriodKind.WEEK, ZONE, count=1)] == ["2026-W48"]
    delayed = closed_windows(just_after, PeriodKind.WEEK, ZONE, count=1, delay_minutes=60)
    assert [str(w.period) for w in delayed] == ["2026-W47"]
    assert next_close(just_after, PeriodKind.MONTH, ZONE).isoformat() == "2026-11-30T23:00:00+00:00"


def test_european_csv_decimal_commas_and_semicolons() -> None:
    table = csv_table("Zeit;Wert\n2026-11-23T08:00;25,003\n2026-11-23T09:00;1.025,5\n", FOLDER, "file x")
    assert table.columns == ["Zeit", "Wert"] and [r[1] for r in table.rows] == ["25,003", "1.025,5"]


def test_a_file_outside_the_period_is_remembered_by_hash_and_not_parsed_again(tmp_path: Path) -> None:
    folder = SourceConfig(**{**FOLDER.__dict__, "path": tmp_path})
    week = window_of(parse_period("2026-W48"), ZONE)
    older = window_of(parse_period("2026-W40"), ZONE)
    european_csv(tmp_path / "w48.csv", times_in(week, 5), [25.001, 25.002, 25.003, 25.004, 25.005])
    european_csv(tmp_path / "w40.csv", times_in(older, 3), [24.999, 25.0, 25.001])
    known: dict[str, list[str]] = {}
    first = FolderReader(known, ZONE).read(folder, week)
    assert len(first.rows) == 5 and first.rows[0][2] == "25,00100"
    assert len(known) == 2  # both files' hashes, with their time ranges
    later = FolderReader(known, ZONE)
    assert len(later.read(folder, week).rows) == 5
    assert len(later.parsed) == 1  # the W40 file was skipped by its remembered range
    (tmp_path / "w40.csv").unlink()
    gone = FolderReader(known, ZONE)
    gone.read(folder, week)
    gone.forget_absent({"exports"})
    assert len(known) == 1


def test_an_unreadable_folder_and_a_failing_command_give_their_reason(tmp_path: Path) -> None:
    absent = SourceConfig(**{**FOLDER.__dict__, "path": tmp_path / "absent"})
    week = window_of(parse_period("2026-W48"), ZONE)
    with pytest.raises(SourceError, match="does not exist"):
        FolderReader({}, ZONE).read(absent, week)
    failing = SourceConfig(
        name="script",
        kind="command",
        command=(sys.executable, "-c", "import sys; sys.exit('no export: {period}')"),
    )
    with pytest.raises(SourceError, match="exited with status 1 no export: 2026-W48"):
        command_table(failing, week)
