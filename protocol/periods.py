"""Reporting periods: an ISO 8601 week (``2026-W48``) or a calendar month (``2026-11``), in UTC.

A period starts at midnight UTC of its first day (the Monday of an ISO week, the 1st of a month) and ends,
exclusively, where the next one starts. Only the exact forms ``YYYY-Www`` and ``YYYY-MM`` are accepted
(two-digit week and month, no spaces), for years 1970 to 9998; week 53 exists only in ISO years that have
it (2020 and 2026 do, 2021 does not).

Example:
    >>> week = parse_period("2026-W53")
    >>> week.start.date(), week.end.date(), str(week.next())
    (datetime.date(2026, 12, 28), datetime.date(2027, 1, 4), '2027-W01')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import total_ordering
from typing import Annotated

from pydantic import AfterValidator, Field

from protocol.errors import InvalidPeriod
from protocol.models.common import PeriodKind

MIN_YEAR = 1970
"""First year a period may fall in.

Example:
    >>> parse_period("1969-12")
    Traceback (most recent call last):
    ...
    protocol.errors.InvalidPeriod: invalid period '1969-12': year must be 1970 to 9998
"""

MAX_YEAR = 9998
"""Last year a period may fall in (so that every period has a next one that Python can represent).

Example:
    >>> str(parse_period("9998-12"))
    '9998-12'
"""

PERIOD_PATTERN = r"^[0-9]{4}-(W[0-9]{2}|[0-9]{2})$"
"""The shape of a period string (the calendar checks come on top of it).

Example:
    >>> import re
    >>> bool(re.fullmatch(PERIOD_PATTERN, "2026-W48")), bool(re.fullmatch(PERIOD_PATTERN, "2026-W5"))
    (True, False)
"""

_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def iso_weeks_in_year(year: int) -> int:
    """Return how many ISO weeks ``year`` has: 53 if it starts on a Thursday (a leap year: or a Wednesday).

    Example:
        >>> iso_weeks_in_year(2020), iso_weeks_in_year(2021), iso_weeks_in_year(2026)
        (53, 52, 53)
    """
    return date(year, 12, 28).isocalendar().week


@total_ordering
@dataclass(frozen=True, slots=True)
class Period:
    """One reporting period: ``kind`` (week or month), ``year`` (the ISO year for weeks) and ``number``.

    Periods are immutable and hashable; periods of the same kind are ordered in time (comparing a week
    with a month raises ``TypeError``). Build them with :func:`parse_period`, :func:`period_containing`
    or the :meth:`week` and :meth:`month` constructors; invalid ones raise
    :class:`~protocol.errors.InvalidPeriod`.

    Example:
        >>> november = Period.month(2026, 11)
        >>> str(november), november.start.isoformat(), november.end.isoformat()
        ('2026-11', '2026-11-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00')
        >>> Period.week(2026, 48) < Period.week(2026, 49)
        True
    """

    kind: PeriodKind
    year: int
    number: int

    def __post_init__(self) -> None:
        if not isinstance(self.kind, PeriodKind):
            raise InvalidPeriod(f"kind must be a PeriodKind, not {self.kind!r}")
        for value in (self.year, self.number):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidPeriod(f"year and number must be integers, not {value!r}")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise InvalidPeriod(f"invalid period {self._text()!r}: year must be {MIN_YEAR} to {MAX_YEAR}")
        if self.kind is PeriodKind.MONTH and not 1 <= self.number <= 12:
            raise InvalidPeriod(f"invalid period {self._text()!r}: month must be 01 to 12")
        if self.kind is PeriodKind.WEEK:
            weeks = iso_weeks_in_year(self.year)
            if not 1 <= self.number <= weeks:
                detail = f"week must be 01 to {weeks} ({self.year} has {weeks} weeks)"
                raise InvalidPeriod(f"invalid period {self._text()!r}: {detail}")

    @classmethod
    def week(cls, year: int, week: int) -> Period:
        """Return ISO week ``week`` of ISO year ``year``.

        Example:
            >>> str(Period.week(2026, 1))
            '2026-W01'
        """
        return cls(PeriodKind.WEEK, year, week)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """Return calendar month ``month`` of ``year``.

        Example:
            >>> str(Period.month(2026, 2))
            '2026-02'
        """
        return cls(PeriodKind.MONTH, year, month)

    @property
    def start(self) -> datetime:
        """The first instant of the period: midnight UTC of its first day.

        Example:
            >>> Period.week(2026, 1).start.isoformat()
            '2025-12-29T00:00:00+00:00'
        """
        if self.kind is PeriodKind.WEEK:
            first = date.fromisocalendar(self.year, self.number, 1)
        else:
            first = date(self.year, self.number, 1)
        return datetime.combine(first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive end): the start of the next period.

        Example:
            >>> Period.month(2026, 12).end.isoformat()
            '2027-01-01T00:00:00+00:00'
        """
        if self.kind is PeriodKind.WEEK:
            return self.start + timedelta(weeks=1)
        if self.number == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, self.number + 1, 1, tzinfo=UTC)

    def next(self) -> Period:
        """Return the period right after this one, of the same kind.

        Example:
            >>> str(Period.month(2026, 12).next()), str(Period.week(2021, 52).next())
            ('2027-01', '2022-W01')
        """
        return period_containing(self.end, self.kind)

    def previous(self) -> Period:
        """Return the period right before this one, of the same kind.

        Example:
            >>> str(Period.month(2027, 1).previous()), str(Period.week(2021, 1).previous())
            ('2026-12', '2020-W53')
        """
        return period_containing(self.start - timedelta(days=1), self.kind)

    def contains(self, moment: date | datetime) -> bool:
        """Whether ``moment`` (an aware datetime, or a date) falls in ``[start, end)``.

        Example:
            >>> Period.week(2026, 1).contains(date(2025, 12, 31))
            True
        """
        return period_containing(moment, self.kind) == self

    def __str__(self) -> str:
        return self._text()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        if other.kind is not self.kind:
            raise TypeError(f"cannot order a {self.kind.value} against a {other.kind.value}")
        return (self.year, self.number) < (other.year, other.number)

    def _text(self) -> str:
        if self.kind is PeriodKind.WEEK:
            return f"{self.year:04d}-W{self.number:02d}"
        return f"{self.year:04d}-{self.number:02d}"


def parse_period(text: str) -> Period:
    """Parse ``YYYY-Www`` (ISO week) or ``YYYY-MM`` (month), strictly, into a :class:`Period`.

    Example:
        >>> parse_period("2026-W48").kind, parse_period("2026-11").kind
        (<PeriodKind.WEEK: 'week'>, <PeriodKind.MONTH: 'month'>)
        >>> parse_period("2021-W53")
        Traceback (most recent call last):
        ...
        protocol.errors.InvalidPeriod: invalid period '2021-W53': week must be 01 to 52 (2021 has 52 weeks)
    """
    if not isinstance(text, str):
        raise InvalidPeriod(f"a period is a string, not {type(text).__name__}")
    if match := _WEEK.fullmatch(text):
        return Period(PeriodKind.WEEK, int(match[1]), int(match[2]))
    if match := _MONTH.fullmatch(text):
        return Period(PeriodKind.MONTH, int(match[1]), int(match[2]))
    raise InvalidPeriod(
        f"invalid period {text!r}: expected an ISO week like 2026-W48 or a month like 2026-11"
    )


def period_containing(moment: date | datetime, kind: PeriodKind) -> Period:
    """Return the period of ``kind`` that contains ``moment`` (an aware datetime, taken in UTC, or a date).

    Example:
        >>> str(period_containing(date(2027, 1, 1), PeriodKind.WEEK))
        '2026-W53'
        >>> str(period_containing(datetime(2026, 11, 30, 23, 59, tzinfo=UTC), PeriodKind.MONTH))
        '2026-11'
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("moment must be timezone-aware (UTC)")
        day = moment.astimezone(UTC).date()
    elif isinstance(moment, date):
        day = moment
    else:
        raise TypeError(f"moment must be a date or datetime, not {type(moment).__name__}")
    kind = PeriodKind(kind)
    if kind is PeriodKind.WEEK:
        iso = day.isocalendar()
        return Period(kind, iso.year, iso.week)
    return Period(kind, day.year, day.month)


def due_at(period: Period, due_days: int) -> datetime:
    """Return when a report for ``period`` is due: ``due_days`` whole days after the period's end.

    A report received before this instant is on time; a period without one by then counts as not met.

    Example:
        >>> due_at(parse_period("2026-W48"), 7).isoformat()
        '2026-12-07T00:00:00+00:00'
    """
    if isinstance(due_days, bool) or not isinstance(due_days, int) or due_days < 0:
        raise ValueError(f"due_days must be a non-negative integer, not {due_days!r}")
    return period.end + timedelta(days=due_days)


def _validate_period_text(text: str) -> str:
    return str(parse_period(text))


PeriodStr = Annotated[
    str,
    Field(
        pattern=PERIOD_PATTERN,
        description="A reporting period: an ISO week (2026-W48) or a calendar month (2026-11), UTC.",
        examples=["2026-W48", "2026-11"],
    ),
    AfterValidator(_validate_period_text),
]
"""A ``str`` model field that holds a valid period in its exact form (validated by :func:`parse_period`).

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(PeriodStr).validate_python("2020-W53")
    '2020-W53'
"""


__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "PERIOD_PATTERN",
    "Period",
    "PeriodStr",
    "due_at",
    "iso_weeks_in_year",
    "parse_period",
    "period_containing",
]
