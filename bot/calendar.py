"""Working-day calendar: weekends, the UK region's bank holidays and the organisation's own
closure days (a council's Christmas shutdown) are not working days.

Built on the ``holidays`` package with the subdivision always passed (without it England
loses Easter Monday). The probation rule "day 1 is the next working day after the request"
is :meth:`WorkingCalendar.add_working_days`.
"""

from __future__ import annotations

import calendar as _stdcal
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UK_TIME = ZoneInfo("Europe/London")  # every region Baton serves (ENG, WLS, SCT, NIR)


def local_date(at: datetime) -> date:
    """The UK calendar day of ``at``: 00:30 BST is already the next day though UTC says not."""
    return at.astimezone(UK_TIME).date() if at.tzinfo is not None else at.date()


REGIONS = ("ENG", "WLS", "SCT", "NIR")


class CalendarError(ValueError):
    """A region Baton does not know."""


class WorkingCalendar:
    """Counts working days for one UK region (ENG, WLS, SCT, NIR), less any closure days."""

    def __init__(self, region: str = "ENG", closures: Mapping[date, str] | None = None) -> None:
        region = region.upper()
        if region not in REGIONS:
            raise CalendarError(f"unknown region {region!r}; choose one of {', '.join(REGIONS)}")
        self.region = region
        self.closures: dict[date, str] = dict(sorted((closures or {}).items()))
        self.key = (region, frozenset(self.closures.items()))
        self._holidays = holidays.country_holidays("GB", subdiv=region)
        self._years: set[int] = set()
        # Sorted list of non-working weekdays (bank holidays and closures on Mon-Fri), for fast
        # counting.
        self._bank_weekdays: list[date] = sorted(d for d in self.closures if d.weekday() < 5)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkingCalendar) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.region!r}, {len(self.closures)} closure days)"

    def _load(self, year: int) -> None:
        if year in self._years:
            return
        for y in range(year - 1, year + 2):
            if y in self._years:
                continue
            self._years.add(y)
            for d in holidays.country_holidays("GB", subdiv=self.region, years=y):
                if d.weekday() < 5:
                    self._bank_weekdays.append(d)
                self._holidays.get(d)  # warm the mapping used by holiday_name
        self._bank_weekdays = sorted(set(self._bank_weekdays))

    def holiday_name(self, day: date) -> str | None:
        """The bank holiday's name on ``day`` in this region, or None."""
        self._load(day.year)
        return self._holidays.get(day)

    def closed_between(self, start: date, end: date) -> dict[date, str]:
        """Closure days on weekdays in (start, end], by date: the ones that moved a count."""
        return {d: n for d, n in self.closures.items() if start < d <= end and d.weekday() < 5}

    def is_working_day(self, day: date) -> bool:
        """True on Monday to Friday unless it is a bank holiday in this region or a closure day."""
        if day.weekday() >= 5:
            return False
        self._load(day.year)
        i = bisect_left(self._bank_weekdays, day)
        return not (i < len(self._bank_weekdays) and self._bank_weekdays[i] == day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        d = day + timedelta(days=1)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        d = day - timedelta(days=1)
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def working_day_on_or_after(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one."""
        return day if self.is_working_day(day) else self.next_working_day(day)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (n=1 is the next working day); n=0 gives start."""
        return _add(self, start, n)

    def subtract_working_days(self, end: date, n: int) -> date:
        """The working day n working days before ``end`` (n=0 gives end)."""
        d = end
        for _ in range(n):
            d = self.previous_working_day(d)
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many have elapsed since ``start`` by ``end``.

        Negative when ``end`` is before ``start``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        for year in range(start.year, end.year + 1):  # every year in between, not just the ends
            self._load(year)
        days = (end - start).days
        weeks, rem = divmod(days, 7)
        count = weeks * 5
        wd = start.weekday()
        for i in range(1, rem + 1):
            if (wd + i) % 7 < 5:
                count += 1
        lo = bisect_right(self._bank_weekdays, start)
        hi = bisect_right(self._bank_weekdays, end)
        return count - (hi - lo)

    def bank_holidays(self, year: int) -> dict[date, str]:
        """Every bank holiday of ``year`` in this region, weekends included, by date."""
        return dict(sorted(holidays.country_holidays("GB", subdiv=self.region, years=year).items()))


@lru_cache(maxsize=65536)
def _add_cached(cal: WorkingCalendar, start: date, n: int) -> date:
    return _add_slow(cal, start, n)


_CALENDARS: dict[tuple[str, frozenset[tuple[date, str]]], WorkingCalendar] = {}


def _add(cal: WorkingCalendar, start: date, n: int) -> date:
    if n < 0:
        raise ValueError("n must not be negative; use subtract_working_days")
    return _add_cached(cal, start, n)


def _add_slow(cal: WorkingCalendar, start: date, n: int) -> date:
    d = start
    for _ in range(n):
        d = cal.next_working_day(d)
    return d


def calendar_for(region: str, closures: Mapping[date, str] | frozenset[tuple[date, str]] | None = None
                 ) -> WorkingCalendar:
    """A shared calendar for ``region`` less ``closures`` (a mapping, or its items as a
    frozenset); calendars are immutable once built."""
    items = closures if isinstance(closures, frozenset) else frozenset((closures or {}).items())
    key = (region.upper(), items)
    cal = _CALENDARS.get(key)
    if cal is None:
        if len(_CALENDARS) > 64:  # org reloads: keep the set of shared calendars small
            _CALENDARS.clear()
        cal = _CALENDARS[key] = WorkingCalendar(region, dict(items))
    return cal


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return date(year, month, min(day.day, _stdcal.monthrange(year, month)[1]))
