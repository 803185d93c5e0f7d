"""Working-day arithmetic, in one place: weekends, PRC public holidays and makeup working days
(调休) from data, extended by operators.

Deadline semantics: a period of n working days starts the day after the event (Beijing time)
and ends at the end (23:59:59.999999 Asia/Shanghai) of its nth working day. A pause (an open
objection) extends the deadline by the working days it covered: those after the pause began, up
to and including the day it ended.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
CALENDAR_FILE = Path(__file__).parent / "holidays" / "cn.json"


@dataclass(frozen=True)
class HolidayCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def extended(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> HolidayCalendar:
        extra_workdays = frozenset(workdays)
        return HolidayCalendar(
            holidays=(self.holidays | frozenset(holidays)) - extra_workdays,
            makeup_workdays=(self.makeup_workdays - frozenset(holidays)) | extra_workdays,
        )


@lru_cache(maxsize=1)
def _shipped() -> HolidayCalendar:
    data = json.loads(CALENDAR_FILE.read_text(encoding="utf-8"))
    return HolidayCalendar(
        holidays=frozenset(date.fromisoformat(d) for d in data["holidays"]),
        makeup_workdays=frozenset(date.fromisoformat(d) for d in data["makeup_workdays"]),
    )


def load_calendar(
    extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()
) -> HolidayCalendar:
    return _shipped().extended(extra_holidays, extra_workdays)


def local_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=BEIJING).astimezone(UTC)


def add_working_days(start: datetime, n: int, calendar: HolidayCalendar) -> datetime:
    """End of the nth working day after `start` (see the module docstring)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = local_day(start)
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return end_of_day(day)


def working_days_between(a: datetime, b: datetime, calendar: HolidayCalendar) -> int:
    """Working days after a's day up to and including b's day (0 when b is not later)."""
    start, end = local_day(a), local_day(b)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


def deadline_with_pauses(
    start: datetime,
    n: int,
    pauses: Iterable[tuple[datetime, datetime | None]],
    calendar: HolidayCalendar,
) -> datetime | None:
    """The deadline of an n-working-day period paused by `pauses`; None while a pause is open."""
    extension = 0
    for began, ended in pauses:
        if ended is None:
            return None
        extension += working_days_between(began, ended, calendar)
    return add_working_days(start, n + extension, calendar)
