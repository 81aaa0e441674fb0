"""Which reporting periods have closed, in the supplier's time zone, and when the next one closes.

A period (an ISO week or a month, :mod:`protocol.periods`) is named as the hub names it; its *window* here is
the same calendar days in the supplier's time zone: ``2026-W48`` in Europe/Berlin runs from Monday
2026-11-23 00:00 to Monday 2026-11-30 00:00 Berlin time. A period closes at the end of its window (plus the
agent's ``close_delay_minutes``, for late data); from then on its report is due, until the agreement's
``report_due_days`` after the period's end.

Example:
    >>> from zoneinfo import ZoneInfo
    >>> from protocol.models.common import PeriodKind
    >>> now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    >>> [str(w.period) for w in closed_windows(now, PeriodKind.WEEK, ZoneInfo("Europe/Berlin"), count=2)]
    ['2026-W48', '2026-W47']
    >>> window_of(parse_period("2026-W48"), ZoneInfo("Europe/Berlin")).start.isoformat()
    '2026-11-23T00:00:00+01:00'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from protocol.models.common import PeriodKind
from protocol.periods import Period, parse_period, period_containing


@dataclass(frozen=True)
class Window:
    """A period and its bounds in the supplier's time zone: ``[start, end)``."""

    period: Period
    start: datetime
    end: datetime


def window_of(period: Period, zone: ZoneInfo) -> Window:
    """The period's calendar days as local times in ``zone``."""
    start = datetime.combine(period.start.date(), time(), tzinfo=zone)
    end = datetime.combine(period.end.date(), time(), tzinfo=zone)
    return Window(period=period, start=start, end=end)


def _local_day(now: datetime, zone: ZoneInfo, delay: timedelta) -> date:
    return (now.astimezone(zone) - delay).date()


def closed_windows(
    now: datetime, kind: PeriodKind, zone: ZoneInfo, *, count: int, delay_minutes: int = 0
) -> list[Window]:
    """The ``count`` most recently closed periods of ``kind`` at ``now``, newest first."""
    current = period_containing(_local_day(now, zone, timedelta(minutes=delay_minutes)), kind)
    windows = []
    period = current
    for _ in range(count):
        period = period.previous()
        windows.append(window_of(period, zone))
    return windows


def next_close(now: datetime, kind: PeriodKind, zone: ZoneInfo, *, delay_minutes: int = 0) -> datetime:
    """When the period running at ``now`` closes (in UTC)."""
    delay = timedelta(minutes=delay_minutes)
    current = period_containing(_local_day(now, zone, delay), kind)
    return (window_of(current, zone).end + delay).astimezone(UTC)


__all__ = ["Window", "closed_windows", "next_close", "parse_period", "window_of"]
