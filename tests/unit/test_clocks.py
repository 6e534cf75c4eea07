"""bot.clocks: when each clock of a pack starts, falls due, reminds and stops on a transfer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.calendar import WorkingCalendar
from bot.clocks import (
    ClockStatus,
    Deadline,
    applies,
    deadlines,
    due_date,
    next_deadline,
    plan,
    reminder_dates,
)
from bot.domain import Transfer, new_transfer
from bot.org import Actor, Role
from bot.policy import PACK_NAMES, Anchor, Clock, PolicyPack, Unit, builtin_pack

CAL = WorkingCalendar("ENG")
FRI_18_DEC = date(2026, 12, 18)
REQUEST_AT = datetime(2026, 12, 18, 10, 0, tzinfo=UTC)  # Friday 18 December 2026, 10:00

PP = Actor("U0PP", frozenset({Role.holding_practitioner}))
HM = Actor("U0HM", frozenset({Role.holding_manager}))
RM = Actor("U0RM", frozenset({Role.receiving_manager}))
SENIOR = Actor("U0SMT", frozenset({Role.escalation}))
# The transferring (holding) area's senior managers, who alone endorse an extension.
HOLDING_SENIOR = Actor("U0HSMT", frozenset({Role.escalation, Role.holding_escalation}))
HOME_VISIT = ("receiving_area_home_visit",)  # the receiving area does the address assessment
RESIDENTIAL = ("residential_placement",)  # a temporary move to Approved Premises or treatment


def _at(d: date, hour: int = 10) -> datetime:
    """A fixed time on day ``d``."""
    return datetime(d.year, d.month, d.day, hour, 0, tzinfo=UTC)


def _requested(pack_name: str = "probation", *, kind: str = "permanent",
               at: datetime = REQUEST_AT, **fields: Any) -> tuple[Transfer, PolicyPack]:
    """A transfer requested at ``at`` under ``pack_name``, its request checklist signed off."""
    pack = builtin_pack(pack_name)
    ref = "X123456" if pack_name == "probation" else "101001"
    t = new_transfer(case_ref=ref, pack=pack, holding_team="team-a", receiving_team="team-b",
                     kind=kind, actor=PP, now=at, **fields)
    for cl in pack.gating("request", kind):  # e.g. Bury's holding manager's audit
        for item in cl.items:
            t.confirm(HM, at, pack, checklist=cl.id, item=item.id)
    t.request(PP, at, pack)
    return t, pack


def _by_clock(ds: list[Deadline]) -> dict[str, Deadline]:
    """Deadlines keyed by clock name."""
    return {d.clock: d for d in ds}


def _clock(**kw: Any) -> Clock:
    """A clock with a name and label, the rest from ``kw``."""
    return Clock(name="test", label="Test clock", **kw)


# --- plan(): every clock of a pack from one start date ----------------------------------------


def test_probation_plan_resolves_on_the_20th_working_day() -> None:
    """Started Fri 18 Dec 2026, resolution is due Wed 20 Jan 2027 (day 1 = Mon 21 Dec)."""
    ds = _by_clock(plan(builtin_pack("probation"), FRI_18_DEC, CAL))
    assert ds["resolution"].starts_on == FRI_18_DEC
    assert ds["resolution"].due_on == date(2027, 1, 20)


def test_probation_plan_address_assessment_is_10_working_days() -> None:
    """The address assessment is due Wed 6 Jan 2027, 10 working days after Fri 18 Dec 2026."""
    # 1 Mon 21, 2 Tue 22, 3 Wed 23, 4 Thu 24, 5 Tue 29, 6 Wed 30, 7 Thu 31, 8 Mon 4, 9 Tue 5,
    # 10 Wed 6 Jan
    ds = _by_clock(plan(builtin_pack("probation"), FRI_18_DEC, CAL))
    assert ds["address_assessment"].due_on == date(2027, 1, 6)
    assert CAL.working_days_between(FRI_18_DEC, ds["address_assessment"].due_on) == 10


def test_probation_plan_endorsement_is_30_working_days() -> None:
    """The senior endorsement is due Wed 3 Feb 2027, 30 working days after Fri 18 Dec 2026."""
    # day 20 Wed 20 Jan; 21 Thu 21 ... 25 Wed 27, 26 Thu 28, 27 Fri 29, 28 Mon 1 Feb, 29 Tue 2,
    # 30 Wed 3 Feb
    ds = _by_clock(plan(builtin_pack("probation"), FRI_18_DEC, CAL))
    assert ds["endorsement"].due_on == date(2027, 2, 3)
    assert CAL.working_days_between(FRI_18_DEC, ds["endorsement"].due_on) == 30


def test_probation_plan_reminders_are_working_days_before_due() -> None:
    """Resolution reminds 5 and 1 working days before Wed 20 Jan; endorsement 5 and 2 days before
    (asked before its deadline); the address assessment 2 days before."""
    ds = _by_clock(plan(builtin_pack("probation"), FRI_18_DEC, CAL))
    assert ds["resolution"].remind_on == (date(2027, 1, 13), date(2027, 1, 19))
    assert ds["address_assessment"].remind_on == (date(2027, 1, 4),)
    assert ds["endorsement"].remind_on == (date(2027, 1, 27), date(2027, 2, 1))


def test_plan_lists_every_clock_of_the_pack_running() -> None:
    """plan() gives one running deadline per clock of the pack, in the pack's order."""
    for name in PACK_NAMES:
        pack = builtin_pack(name)
        ds = plan(pack, FRI_18_DEC, CAL)
        assert [d.clock for d in ds] == [c.name for c in pack.clocks]
        assert all(d.status == ClockStatus.running for d in ds)
        assert all(d.starts_on == FRI_18_DEC for d in ds)


def test_probation_plan_temporary_move_is_12_weeks() -> None:
    """The temporary move review falls 12 calendar weeks after the move."""
    ds = _by_clock(plan(builtin_pack("probation"), FRI_18_DEC, CAL))
    assert ds["temporary_move"].due_on == date(2027, 3, 12)


def test_probation_plan_unpaid_work_is_12_months() -> None:
    """Unpaid work falls due 12 calendar months after the order, even on a Saturday."""
    ds = _by_clock(plan(builtin_pack("probation"), FRI_18_DEC, CAL))
    assert ds["unpaid_work"].due_on == date(2027, 12, 18)
    # Due on a Saturday: the reminder counts back from Monday 20 Dec 2027.
    assert ds["unpaid_work"].remind_on == (date(2027, 11, 22),)


@pytest.mark.parametrize("name", PACK_NAMES)
def test_reminders_are_working_days_after_the_start_and_not_after_due(name: str) -> None:
    """For every start in 2026 and every clock that runs from its start, each reminder is a
    working day after the start and on or before the (working) due date."""
    pack = builtin_pack(name)
    for i in range(365):
        start = date(2026, 1, 1) + timedelta(days=i)
        for d in plan(pack, start, CAL):
            clock = pack.clock(d.clock)
            assert len(d.remind_on) <= len(clock.remind_before)
            assert list(d.remind_on) == sorted(set(d.remind_on))
            for r in d.remind_on:
                assert CAL.is_working_day(r), (name, d.clock, start, r)
                assert r <= CAL.working_day_on_or_after(d.due_on), (name, d.clock, start, r)
                if clock.length:
                    assert r > start, (name, d.clock, start, r)


def test_reminders_too_close_to_the_start_are_dropped() -> None:
    """A 3-working-day clock asked to remind 5 and 1 days ahead keeps only the 1-day one."""
    clock = _clock(length=3, remind_before=(5, 1))
    start = date(2026, 11, 23)  # Monday; due Thursday 26
    due = due_date(clock, start, CAL)
    assert due == date(2026, 11, 26)
    assert reminder_dates(clock, start, due, CAL) == (date(2026, 11, 25),)


def test_reminder_zero_days_before_is_the_due_date() -> None:
    """remind_before 0 means on the due day itself."""
    clock = _clock(length=5, remind_before=(0,))
    due = due_date(clock, date(2026, 11, 23), CAL)
    assert reminder_dates(clock, date(2026, 11, 23), due, CAL) == (due,)


# --- due_date(): units -----------------------------------------------------------------------


def test_length_zero_clock_is_due_on_the_date_itself() -> None:
    """A transfer point clock (length 0) falls due on the transfer point date, even a Saturday."""
    for name in ("bury", "rochdale", "council-s2"):
        clock = builtin_pack(name).clock("transfer_point")
        assert clock.length == 0
        assert due_date(clock, date(2027, 1, 20), CAL) == date(2027, 1, 20)
        assert due_date(clock, date(2027, 1, 23), CAL) == date(2027, 1, 23)


def test_transfer_point_plan_reminds_ahead_of_the_date() -> None:
    """With no request date known, a transfer point on Wed 20 Jan 2027 reminds 5 and 1 working
    days before it."""
    ds = _by_clock(plan(builtin_pack("bury"), date(2027, 1, 20), CAL))
    assert ds["transfer_point"].due_on == date(2027, 1, 20)
    assert ds["transfer_point"].remind_on == (date(2027, 1, 13), date(2027, 1, 19))


def test_day_one_is_the_start_when_the_clock_says_so() -> None:
    """With day_one_is_next_working_day false, a 5-day clock from Monday is due Friday."""
    clock = _clock(length=5, day_one_is_next_working_day=False)
    assert due_date(clock, date(2026, 11, 23), CAL) == date(2026, 11, 27)


def test_day_one_is_the_next_working_day_when_started_on_a_weekend() -> None:
    """With day one the start, a clock started on a Saturday counts Monday as day 1."""
    clock = _clock(length=1, day_one_is_next_working_day=False)
    assert due_date(clock, date(2026, 11, 21), CAL) == date(2026, 11, 23)


def test_rochdale_electronic_transfer_is_due_the_next_working_day() -> None:
    """A pick-up point on Thursday 24 Dec 2026 must be followed by the electronic transfer on
    Tuesday 29 Dec."""
    clock = builtin_pack("rochdale").clock("electronic_transfer")
    assert due_date(clock, date(2026, 12, 24), CAL) == date(2026, 12, 29)


def test_calendar_days_clock_counts_every_day() -> None:
    """A 10-calendar-day clock from Fri 18 Dec 2026 is due Mon 28 Dec, a bank holiday."""
    clock = _clock(length=10, unit=Unit.calendar_days)
    assert due_date(clock, FRI_18_DEC, CAL) == date(2026, 12, 28)


def test_weeks_clock_counts_whole_weeks() -> None:
    """A 12-week clock from Fri 18 Dec 2026 is due Fri 12 Mar 2027."""
    clock = _clock(length=12, unit=Unit.weeks)
    assert due_date(clock, FRI_18_DEC, CAL) == date(2027, 3, 12)


def test_months_clock_clamps_to_the_month_end() -> None:
    """A 1-month clock from 31 Jan 2027 is due 28 Feb 2027."""
    clock = _clock(length=1, unit=Unit.months)
    assert due_date(clock, date(2027, 1, 31), CAL) == date(2027, 2, 28)


# --- deadlines(): clocks on a transfer -------------------------------------------------------


def test_requested_probation_transfer_runs_its_three_request_clocks() -> None:
    """A permanent probation transfer requested Fri 18 Dec 2026, flagged for the receiving
    area's home visit, runs resolution, endorsement and address assessment, with the plan's
    dates."""
    t, pack = _requested(flags=HOME_VISIT)
    ds = _by_clock(deadlines(t, pack, CAL))
    assert set(ds) == {"resolution", "endorsement", "address_assessment"}
    assert all(d.status == ClockStatus.running for d in ds.values())
    assert ds["resolution"].due_on == date(2027, 1, 20)
    assert ds["endorsement"].due_on == date(2027, 2, 3)
    assert ds["address_assessment"].due_on == date(2027, 1, 6)


def test_request_clock_starts_on_the_uk_date_of_the_request() -> None:
    """A request at 23:30 UTC on Tue 14 Jul 2026 is Wed 15 Jul in the UK (BST): day 1 is
    Thu 16 Jul and the 20th working day is Wed 12 Aug."""
    t, pack = _requested(at=datetime(2026, 7, 14, 23, 30, tzinfo=UTC))
    ds = _by_clock(deadlines(t, pack, CAL))
    assert ds["resolution"].starts_on == date(2026, 7, 15)
    assert ds["resolution"].due_on == date(2026, 8, 12)


def test_transfer_not_yet_requested_has_no_request_clocks() -> None:
    """A Rochdale heads up with no transfer point date has no clock of the policy yet: only
    Baton's own date for the request, so it is never without one."""
    pack = builtin_pack("rochdale")
    t = new_transfer(case_ref="101001", pack=pack, holding_team="roch-frt-1",
                     receiving_team="roch-cp-1", kind="permanent", actor=HM, now=REQUEST_AT)
    t.give_heads_up(HM, REQUEST_AT)
    assert [d.clock for d in deadlines(t, pack, CAL)] == ["agree_by"]


def test_transfer_point_clock_runs_from_the_transfer_point_date() -> None:
    """A Bury transfer requested 18 Dec 2026 with its ICPC on Wed 20 Jan 2027 is due that day,
    with reminders 5 and 1 working days before."""
    t, pack = _requested("bury", transfer_point="initial_core_group",
                         transfer_point_date=date(2027, 1, 20))
    ds = _by_clock(deadlines(t, pack, CAL))
    assert set(ds) == {"transfer_point"}
    assert ds["transfer_point"].starts_on == date(2027, 1, 20)
    assert ds["transfer_point"].due_on == date(2027, 1, 20)
    assert ds["transfer_point"].remind_on == (date(2027, 1, 13), date(2027, 1, 19))


def test_transfer_point_reminders_never_fall_before_the_request() -> None:
    """A transfer point 3 working days after the request keeps only the 1-day reminder."""
    # Requested Mon 18 Jan 2027; transfer point Thu 21 Jan: 5 days before is Thu 14 Jan (gone).
    t, pack = _requested("bury", at=_at(date(2027, 1, 18)), transfer_point="initial_core_group",
                         transfer_point_date=date(2027, 1, 21))
    ds = _by_clock(deadlines(t, pack, CAL))
    assert ds["transfer_point"].remind_on == (date(2027, 1, 20),)


def test_transfer_point_clock_stops_when_the_transfer_completes() -> None:
    """Completing the transfer stops the transfer point clock."""
    t, pack = _requested("bury", transfer_point="initial_core_group",
                         transfer_point_date=date(2027, 1, 20))
    t.accept(RM, REQUEST_AT, pack, named_worker="U0WORKER")  # Bury names the worker first
    assert _by_clock(deadlines(t, pack, CAL))["transfer_point"].status == ClockStatus.running
    t.complete(RM, REQUEST_AT, pack)
    assert _by_clock(deadlines(t, pack, CAL))["transfer_point"].status == ClockStatus.stopped


def test_request_clocks_keep_running_under_assessment() -> None:
    """Starting the assessment does not stop any clock."""
    t, pack = _requested()
    t.start_assessment(RM, REQUEST_AT)
    assert all(d.status == ClockStatus.running for d in deadlines(t, pack, CAL))


def test_accepting_stops_the_address_clock_but_the_20_day_clock_runs_to_completion() -> None:
    """Probation FAQ: "a new requirement for case transfers to be completed within 20 working
    days". Acceptance stops the address assessment; resolution and endorsement run on until the
    transfer is completed."""
    t, pack = _requested(flags=HOME_VISIT)
    t.accept(RM, _at(date(2027, 1, 5)), pack)
    ds = _by_clock(deadlines(t, pack, CAL))
    assert ds["address_assessment"].status == ClockStatus.stopped
    assert ds["resolution"].status == ClockStatus.running
    assert ds["endorsement"].status == ClockStatus.running
    assert ds["resolution"].label == "Transfer to be completed by"
    assert ds["resolution"].due_on == date(2027, 1, 20)
    t.complete(RM, _at(date(2027, 1, 6)), pack)
    assert all(d.status == ClockStatus.stopped for d in deadlines(t, pack, CAL))


def test_declining_stops_the_request_clocks() -> None:
    """A decline stops every clock of the policy; only the holding team's window for disputing
    it runs."""
    t, pack = _requested()
    t.decline(RM, _at(date(2027, 1, 5)), pack, rationale="Victim lives next door",
              reason_category="heightened_risk")
    ds = deadlines(t, pack, CAL)
    assert ds and all(d.status == ClockStatus.stopped for d in ds if d.clock != "dispute_window")
    assert [d.clock for d in ds if d.status == ClockStatus.running] == ["dispute_window"]


def test_withdrawing_stops_the_request_clocks() -> None:
    """A withdrawal stops every clock."""
    t, pack = _requested()
    t.withdraw(PP, _at(date(2027, 1, 5)), reason="Person recalled to custody")
    ds = deadlines(t, pack, CAL)
    assert ds and all(d.status == ClockStatus.stopped for d in ds)


def test_completing_stops_the_request_clocks() -> None:
    """A completed transfer has every clock stopped."""
    t, pack = _requested()
    t.accept(RM, _at(date(2027, 1, 5)), pack, named_worker="U0NEW")
    t.complete(RM, _at(date(2027, 1, 6)), pack)
    ds = deadlines(t, pack, CAL)
    assert ds and all(d.status == ClockStatus.stopped for d in ds)


def test_endorsing_an_extension_stops_endorsement_but_resolution_keeps_running() -> None:
    """After senior endorsement, the endorsement clock stops and the 20-day clock still runs."""
    t, pack = _requested(flags=HOME_VISIT)
    t.endorse_extension(HOLDING_SENIOR, _at(date(2027, 2, 1)), rationale="Awaiting police checks")
    ds = _by_clock(deadlines(t, pack, CAL))
    assert ds["endorsement"].status == ClockStatus.stopped
    assert ds["resolution"].status == ClockStatus.running
    assert ds["address_assessment"].status == ClockStatus.running


def test_address_assessed_stops_only_the_address_clock() -> None:
    """Recording the address assessment stops that clock alone."""
    t, pack = _requested(flags=HOME_VISIT)
    t.address_assessed(RM, _at(date(2027, 1, 4)), outcome="Address suitable")
    ds = _by_clock(deadlines(t, pack, CAL))
    assert ds["address_assessment"].status == ClockStatus.stopped
    assert ds["resolution"].status == ClockStatus.running
    assert ds["endorsement"].status == ClockStatus.running


def test_recording_a_delay_does_not_stop_the_clocks() -> None:
    """A delay reason is recorded but the clocks keep running."""
    t, pack = _requested()
    t.record_delay(PP, _at(date(2027, 1, 21)), reason="Awaiting checks", actions="Chased")
    assert all(d.status == ClockStatus.running for d in deadlines(t, pack, CAL))


def test_an_accepted_probation_transfer_not_completed_breaches_the_20_day_clock() -> None:
    """Probation FAQ: "a new requirement for case transfers to be completed within 20 working
    days". Accepted on day 2 and never completed, the transfer is overdue after Wed 20 Jan 2027
    and the endorsement clock still falls due on Wed 3 Feb."""
    t, pack = _requested()
    t.accept(RM, _at(date(2026, 12, 22)), pack, named_worker="U0NEW")
    ds = _by_clock(deadlines(t, pack, CAL))
    assert ds["resolution"].status == ClockStatus.running
    assert not ds["resolution"].overdue(date(2027, 1, 20))
    assert ds["resolution"].overdue(date(2027, 1, 21))
    assert ds["endorsement"].status == ClockStatus.running
    assert ds["endorsement"].due_on == date(2027, 2, 3)


def test_probation_resolution_and_endorsement_do_not_list_acceptance_as_a_stop() -> None:
    """Probation FAQ: "a new requirement for case transfers to be completed within 20 working
    days": the pack stops both clocks on declined, withdrawn, completed (endorsement also on
    extension_endorsed), not on accepted."""
    pack = builtin_pack("probation")
    assert set(pack.clock("resolution").stops) == {"declined", "withdrawn", "completed"}
    assert set(pack.clock("endorsement").stops) == {
        "declined", "withdrawn", "completed", "extension_endorsed"}


def test_address_assessment_clock_runs_only_when_the_receiving_area_does_the_home_visit() -> None:
    """Probation FAQ: "If this isn't possible, the receiving area are required to conduct the
    address assessment within 10 working days of the request." Without the flag (the
    transferring officer visits) there is no 10-day clock; with it, it falls due Wed 6 Jan 2027."""
    clock = builtin_pack("probation").clock("address_assessment")
    assert clock.flag == "receiving_area_home_visit"
    without, pack = _requested()
    assert not applies(clock, without)
    assert set(_by_clock(deadlines(without, pack, CAL))) == {"resolution", "endorsement"}
    with_flag, _ = _requested(flags=HOME_VISIT)
    assert applies(clock, with_flag)
    d = _by_clock(deadlines(with_flag, pack, CAL))["address_assessment"]
    assert d.due_on == date(2027, 1, 6)
    assert d.status == ClockStatus.running


# --- Leicestershire dispute and Children in Care ---------------------------------------------


def _declined_leics() -> tuple[Transfer, PolicyPack]:
    """A Leicestershire permanent transfer requested 18 Dec 2026 and declined 21 Dec."""
    t, pack = _requested("leicestershire")
    t.decline(RM, _at(date(2026, 12, 21)), pack, rationale="Threshold for CP not met")
    return t, pack


def test_leicestershire_dispute_clock_is_absent_until_disputed() -> None:
    """Before a dispute, no dispute clock exists (declined or not)."""
    t, pack = _requested("leicestershire")
    assert "dispute" not in _by_clock(deadlines(t, pack, CAL))
    t.decline(RM, _at(date(2026, 12, 21)), pack, rationale="Threshold for CP not met")
    assert "dispute" not in _by_clock(deadlines(t, pack, CAL))


def test_leicestershire_dispute_clock_starts_on_the_day_of_the_dispute() -> None:
    """Disputed on Tue 22 Dec 2026, the dispute is due 5 working days later: Wed 30 Dec."""
    t, pack = _declined_leics()
    t.dispute(HM, _at(date(2026, 12, 22)), reason="Threshold is met: see strategy meeting")
    d = _by_clock(deadlines(t, pack, CAL))["dispute"]
    # 1 Wed 23, 2 Thu 24, (Fri 25 - Mon 28 off), 3 Tue 29, 4 Wed 30, 5 Thu 31
    assert d.starts_on == date(2026, 12, 22)
    assert d.due_on == date(2026, 12, 31)
    assert d.status == ClockStatus.running


def test_leicestershire_dispute_clock_keeps_running_through_escalation() -> None:
    """Escalating to the Service Manager does not stop the dispute clock."""
    t, pack = _declined_leics()
    t.dispute(HM, _at(date(2026, 12, 22)), reason="Threshold is met")
    t.escalate(HM, _at(date(2026, 12, 23)), pack, reason="TMs cannot agree")
    assert _by_clock(deadlines(t, pack, CAL))["dispute"].status == ClockStatus.running


def test_leicestershire_dispute_clock_stops_when_decided_transfer() -> None:
    """A decision that the case transfers stops the dispute clock, though the transfer is open."""
    t, pack = _declined_leics()
    t.dispute(HM, _at(date(2026, 12, 22)), reason="Threshold is met")
    t.decide(SENIOR, _at(date(2026, 12, 29)), outcome="transfer", rationale="CP plan in place")
    assert t.is_open
    assert _by_clock(deadlines(t, pack, CAL))["dispute"].status == ClockStatus.stopped


def test_leicestershire_dispute_clock_stops_when_decided_remain() -> None:
    """A decision that the case stays stops the dispute clock."""
    t, pack = _declined_leics()
    t.dispute(HM, _at(date(2026, 12, 22)), reason="Threshold is met")
    t.decide(SENIOR, _at(date(2026, 12, 29)), outcome="remain", rationale="CIN plan continues")
    assert _by_clock(deadlines(t, pack, CAL))["dispute"].status == ClockStatus.stopped


def test_leicestershire_children_in_care_clock_only_for_that_kind() -> None:
    """The 10-working-day CiC clock runs only on children_in_care transfers."""
    t, pack = _requested("leicestershire", kind="permanent")
    assert "children_in_care" not in _by_clock(deadlines(t, pack, CAL))
    t, pack = _requested("leicestershire", kind="children_in_care")
    d = _by_clock(deadlines(t, pack, CAL))["children_in_care"]
    assert d.due_on == date(2027, 1, 6)
    assert d.status == ClockStatus.running


# --- kind and flag filters -------------------------------------------------------------------


def test_temporary_move_clock_applies_only_to_temporary_moves() -> None:
    """applies() is true for the temporary_move clock only on kind temporary."""
    clock = builtin_pack("probation").clock("temporary_move")
    temp, _ = _requested(kind="temporary", move_date=date(2026, 12, 14), flags=RESIDENTIAL)
    perm, _ = _requested(kind="permanent", move_date=date(2026, 12, 14), flags=RESIDENTIAL)
    assert applies(clock, temp)
    assert not applies(clock, perm)


def test_temporary_move_clock_runs_12_weeks_from_the_move() -> None:
    """A temporary move on Mon 14 Dec 2026 is reviewed by Mon 8 Mar 2027."""
    t, pack = _requested(kind="temporary", move_date=date(2026, 12, 14), flags=RESIDENTIAL)
    d = _by_clock(deadlines(t, pack, CAL))["temporary_move"]
    assert d.starts_on == date(2026, 12, 14)
    assert d.due_on == date(2027, 3, 8)
    assert d.remind_on == (CAL.subtract_working_days(date(2027, 3, 8), 10),)


def test_temporary_move_clock_needs_a_move_date() -> None:
    """A temporary move without a move date has no temporary_move clock."""
    t, pack = _requested(kind="temporary")
    assert "temporary_move" not in _by_clock(deadlines(t, pack, CAL))


def test_temporary_move_clock_keeps_running_after_acceptance() -> None:
    """The 12-week review is not stopped by the receiving area accepting (which does stop the
    address assessment)."""
    t, pack = _requested(kind="temporary", move_date=date(2026, 12, 14), flags=(*HOME_VISIT, *RESIDENTIAL))
    t.accept(RM, _at(date(2027, 1, 5)), pack)
    ds = _by_clock(deadlines(t, pack, CAL))
    assert ds["temporary_move"].status == ClockStatus.running
    assert ds["address_assessment"].status == ClockStatus.stopped


def test_temporary_move_clock_goes_once_converted_to_permanent() -> None:
    """After conversion to a permanent transfer the temporary_move clock no longer applies."""
    t, pack = _requested(kind="temporary", move_date=date(2026, 12, 14))
    t.convert_to_permanent(HM, _at(date(2027, 2, 1)))
    assert "temporary_move" not in _by_clock(deadlines(t, pack, CAL))


def test_the_twelve_week_review_applies_only_to_residential_placements() -> None:
    """FAQ: "Where the reasons for a temporary transfer relate to a residential placement
    (Approved Premises, Residential Treatment), the temporary transfer arrangement should usually
    be limited to no more than twelve weeks": another temporary move has no 12-week clock."""
    other, pack = _requested(kind="temporary", move_date=date(2026, 12, 14))
    assert "temporary_move" not in _by_clock(deadlines(other, pack, CAL))
    residential, _ = _requested(kind="temporary", move_date=date(2026, 12, 14), flags=RESIDENTIAL)
    assert _by_clock(deadlines(residential, pack, CAL))["temporary_move"].due_on == date(2027, 3, 8)


def test_other_temporary_moves_end_on_the_date_the_responsible_officer_set() -> None:
    """FAQ: "the timeframe that constitutes a temporary move will be down to the professional
    judgement of the RO": a move ending Fri 5 Feb 2027 is due that day, reminded 5 and 1
    working days before, and stops when converted to a permanent transfer."""
    t, pack = _requested(kind="temporary", move_date=date(2026, 12, 14), move_end_date=date(2027, 2, 5))
    d = _by_clock(deadlines(t, pack, CAL))["temporary_move_end"]
    assert (d.starts_on, d.due_on) == (date(2027, 2, 5), date(2027, 2, 5))
    assert d.remind_on == (date(2027, 1, 29), date(2027, 2, 4))
    t.convert_to_permanent(HM, _at(date(2027, 1, 11)))
    assert "temporary_move_end" not in _by_clock(deadlines(t, pack, CAL))


def test_bury_s20_clock_runs_five_months_from_accommodation() -> None:
    """BURY: "no later than 5 months following accommodation": a child accommodated on 10 Aug
    2026 transfers to CYPiC by 10 Jan 2027; without an accommodation date no clock runs."""
    t, pack = _requested("bury", kind="children_in_care", accommodated_on=date(2026, 8, 10))
    d = _by_clock(deadlines(t, pack, CAL))["s20_five_months"]
    assert (d.starts_on, d.due_on, d.status) == (date(2026, 8, 10), date(2027, 1, 10), ClockStatus.running)
    assert d.remind_on == (CAL.subtract_working_days(date(2027, 1, 11), 20),
                           CAL.subtract_working_days(date(2027, 1, 11), 5))
    without, _ = _requested("bury", kind="children_in_care")
    assert "s20_five_months" not in _by_clock(deadlines(without, pack, CAL))


def test_unpaid_work_clock_needs_the_flag_and_the_order_date() -> None:
    """The unpaid work clock runs only with the flag and an order date."""
    flag_only, pack = _requested(flags=("unpaid_work_outstanding",))
    date_only, _ = _requested(order_date=date(2026, 3, 31))
    both, _ = _requested(flags=("unpaid_work_outstanding",), order_date=date(2026, 3, 31))
    assert "unpaid_work" not in _by_clock(deadlines(flag_only, pack, CAL))
    assert "unpaid_work" not in _by_clock(deadlines(date_only, pack, CAL))
    d = _by_clock(deadlines(both, pack, CAL))["unpaid_work"]
    assert d.starts_on == date(2026, 3, 31)
    assert d.due_on == date(2027, 3, 31)
    assert d.status == ClockStatus.running


def test_applies_checks_the_flag_filter() -> None:
    """applies() needs the clock's flag on the transfer."""
    clock = builtin_pack("probation").clock("unpaid_work")
    with_flag, _ = _requested(flags=("unpaid_work_outstanding",))
    without, _ = _requested(flags=("mappa_2_3",))
    assert applies(clock, with_flag)
    assert not applies(clock, without)


# --- event-anchored clocks restart --------------------------------------------------------------


def test_bury_remedial_work_clock_starts_at_the_request_for_work_and_stops_when_done() -> None:
    """Work requested Mon 4 Jan 2027 is due 10 working days later; done, the clock stops."""
    t, pack = _requested("bury")
    t.accept(RM, _at(date(2026, 12, 21)), pack)
    t.request_work(RM, _at(date(2027, 1, 4)), items=["Update chronology"], due=date(2027, 1, 18))
    d = _by_clock(deadlines(t, pack, CAL))["remedial_work"]
    assert d.starts_on == date(2027, 1, 4)
    assert d.due_on == date(2027, 1, 18)
    assert d.status == ClockStatus.running
    t.work_done(PP, _at(date(2027, 1, 8)))
    assert _by_clock(deadlines(t, pack, CAL))["remedial_work"].status == ClockStatus.stopped


def test_a_second_request_for_work_restarts_the_clock() -> None:
    """After work is done and more is asked for, the clock runs from the latest request."""
    t, pack = _requested("bury")
    t.accept(RM, _at(date(2026, 12, 21)), pack)
    t.request_work(RM, _at(date(2027, 1, 4)), items=["Chronology"], due=date(2027, 1, 18))
    t.work_done(PP, _at(date(2027, 1, 8)))
    t.request_work(RM, _at(date(2027, 1, 11)), items=["Genogram"], due=date(2027, 1, 25))
    d = _by_clock(deadlines(t, pack, CAL))["remedial_work"]
    assert d.starts_on == date(2027, 1, 11)
    assert d.due_on == date(2027, 1, 25)
    assert d.status == ClockStatus.running


def test_next_deadline_is_the_running_one_due_first() -> None:
    """next_deadline skips stopped clocks and picks the earliest due date."""
    t, pack = _requested(flags=HOME_VISIT)
    ds = deadlines(t, pack, CAL)
    first = next_deadline(ds)
    assert first is not None and first.clock == "address_assessment"
    t.address_assessed(RM, _at(date(2027, 1, 4)), outcome="Suitable")
    first = next_deadline(deadlines(t, pack, CAL))
    assert first is not None and first.clock == "resolution"


def test_next_deadline_is_none_when_nothing_runs() -> None:
    """With every clock stopped (or none), there is no next deadline."""
    t, pack = _requested()
    t.withdraw(PP, _at(date(2027, 1, 4)), reason="Moved abroad")
    assert next_deadline(deadlines(t, pack, CAL)) is None
    assert next_deadline([]) is None


# --- Deadline: overdue, days left, RAG --------------------------------------------------------

DUE = Deadline(clock="resolution", label="Transfer resolved", starts_on=FRI_18_DEC,
               due_on=date(2027, 1, 20), remind_on=())


def test_deadline_is_not_overdue_on_its_due_date() -> None:
    """On the due date itself the clock is not yet overdue; the day after it is."""
    assert not DUE.overdue(date(2027, 1, 20))
    assert DUE.overdue(date(2027, 1, 21))
    assert not DUE.overdue(date(2027, 1, 19))


def test_stopped_deadline_is_never_overdue() -> None:
    """A stopped clock past its due date is not overdue."""
    stopped = replace(DUE, status=ClockStatus.stopped)
    assert not stopped.overdue(date(2027, 3, 1))


def test_days_left_counts_working_days_to_due() -> None:
    """Days left: 5 on Wed 13 Jan, 0 on the day, -1 the working day after, over a weekend too."""
    assert DUE.days_left(CAL, date(2027, 1, 13)) == 5
    assert DUE.days_left(CAL, date(2027, 1, 20)) == 0
    assert DUE.days_left(CAL, date(2027, 1, 21)) == -1
    assert DUE.days_left(CAL, date(2027, 1, 16)) == 3  # Saturday: Mon, Tue, Wed to go
    assert DUE.days_left(CAL, FRI_18_DEC) == 20


def test_rag_is_green_well_before_due() -> None:
    """More than 3 working days to go is green."""
    assert DUE.rag(CAL, date(2027, 1, 14)) == "green"  # 4 working days left


def test_rag_is_amber_within_three_working_days() -> None:
    """3, 2, 1 and 0 working days left are amber."""
    for today in (date(2027, 1, 15), date(2027, 1, 18), date(2027, 1, 19), date(2027, 1, 20)):
        assert DUE.rag(CAL, today) == "amber", today


def test_rag_is_red_once_overdue() -> None:
    """The day after the due date is red."""
    assert DUE.rag(CAL, date(2027, 1, 21)) == "red"


def test_rag_amber_window_is_a_setting() -> None:
    """amber_within widens or narrows the amber window."""
    assert DUE.rag(CAL, date(2027, 1, 13), amber_within=5) == "amber"
    assert DUE.rag(CAL, date(2027, 1, 19), amber_within=0) == "green"
    assert DUE.rag(CAL, date(2027, 1, 20), amber_within=0) == "amber"


def test_rag_of_a_stopped_deadline_is_green() -> None:
    """A stopped clock needs nothing doing: green, even near or long past its due date."""
    stopped = replace(DUE, status=ClockStatus.stopped)
    assert stopped.rag(CAL, date(2027, 1, 19)) == "green"
    assert stopped.rag(CAL, date(2027, 3, 1)) == "green"


def test_custom_clock_anchored_on_acceptance_starts_from_the_accept_event() -> None:
    """A clock that starts on 'accepted' runs from the day of acceptance."""
    base = builtin_pack("probation")
    pack = base.model_copy(update={"clocks": (
        _clock(length=5, starts=Anchor.accepted, stops=("completed",)),
    )})
    t, _ = _requested()
    assert [d.clock for d in deadlines(t, pack, CAL)] == ["agree_by"]  # Baton's own date only
    t.accept(RM, _at(date(2027, 1, 4)), base)
    d = _by_clock(deadlines(t, pack, CAL))["test"]
    assert d.starts_on == date(2027, 1, 4)
    assert d.due_on == date(2027, 1, 11)


def test_rochdale_remedial_work_falls_due_on_the_date_the_two_practice_managers_agreed() -> None:
    """ROCH: "An agreement of timescales and delegation of remedial work will be between the
    sending and receiving PM. If this work is not completed within the agreed timescales the PM's
    should in the first instance seek to resolve the matter": requested Fri 18 Dec 2026, work
    agreed for Fri 8 Jan 2027 is due that day (reminded the day before); once done the clock
    stops; work asked again for Fri 15 Jan runs afresh to that date."""
    t, pack = _requested("rochdale")
    t.request_work(RM, _at(date(2026, 12, 21)), items=["Update the chronology"], due=date(2027, 1, 8))
    d = _by_clock(deadlines(t, pack, CAL))["remedial_work"]
    assert (d.due_on, d.remind_on, d.status) == (date(2027, 1, 8), (date(2027, 1, 7),), ClockStatus.running)
    t.work_done(HM, _at(date(2027, 1, 4)))
    assert "remedial_work" not in _by_clock(deadlines(t, pack, CAL))
    t.request_work(RM, _at(date(2027, 1, 5)), items=["Close the LCS episode"], due=date(2027, 1, 15))
    again = _by_clock(deadlines(t, pack, CAL))["remedial_work"]
    assert (again.due_on, again.status) == (date(2027, 1, 15), ClockStatus.running)
