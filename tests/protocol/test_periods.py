"""Reporting periods: ISO weeks and months, their boundaries, ordering, and the strings they refuse."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from protocol.errors import InvalidPeriod, ProtocolError
from protocol.models.common import PeriodKind
from protocol.periods import (
    MAX_YEAR,
    MIN_YEAR,
    Period,
    PeriodStr,
    due_at,
    iso_weeks_in_year,
    parse_period,
    period_containing,
)

W, M = PeriodKind.WEEK, PeriodKind.MONTH


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- parsing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "year", "number"),
    [
        ("2026-W48", W, 2026, 48),
        ("2026-W01", W, 2026, 1),
        ("2026-W53", W, 2026, 53),
        ("2020-W53", W, 2020, 53),
        ("2015-W53", W, 2015, 53),
        ("2026-11", M, 2026, 11),
        ("2026-01", M, 2026, 1),
        ("2026-12", M, 2026, 12),
        ("1970-01", M, 1970, 1),
        ("9998-12", M, 9998, 12),
    ],
)
def test_valid_periods_parse_and_print_back(text: str, kind: PeriodKind, year: int, number: int) -> None:
    period = parse_period(text)
    assert (period.kind, period.year, period.number) == (kind, year, number)
    assert str(period) == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-W00", "week must be 01 to 53"),
        ("2021-W53", "week must be 01 to 52 (2021 has 52 weeks)"),
        ("2027-W53", "2027 has 52 weeks"),
        ("2026-W54", "week must be 01 to 53"),
        ("2026-W5", "expected an ISO week"),
        ("2026-W480", "expected an ISO week"),
        ("2026-w48", "expected an ISO week"),
        ("2026W48", "expected an ISO week"),
        ("2026-W48-1", "expected an ISO week"),
        ("2026-13", "month must be 01 to 12"),
        ("2026-00", "month must be 01 to 12"),
        ("2026-1", "expected an ISO week"),
        ("26-11", "expected an ISO week"),
        ("202611", "expected an ISO week"),
        (" 2026-11", "expected an ISO week"),
        ("2026-11 ", "expected an ISO week"),
        ("2026-11\n", "expected an ISO week"),
        ("2026-11-01", "expected an ISO week"),
        ("\uff12\uff10\uff12\uff16-11", "expected an ISO week"),  # full-width digits match \d, not us
        ("", "expected an ISO week"),
        ("1969-12", "year must be 1970 to 9998"),
        ("9999-01", "year must be 1970 to 9998"),
        ("0000-W01", "year must be"),
    ],
)
def test_invalid_period_strings_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidPeriod) as caught:
        parse_period(text)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ProtocolError)


def test_non_strings_are_refused() -> None:
    with pytest.raises(InvalidPeriod, match="is a string"):
        parse_period(202611)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "year", "number"),
    [(W, 2021, 53), (W, 2026, 0), (M, 2026, 13), (M, 1969, 12), (W, 2026, True), ("week", 2026, 1)],
)
def test_constructor_validates_too(kind: PeriodKind, year: int, number: int) -> None:
    with pytest.raises(InvalidPeriod):
        Period(kind, year, number)


# --- calendar ---------------------------------------------------------------------------------------


def test_years_with_53_iso_weeks() -> None:
    long_years = [y for y in range(2000, 2041) if iso_weeks_in_year(y) == 53]
    assert long_years == [2004, 2009, 2015, 2020, 2026, 2032, 2037]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-W48", utc(2026, 11, 23), utc(2026, 11, 30)),
        ("2026-W01", utc(2025, 12, 29), utc(2026, 1, 5)),
        ("2026-W53", utc(2026, 12, 28), utc(2027, 1, 4)),
        ("2020-W53", utc(2020, 12, 28), utc(2021, 1, 4)),
        ("2021-W01", utc(2021, 1, 4), utc(2021, 1, 11)),
        ("2025-W01", utc(2024, 12, 30), utc(2025, 1, 6)),
        ("2026-11", utc(2026, 11, 1), utc(2026, 12, 1)),
        ("2026-12", utc(2026, 12, 1), utc(2027, 1, 1)),
        ("2028-02", utc(2028, 2, 1), utc(2028, 3, 1)),
    ],
)
def test_start_and_exclusive_end_are_utc_midnights(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text)
    assert period.start == start
    assert period.end == end
    assert period.start.tzinfo is UTC
    assert period.end.tzinfo is UTC


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (date(2025, 12, 29), "2026-W01"),  # Monday before New Year belongs to the next year's week 1
        (date(2025, 12, 31), "2026-W01"),
        (date(2024, 12, 30), "2025-W01"),
        (date(2024, 12, 29), "2024-W52"),
        (date(2019, 12, 30), "2020-W01"),
        (date(2021, 1, 1), "2020-W53"),  # New Year's days belong to the previous year's week 53
        (date(2021, 1, 3), "2020-W53"),
        (date(2021, 1, 4), "2021-W01"),
        (date(2027, 1, 1), "2026-W53"),
        (date(2027, 1, 3), "2026-W53"),
        (date(2027, 1, 4), "2027-W01"),
        (date(2022, 1, 2), "2021-W52"),
    ],
)
def test_year_boundary_days_fall_in_their_iso_week(day: date, week: str) -> None:
    assert str(period_containing(day, W)) == week
    assert str(period_containing(day, M)) == f"{day.year:04d}-{day.month:02d}"


def test_aware_datetimes_are_taken_in_utc() -> None:
    # 00:30 on New Year's Day in Berlin is still 2026-12-31 in UTC.
    berlin_new_year = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert str(period_containing(berlin_new_year, M)) == "2026-12"
    assert str(period_containing(utc(2026, 11, 29, 23, 59, 59), W)) == "2026-W48"
    assert str(period_containing(utc(2026, 11, 30), W)) == "2026-W49"


def test_naive_datetimes_and_other_types_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        period_containing(datetime(2026, 11, 23, 12), W)
    with pytest.raises(TypeError):
        period_containing("2026-11-23", W)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "after", "before"),
    [
        ("2026-W52", "2026-W53", "2026-W51"),
        ("2026-W53", "2027-W01", "2026-W52"),
        ("2021-W01", "2021-W02", "2020-W53"),
        ("2021-W52", "2022-W01", "2021-W51"),
        ("2026-12", "2027-01", "2026-11"),
        ("2026-01", "2026-02", "2025-12"),
    ],
)
def test_next_and_previous(text: str, after: str, before: str) -> None:
    period = parse_period(text)
    assert str(period.next()) == after
    assert str(period.previous()) == before
    assert period.next().previous() == period


def test_stepping_past_the_supported_years_is_refused() -> None:
    with pytest.raises(InvalidPeriod):
        parse_period("9998-12").next()
    with pytest.raises(InvalidPeriod):
        parse_period("1970-01").previous()


def test_contains_is_half_open() -> None:
    week = parse_period("2026-W48")
    assert week.contains(week.start)
    assert week.contains(week.end - timedelta(microseconds=1))
    assert not week.contains(week.end)
    assert not week.contains(week.start - timedelta(microseconds=1))


# --- ordering, equality, hashing --------------------------------------------------------------------


def test_ordering_equality_and_hashing() -> None:
    weeks = [parse_period(t) for t in ["2027-W01", "2026-W53", "2026-W02", "2026-W10"]]
    assert [str(p) for p in sorted(weeks)] == ["2026-W02", "2026-W10", "2026-W53", "2027-W01"]
    assert parse_period("2026-W48") == Period.week(2026, 48)
    assert len({parse_period("2026-11"), Period.month(2026, 11)}) == 1
    assert parse_period("2026-12") > parse_period("2026-11")
    assert parse_period("2026-11") <= parse_period("2026-11")
    assert parse_period("2026-W01") != parse_period("2026-01")


def test_weeks_and_months_do_not_compare() -> None:
    with pytest.raises(TypeError, match="week against a month"):
        _ = parse_period("2026-W48") < parse_period("2026-11")


def test_periods_are_immutable() -> None:
    period = parse_period("2026-11")
    with pytest.raises(AttributeError):
        period.number = 12  # type: ignore[misc]


# --- due dates --------------------------------------------------------------------------------------


def test_due_at_counts_days_after_the_exclusive_end() -> None:
    assert due_at(parse_period("2026-W48"), 7) == utc(2026, 12, 7)
    assert due_at(parse_period("2026-W48"), 0) == utc(2026, 11, 30)
    assert due_at(parse_period("2026-12"), 10) == utc(2027, 1, 11)
    assert due_at(parse_period("2028-02"), 1) == utc(2028, 3, 2)


@pytest.mark.parametrize("days", [-1, True, 1.5])
def test_due_at_refuses_odd_day_counts(days: int) -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        due_at(parse_period("2026-11"), days)


# --- properties -------------------------------------------------------------------------------------

days = st.dates(min_value=date(1970, 1, 5), max_value=date(9998, 11, 1))


@given(days, st.sampled_from([W, M]))
def test_period_containing_contains_and_round_trips(day: date, kind: PeriodKind) -> None:
    period = period_containing(day, kind)
    start_of_day = datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert period.start <= start_of_day < period.end
    assert parse_period(str(period)) == period
    assert period.start.weekday() == 0 if kind is W else period.start.day == 1


@given(days, st.sampled_from([W, M]))
def test_consecutive_periods_tile_time_without_gaps(day: date, kind: PeriodKind) -> None:
    period = period_containing(day, kind)
    following = period.next()
    assert following.start == period.end
    assert following > period
    assert following.previous() == period
    length = period.end - period.start
    assert length == timedelta(weeks=1) if kind is W else timedelta(days=28) <= length <= timedelta(days=31)


@given(st.integers(MIN_YEAR, MAX_YEAR), st.integers(0, 99), st.booleans())
def test_parse_agrees_with_the_calendar(year: int, number: int, week: bool) -> None:
    text = f"{year:04d}-W{number:02d}" if week else f"{year:04d}-{number:02d}"
    limit = iso_weeks_in_year(year) if week else 12
    if 1 <= number <= limit:
        assert str(parse_period(text)) == text
    else:
        with pytest.raises(InvalidPeriod):
            parse_period(text)


# --- the pydantic type ------------------------------------------------------------------------------


class Report(BaseModel):
    period: PeriodStr


def test_period_str_validates_in_models() -> None:
    assert Report(period="2020-W53").period == "2020-W53"
    assert Report.model_validate_json('{"period": "2026-11"}').period == "2026-11"
    for bad in ["2021-W53", "2026-13", " 2026-11", "2026-W5", "2026-W00"]:
        with pytest.raises(ValidationError) as caught:
            Report(period=bad)
        assert caught.value.errors()[0]["loc"] == ("period",)
    with pytest.raises(ValidationError):
        Report.model_validate({"period": 202611})


def test_period_str_json_schema_carries_the_pattern() -> None:
    schema = Report.model_json_schema()["properties"]["period"]
    assert schema["type"] == "string"
    assert schema["pattern"] == r"^[0-9]{4}-(W[0-9]{2}|[0-9]{2})$"
