"""Whose case is it: the children's packs' remit tables as data, and their answers.

Each children's pack carries ``routing``: the services its policy names and, per circumstance (a
plain question, or read from the transfer's kind and flags), the service the policy names for
the child, the point at which the case moves, and the seed's words. Some rules run from a window
(BURY "re-referral within 12 weeks", LEICS "closed for less than 3 months" and its 3-year
windows): inside it the case goes to the team named for it (often the last team), after it to
another. Pure: no store, no chat; :mod:`bot.services` and the chat adapters ask it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.markdown import cell

LAST_TEAM = "last_team"  # the team the case last closed with (a window's rule)
STAYS = "stays"  # the case stays with the team that holds it: no transfer
BUDDY = "buddy"  # ROCH: the holding team's aligned locality buddy (FRT n <-> CP n)
SPECIAL = (LAST_TEAM, STAYS, BUDDY)

Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Service(_Frozen):
    """A team or service the policy names (an org file's team says which one it is)."""

    id: Ident
    label: str


class Window(_Frozen):
    """A rule that runs from a day: inside ``length`` the rule's service, after it ``after``."""

    length: Annotated[int, Field(gt=0)]
    unit: Literal["weeks", "months", "years"]
    # closure: from the case's closure record (``transfer closed``); date: a day the asker gives
    # (the order made, the proceedings concluded)
    start: Literal["closure", "date"] = Field(alias="from")
    date_words: str = ""  # for ``from: date``: what the day is, e.g. "the day the order was made"
    after: str | None = None  # the service after the window (None: assessed afresh at the front door)

    def last_day(self, start: date) -> date:
        """The window's last day, which counts (12 weeks after a closure on day d is d + 84)."""
        from bot.calendar import add_months

        if self.unit == "weeks":
            return start + timedelta(weeks=self.length)
        return add_months(start, self.length * (12 if self.unit == "years" else 1))

    def words(self) -> str:
        """The window in words: '12 weeks', '3 years'."""
        unit = self.unit if self.length != 1 else self.unit.rstrip("s")
        return f"{self.length} {unit}"


class Rule(_Frozen):
    """One circumstance of the remit table and where the policy sends the case."""

    id: Ident
    question: str  # the circumstance, as a plain question or statement
    to: str  # a service id, or last_team / stays / buddy
    also: tuple[str, ...] = ()  # other services the policy names for it (S2 "FSP and CLA")
    point: Ident | None = None  # the pack's transfer point at which it moves
    point_words: str = ""  # when no transfer point names it ("at the point of referral")
    # Read from the transfer: a raise of one of these kinds, carrying all these flags, is this
    # circumstance without being asked (empty: only when the raise names it)
    kinds: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    window: Window | None = None
    # flags a raise under it must carry: the seed lets the request go ahead only once they hold
    # (LEICS: an IVA support request only once the CDM/LPM has decided)
    needs_flags: tuple[Ident, ...] = ()
    note: str = ""  # what else the seed says at this point (who does what until then)
    source: str  # the seed's words

    @property
    def read_from_transfer(self) -> bool:
        """Whether a raise matches this rule by its kind and flags alone."""
        return bool(self.kinds or self.flags)


class Routing(_Frozen):
    """A pack's remit table: its services and its rules, in the seed's order."""

    services: tuple[Service, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)
    front_door: Ident | None = None  # the service that routes new contacts and re-referrals
    reading: str = ""  # where the pack reads the seed's table in a way it leaves open

    @model_validator(mode="after")
    def _resolves(self) -> Routing:
        ids = [s.id for s in self.services]
        if len(set(ids)) != len(ids):
            raise ValueError(f"routing service ids repeat: {ids}")
        rules = [r.id for r in self.rules]
        if len(set(rules)) != len(rules):
            raise ValueError(f"routing rule ids repeat: {rules}")
        known = set(ids) | set(SPECIAL)
        for r in self.rules:
            for target in (r.to, r.window.after if r.window else None, *r.also):
                if target is not None and target not in known:
                    raise ValueError(f"routing rule {r.id!r} names {target!r}, not one of {sorted(known)}")
            if r.to == LAST_TEAM and r.window is None:
                raise ValueError(f"routing rule {r.id!r} goes to the last team but has no window")
        if self.front_door is not None and self.front_door not in ids:
            raise ValueError(f"routing front_door {self.front_door!r} is not one of {ids}")
        return self

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        return next((r for r in self.rules if r.id == rule_id), None)

    def label(self, target: str | None) -> str:
        """A service (or special target) in words."""
        if target is None:
            return "the front door, assessed afresh"
        if target == LAST_TEAM:
            return "the team that last held the case"
        if target == STAYS:
            return "the team that holds the case (it stays)"
        if target == BUDDY:
            return "the holding team's aligned locality team (its buddy)"
        return next((s.label for s in self.services if s.id == target), target)


def matching(routing: Routing, kind: str, flags: tuple[str, ...]) -> Rule | None:
    """The rule a raise of ``kind`` with ``flags`` is, read from them alone: the most specific
    rule whose kinds include it and whose flags it carries (None when none, or two tie)."""
    found = [r for r in routing.rules if r.read_from_transfer and r.window is None
             and (not r.kinds or kind in r.kinds) and set(r.flags) <= set(flags)]
    if not found:
        return None
    best = max(len(r.kinds) + len(r.flags) for r in found)
    top = [r for r in found if len(r.kinds) + len(r.flags) == best]
    return top[0] if len(top) == 1 else None


@dataclass(frozen=True)
class Answer:
    """Where the policy sends the case: the service (and the org's teams that are it), the point."""

    rule: Rule
    target: str | None  # a service id, or a special target; None: assessed afresh
    target_words: str
    teams: tuple[str, ...]  # the org's team ids that are the target (empty: the org names none)
    point: str | None
    point_words: str
    window_words: str = ""  # e.g. "closed 3 Mar 2026; within 12 weeks (to 26 May 2026 inclusive)"
    needs: str = ""  # what the question still needs to be answered (a case reference, a date)


@dataclass(frozen=True)
class Case:
    """What the org file tells of the teams: their services and buddies (a narrow port)."""

    services: dict[str, str | None]  # team id -> its service id
    buddies: dict[str, str | None]  # team id -> its buddy team id


def answer(routing: Routing, rule: Rule, case: Case, *, holding_team: str | None = None,
           closure: tuple[str, date] | None = None, on: date | None = None,
           today: date, point_label: str = "") -> Answer:
    """Where ``rule`` sends the case today: with its window (from ``closure`` (team, day) or the
    day ``on``), the holding team (for stays and buddy) and the org's teams of the service."""
    target: str | None = rule.to
    window = ""
    needs = ""
    last_team: str | None = None
    if rule.window is not None:
        start = closure[1] if rule.window.start == "closure" and closure else on
        if rule.to == LAST_TEAM and closure:
            last_team = closure[0]
        if start is None:
            needs = ("the case reference (its closure record)" if rule.window.start == "closure"
                     else rule.window.date_words or "the day the window runs from")
        else:
            end = rule.window.last_day(start)
            inside = today <= end
            window = (f"from {start:%d %b %Y}: {'within' if inside else 'more than'} "
                      f"{rule.window.words()}" + (f" (to {end:%d %b %Y} inclusive)" if inside else ""))
            if not inside:
                target = rule.window.after
        if rule.to == LAST_TEAM and target == LAST_TEAM and last_team is None and not needs:
            needs = "the case reference (its closure record)"
    teams: tuple[str, ...] = ()
    if target == LAST_TEAM and last_team:
        teams = (last_team,)
    elif target == STAYS and holding_team:
        teams = (holding_team,)
    elif target == BUDDY and holding_team:
        buddy = case.buddies.get(holding_team)
        teams = (buddy,) if buddy else ()
    elif target is not None and target not in SPECIAL:
        named = {target, *(rule.also if target == rule.to else ())}
        teams = tuple(t for t, s in case.services.items() if s in named)
    words = point_label or rule.point_words
    label = " or ".join(routing.label(x) for x in (target, *(rule.also if target == rule.to else ())))
    return Answer(rule, target, label, teams, rule.point if target == rule.to else None,
                  words if target == rule.to else "", window, needs)


def departs(ans: Answer, receiving_team: str, point: str | None, case: Case) -> list[str]:
    """How a raise to ``receiving_team`` at ``point`` goes against the answer, in words (empty:
    it follows it, or the org file does not say which teams are the service)."""
    out: list[str] = []
    if ans.needs:
        return out
    service = case.services.get(receiving_team)
    named = {ans.target, *(ans.rule.also if ans.target == ans.rule.to else ())}
    elsewhere = (receiving_team not in ans.teams if ans.teams
                 else ans.target not in SPECIAL and service is not None and service not in named)
    if ans.target == STAYS:
        out.append("the policy keeps this case with the team that holds it")
    elif ans.target is not None and elsewhere:  # None: assessed afresh, any team may be right
        out.append(f"the policy names {ans.target_words}")
    if ans.point and point and point != ans.point:
        out.append(f"it moves at {ans.point_words or ans.point}")
    return out


def text(ans: Answer, team_name: dict[str, str]) -> str:
    """The answer in words: the rule's question, the service and its teams, the point, the quote."""
    r = ans.rule
    head = f"{r.question}: "
    if ans.needs:
        return head + f"give {ans.needs} to answer this one. The policy: \"{r.source}\""
    if ans.target == STAYS:
        where = "it stays with the team that holds it"
    elif ans.target is None:
        where = "it is assessed afresh at the front door"
    else:
        names = ", ".join(team_name.get(t, t) for t in ans.teams)
        where = f"{ans.target_words}" + (f" ({names})" if names and names != ans.target_words else "")
    out = head + where
    if ans.window_words:
        out += f"; {ans.window_words}"
    if ans.point_words:
        out += f"; it moves at: {ans.point_words}"
    out += "."
    if r.note:
        out += f" {r.note}"
    return out + f" The policy: \"{r.source}\""


def questions(routing: Routing) -> list[str]:
    """The circumstances, one line each with the id to ask by."""
    return [f"{r.id}: {r.question}" for r in routing.rules]


def table_rows(table: Routing, point_label: Callable[[str | None], str]) -> list[str]:
    """The remit table in Markdown (the README's, under each pack's clocks): circumstance, where
    the policy sends the case, from when, at which point, read from the raise, the seed."""
    out = ["| whose case is it: circumstance (`/transfer route …`) | the policy names | window | "
           "moves at | read from the raise | seed |", "|---|---|---|---|---|---|"]
    for r in table.rules:
        window = "-"
        if r.window is not None:
            after = table.label(r.window.after)
            start = "closure" if r.window.start == "closure" else (r.window.date_words or "a date")
            window = f"{r.window.words()} from the {start}; after it: {after}"
        point = r.point_words or (point_label(r.point) if r.point else "-")
        read = ", ".join([*(f"kind {k}" for k in r.kinds), *(f"flag {f}" for f in r.flags)]) or "asked"
        read += "".join(f"; needs flag {f}" for f in r.needs_flags)
        names = " or ".join(table.label(x) for x in (r.to, *r.also))
        out.append(f"| `{r.id}`: {cell(r.question)} | {cell(names)} | {cell(window)} | "
                   f"{cell(point)} | {read} | \"{cell(r.source)}\" |")
    return out
