"""Policy packs: each organisation's written transfer policy as frozen pydantic models.

A pack is a YAML file under ``policies/``. It declares the clocks that run on a transfer,
the escalation ladder, checklists, transfer points, flags and decline reasons. Loading a bad
pack raises :class:`PolicyError` naming the file, the key and what is wrong.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from bot.record_clocks import CaseRecordKind, RecordClock
from bot.routing import Routing
from bot.units import Unit

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
PACK_NAMES = ("probation", "bury", "rochdale", "leicestershire", "council-s2")


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


class PolicyPack(_Frozen):
    """A whole policy: what Baton enforces for the teams that use it."""

    name: str
    title: str
    source: str
    case_ref_pattern: str = r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,31}$"
    case_ref_hint: str = "a case number with no spaces"
    # The children's packs: the format comes from the org file's case_record_id (digits by
    # default); case_ref_what says what the number is, and pattern and hint are derived.
    case_ref_from_org: bool = False
    case_ref_what: str = ""
    kinds: tuple[Choice, ...]
    clocks: tuple[Clock, ...]
    escalation: Ladder
    checklists: tuple[Checklist, ...] = ()
    transfer_points: tuple[Choice, ...] = ()
    flags: tuple[Choice, ...] = ()
    decline_reasons: tuple[Choice, ...] = ()  # when set, a decline must pick one
    decline_reasons_intro: str = "A decline must give one of these reasons"
    remedial_work_days: Annotated[int, Field(gt=0)] = 10
    early_heads_up: bool = False  # ROCH: the buddy manager hears before the request
    reminder_before_transfer_point: tuple[int, ...] = ()
    # A case closed less than this long ago goes back to the team that last held it.
    rereferral_weeks: Annotated[int, Field(gt=0)] | None = None
    rereferral_months: Annotated[int, Field(gt=0)] | None = None
    capacity: CapacityRoute | None = None  # ROCH, S2: the route for capacity pressures
    service_representatives: ServiceRepresentatives | None = None  # ROCH
    # BURY "Sibling groups should be held within the same team, unless there are exceptional
    # circumstances": a request sending one sibling to another team than its siblings' needs a
    # reason; the ladder level named here decides if the team managers cannot agree.
    siblings_together: Ident | None = None
    siblings_source: str = ""
    notes: tuple[str, ...] = ()
    practitioner_label: str = "practitioner"  # what the pack calls a case-holding worker
    # When the receiving team must have named its worker: at acceptance, before completion, or
    # never enforced (None). A setting; see the packs for the seed each reading comes from.
    named_worker_before: Literal["accept", "complete"] | None = None
    # FAQ "ensure the decision and rationale is fully recorded": the seed's words; when set, an
    # acceptance records its rationale as a decline does
    accept_rationale: str = ""
    accept_rationale_force: Force = "guard"
    # BURY step 5 "The Receiving Team Manager (RTM) and holding team manager will discuss the
    # case and agree transfer timescale": the seed's words; when set, a transfer date one manager
    # gives is agreed by the other team's manager before the transfer completes
    date_agreed_by_both: str = ""
    date_agreed_force: Force = "guard"
    # The children's packs: whose case is it (the seed's remit table; see bot/routing.py)
    routing: Routing | None = None
    # Case records and the clocks they start with or without a transfer (bot/record_clocks.py)
    case_records: tuple[CaseRecordKind, ...] = ()
    record_clocks: tuple[RecordClock, ...] = ()
    # Where the seed gives no timescale for the step an open transfer waits on (a Rochdale request
    # with no pick-up point yet, a Bury request until the fortnightly transfer meeting, a dispute
    # with no clock, an accepted transfer with no agreed date), Baton asks the people it waits on to
    # do it, or agree a date, within this many working days, so no open transfer is without a date.
    agree_within_working_days: Annotated[int, Field(gt=0)] = 10
    # After a decline, the holding team's managers may dispute it for this many working days.
    dispute_window_working_days: Annotated[int, Field(gt=0)] = 10

    @model_validator(mode="before")
    @classmethod
    def _case_ref_from_org(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("case_ref_from_org"):
            for key in ("case_ref_pattern", "case_ref_hint"):
                if key in data:
                    raise ValueError(f"{key} cannot be set when case_ref_from_org is true: the org "
                                     "file's case_record_id gives the format")
            if not data.get("case_ref_what"):
                raise ValueError("case_ref_from_org needs case_ref_what (what the number is)")
            data = {**data, **_case_ref_fields(str(data["case_ref_what"]), DEFAULT_CASE_RECORD_ID)}
        return data

    def with_case_record_id(self, fmt: CaseRecordId) -> PolicyPack:
        """This pack under an organisation's case-record id format (itself unless the pack takes
        the format from the org file)."""
        if not self.case_ref_from_org or fmt == DEFAULT_CASE_RECORD_ID:
            return self
        return self.model_copy(update=_case_ref_fields(self.case_ref_what, fmt))

    @field_validator("case_ref_pattern")
    @classmethod
    def _regex_compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return pattern

    @model_validator(mode="after")
    def _references_resolve(self) -> PolicyPack:
        names = [c.name for c in self.clocks]
        if len(set(names)) != len(names):
            raise ValueError(f"clock names repeat: {names}")
        kinds = {k.id for k in self.kinds}
        flags = {f.id for f in self.flags}
        for c in self.clocks:
            for k in c.kinds:
                if k not in kinds:
                    raise ValueError(f"clock {c.name!r} names kind {k!r}, not one of {sorted(kinds)}")
            if c.flag is not None and c.flag not in flags:
                raise ValueError(f"clock {c.name!r} names flag {c.flag!r}, not one of {sorted(flags)}")
        for cl in self.checklists:
            for k in cl.kinds:
                if k not in kinds:
                    raise ValueError(f"checklist {cl.id!r} names kind {k!r}, not one of {sorted(kinds)}")
            if cl.flag is not None and cl.flag not in flags:
                raise ValueError(f"checklist {cl.id!r} names flag {cl.flag!r}, not one of {sorted(flags)}")
        ids = [c.id for c in self.checklists]
        if len(set(ids)) != len(ids):
            raise ValueError(f"checklist ids repeat: {ids}")
        levels = [lv.name for lv in self.escalation.levels]
        if self.siblings_together is not None and self.siblings_together not in levels[1:]:
            raise ValueError(f"siblings_together {self.siblings_together!r} is not a level above the "
                             f"first of the ladder {levels}")
        if self.capacity is not None:
            names = [lv.name for lv in self.capacity.levels]
            if len(set(names)) != len(names):
                raise ValueError(f"capacity level names repeat: {names}")
        if self.routing is not None:
            points = {p.id for p in self.transfer_points}
            for r in self.routing.rules:
                bad = ([f"kind {k!r}" for k in r.kinds if k not in kinds]
                       + [f"flag {f!r}" for f in r.flags if f not in flags]
                       + ([f"transfer point {r.point!r}"] if r.point and r.point not in points else []))
                if bad:
                    raise ValueError(f"routing rule {r.id!r} names {', '.join(bad)}, which this pack "
                                     "does not have")
        records = {k.id for k in self.case_records}
        for rc in self.record_clocks:
            if rc.record not in records:
                raise ValueError(f"record clock {rc.name!r} names case record {rc.record!r}, not one "
                                 f"of {sorted(records)}")
            if rc.hours and not next(k for k in self.case_records if k.id == rc.record).timed:
                raise ValueError(f"record clock {rc.name!r} counts hours: case record {rc.record!r} "
                                 "needs timed: true")
        if len({c.name for c in self.record_clocks} | set(names)) != len(self.record_clocks) + len(names):
            raise ValueError("record clock names repeat (or repeat a transfer clock's)")
        for cl in self.checklists:
            if cl.override_by is not None and cl.override_by not in levels[1:]:
                raise ValueError(f"checklist {cl.id!r}: override_by {cl.override_by!r} is not a level "
                                 f"above the first of the ladder {levels}")
        return self

    def level_label(self, name: str) -> str:
        """The label of the ladder (or capacity route) level ``name`` (the name itself when unknown)."""
        route = self.capacity.levels if self.capacity else ()
        return next((lv.label for lv in (*self.escalation.levels, *route) if lv.name == name), name)

    def label_of(self, choices: tuple[Choice, ...], ident: str | None) -> str:
        """The pack's label for a kind, flag, transfer point or reason id (the id when unknown)."""
        return next((c.label for c in choices if c.id == ident), ident or "")

    def kind_label(self, ident: str | None) -> str:
        """The pack's words for a kind of transfer."""
        return self.label_of(self.kinds, ident)

    def point_label(self, ident: str | None) -> str:
        """The pack's words for a transfer point."""
        return self.label_of(self.transfer_points, ident)

    def reason_label(self, ident: str | None) -> str:
        """The pack's words for a decline reason."""
        return self.label_of(self.decline_reasons, ident)

    def flag_labels(self, idents: tuple[str, ...]) -> list[str]:
        """The pack's words for a transfer's flags."""
        return [self.label_of(self.flags, f) for f in idents]

    def clock_label(self, name: str) -> str:
        """The pack's words for a clock (its obligation, e.g. "Transfer to be completed by")."""
        if name in (AGREE_BY, DISPUTE_WINDOW):
            return self.clock(name).label
        return next((c.label for c in self.clocks if c.name == name), name)

    def item_label(self, checklist_id: str, item_id: str) -> str:
        """The pack's words for a checklist item, with its checklist."""
        cl = next((c for c in self.checklists if c.id == checklist_id), None)
        if cl is None:
            return item_id
        item = next((i.label for i in cl.items if i.id == item_id), item_id)
        return f"{cl.label}: {item}"

    def clock(self, name: str) -> Clock:
        """The clock called ``name`` (or Baton's own agree-by or dispute-window clock); KeyError
        naming the pack's clocks otherwise."""
        for c in self.clocks:
            if c.name == name:
                return c
        if name == AGREE_BY:
            return agree_clock(self.agree_within_working_days)
        if name == DISPUTE_WINDOW:
            return window_clock(self.dispute_window_working_days)
        raise KeyError(f"pack {self.name!r} has no clock {name!r}; it has {[c.name for c in self.clocks]}")

    def record_kind(self, ident: str) -> CaseRecordKind | None:
        """The case record kind ``ident`` (None when the pack has none by that id)."""
        return next((k for k in self.case_records if k.id == ident), None)

    def checklist(self, checklist_id: str) -> Checklist:
        """The checklist with this id."""
        for c in self.checklists:
            if c.id == checklist_id:
                return c
        raise KeyError(f"pack {self.name!r} has no checklist {checklist_id!r}")

    def gating(self, step: str, kind: str | None = None) -> tuple[Checklist, ...]:
        """Checklists with lines that must be confirmed before ``step`` (request, accept, complete)."""
        steps = {step, "decision"} if step in ("accept", "decline") else {step}
        return tuple(
            c for c in self.checklists
            if c.step in steps and (not c.kinds or kind is None or kind in c.kinds) and c.guards(kind)
        )

    def with_duties(self, forces: tuple[tuple[str, Force], ...]) -> PolicyPack:
        """This pack with the org file's forces for its duties (``checklist.item``,
        ``accept_rationale``, ``date_agreed_by_both``): a council relaxes or tightens each."""
        if not forces:
            return self
        wanted = dict(forces)
        update: dict[str, object] = {}
        if "accept_rationale" in wanted:
            update["accept_rationale_force"] = wanted.pop("accept_rationale")
        if "date_agreed_by_both" in wanted:
            update["date_agreed_force"] = wanted.pop("date_agreed_by_both")
        lists = []
        for cl in self.checklists:
            items = tuple(i.model_copy(update={"force": wanted.pop(f"{cl.id}.{i.id}")})
                          if f"{cl.id}.{i.id}" in wanted else i for i in cl.items)
            lists.append(cl.model_copy(update={"items": items}))
        if wanted:
            raise PolicyError(f"duties: the {self.name} pack has no duty {sorted(wanted)}; it has "
                              f"{', '.join(self.duty_ids())}")
        return self.model_copy(update={**update, "checklists": tuple(lists)})

    def duty_ids(self) -> list[str]:
        """Every duty an org file may set the force of."""
        out = [f"{cl.id}.{i.id}" for cl in self.checklists for i in cl.items]
        out += ["accept_rationale"] if self.accept_rationale else []
        out += ["date_agreed_by_both"] if self.date_agreed_by_both else []
        return out

    def case_ref_ok(self, ref: str) -> bool:
        """Whether ``ref`` matches this pack's case reference pattern."""
        return re.fullmatch(self.case_ref_pattern, ref) is not None

    @property
    def kind_ids(self) -> tuple[str, ...]:
        """The ids of the kinds of transfer this pack knows."""
        return tuple(k.id for k in self.kinds)


def _case_ref_fields(what: str, fmt: CaseRecordId) -> dict[str, str]:
    """Pattern and hint of a pack that takes its case-record id format from the org file."""
    return {"case_ref_pattern": fmt.pattern, "case_ref_hint": f"{what}: {fmt.describe()}; never a name"}


def format_validation_error(path: Path | str, exc: ValidationError) -> str:
    """Render a pydantic error as 'file: key.path: problem' lines a person can act on."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        if err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
            if not err["loc"]:  # a whole-file check: its message says what it is about
                lines.append(f"{path}: {msg}")
                continue
        lines.append(f"{path}: {loc}: {msg}")
    return "\n".join(lines)


MAX_DEPTH = 40  # nesting levels a pack or org file may use (they need fewer than ten)
MAX_ALIASES = 100  # alias uses per file (an alias bomb expands far beyond this)


class _Refused(yaml.YAMLError):
    """A structure Baton refuses to read: a duplicate key, nesting or aliases beyond the limits."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _Strict:
    """Refuses duplicate keys, deep nesting and many aliases, whichever parser reads the text."""

    _depth = 0
    _aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        """Compose one node, counting depth and aliases."""
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases",
                               self.peek_event().start_mark)  # type: ignore[attr-defined]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep",
                               self.peek_event().start_mark)  # type: ignore[attr-defined]
            return Composer.compose_node(self, parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        """A mapping, refusing a key given twice (YAML would silently keep the last)."""
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[attr-defined]
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise _Refused(f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return SafeConstructor.construct_mapping(self, node, deep=deep)  # type: ignore[arg-type]


class _StrictLoader(_Strict, yaml.SafeLoader):
    """A safe loader (pure Python) with the strict checks."""


def _loader() -> type:
    """libyaml's parser for the events where PyYAML has it (a national org file of 15,000 people
    reads in 5 s, not 21 s); Python's composer (the strict checks) and safe constructor for the
    rest. The pure Python loader otherwise."""
    try:
        from yaml.cyaml import CParser  # type: ignore[attr-defined]
    except ImportError:
        return _StrictLoader

    class _FastStrictLoader(_Strict, Composer, CParser, SafeConstructor, Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    return _FastStrictLoader


_LOADER = _loader()


def read_yaml(path: Path) -> object:
    """Parse a YAML file, turning syntax errors, duplicate keys, deep nesting and alias bombs into
    one-line PolicyErrors with file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        try:
            return yaml.load(text, Loader=_LOADER)  # safe: SafeConstructor, with the strict checks
        except yaml.YAMLError:  # said as the pure Python reader says it (libyaml words some apart)
            return yaml.load(text, Loader=_StrictLoader)
    except RecursionError:
        raise PolicyError(f"{path}: not valid YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"{path}:{where}: not valid YAML: {problem}") from exc


def load_pack(path: Path | str) -> PolicyPack:
    """Load and validate one policy pack file."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: (top level): expected a mapping of keys, got {type(data).__name__}")
    try:
        return PolicyPack.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(format_validation_error(path, exc)) from exc


@cache
def builtin_pack(name: str) -> PolicyPack:
    """One of the packs shipped in policies/, by name."""
    if name not in PACK_NAMES:
        raise PolicyError(f"no policy pack called {name!r}; choose one of: {', '.join(PACK_NAMES)}")
    return load_pack(POLICY_DIR / f"{name}.yml")


def all_builtin_packs() -> dict[str, PolicyPack]:
    """Every shipped pack, by name."""
    return {name: builtin_pack(name) for name in PACK_NAMES}
