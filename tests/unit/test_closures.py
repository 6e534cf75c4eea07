"""Closure days: the org file's own non-working days and iCalendar files of them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
import yaml

from bot.calendar import WorkingCalendar, calendar_for
from bot.closures import ClosureError, read_ics
from bot.org import DEMO_ORG, load_org
from bot.policy import PolicyError

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Baton tests//EN\r\n"
TAIL = "END:VCALENDAR\r\n"


def vevent(uid: str, summary: str, *lines: str) -> str:
    """One VEVENT with the given property lines."""
    body = "".join(f"{x}\r\n" for x in lines)
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n"
            f"{body}END:VEVENT\r\n")


def ics(tmp_path: Path, *events: str, name: str = "closures.ics") -> Path:
    """Write an iCalendar file of ``events``; returns its path."""
    p = tmp_path / name
    p.write_text(HEAD + "".join(events) + TAIL, encoding="utf-8")
    return p


def org_file(tmp_path: Path, **extra: object) -> Path:
    """The demo org with ``extra`` top-level keys, written beside any .ics in ``tmp_path``."""
    data = yaml.safe_load(DEMO_ORG.read_text(encoding="utf-8"))
    data.update(extra)
    p = tmp_path / "org.yml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


# --- reading .ics ------------------------------------------------------------------------------
def test_an_all_day_event_closes_up_to_but_not_including_its_dtend(tmp_path: Path) -> None:
    """RFC 5545: DTEND of an all-day event is exclusive; 29 Dec to 1 Jan closes 29, 30, 31 Dec."""
    p = ics(tmp_path, vevent("1", "Christmas shutdown", "DTSTART;VALUE=DATE:20261229",
                             "DTEND;VALUE=DATE:20270101"))
    assert read_ics(p).days == {date(2026, 12, 29): "Christmas shutdown",
                                date(2026, 12, 30): "Christmas shutdown",
                                date(2026, 12, 31): "Christmas shutdown"}


def test_an_all_day_event_without_dtend_or_with_a_duration_closes_its_days(tmp_path: Path) -> None:
    """No DTEND: one day. DURATION:P2D: two days."""
    p = ics(tmp_path, vevent("1", "Staff day", "DTSTART;VALUE=DATE:20260605"),
            vevent("2", "Training", "DTSTART;VALUE=DATE:20260608", "DURATION:P2D"))
    assert list(read_ics(p).days) == [date(2026, 6, 5), date(2026, 6, 8), date(2026, 6, 9)]


def test_a_recurring_closure_is_expanded_every_year(tmp_path: Path) -> None:
    """A yearly RRULE with COUNT=3 closes the same day three years running."""
    p = ics(tmp_path, vevent("1", "Council staff day", "DTSTART;VALUE=DATE:20260601",
                             "DTEND;VALUE=DATE:20260602", "RRULE:FREQ=YEARLY;COUNT=3"))
    assert list(read_ics(p).days) == [date(2026, 6, 1), date(2027, 6, 1), date(2028, 6, 1)]


def test_timed_and_cancelled_events_close_no_day(tmp_path: Path) -> None:
    """A meeting from 10:00 to 11:00 is not a closure day, nor is a cancelled closure."""
    p = ics(tmp_path, vevent("1", "Meeting", "DTSTART:20261201T100000Z", "DTEND:20261201T110000Z"),
            vevent("2", "Called off", "DTSTART;VALUE=DATE:20261202", "STATUS:CANCELLED"))
    found = read_ics(p)
    assert found.days == {}
    assert found.timed_events == 1


def test_an_unreadable_calendar_is_named_with_its_problem(tmp_path: Path) -> None:
    """A missing file and a file that is not iCalendar: the message names the file and why."""
    with pytest.raises(ClosureError, match=r"missing\.ics: cannot read: No such file"):
        read_ics(tmp_path / "missing.ics")
    bad = tmp_path / "bad.ics"
    bad.write_text("this is not a calendar\n", encoding="utf-8")
    with pytest.raises(ClosureError, match=r"bad\.ics: not an iCalendar file"):
        read_ics(bad)


# --- the org file ------------------------------------------------------------------------------
def test_the_org_file_lists_closure_days_and_spans_and_points_at_a_calendar(tmp_path: Path) -> None:
    """``closures`` (days and from/to spans, both ends included) and ``closures_file``, relative
    to the org file, add up."""
    ics(tmp_path, vevent("1", "Christmas shutdown", "DTSTART;VALUE=DATE:20261229",
                         "DTEND;VALUE=DATE:20261231"))
    org = load_org(org_file(tmp_path, closures_file="closures.ics", closures=[
        date(2026, 12, 24), {"from": date(2027, 1, 4), "to": date(2027, 1, 5), "name": "Stocktake"}]))
    assert org.closure_days() == {
        date(2026, 12, 24): "closure", date(2026, 12, 29): "Christmas shutdown",
        date(2026, 12, 30): "Christmas shutdown", date(2027, 1, 4): "Stocktake",
        date(2027, 1, 5): "Stocktake"}


def test_an_unreadable_closures_file_stops_the_org_loading_with_its_name(tmp_path: Path) -> None:
    """Nothing starts on an org file whose calendar cannot be read: one line names both files."""
    (tmp_path / "shut.ics").write_text("BEGIN:VCALENDAR\r\nnonsense\r\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"org\.yml: closures_file .*shut\.ics: not an iCalendar file"):
        load_org(org_file(tmp_path, closures_file="shut.ics"))
    with pytest.raises(PolicyError, match=r"org\.yml: closures_file .*gone\.ics: cannot read"):
        load_org(org_file(tmp_path, closures_file="gone.ics"))


def test_a_closure_span_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    """``to`` before ``from`` is a typo the check names."""
    with pytest.raises(PolicyError, match=r"ends .* before it starts"):
        load_org(org_file(tmp_path, closures=[{"from": date(2026, 12, 31), "to": date(2026, 12, 24)}]))


def test_org_check_warns_that_timed_events_were_left_out(tmp_path: Path) -> None:
    """A calendar with a meeting in it loads, with a warning saying the meeting closes nothing."""
    ics(tmp_path, vevent("1", "Meeting", "DTSTART:20261201T100000Z", "DTEND:20261201T110000Z"))
    org = load_org(org_file(tmp_path, closures_file="closures.ics"))
    assert any("1 timed event(s) left out" in p for p in org.problems())


# --- counting ----------------------------------------------------------------------------------
SHUTDOWN = {date(2026, 12, 29): "shutdown", date(2026, 12, 30): "shutdown",
            date(2026, 12, 31): "shutdown"}


def test_closure_days_are_not_working_days_beside_bank_holidays() -> None:
    """With the shutdown, the next working day after Christmas Eve 2026 is Mon 4 Jan 2027."""
    cal = calendar_for("ENG", SHUTDOWN)
    assert not cal.is_working_day(date(2026, 12, 30))
    assert cal.next_working_day(date(2026, 12, 24)) == date(2027, 1, 4)
    assert calendar_for("ENG").next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)
    assert cal.working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 1
    assert cal.closed_between(date(2026, 12, 1), date(2027, 1, 31)) == SHUTDOWN


def test_calendars_with_different_closures_are_kept_apart() -> None:
    """A calendar is shared per region and set of closures, never mixed up in the caches."""
    plain, shut = calendar_for("ENG"), calendar_for("ENG", SHUTDOWN)
    assert plain is not shut and plain != shut
    assert calendar_for("eng", dict(SHUTDOWN)) is shut
    assert plain.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert shut.add_working_days(date(2026, 12, 24), 1) == date(2027, 1, 4)


def _independent_nth_working_day(start: date, n: int, closed: set[date]) -> date:
    """Day-by-day count straight from the holidays package: a computation apart from Baton's."""
    bank = holidays.UK(subdiv="ENG", years=range(start.year, start.year + 3))
    d, left = start, n
    while left:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in bank and d not in closed:
            left -= 1
    return d


@pytest.mark.parametrize("n", [1, 5, 10, 20, 30])
def test_working_day_counts_with_closures_agree_with_an_independent_count(n: int) -> None:
    """Every start from November 2026 to February 2027, across the shutdown and a spring
    closure: Baton's n-th working day and count between match a day-by-day count."""
    closures = {**SHUTDOWN, date(2027, 2, 15): "half term closure"}
    cal = WorkingCalendar("ENG", closures)
    start = date(2026, 11, 1)
    while start < date(2027, 3, 1):
        expected = _independent_nth_working_day(start, n, set(closures))
        assert cal.add_working_days(start, n) == expected, start
        assert cal.working_days_between(start, expected) == n, start
        start += timedelta(days=1)
