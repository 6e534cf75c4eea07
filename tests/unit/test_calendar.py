"""WorkingCalendar: weekends and each UK region's bank holidays are not working days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.calendar import REGIONS, CalendarError, WorkingCalendar, add_months, calendar_for


def _days(start: date, end: date) -> list[date]:
    """Every date from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@pytest.fixture(scope="module")
def eng() -> WorkingCalendar:
    """England's calendar."""
    return WorkingCalendar("ENG")


@pytest.fixture(scope="module")
def sct() -> WorkingCalendar:
    """Scotland's calendar."""
    return WorkingCalendar("SCT")


# --- regions ---------------------------------------------------------------------------------


def test_region_defaults_to_england() -> None:
    """With no region the calendar is England's (Easter Monday 2026 is off)."""
    cal = WorkingCalendar()
    assert cal.region == "ENG"
    assert not cal.is_working_day(date(2026, 4, 6))


@pytest.mark.parametrize("region", ["WLS", "SCT", "NIR", "ENG"])
def test_every_uk_region_builds(region: str) -> None:
    """Wales, Scotland, Northern Ireland and England all give a working calendar."""
    cal = WorkingCalendar(region)
    assert cal.region == region
    assert cal.is_working_day(date(2026, 12, 23))
    assert not cal.is_working_day(date(2026, 12, 25))


def test_region_is_case_insensitive() -> None:
    """'sct' is read as SCT."""
    assert WorkingCalendar("sct").region == "SCT"


def test_unknown_region_is_refused_naming_the_choices() -> None:
    """A region Baton does not know is refused, and the message lists every UK region."""
    with pytest.raises(CalendarError) as exc:
        WorkingCalendar("FRA")
    msg = str(exc.value)
    assert "FRA" in msg
    for region in REGIONS:
        assert region in msg


def test_calendar_error_is_a_value_error() -> None:
    """Callers catching ValueError also catch an unknown region."""
    with pytest.raises(ValueError):
        WorkingCalendar("GB")


def test_calendar_for_shares_one_calendar_per_region() -> None:
    """calendar_for returns the same instance for a region, whatever its case."""
    assert calendar_for("eng") is calendar_for("ENG")
    assert calendar_for("SCT").region == "SCT"
    assert calendar_for("SCT") is not calendar_for("ENG")


# --- bank holidays ---------------------------------------------------------------------------


def test_easter_monday_is_a_holiday_in_england_because_the_subdivision_is_passed(
    eng: WorkingCalendar,
) -> None:
    """Easter Monday (6 Apr 2026, 29 Mar 2027) is a bank holiday in England."""
    assert not eng.is_working_day(date(2026, 4, 6))
    assert eng.holiday_name(date(2026, 4, 6)) == "Easter Monday"
    assert not eng.is_working_day(date(2027, 3, 29))


def test_easter_monday_is_a_working_day_in_scotland(sct: WorkingCalendar) -> None:
    """Scotland has Good Friday but not Easter Monday."""
    assert sct.is_working_day(date(2026, 4, 6))
    assert sct.holiday_name(date(2026, 4, 6)) is None
    assert not sct.is_working_day(date(2026, 4, 3))


@pytest.mark.parametrize("region", ["WLS", "NIR"])
def test_easter_monday_is_a_holiday_in_wales_and_northern_ireland(region: str) -> None:
    """Wales and Northern Ireland also take Easter Monday."""
    assert not WorkingCalendar(region).is_working_day(date(2026, 4, 6))


def test_platinum_jubilee_2022_moves_the_spring_bank_holiday(eng: WorkingCalendar) -> None:
    """2022: Thursday 2 and Friday 3 June are off; the usual last Monday of May is worked."""
    assert not eng.is_working_day(date(2022, 6, 2))
    assert not eng.is_working_day(date(2022, 6, 3))
    assert "Jubilee" in (eng.holiday_name(date(2022, 6, 3)) or "")
    assert eng.is_working_day(date(2022, 5, 30))


def test_queens_state_funeral_2022_is_a_bank_holiday_everywhere() -> None:
    """Monday 19 September 2022 was off in every UK region."""
    for region in REGIONS:
        assert not WorkingCalendar(region).is_working_day(date(2022, 9, 19)), region


def test_coronation_2023_is_a_bank_holiday(eng: WorkingCalendar) -> None:
    """Monday 8 May 2023 (the Coronation) was off, as was the May Day on Monday 1 May."""
    assert not eng.is_working_day(date(2023, 5, 8))
    assert not eng.is_working_day(date(2023, 5, 1))
    assert eng.is_working_day(date(2023, 5, 9))


def test_christmas_2026_gives_boxing_day_substitute_on_monday_28th(eng: WorkingCalendar) -> None:
    """25 Dec 2026 is a Friday; Boxing Day falls on Saturday so Monday 28 Dec is off."""
    assert date(2026, 12, 25).weekday() == 4
    assert not eng.is_working_day(date(2026, 12, 25))
    assert not eng.is_working_day(date(2026, 12, 26))
    assert not eng.is_working_day(date(2026, 12, 28))
    assert eng.is_working_day(date(2026, 12, 24))
    assert eng.is_working_day(date(2026, 12, 29))


def test_christmas_2027_gives_substitutes_on_monday_27th_and_tuesday_28th(
    eng: WorkingCalendar,
) -> None:
    """25 and 26 Dec 2027 are a weekend; Monday 27 and Tuesday 28 Dec are off instead."""
    assert date(2027, 12, 25).weekday() == 5
    assert not eng.is_working_day(date(2027, 12, 27))
    assert not eng.is_working_day(date(2027, 12, 28))
    assert eng.is_working_day(date(2027, 12, 24))
    assert eng.is_working_day(date(2027, 12, 29))


def test_st_andrews_day_is_a_holiday_in_scotland_only(
    eng: WorkingCalendar, sct: WorkingCalendar
) -> None:
    """Monday 30 November 2026 is off in Scotland and worked in England."""
    assert not sct.is_working_day(date(2026, 11, 30))
    assert "Andrew" in (sct.holiday_name(date(2026, 11, 30)) or "")
    assert eng.is_working_day(date(2026, 11, 30))


def test_second_of_january_is_a_holiday_in_scotland_only(
    eng: WorkingCalendar, sct: WorkingCalendar
) -> None:
    """Friday 2 January 2026 is off in Scotland and worked in England."""
    assert not sct.is_working_day(date(2026, 1, 2))
    assert eng.is_working_day(date(2026, 1, 2))


def test_northern_ireland_takes_st_patricks_day() -> None:
    """Tuesday 17 March 2026 is off in Northern Ireland and worked in England."""
    assert not WorkingCalendar("NIR").is_working_day(date(2026, 3, 17))
    assert WorkingCalendar("ENG").is_working_day(date(2026, 3, 17))


def test_weekends_are_never_working_days(eng: WorkingCalendar) -> None:
    """Every Saturday and Sunday of 2026 is a non-working day, every other weekday a bank holiday
    or a working day."""
    for d in _days(date(2026, 1, 1), date(2026, 12, 31)):
        if d.weekday() >= 5:
            assert not eng.is_working_day(d), d
        else:
            assert eng.is_working_day(d) == (eng.holiday_name(d) is None), d


def test_bank_holidays_lists_weekend_holidays_too(eng: WorkingCalendar) -> None:
    """bank_holidays(2027) includes Christmas Day on a Saturday and both substitutes, in order."""
    bh = eng.bank_holidays(2027)
    assert date(2027, 12, 25) in bh
    assert date(2027, 12, 27) in bh and date(2027, 12, 28) in bh
    assert list(bh) == sorted(bh)
    assert len(bh) == 10


def test_holiday_name_is_none_on_an_ordinary_day(eng: WorkingCalendar) -> None:
    """An ordinary Wednesday has no holiday name."""
    assert eng.holiday_name(date(2026, 12, 23)) is None


# --- stepping one day ------------------------------------------------------------------------


def test_next_working_day_skips_christmas_and_the_weekend(eng: WorkingCalendar) -> None:
    """After Thursday 24 Dec 2026 the next working day is Tuesday 29 Dec."""
    assert eng.next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)


def test_next_working_day_is_strictly_after(eng: WorkingCalendar) -> None:
    """From a working Monday the next working day is the Tuesday, not the Monday."""
    assert eng.next_working_day(date(2026, 11, 23)) == date(2026, 11, 24)


def test_previous_working_day_skips_christmas_and_the_weekend(eng: WorkingCalendar) -> None:
    """Before Tuesday 29 Dec 2026 the last working day is Thursday 24 Dec."""
    assert eng.previous_working_day(date(2026, 12, 29)) == date(2026, 12, 24)


def test_working_day_on_or_after_keeps_a_working_day(eng: WorkingCalendar) -> None:
    """A working day is its own answer; a holiday moves to the next working day."""
    assert eng.working_day_on_or_after(date(2026, 12, 24)) == date(2026, 12, 24)
    assert eng.working_day_on_or_after(date(2026, 12, 25)) == date(2026, 12, 29)
    assert eng.working_day_on_or_after(date(2027, 1, 1)) == date(2027, 1, 4)


# --- adding and counting working days --------------------------------------------------------


def test_day_one_is_the_next_working_day_after_the_request(eng: WorkingCalendar) -> None:
    """Probation: a request on Friday 18 Dec 2026 resolves by Wednesday 20 Jan 2027."""
    # Day 1 is the next working day after the request:
    #  1 Mon 21 Dec   2 Tue 22   3 Wed 23   4 Thu 24
    #    (Fri 25 Christmas, Sat 26, Sun 27, Mon 28 Boxing Day substitute)
    #  5 Tue 29       6 Wed 30   7 Thu 31
    #    (Fri 1 Jan New Year's Day, Sat 2, Sun 3)
    #  8 Mon 4 Jan    9 Tue 5   10 Wed 6   11 Thu 7   12 Fri 8
    # 13 Mon 11      14 Tue 12  15 Wed 13  16 Thu 14  17 Fri 15
    # 18 Mon 18      19 Tue 19  20 Wed 20 Jan 2027
    assert eng.add_working_days(date(2026, 12, 18), 20) == date(2027, 1, 20)


def test_add_one_working_day_is_the_next_working_day(eng: WorkingCalendar) -> None:
    """n=1 gives the next working day."""
    assert eng.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_add_working_days_from_a_saturday_counts_monday_as_day_one(
    eng: WorkingCalendar,
) -> None:
    """From Saturday 21 Nov 2026, day 1 is Monday 23 and day 5 is Friday 27."""
    assert eng.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)
    assert eng.add_working_days(date(2026, 11, 21), 5) == date(2026, 11, 27)


def test_add_zero_working_days_returns_the_start_itself(eng: WorkingCalendar) -> None:
    """n=0 gives the start date unchanged, even on a weekend or a bank holiday."""
    assert eng.add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
    assert eng.add_working_days(date(2026, 11, 21), 0) == date(2026, 11, 21)
    assert eng.add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 25)


def test_add_negative_working_days_is_refused(eng: WorkingCalendar) -> None:
    """A negative n is refused and points at subtract_working_days."""
    with pytest.raises(ValueError, match="subtract_working_days"):
        eng.add_working_days(date(2026, 11, 23), -1)


def test_add_working_days_follows_the_region(eng: WorkingCalendar, sct: WorkingCalendar) -> None:
    """From Friday 27 Nov 2026, one working day is Monday in England, Tuesday in Scotland."""
    assert eng.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)
    assert sct.add_working_days(date(2026, 11, 27), 1) == date(2026, 12, 1)


def test_add_working_days_lands_on_working_days_in_increasing_order(
    eng: WorkingCalendar,
) -> None:
    """For every start in 2026-2027, days 1..30 are working days, each after the one before."""
    for start in _days(date(2026, 1, 1), date(2027, 12, 31)):
        prev = start
        for n in range(1, 31):
            d = eng.add_working_days(start, n)
            assert eng.is_working_day(d), (start, n)
            assert d > prev, (start, n)
            assert d == eng.next_working_day(prev), (start, n)
            prev = d


@pytest.mark.parametrize("region", REGIONS)
def test_working_days_between_inverts_add_working_days(region: str) -> None:
    """For every start in 2026-2027 and n in 0..30, between(start, add(start, n)) == n."""
    cal = WorkingCalendar(region)
    for start in _days(date(2026, 1, 1), date(2027, 12, 31)):
        for n in range(31):
            end = cal.add_working_days(start, n)
            assert cal.working_days_between(start, end) == n, (region, start, n)


def test_working_days_between_counts_the_half_open_interval(eng: WorkingCalendar) -> None:
    """between counts working days in (start, end]: the start is not counted, the end is."""
    assert eng.working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
    assert eng.working_days_between(date(2026, 11, 23), date(2026, 11, 24)) == 1
    assert eng.working_days_between(date(2026, 11, 20), date(2026, 11, 22)) == 0
    assert eng.working_days_between(date(2026, 12, 18), date(2027, 1, 20)) == 20


def test_working_days_between_is_negative_backwards(eng: WorkingCalendar) -> None:
    """When the end is before the start the count is negative."""
    assert eng.working_days_between(date(2027, 1, 20), date(2026, 12, 18)) == -20


def test_working_days_between_matches_a_day_by_day_count_over_many_years() -> None:
    """Across 2019-2031 (bank holidays in every year in between) the count is exact."""
    cal = WorkingCalendar("ENG")  # fresh: no years loaded yet
    start, end = date(2019, 6, 14), date(2031, 3, 3)
    by_hand = sum(1 for d in _days(start + timedelta(days=1), end) if cal.is_working_day(d))
    assert WorkingCalendar("ENG").working_days_between(start, end) == by_hand
    assert cal.working_days_between(start, end) == by_hand


def test_working_days_between_agrees_with_a_day_by_day_count_for_many_pairs(
    eng: WorkingCalendar,
) -> None:
    """For starts across Dec 2026 - Jan 2027 and spans of 0..45 days, the count is exact."""
    for start in _days(date(2026, 12, 1), date(2027, 1, 31)):
        running = 0
        for span in range(46):
            end = start + timedelta(days=span)
            if span and eng.is_working_day(end):
                running += 1
            assert eng.working_days_between(start, end) == running, (start, end)


def test_subtract_working_days_steps_back_over_holidays(eng: WorkingCalendar) -> None:
    """5 working days before Wednesday 6 Jan 2027 is Tuesday 29 Dec 2026."""
    # Back from Wed 6 Jan: 1 Tue 5, 2 Mon 4, (Fri 1 Jan off), 3 Thu 31, 4 Wed 30, 5 Tue 29
    assert eng.subtract_working_days(date(2027, 1, 6), 5) == date(2026, 12, 29)
    assert eng.subtract_working_days(date(2026, 12, 29), 1) == date(2026, 12, 24)


def test_subtract_zero_working_days_returns_the_end(eng: WorkingCalendar) -> None:
    """n=0 gives the end date unchanged."""
    assert eng.subtract_working_days(date(2026, 12, 26), 0) == date(2026, 12, 26)


def test_subtract_undoes_add_from_a_working_day(eng: WorkingCalendar) -> None:
    """From any working day of 2026-2027, subtracting n after adding n returns to the start."""
    for start in _days(date(2026, 1, 1), date(2027, 12, 31)):
        if not eng.is_working_day(start):
            continue
        for n in (1, 5, 10, 20, 30):
            assert eng.subtract_working_days(eng.add_working_days(start, n), n) == start


# --- calendar months -------------------------------------------------------------------------


def test_add_months_clamps_31_january_to_end_of_february() -> None:
    """31 Jan + 1 month is 28 Feb, or 29 Feb in a leap year."""
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_add_months_crosses_the_year() -> None:
    """Months roll into the next year, and 12 months is the same day next year."""
    assert add_months(date(2026, 12, 18), 12) == date(2027, 12, 18)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 31), 1) == date(2027, 1, 31)


def test_add_months_goes_backwards_with_negative_months() -> None:
    """-1 month from 31 March is the end of February; from January it is last December."""
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert add_months(date(2027, 1, 15), -1) == date(2026, 12, 15)


def test_add_months_leap_day_plus_a_year_clamps() -> None:
    """29 Feb 2028 + 12 months is 28 Feb 2029."""
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)


def test_add_zero_months_is_the_same_day() -> None:
    """0 months changes nothing."""
    assert add_months(date(2026, 5, 31), 0) == date(2026, 5, 31)
