"""Working days by the official Chinese holiday calendar: the State Council's yearly 节假日安排,
with its holidays and the weekend days turned into working days (调休), from the maintained
`chinese-calendar` package (pinned in pyproject.toml; 1.11.0 covers 2004–2026).

A year the package has no data for yet is counted Monday to Friday and the result says it is an
estimate, so a report can show that the calendar needs updating rather than silently being wrong.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class WorkingDay:
    day: date
    estimated: bool  # True when some day on the way was outside the package's data (weekdays assumed)


def is_working_day(day: date) -> tuple[bool, bool]:
    """(working, official): `official` is False when the package has no data for that year."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_working_days(start: date, count: int) -> WorkingDay:
    """The `count`-th working day after `start` (`start` itself is not counted)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    day, found, estimated = start, 0, False
    while found < count:
        day += timedelta(days=1)
        working, official = is_working_day(day)
        estimated |= not official
        found += working
    return WorkingDay(day, estimated)


def covered_years() -> range:
    """The years the installed calendar has official data for."""
    years = sorted({d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)})
    return range(years[0], years[-1] + 1)
