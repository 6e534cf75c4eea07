"""Closure days: the organisation's own non-working days (a council's shutdown between Christmas
and New Year), from the org file or an iCalendar (.ics) file, beside the region's bank holidays.

An .ics file is read with the ``icalendar`` library and its recurring events expanded with
``recurring-ical-events``; nothing is parsed by hand. Every all-day event (VEVENT with DATE
values) closes the days from DTSTART up to, not including, DTEND (RFC 5545: DTEND is exclusive;
with no DTEND or DURATION it is one day). Timed events (a meeting, an afternoon closure) close
no whole day and are left out, counted for ``baton org check`` to warn about; cancelled events
are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar
import recurring_ical_events

# Recurring events are expanded over this window (a yearly closure gives one day a year).
EXPAND_FROM = date(2000, 1, 1)
EXPAND_TO = date(2100, 1, 1)
MAX_SPAN_DAYS = 366  # one closure longer than a year is a mistake in the file


class ClosureError(ValueError):
    """A closure calendar Baton cannot read: the message names the file and the problem."""


@dataclass(frozen=True)
class IcsClosures:
    """What an .ics file closes: days by date (with the event's name) and timed events left out."""

    days: dict[date, str]
    timed_events: int = 0


def span(start: date, end: date, name: str) -> dict[date, str]:
    """Every day from ``start`` to ``end``, both included, named ``name``."""
    if end < start:
        raise ValueError(f"closure {name!r} ends ({end}) before it starts ({start})")
    if (end - start).days >= MAX_SPAN_DAYS:
        raise ValueError(f"closure {name!r} runs longer than a year ({start} to {end})")
    return {start + timedelta(days=i): name for i in range((end - start).days + 1)}


def read_ics(path: Path) -> IcsClosures:
    """The closure days of an iCalendar file; ClosureError naming the file and what is wrong."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ClosureError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ClosureError(f"{path}: not an iCalendar file: {exc}") from None
    if not isinstance(cal, icalendar.Calendar) or cal.name != "VCALENDAR":
        raise ClosureError(f"{path}: not an iCalendar file: no VCALENDAR")
    try:
        events = list(recurring_ical_events.of(cal).between(EXPAND_FROM, EXPAND_TO))
    except Exception as exc:  # the library raises its own types for bad RRULEs and dates
        raise ClosureError(f"{path}: cannot read its events: {exc}") from None
    days: dict[date, str] = {}
    timed = 0
    for ev in events:
        if str(ev.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = ev.get("DTSTART")
        if start is None:
            raise ClosureError(f"{path}: an event has no DTSTART")
        first = start.dt
        if isinstance(first, datetime):  # a timed event closes no whole day
            timed += 1
            continue
        end_prop = ev.get("DTEND")
        last = end_prop.dt - timedelta(days=1) if end_prop is not None else first
        if isinstance(last, datetime):
            last = last.date()
        last = max(last, first)  # DTEND == DTSTART: one day
        name = str(ev.get("SUMMARY") or "closure")
        try:
            for d, n in span(first, last, name).items():
                days.setdefault(d, n)
        except ValueError as exc:
            raise ClosureError(f"{path}: {exc}") from None
    return IcsClosures(dict(sorted(days.items())), timed)
