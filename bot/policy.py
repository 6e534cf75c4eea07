"""Policy packs: each organisation's written transfer policy as frozen pydantic models.

A pack is a YAML file under ``policies/``. It declares the clocks that run on a transfer,
the escalation ladder, checklists, transfer points, flags and decline reasons. Loading a bad
pack raises :class:`PolicyError` naming the file, the key and what is wrong.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from bot.pack_parts import (
    AGREE_BY,
    DEFAULT_CASE_RECORD_ID,
    DISPUTE_WINDOW,
    CapacityRoute,
    CaseRecordId,
    Checklist,
    Choice,
    Clock,
    Force,
    Ident,
    Ladder,
    PolicyError,
    ServiceRepresentatives,
    _Frozen,
    agree_clock,
    window_clock,
)
from bot.pack_parts import EVENT_KINDS as EVENT_KINDS
from bot.pack_parts import Anchor as Anchor
from bot.pack_parts import BreachAction as BreachAction
from bot.pack_parts import ChecklistItem as ChecklistItem
from bot.pack_parts import Level as Level
from bot.pack_parts import Recipient as Recipient
from bot.record_clocks import CaseRecordKind, RecordClock
from bot.routing import Routing
from bot.units import Unit as Unit

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
PACK_NAMES = ("probation", "bury", "rochdale", "leicestershire", "council-s2")


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
