"""Working-day arithmetic, in one place: weekends, PRC public holidays and makeup working days
(调休) from the `chinesecalendar` package (the State Council's yearly notices, maintained
upstream), extended by operators.

The official arrangement of a year is published each autumn, so the calendar knows a range of
years. A deadline that reaches past it is refused (`CalendarYearUnknown`, 409), never counted
with weekends alone, until the package is upgraded or an operator enters that year's days and
confirms the year (`POST /v1/holidays/years`).

Deadline semantics: a period of n working days starts the day after the event (Beijing time)
and ends at the end (23:59:59.999999 Asia/Shanghai) of its nth working day. A pause (an open
objection) extends the deadline by the working days it covered: those after the pause began, up
to and including the day it ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from zoneinfo import ZoneInfo

from chinese_calendar import constants as official

from market.errors import Conflict

BEIJING = ZoneInfo("Asia/Shanghai")


def _package_version() -> str:
    try:
        return version("chinesecalendar")
    except PackageNotFoundError:  # installed under its other name
        return version("chinese-calendar")


OFFICIAL_SOURCE = f"chinesecalendar {_package_version()} (State Council holiday notices)"


class CalendarYearUnknown(Conflict):
    code, title = "calendar-year-unknown", "Holidays of that year are not known yet"

    def __init__(self, day: date, first_year: int, last_year: int) -> None:
        known = f"{first_year}-{last_year}"
        super().__init__(
            f"the working-day calendar knows PRC public holidays for {known} only, and this deadline "
            f"reaches {day.isoformat()}: it is not counted with weekends alone. An operator enters "
            f"{day.year}'s holidays and makeup working days (POST /v1/holidays) and confirms the year "
            f"(POST /v1/holidays/years), or the chinesecalendar package is upgraded; nothing was changed.",
            extra={"date": day.isoformat(), "last_known_year": last_year},
        )


@dataclass(frozen=True)
class HolidayCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    first_year: int = 1
    last_year: int = 9999

    def is_working_day(self, day: date) -> bool:
        if not self.first_year <= day.year <= self.last_year:
            raise CalendarYearUnknown(day, self.first_year, self.last_year)
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def extended(
        self,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        confirmed_years: Iterable[int] = (),
    ) -> HolidayCalendar:
        """Operators' additions; a confirmed year extends the known range only right after it."""
        extra_workdays = frozenset(workdays)
        last_year, confirmed = self.last_year, set(confirmed_years)
        while last_year + 1 in confirmed:
            last_year += 1
        return HolidayCalendar(
            holidays=(self.holidays | frozenset(holidays)) - extra_workdays,
            makeup_workdays=(self.makeup_workdays - frozenset(holidays)) | extra_workdays,
            first_year=self.first_year,
            last_year=last_year,
        )


@lru_cache(maxsize=1)
def official_calendar() -> HolidayCalendar:
    """The package's holidays and makeup working days, over the years it has data for."""
    holidays, workdays = frozenset(official.holidays), frozenset(official.workdays)
    years = [d.year for d in holidays | workdays]
    return HolidayCalendar(holidays, workdays, first_year=min(years), last_year=max(years))


def load_calendar(
    extra_holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    confirmed_years: Iterable[int] = (),
) -> HolidayCalendar:
    return official_calendar().extended(extra_holidays, extra_workdays, confirmed_years)


def local_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=BEIJING).astimezone(UTC)


def add_working_days(start: datetime, n: int, calendar: HolidayCalendar) -> datetime:
    """End of the nth working day after `start` (see the module docstring); `start` for n = 0."""
    if n < 0:
        raise ValueError("n must not be negative")
    if n == 0:
        return start
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
