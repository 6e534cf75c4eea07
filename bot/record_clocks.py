"""Clocks that a case record starts, whether or not a transfer request exists yet.

A pack names the kinds of case record it knows (``case_records``: an accommodation date, an
order's end, a date of birth, a viability referral ...) and the clocks each starts
(``record_clocks``), each with its seed's words. People record them in chat (``transfer record
CASE KIND DATE``) or on the raise form where it already asks the date. A record holds the case
reference only, the kind, its date(s), the team and who recorded it.

Pure: no store, no chat. Hours clocks count elapsed hours from the time recorded (see
:class:`bot.units.Unit`); every other unit counts from the record's date as transfer clocks do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.calendar import UK_TIME, WorkingCalendar, add_months, local_date
from bot.units import Unit

_Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseRecordKind(_Frozen):
    """A kind of case record a pack knows: what its date is, and whether a time or an end matters."""

    id: _Ident
    label: str  # "Accommodated under S20"
    date_label: str  # "the date the child was accommodated"
    timed: bool = False  # hours clocks run from it: the time of day is recorded too (default now)
    end_label: str = ""  # a second date it carries (a temporary move's end), "" when none
    future: bool = False  # its date may lie ahead (an order's end); else not after today
    # the raise form field that already asks this date (reused, never asked twice)
    raise_field: Literal["accommodated_on", "move_date", "order_date", "transfer_point_date"] | None = None
    source: str = ""


class RecordClock(_Frozen):
    """One clock a case record starts: its length, who owes it, what ends it, the seed's words."""

    def __hash__(self) -> int:
        return hash(("record_clock", self.name))

    name: _Ident
    record: _Ident  # the case record kind that starts it
    label: str  # the deadline in words: "Urgent viability assessment to be completed by"
    duty: str  # what is owed, "{ref}" standing for the case: "complete the urgent IVA for {ref}"
    length: Annotated[int, Field(ge=0)]
    unit: Unit = Unit.working_days
    before: bool = False  # counted back from the record's date (two months before the order ends)
    repeat: bool = False  # due again each period until the record's end date (monthly contact)
    # who owes it: the person who recorded it with their team's managers, or the managers alone
    owner: Literal["recorder", "managers"] = "recorder"
    remind_before: tuple[Annotated[int, Field(ge=0)], ...] = ()  # working days (hours: hours)
    # who hears when it is missed, besides the owners: the team's next ladder level's contacts
    escalate: bool = True
    ends_on: tuple[Literal["requested", "completed", "done"], ...] = ("done",)
    kinds: tuple[str, ...] = ()  # a transfer of these kinds ends it (empty: any)
    note: str = ""  # advice shown with the duty (the nearest office's three-way video call)
    source: str = ""
    reading: str = ""

    @model_validator(mode="after")
    def _sane(self) -> RecordClock:
        if self.repeat and (self.before or self.length == 0):
            raise ValueError(f"record clock {self.name!r}: a repeating clock counts forward a "
                             "length of at least 1")
        if self.unit == Unit.hours and self.before:
            raise ValueError(f"record clock {self.name!r}: an hours clock counts forward")
        return self

    @property
    def hours(self) -> bool:
        """Whether it counts elapsed hours (a deadline with a time)."""
        return self.unit == Unit.hours

    def length_words(self) -> str:
        """"48 hours", "2 months before", "5 calendar days"."""
        unit = self.unit.value.replace("_", " ")
        out = f"{self.length} {unit if self.length != 1 else unit.rstrip('s')}"
        return out + (" before" if self.before else "") + (", repeating" if self.repeat else "")


@dataclass(frozen=True)
class CaseRecord:
    """One case record: the case reference (never a name), the kind, its date(s), the team and
    who recorded it; ``done`` holds the clocks (``name`` or ``name@due``) whose duty was met,
    ``ended`` the clocks a transfer ended ("requested"/"completed")."""

    case_ref: str
    kind: str
    on: date
    team: str
    recorded_by: str
    recorded_at: datetime
    at: datetime | None = None  # the time, for a timed kind (hours clocks)
    ends_on: date | None = None
    done: tuple[str, ...] = ()
    ended: tuple[str, ...] = ()
    id: int | None = None
    closed_at: datetime | None = None
    steps_sent: tuple[str, ...] = field(default=())

    def started_at(self) -> datetime:
        """When its clocks start: the time recorded, else the start of its day (UK time)."""
        return self.at or datetime.combine(self.on, time(0), tzinfo=UK_TIME)


def _shift(day: date, clock: RecordClock, n: int, cal: WorkingCalendar) -> date:
    """``day`` moved ``n`` of the clock's units (back when ``before``)."""
    sign = -1 if clock.before else 1
    if clock.unit == Unit.working_days:
        if n == 0:
            return day
        return (cal.subtract_working_days(day, n) if clock.before else cal.add_working_days(day, n))
    if clock.unit == Unit.calendar_days:
        return day + timedelta(days=sign * n)
    if clock.unit == Unit.weeks:
        return day + timedelta(weeks=sign * n)
    if clock.unit == Unit.years:
        return add_months(day, sign * 12 * n)
    return add_months(day, sign * n)


@dataclass(frozen=True)
class RecordDeadline:
    """One occurrence of a record clock: its due date (and time for an hours clock)."""

    clock: str
    label: str
    starts_at: datetime
    due_on: date
    due_at: datetime | None  # hours clocks: the moment it is due
    key: str  # ``name`` or ``name@due`` (a repeating clock's occurrence): what ``done`` names
    remind_at: tuple[datetime, ...] = ()

    def overdue(self, now: datetime) -> bool:
        """Past its due time (hours) or its due day."""
        if self.due_at is not None:
            return now > self.due_at
        return local_date(now) > self.due_on


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UK_TIME)


def occurrences(r: CaseRecord, clock: RecordClock, cal: WorkingCalendar, until: date) -> list[RecordDeadline]:
    """Every occurrence of a clock on a record, due up to ``until`` for a repeating clock (the
    next one past it included), else its one deadline."""
    start = r.started_at()
    if clock.hours:
        # elapsed hours, counted in UTC (a clock change does not add or lose one), shown in UK time
        due_at = (start.astimezone(UTC) + timedelta(hours=clock.length)).astimezone(UK_TIME)
        reminders = tuple((due_at.astimezone(UTC) - timedelta(hours=h)).astimezone(UK_TIME)
                          for h in clock.remind_before if h < clock.length)
        return [RecordDeadline(clock.name, clock.label, start, local_date(due_at), due_at, clock.name,
                               tuple(sorted(x for x in reminders if x > start)))]
    out: list[RecordDeadline] = []
    n = 1 if clock.repeat else clock.length
    while True:
        due = _shift(r.on, clock, n * clock.length if clock.repeat else clock.length, cal)
        key = f"{clock.name}@{due.isoformat()}" if clock.repeat else clock.name
        base = cal.working_day_on_or_after(due)
        days = {cal.subtract_working_days(base, k) if k else base for k in clock.remind_before}
        out.append(RecordDeadline(clock.name, clock.label, start, due, None, key,
                                  tuple(_midnight(d) for d in sorted(days)
                                        if local_date(r.recorded_at) <= d <= base)))
        if not clock.repeat or due > until or (r.ends_on is not None and due >= r.ends_on):
            break
        n += 1
        if n > 240:  # twenty years of months: a bad record, never an endless loop
            break
    if clock.repeat and r.ends_on is not None:
        out = [d for d in out if d.due_on <= r.ends_on]
    return out


def running(r: CaseRecord, clocks: tuple[RecordClock, ...], cal: WorkingCalendar, now: datetime
            ) -> list[tuple[RecordClock, RecordDeadline]]:
    """The deadlines a record still owes now, earliest first: each clock's first occurrence not
    done (a repeating clock's: its earliest not done), none once a transfer or ``done`` ended it."""
    if r.closed_at is not None:
        return []
    out = []
    for c in clocks:
        if c.record != r.kind or c.name in r.done or c.name in r.ended:
            continue
        owed = [d for d in occurrences(r, c, cal, local_date(now)) if d.key not in r.done]
        if owed:
            out.append((c, owed[0]))
    return sorted(out, key=lambda x: x[1].due_at or _midnight(x[1].due_on))


class RecordStepKind(StrEnum):
    """What a record clock asks for at a moment."""

    asked = "asked"  # the owners are told when it is recorded (the managers of a 24-hour duty)
    reminder = "reminder"
    breach = "breach"


@dataclass(frozen=True)
class RecordStep:
    """One thing a record clock makes due at a moment; ``key`` is unique per record."""

    at: datetime
    kind: RecordStepKind
    key: str


def record_steps(clock: RecordClock, d: RecordDeadline, cal: WorkingCalendar) -> list[RecordStep]:
    """The steps of one occurrence: told when recorded, reminders, the breach (an hours clock's
    at its due moment, else the first working day after the due date)."""
    out = [RecordStep(d.starts_at, RecordStepKind.asked, f"{d.key}:asked")]
    out += [RecordStep(x, RecordStepKind.reminder, f"{d.key}:remind:{x.isoformat()}") for x in d.remind_at]
    breach = d.due_at if d.due_at is not None else _midnight(cal.next_working_day(d.due_on))
    out.append(RecordStep(breach, RecordStepKind.breach, f"{d.key}:breach"))
    return sorted(out, key=lambda s: s.at)


def due_words(d: RecordDeadline, cal: WorkingCalendar, now: datetime) -> str:
    """"Urgent viability assessment to be completed by 14:30 Wed 9 Dec 2026 (5 hours left)", or
    with a day only and working days left."""
    if d.due_at is not None:
        at = d.due_at.astimezone(UK_TIME)
        hours = (d.due_at - now).total_seconds() / 3600
        if hours < 0:
            late = max(1, int(-hours))
            left = f"overdue by {late} hour{'s' if late != 1 else ''}"
        elif hours < 1:
            left = "due within the hour"
        else:
            n = int(hours)
            left = f"{n} hour{'s' if n != 1 else ''} left"
        return f"{d.label} {at:%H:%M} {at:%a} {at.day} {at:%b %Y} ({left})"
    from bot.obligations import days_left_text  # (obligations imports this module)
    return f"{d.label} {d.due_on:%a %d %b %Y} ({days_left_text(d.due_on, cal, local_date(now))})"
