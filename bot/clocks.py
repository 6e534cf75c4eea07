"""Deadlines: when each of a pack's clocks starts, falls due and reminds, for one transfer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from bot.calendar import WorkingCalendar, add_months
from bot.domain import Transfer, local_date
from bot.policy import (
    AGREE_BY,
    DISPUTE_WINDOW,
    Anchor,
    BreachAction,
    Clock,
    Ladder,
    PolicyPack,
    Unit,
)


class ClockStatus(StrEnum):
    """Whether a clock is still running for a transfer."""

    running = "running"
    stopped = "stopped"


@dataclass(frozen=True)
class Deadline:
    """One clock on one transfer (or on a bare start date, for ``baton deadlines``)."""

    clock: str
    label: str
    starts_on: date
    due_on: date
    remind_on: tuple[date, ...]
    status: ClockStatus = ClockStatus.running
    next_step_on: date | None = None  # the earliest step a sweep has yet to look at
    extended: bool = False  # the due date was moved (an endorsement's expected-by date)
    due_at: datetime | None = None  # an hours clock's moment ("by 14:30 Wed 9 Dec 2026")

    def overdue(self, today: date) -> bool:
        """Running and past its due date."""
        return self.status == ClockStatus.running and today > self.due_on

    def days_left(self, cal: WorkingCalendar, today: date) -> int:
        """Working days from today to the due date (negative once overdue)."""
        return cal.working_days_between(today, self.due_on)

    def rag(self, cal: WorkingCalendar, today: date, amber_within: int | None = None) -> str:
        """'red' when overdue, 'amber' within ``amber_within`` working days, else 'green'.

        A stopped clock is always 'green'.
        """
        if self.status == ClockStatus.stopped:
            return "green"  # nothing left to do on a stopped clock, however late it stopped
        return rag(self.due_on, today, cal, AMBER_WITHIN if amber_within is None else amber_within)


AMBER_WITHIN = 3  # working days


def rag(due_on: date | None, today: date, cal: WorkingCalendar,
        amber_within: int = AMBER_WITHIN) -> str:
    """'red' past due, 'amber' within ``amber_within`` working days, 'green' otherwise or no clock."""
    if due_on is None:
        return "green"
    if today > due_on:
        return "red"
    return "amber" if cal.working_days_between(today, due_on) <= amber_within else "green"


def due_date(clock: Clock, start: date, cal: WorkingCalendar) -> date:
    """The date a clock started on ``start`` falls due."""
    if clock.unit == Unit.working_days:
        if clock.length == 0:
            return start
        if clock.day_one_is_next_working_day:
            return cal.add_working_days(start, clock.length)
        return cal.add_working_days(cal.working_day_on_or_after(start), clock.length - 1)
    if clock.unit == Unit.calendar_days:
        return start + timedelta(days=clock.length)
    if clock.unit == Unit.weeks:
        return start + timedelta(weeks=clock.length)
    if clock.unit == Unit.years:
        return add_months(start, 12 * clock.length)
    return add_months(start, clock.length)


def reminder_dates(clock: Clock, start: date, due: date, cal: WorkingCalendar,
                   not_before: date | None = None) -> tuple[date, ...]:
    """Working days ``remind_before`` ahead of the due date, earliest first.

    Reminders fall after the start. A clock due on its start date (length 0: a transfer point)
    reminds ahead of that date instead, after ``not_before`` (the request) when it is known.
    """
    base = cal.working_day_on_or_after(due)
    dates = {cal.subtract_working_days(base, k) if k else base for k in clock.remind_before}
    floor = start if clock.length else not_before
    return tuple(sorted(d for d in dates if (floor is None or floor < d) and d <= base))


@lru_cache(maxsize=262144)
def schedule(clock: Clock, start: date, cal: WorkingCalendar, not_before: date | None = None
             ) -> tuple[date, tuple[date, ...]]:
    """Due date and reminder dates of a clock started on ``start`` (cached: imports repeat them)."""
    due = due_date(clock, start, cal)
    return due, reminder_dates(clock, start, due, cal, not_before)


def plan(pack: PolicyPack, start: date, cal: WorkingCalendar) -> list[Deadline]:
    """Every clock of a pack started on one date: what ``baton deadlines`` prints."""
    out = []
    for c in pack.clocks:
        due = due_date(c, start, cal)
        out.append(Deadline(c.name, c.label, start, due, reminder_dates(c, start, due, cal)))
    return out


_FIELD_ANCHORS = {
    Anchor.requested: "requested_on",
    Anchor.heads_up: "heads_up_on",
    Anchor.transfer_point: "transfer_point_date",
    Anchor.moved: "move_date",
    Anchor.order_made: "order_date",
    Anchor.agreed: "agreed_date",
    Anchor.move_ends: "move_end_date",
    Anchor.accommodated: "accommodated_on",
}


def _start(clock: Clock, t: Transfer) -> tuple[date | None, int]:
    """The clock's start date and the timeline index after which stop events count."""
    if clock.starts == Anchor.work_due:  # the latest work asked for, by the date it is due
        asked = next((i for i in range(len(t.timeline) - 1, -1, -1)
                      if t.timeline[i].kind == "work_requested"), None)
        return (t.work_due, asked + 1) if asked is not None else (None, 0)
    attr = _FIELD_ANCHORS.get(clock.starts)
    if attr is not None:
        return getattr(t, attr), 0
    for i in range(len(t.timeline) - 1, -1, -1):
        if t.timeline[i].kind == clock.starts.value:
            return local_date(t.timeline[i].at), i + 1
    return None, 0


def _opened_on(t: Transfer) -> date:
    """The first day anyone knew of the transfer: the heads up, else the request."""
    return t.heads_up_on or t.requested_on or local_date(t.created_at)


def applies(clock: Clock, t: Transfer) -> bool:
    """Whether a clock runs on this transfer at all (kind and flag filters)."""
    if clock.kinds and t.kind not in clock.kinds:
        return False
    return clock.flag is None or clock.flag in t.flags


def deadlines(t: Transfer, pack: PolicyPack, cal: WorkingCalendar) -> list[Deadline]:
    """The clocks that have started on a transfer, with their status."""
    out = []
    for c in pack.clocks:
        if not applies(c, t):
            continue
        start, after = _start(c, t)
        if start is None:
            continue
        stopped = not t.is_open or _stopped(c, t, after)
        due, reminders = schedule(c, start, cal, _opened_on(t) if c.length == 0 else None)
        moved = _extended_to(c, t, after)
        if moved is not None:
            due, reminders = moved, reminder_dates(c, start, moved, cal)
        out.append(
            Deadline(
                clock=c.name,
                label=c.label,
                starts_on=start,
                due_on=due,
                remind_on=reminders,
                status=ClockStatus.stopped if stopped else ClockStatus.running,
                extended=moved is not None,
            )
        )
    return out + baton_dates(t, pack, cal, out)


# Clocks of work asked of the holding team: they never say when the transfer itself must move.
_SIDE_ANCHORS = (Anchor.work_requested, Anchor.work_due)
# Events after which the transfer waits on someone new: Baton's own date runs from the latest.
_STEP_EVENTS = frozenset({"requested", "heads_up", "imported", "accepted", "allocated", "disputed",
                          "escalated", "decided", "sign_off_override_agreed", "transfer_point_missed",
                          "transfer_point_attended", "converted_to_permanent"})


def _stopped(clock: Clock, t: Transfer, after: int) -> bool:
    """Whether a stop event ended the clock; a decline that is then disputed does not (probation
    FAQ: "case transfers to be completed within 20 working days": a dispute does not stop them,
    and a dispute decided "the transfer goes ahead" runs on to completion)."""
    stops, stopped = set(clock.stops), False
    for ev in t.timeline[after:]:
        if ev.kind in stops:
            stopped = True
        elif ev.kind == "disputed" and ev.from_state == "declined":
            stopped = False
    return stopped


def step_started_on(t: Transfer) -> date:
    """The day the transfer began waiting on whoever it waits on now (its latest step)."""
    days = [local_date(ev.at) for ev in t.timeline if ev.kind in _STEP_EVENTS]
    return max(days) if days else _opened_on(t)


def baton_dates(t: Transfer, pack: PolicyPack, cal: WorkingCalendar, found: list[Deadline]
                 ) -> list[Deadline]:
    """Baton's own date where the seed gives none: on an open transfer with no clock of the
    policy running, the agree-by date; after a decline, the window for disputing it (none when
    ``found`` already holds it)."""
    if any(d.clock in (AGREE_BY, DISPUTE_WINDOW) for d in found):
        return []
    if t.state.value == "declined":
        ev = t.last_event("declined")
        start = local_date(ev.at) if ev is not None else local_date(t.created_at)
        clock = pack.clock(DISPUTE_WINDOW)
    elif t.is_open and not any(d.status == ClockStatus.running and
                               pack.clock(d.clock).starts not in _SIDE_ANCHORS for d in found):
        start, clock = step_started_on(t), pack.clock(AGREE_BY)
    else:
        return []
    due, reminders = schedule(clock, start, cal, None)
    # ``extended``: its breach key names its date, so a later step's new date is swept afresh
    return [Deadline(clock=clock.name, label=clock.label, starts_on=start, due_on=due,
                     remind_on=reminders, extended=True)]


def _extended_to(clock: Clock, t: Transfer, after: int) -> date | None:
    """The latest expected-by date an extending event set for this clock, if any."""
    if clock.extended_by is None:
        return None
    for ev in reversed(t.timeline[after:]):
        if ev.kind == clock.extended_by and ev.detail.get("expected_by"):
            return date.fromisoformat(str(ev.detail["expected_by"]))
    return None


def next_deadline(ds: list[Deadline]) -> Deadline | None:
    """The running deadline that falls due first."""
    running = [d for d in ds if d.status == ClockStatus.running]
    return min(running, key=lambda d: d.due_on) if running else None


class StepKind(StrEnum):
    """What a clock asks for on a given day."""

    reminder = "reminder"
    breach = "breach"
    escalation = "escalation"


@dataclass(frozen=True)
class Step:
    """One thing a running clock makes due on a date; ``key`` is unique per transfer and clock."""

    on: date
    kind: StepKind
    key: str
    level: str | None = None  # for escalations: the ladder level it reaches


_KIND_ORDER = {k: i for i, k in enumerate(StepKind)}


def steps(d: Deadline, clock: Clock, pack: PolicyPack, cal: WorkingCalendar) -> list[Step]:
    """Every step of a clock on one transfer, in date order: reminders, breach, escalations.

    The breach is the first working day after the due date; each further escalation level
    follows after the pack's ladder interval in working days.
    """
    return list(_steps(d, clock, pack.escalation, cal))


@lru_cache(maxsize=65536)
def _steps(d: Deadline, clock: Clock, ladder: Ladder, cal: WorkingCalendar) -> tuple[Step, ...]:
    """:func:`steps`, cached: a sweep asks it for many transfers whose clocks started together."""
    out = [Step(r, StepKind.reminder, f"remind:{r.isoformat()}") for r in d.remind_on]
    breach = cal.next_working_day(d.due_on)
    # An extended clock breaches (and climbs) afresh from its new date: its keys name that date.
    tag = f"@{d.due_on.isoformat()}" if d.extended else ""
    out.append(Step(breach, StepKind.breach, f"breach{tag}"))
    if clock.escalate_on_days:
        first = d.starts_on if clock.day_one_is_next_working_day else cal.subtract_working_days(
            cal.working_day_on_or_after(d.starts_on), 1)
        for level, n in zip(ladder.levels[1:], clock.escalate_on_days, strict=False):
            on = cal.add_working_days(first, n)
            out.append(Step(on, StepKind.escalation, f"escalate:{level.name}", level.name))
    elif BreachAction.escalate in clock.at_breach:
        on = breach
        for level in ladder.levels[1:]:
            out.append(Step(on, StepKind.escalation, f"escalate:{level.name}{tag}", level.name))
            on = cal.add_working_days(on, ladder.step_working_days)
    return tuple(sorted(out, key=lambda s: (s.on, _KIND_ORDER[s.kind])))


def first_step_on(d: Deadline, pack: PolicyPack, cal: WorkingCalendar) -> date | None:
    """The earliest step date of a running deadline (None once stopped): what sweeps index on."""
    if d.status != ClockStatus.running:
        return None
    found = steps(d, pack.clock(d.clock), pack, cal)
    return found[0].on if found else None
