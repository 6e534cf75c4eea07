"""The parts a policy pack is built from: clocks, escalation ladders, capacity routes, checklists,
choices and the case record id's format. Moved out of bot/policy.py, which re-exports them; the
pack itself and its loading stay there.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.units import Unit


class PolicyError(ValueError):
    """A policy pack or org file that cannot be used; the message names file, key and problem."""


class Anchor(StrEnum):
    """What starts a clock: a timeline event or a date field of the transfer."""

    requested = "requested"  # the transfer request (requested_on)
    heads_up = "heads_up"  # the early heads up
    transfer_point = "transfer_point"  # transfer_point_date, e.g. the ICPC or pick-up point
    work_requested = "work_requested"  # receiving manager's audit found work outstanding
    disputed = "disputed"  # a decline was disputed
    accepted = "accepted"
    moved = "moved"  # a temporary move began (move_date)
    order_made = "order_made"  # the court order (order_date), e.g. unpaid work
    agreed = "agreed"  # the transfer date the two managers agreed (agreed_date)
    move_ends = "move_ends"  # the end date the responsible officer set for a temporary move
    accommodated = "accommodated"  # BURY S20: the date the child was accommodated
    work_due = "work_due"  # the date the remedial work was agreed for (ROCH: agreed per case)


class Recipient(StrEnum):
    """Who hears of a reminder or breach, resolved against the org file at send time."""

    holding_practitioner = "holding_practitioner"
    holding_manager = "holding_manager"
    receiving_manager = "receiving_manager"
    buddy_manager = "buddy_manager"
    receiving_channel = "receiving_channel"
    holding_channel = "holding_channel"
    escalation = "escalation"  # the ladder's next level
    # ROCH: the receiving team's head of service and the service representatives the org file
    # names ("a service representative will complete the allocation")
    service_representatives = "service_representatives"


class BreachAction(StrEnum):
    """What Baton does when a clock runs out."""

    notify = "notify"  # tell the recipients
    escalate = "escalate"  # climb the escalation ladder, one step per ladder interval
    record_delay = "record_delay"  # ask the holding side to record reason for delay + actions
    request_endorsement = "request_endorsement"  # senior managers must endorse an extension
    transfer_anyway = "transfer_anyway"  # ROCH: holding manager transfers despite non-attendance


# Every event a transfer's timeline can hold; clocks stop on these.
EVENT_KINDS = frozenset(
    {
        "heads_up", "requested", "assessment_started", "accepted", "allocated", "completed",
        "withdrawn", "declined", "disputed", "escalated", "decided", "work_requested",
        "work_completed", "delay_recorded", "extension_endorsed", "address_assessed",
        "checklist_confirmed", "converted_to_permanent", "upw_extended", "imported",
        "transfer_point_attended", "transfer_point_missed", "transferred_anyway", "worker_named", "note",
        "capacity_concern_raised", "siblings_apart",
    }
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Clock(_Frozen):
    """One deadline that runs on a transfer."""

    def __hash__(self) -> int:
        # By name only: clocks key the schedule caches, which a sweep consults thousands of times;
        # equal hashes of different clocks are told apart by (full) equality.
        return hash(("clock", self.name))

    name: Ident
    label: str
    length: Annotated[int, Field(ge=0)]  # 0: due on the start date itself (a transfer point)
    unit: Unit = Unit.working_days
    starts: Anchor = Anchor.requested
    stops: tuple[str, ...] = ("accepted", "declined", "withdrawn", "completed")
    # True: day 1 is the next working day after the start (probation FAQ); the due date is
    # then the ``length``-th working day after the start.
    day_one_is_next_working_day: bool = True
    remind_before: tuple[Annotated[int, Field(ge=0)], ...] = ()  # working days before due
    # The working day of the clock (counted as its due date is) on which each ladder level above
    # the first hears, inside the clock rather than after its breach (LEICS: "All disputes will
    # be resolved within 5 Working Days"); empty: levels climb after the breach.
    escalate_on_days: tuple[Annotated[int, Field(gt=0)], ...] = ()
    remind: tuple[Recipient, ...] = (Recipient.holding_practitioner, Recipient.receiving_manager)
    at_breach: tuple[BreachAction, ...] = (BreachAction.notify,)
    breach_notify: tuple[Recipient, ...] = (Recipient.holding_manager, Recipient.escalation)
    # Only for transfers of these kinds / carrying this flag (empty: all transfers).
    kinds: tuple[str, ...] = ()
    flag: str | None = None
    source: str = ""  # the seed text this clock comes from, for people reading the pack
    # Where this clock reads the seed in a way the seed leaves open: the setting and its default
    # (the README's clock table lists it).
    reading: str = ""
    # A timeline event whose ``expected_by`` date moves this clock's due date (probation: the
    # senior management endorsement sets the date the transfer is now expected by).
    extended_by: str | None = None

    @field_validator("unit")
    @classmethod
    def _by_day(cls, unit: Unit) -> Unit:
        if unit == Unit.hours:
            raise ValueError("a transfer clock counts days; an hours clock runs from a case record's "
                             "time (record_clocks)")
        return unit

    @field_validator("stops")
    @classmethod
    def _known_events(cls, stops: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(stops) - EVENT_KINDS)
        if unknown:
            raise ValueError(f"unknown event(s) {unknown}; known events: {sorted(EVENT_KINDS)}")
        return stops


AGREE_BY = "agree_by"  # Baton's own date where the seed gives none (see agree_within_working_days)
DISPUTE_WINDOW = "dispute_window"  # the days after a decline in which the holding team may dispute


@cache
def agree_clock(days: int) -> Clock:
    """Baton's own clock for a step the seed gives no timescale: the people it waits on do it,
    or agree a date, within ``days`` working days of the step before; a reminder the working day
    before, and both teams' managers and the next ladder level hear when it is missed."""
    return Clock(name=AGREE_BY, label="To be done or a date agreed by", length=days,
                 remind_before=(1,), remind=(Recipient.holding_manager, Recipient.receiving_manager),
                 at_breach=(BreachAction.notify,),
                 breach_notify=(Recipient.holding_manager, Recipient.receiving_manager,
                                Recipient.escalation),
                 reading=f"The seed gives no timescale: Baton asks within {days} working days "
                         "(agree_within_working_days)")


@cache
def window_clock(days: int) -> Clock:
    """The days after a decline in which the holding team's managers may dispute it: no reminder
    and nobody told when it closes (the cards are redrawn without the button)."""
    return Clock(name=DISPUTE_WINDOW, label="The holding team may dispute the decline until",
                 length=days, remind_before=(), remind=(), at_breach=(BreachAction.notify,),
                 breach_notify=(), stops=())


class Level(_Frozen):
    """One rung of an escalation ladder."""

    name: Ident
    label: str


class Ladder(_Frozen):
    """Escalation levels of disputes, lowest first; the first level is the team's own managers."""

    def __hash__(self) -> int:
        # Cheap, as for Clock: equality still compares every field.
        return hash(("ladder", self.step_working_days, len(self.levels)))

    levels: tuple[Level, ...]
    # Working days between levels when a clock climbs the ladder after its breach; a pack whose
    # seed gives no interval says so in ``reading``.
    step_working_days: Annotated[int, Field(gt=0)] = 5
    source: str = ""  # the seed's words for the ladder
    reading: str = ""  # what the pack reads into the seed that the seed leaves open (a setting)
    # whose contacts at a level hear an escalation: both teams' (the default) or one side's (a
    # setting where the seed says only "escalated to Senior Managers")
    sides: tuple[Literal["holding", "receiving"], ...] = Field(default=("holding", "receiving"),
                                                              min_length=1)

    @field_validator("levels")
    @classmethod
    def _two_or_more(cls, levels: tuple[Level, ...]) -> tuple[Level, ...]:
        if len(levels) < 2:
            raise ValueError("an escalation ladder needs at least two levels")
        names = [lv.name for lv in levels]
        if len(set(names)) != len(names):
            raise ValueError(f"level names repeat: {names}")
        return levels

    def above(self, name: str) -> Level | None:
        """The level one above ``name``, or None at the top."""
        names = [lv.name for lv in self.levels]
        i = names.index(name)
        return self.levels[i + 1] if i + 1 < len(self.levels) else None


class CapacityRoute(_Frozen):
    """Where a team's capacity pressures go, instead of a decline (ROCH "Demand and capacity ...
    will not be a barrier"; S2 "issues of service area capacity are then addressed to the Senior
    Leadership team"): a concern raised on a transfer goes to the first level, and each further
    raise to the next. It never stops or delays the transfer."""

    levels: tuple[Level, ...] = Field(min_length=1)
    source: str = ""
    reading: str = ""
    decline_note: str  # shown on the decline form: capacity is not a reason to decline

    def after(self, name: str | None) -> Level | None:
        """The level a concern goes to next after ``name`` (the first when None; None at the top)."""
        names = [lv.name for lv in self.levels]
        if name is None:
            return self.levels[0]
        i = names.index(name) if name in names else -1
        return self.levels[i + 1] if 0 <= i < len(self.levels) - 1 else None


class ServiceRepresentatives(_Frozen):
    """ROCH: after the pick-up point, "should the receiving manager not be available a service
    representative will complete the allocation": who besides the receiving managers may accept,
    allocate and complete then (these ladder levels' contacts for the receiving team, and the
    people the org file names under the team's ``service_representatives``)."""

    levels: tuple[Ident, ...] = ()
    source: str = ""


Force = Literal["guard", "advice"]  # a duty guards its step, or is advice shown at it


class ChecklistItem(_Frozen):
    """One line of a checklist, with the force the seed's words give it."""

    id: Ident
    label: str
    kinds: tuple[str, ...] = ()  # only for transfers of these kinds (empty: all)
    # "must", "will require", "should not ... unless": guard (the step waits for it); "should",
    # "expected": advice. None: the checklist's own (guard where it gates a step, else advice)
    force: Force | None = None
    quote: str = ""  # the seed's words that give the force
    reading: str = ""  # where the shipped force differs from the seed's words, and why (a setting)


class Checklist(_Frozen):
    """Items a manager confirms, with who and when; may gate a step."""

    id: Ident
    label: str
    # None: advisory only; "decision": before accepting or declining
    gates: Literal["request", "accept", "decision", "complete"] | None = None
    # The step its lines belong to when it gates none as a whole: its guard lines guard that step
    at: Literal["request", "accept", "decision", "complete"] | None = None
    confirmed_by: Literal["holding_manager", "receiving_manager", "holding_practitioner"] = (
        "holding_manager"
    )
    items: tuple[ChecklistItem, ...]
    kinds: tuple[str, ...] = ()  # only for transfers of these kinds (empty: all)
    flag: str | None = None  # only for transfers carrying this flag (e.g. MAPPA level 2 or 3)
    # S2: the ladder level whose agreement, with a reason, lets the gated step go without it
    override_by: Ident | None = None
    override_when: str = ""  # the seed's words for when the override may be asked

    def items_for(self, kind: str | None) -> tuple[ChecklistItem, ...]:
        """The lines asked of a transfer of ``kind`` (all of them when the kind is not known)."""
        return tuple(i for i in self.items if not i.kinds or kind is None or kind in i.kinds)

    @property
    def step(self) -> str | None:
        """The step this checklist's lines belong to."""
        return self.gates or self.at

    def force_of(self, item: ChecklistItem) -> Force:
        """An item's force: its own, else guard where the checklist gates its step."""
        return item.force or ("guard" if self.gates else "advice")

    def guards(self, kind: str | None) -> tuple[ChecklistItem, ...]:
        """The lines of a transfer of ``kind`` that guard this checklist's step."""
        return tuple(i for i in self.items_for(kind) if self.force_of(i) == "guard")

    def applies(self, kind: str, flags: tuple[str, ...]) -> bool:
        """Whether this checklist is asked of a transfer of ``kind`` with ``flags``."""
        return (not self.kinds or kind in self.kinds) and (self.flag is None or self.flag in flags)


class Choice(_Frozen):
    """A named option: a transfer point, flag, kind or decline reason."""

    id: Ident
    label: str
    hint: str = ""
    # a transfer point both teams attend (BURY: the first Core Group): its attendance records
    # the holding team's too; the seed's words
    both_attend: str = ""


class CaseRecordId(_Frozen):
    """An organisation's case-record id format (the org file's ``case_record_id``), used by the
    packs that take it from the org file (the children's packs): digits, optionally after one
    fixed prefix of capital letters. No other letters are ever allowed, so a name cannot pass."""

    prefix: str = Field(default="", pattern=r"^[A-Z]{0,4}$")  # e.g. LCS: the system's own letters
    min_digits: int = Field(default=1, ge=1, le=20)
    max_digits: int = Field(default=12, ge=1, le=20)

    @model_validator(mode="after")
    def _range(self) -> CaseRecordId:
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits ({self.min_digits}) is more than max_digits ({self.max_digits})")
        return self

    @property
    def pattern(self) -> str:
        """The regular expression a reference must match (after upper-casing)."""
        return f"^{self.prefix}[0-9]{{{self.min_digits},{self.max_digits}}}$"

    def describe(self) -> str:
        """The format in words, with an example, for hints and refusals."""
        count = (f"{self.min_digits}" if self.min_digits == self.max_digits
                 else f"{self.min_digits} to {self.max_digits}")
        example = self.prefix + "2012000145678901234"[: max(self.min_digits, min(self.max_digits, 8))]
        if self.prefix:
            return f"{self.prefix} and then {count} digits, e.g. {example}"
        return f"digits only ({count}), e.g. {example}"


DEFAULT_CASE_RECORD_ID = CaseRecordId()
