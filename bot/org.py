"""The organisation file: teams, their managers and members, buddies and escalation contacts."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from bot.calendar import REGIONS
from bot.org_parts import EMAIL as EMAIL
from bot.org_parts import SLACK_USER, Contact, EntraId, Person, SlackUser, Team, TeamId, _Closing
from bot.org_parts import Closures as Closures
from bot.org_parts import ClosureSpan as ClosureSpan
from bot.org_parts import SlackChannel as SlackChannel
from bot.org_parts import TeamsChannel as TeamsChannel
from bot.policy import (
    PACK_NAMES,
    CaseRecordId,
    Force,
    PolicyError,
    PolicyPack,
    builtin_pack,
    format_validation_error,
    read_yaml,
)

DEMO_ORG = Path(__file__).resolve().parent.parent / "policies" / "demo-org.yml"

class Org(_Closing):
    """An organisation as its org file describes it."""

    name: str = "Organisation"
    policy: str = "probation"
    region: str = "ENG"
    teams: tuple[Team, ...] = Field(min_length=2)
    escalation: dict[str, Contact] = {}
    # Pairs of teams under different policy packs that may still transfer between them
    # (holding, receiving); the holding team's pack then runs the transfer.
    cross_policy: tuple[tuple[TeamId, TeamId], ...] = ()
    auditors: tuple[SlackUser, ...] = ()  # may see every transfer, and every view is recorded
    report_readers: tuple[SlackUser, ...] = ()  # may export from chat
    retention_days: int = Field(default=2190, ge=1)  # closed transfers purged after this (6 years)
    # The case-record id format of the children's packs (digits by default; a fixed prefix and
    # digit counts may be given): never letters a name could be spelt with.
    case_record_id: CaseRecordId = CaseRecordId()
    people: tuple[Person, ...] = ()  # e-mail and Entra ids beside the ids used above
    tenants: tuple[EntraId, ...] = ()  # Microsoft 365 tenants whose Teams may talk to Baton
    # Per pack, the force of its duties where this council reads them otherwise than the pack:
    # {pack: {"checklist.item" | "accept_rationale" | "date_agreed_by_both": guard | advice}}
    duties: dict[str, dict[str, Force]] = {}
    _index: _Index | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> Org:
        if self.region.upper() not in REGIONS:
            raise ValueError(f"region {self.region!r} is not one of {', '.join(REGIONS)}")
        ids = [t.id for t in self.teams]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"team ids repeat: {dupes}")
        for pack in {self.policy, *(t.policy for t in self.teams if t.policy)}:
            if pack not in PACK_NAMES:
                raise ValueError(f"policy {pack!r} is not one of {', '.join(PACK_NAMES)}")
        for t in self.teams:
            if t.buddy is not None and t.buddy not in ids:
                raise ValueError(f"team {t.id!r} names buddy {t.buddy!r}, which is not a team here")
            if t.buddy == t.id:
                raise ValueError(f"team {t.id!r} cannot be its own buddy")
            if t.service is not None:
                routing = builtin_pack(t.policy or self.policy).routing
                known = [s.id for s in routing.services] if routing else []
                if t.service not in known:
                    raise ValueError(f"team {t.id!r} names service {t.service!r}; its policy names "
                                     + (", ".join(known) if known else "no services"))
        for name, forces in self.duties.items():
            if name not in PACK_NAMES:
                raise ValueError(f"duties: {name!r} is not one of {', '.join(PACK_NAMES)}")
            try:
                builtin_pack(name).with_duties(tuple(forces.items()))
            except PolicyError as exc:
                raise ValueError(str(exc)) from None
        for pair in self.cross_policy:
            for tid in pair:
                if tid not in ids:
                    raise ValueError(f"cross_policy names team {tid!r}, which is not a team here")
        for key in ("id", "email", "entra_id"):
            seen = Counter(str(getattr(p, key)).lower() for p in self.people if getattr(p, key))
            twice = sorted(v for v, n in seen.items() if n > 1)
            if twice:
                raise ValueError(f"people: {key} repeats: {twice}")
        return self

    def person(self, person_id: str) -> Person:
        """How both platforms know a person (an e-mail id is its own e-mail)."""
        found = self._idx().people.get(person_id)
        if found is not None:
            return found
        email = person_id if "@" in person_id else None
        return Person(id=person_id, email=email)

    def person_by(self, *, entra_id: str | None = None, email: str | None = None) -> str | None:
        """The id of the person with this Entra object id or work e-mail, if the org names them."""
        idx = self._idx()
        found = (idx.by_entra.get(entra_id.lower()) if entra_id else None) or (
            idx.by_email.get(email.lower()) if email else None)
        if found is not None:
            return found
        if email and self.knows(email.lower()):
            return email.lower()
        return None

    def everyone(self) -> list[str]:
        """Every person the org file names (teams, escalation contacts, auditors, readers), once."""
        contacts = [*self.escalation.values(), *(c for t in self.teams for c in t.escalation.values())]
        return list(dict.fromkeys((*(u for t in self.teams
                                     for u in (*t.managers, *t.members, *t.service_representatives)),
                                   *(u for c in contacts for u in c.users), *self.auditors,
                                   *self.report_readers)))

    def unreachable(self, platforms: tuple[str, ...] = ("Slack", "Teams")) -> list[str]:
        """Who and which places cannot be reached on which of ``platforms``, for ``baton org
        check``. On Teams a person is recognised (and a chat opened with them) only by their
        Entra object id: a work e-mail alone reaches nobody there."""
        import re

        out: list[str] = []
        for who in self.named_people():  # service representatives too
            p = self.person(who)
            gaps = [name for name, ok in (("Slack", re.match(SLACK_USER, who) is not None),
                                          ("Teams", bool(p.entra_id))) if name in platforms and not ok]
            if gaps == ["Teams"] or gaps == ["Slack", "Teams"]:
                out.append(f"person {who}: not reachable on {' or '.join(gaps)}: Teams can neither recognise "
                           "nor message them without their Entra object id (an e-mail alone is not "
                           "enough); run baton org build on the staff list, or add {id: "
                           f"{who}, entra_id: OBJECT-ID}} under people:")
            elif gaps:
                out.append(f"person {who}: not reachable on Slack (named by e-mail, not a Slack user id)")
        for t in self.teams:
            gaps = [n for n, ch in (("Slack", t.channel), ("Teams", t.teams_channel))
                    if n in platforms and not ch]
            if gaps:
                out.append(f"team {t.id}: no channel on {' or '.join(gaps)}")
        return out

    def _idx(self) -> _Index:
        """Lookups by id, built once for these teams and people (a copy with others rebuilds them)."""
        private = self.__pydantic_private__  # read directly: pydantic's __getattr__ is slow
        idx = private.get("_index") if private else None
        if idx is None or idx.teams is not self.teams or idx.people_of is not self.people:
            idx = self._index = _Index.of(self)
        return idx

    def _by_id(self) -> dict[str, Team]:
        return self._idx().by_id

    def team(self, team_id: str) -> Team:
        """The team with this id; UnknownTeam naming it and the closest ones otherwise."""
        found = self._by_id().get(team_id)
        if found is not None:
            return found
        raise UnknownTeam(team_id, [t.id for t in self.teams], [t.name for t in self.teams])

    def find_team(self, text: str) -> Team:
        """The team a person named: by its id, or by its name (case and spacing ignored);
        UnknownTeam (naming the closest) when none or several match."""
        typed = " ".join(text.split())
        for t in self.teams:
            if t.id == typed.lower():
                return t
        named = [t for t in self.teams if " ".join(t.name.split()).casefold() == typed.casefold()]
        if len(named) == 1:
            return named[0]
        raise UnknownTeam(typed, [t.id for t in (named or self.teams)],
                          [t.name for t in (named or self.teams)])

    def has_team(self, team_id: str) -> bool:
        """Whether a team with this id exists."""
        return team_id in self._by_id()

    def may_transfer(self, holding: str, receiving: str) -> bool:
        """Whether a transfer between these teams can run: the same pack, or a pair the org
        file allows."""
        same = (self.team(holding).policy or self.policy) == (self.team(receiving).policy or self.policy)
        return same or (holding, receiving) in self.cross_policy

    def pack_for(self, team_id: str) -> PolicyPack:
        """The policy pack a team works under (with the org's case-record id format)."""
        name = self.team(team_id).policy or self.policy
        return _pack(name, self.case_record_id, tuple(sorted(self.duties.get(name, {}).items())))

    def contact(self, team_id: str, level: str) -> Contact | None:
        """Who hears escalations at ``level`` for a team (team override, then org)."""
        team = self.team(team_id)
        return team.escalation.get(level) or self.escalation.get(level)

    def teams_of(self, user: str) -> list[Team]:
        """Teams the user manages or belongs to."""
        return list(self._idx().teams_of.get(user, ()))

    def knows(self, user: str) -> bool:
        """Whether the org file names ``user`` anywhere: a team, a team's service representatives
        (ROCH), an escalation level, an auditor."""
        return bool(self.teams_of(user) or self.escalation_levels_of(user)
                    or any(user in t.service_representatives for t in self.teams)
                    or user in self.auditors or user in self.report_readers)

    def managed_by(self, user: str) -> list[Team]:
        """Teams the user manages."""
        return list(self._idx().managed_by.get(user, ()))

    def escalation_levels_of(self, user: str) -> set[str]:
        """Escalation level names at which the user is a named contact."""
        levels = {lv for lv, c in self.escalation.items() if user in c.users}
        for t in self.teams:
            levels |= {lv for lv, c in t.escalation.items() if user in c.users}
        return levels

    def service_representatives_of(self, team_id: str, pack: PolicyPack) -> tuple[str, ...]:
        """Who may complete the allocation for ``team_id`` when its managers are not available
        (ROCH): its head of service (the pack's levels) and the representatives the org names."""
        if pack.service_representatives is None:
            return ()
        out = list(self.team(team_id).service_representatives)
        for level in pack.service_representatives.levels:
            c = self.contact(team_id, level)
            out += [u for u in (c.users if c else ()) if u not in out]
        return tuple(dict.fromkeys(out))

    def named_people(self) -> dict[str, list[str]]:
        """Every user id the org file names, with where it names them ('pdu-north manager')."""
        out: dict[str, list[str]] = {}

        def add(users: tuple[str, ...], where: str) -> None:
            for u in users:
                out.setdefault(u, []).append(where)

        for t in self.teams:
            add(t.managers, f"{t.id} manager")
            add(t.members, f"{t.id} member")
            add(t.service_representatives, f"{t.id} service representative")
            for level, c in t.escalation.items():
                add(c.users, f"{t.id} {level}")
        for level, c in self.escalation.items():
            add(c.users, level)
        add(self.auditors, "auditor")
        add(self.report_readers, "report reader")
        return out

    def channels(self) -> dict[str, list[str]]:
        """Every channel id the org file names, with where it names them."""
        out: dict[str, list[str]] = {}
        for t in self.teams:
            if t.channel:
                out.setdefault(t.channel, []).append(f"{t.id} channel")
            for level, c in t.escalation.items():
                if c.channel:
                    out.setdefault(c.channel, []).append(f"{t.id} {level}")
        for level, c in self.escalation.items():
            if c.channel:
                out.setdefault(c.channel, []).append(level)
        return out

    def problems(self) -> list[str]:
        """Warnings that do not stop Baton: escalation levels with nobody to hear them, timed
        events in a closure calendar (they close no whole day)."""
        out = []
        if self._timed_events:
            out.append(f"closures_file {self.closures_file}: {self._timed_events} timed event(s) "
                       f"left out; only all-day events are closure days")
        for t in self.teams:
            pack = self.pack_for(t.id)
            route = pack.capacity.levels if pack.capacity else ()
            for level in [*pack.escalation.levels[1:],
                          *(lv for lv in route if lv.name not in {x.name for x in pack.escalation.levels})]:
                if self.contact(t.id, level.name) is None:
                    out.append(
                        f"team {t.id!r} ({pack.name}): nobody hears escalation level "
                        f"{level.name!r} ({level.label}); add it under escalation:"
                    )
        return out


@dataclass
class _Index:
    """An org's lookups by key (teams by id, people by id, Entra id and e-mail, a person's teams),
    so a national org (hundreds of teams, thousands of people) answers each in one step."""

    teams: tuple[Team, ...]
    people_of: tuple[Person, ...]
    by_id: dict[str, Team]
    people: dict[str, Person]
    by_entra: dict[str, str]
    by_email: dict[str, str]
    teams_of: dict[str, list[Team]]
    managed_by: dict[str, list[Team]]

    @classmethod
    def of(cls, org: Org) -> _Index:
        """The lookups of ``org`` as it is now."""
        teams_of: dict[str, list[Team]] = {}
        managed: dict[str, list[Team]] = {}
        for t in org.teams:
            for u in dict.fromkeys((*t.managers, *t.members)):
                teams_of.setdefault(u, []).append(t)
            for u in dict.fromkeys(t.managers):
                managed.setdefault(u, []).append(t)
        people: dict[str, Person] = {}
        entra: dict[str, str] = {}
        email: dict[str, str] = {}
        for p in org.people:
            people.setdefault(p.id, p)
            if p.entra_id:
                entra.setdefault(p.entra_id.lower(), p.id)
            if p.email:
                email.setdefault(p.email.lower(), p.id)
        return cls(org.teams, org.people, {t.id: t for t in org.teams}, people, entra, email,
                   teams_of, managed)


@cache
def _pack(name: str, fmt: CaseRecordId, duties: tuple[tuple[str, Force], ...] = ()) -> PolicyPack:
    """A shipped pack under a case-record id format and the org's duty forces, built once each."""
    return builtin_pack(name).with_case_record_id(fmt).with_duties(duties)


class UnknownTeam(KeyError):
    """A team id (or name) that is not in the org file: its message names at most the few
    closest teams, so it stays one short line at any size of org."""

    SHOWN = 8

    def __init__(self, team_id: str, known: list[str], names: list[str] | None = None) -> None:
        super().__init__(team_id)
        self.team_id = team_id
        self.known = known
        self.names = names or []

    def __str__(self) -> str:
        typed = self.team_id[:63]
        if len(self.known) <= self.SHOWN:
            return f"unknown team {typed!r}; teams are: {', '.join(self.known)}"
        close = difflib.get_close_matches(typed.lower(), self.known, n=self.SHOWN, cutoff=0.5)
        by_name = {n.casefold(): i for i, n in zip(self.known, self.names, strict=False)}
        close += [by_name[n] for n in difflib.get_close_matches(typed.casefold(), list(by_name),
                                                                n=self.SHOWN, cutoff=0.5)]
        close = list(dict.fromkeys(close))[: self.SHOWN]
        hint = f"the closest are: {', '.join(close)}" if close else "none is close to it"
        return f"unknown team {typed!r} among {len(self.known)} teams; {hint}"


class Role(StrEnum):
    """What a user is, relative to one transfer."""

    holding_practitioner = "holding_practitioner"
    holding_manager = "holding_manager"
    receiving_manager = "receiving_manager"
    receiving_member = "receiving_member"
    escalation = "escalation"
    holding_escalation = "holding_escalation"  # the transferring area's senior managers
    capacity_level = "capacity_level"  # a contact at a level of the pack's capacity route
    # ROCH: after the pick-up point, the receiving service's representatives (and its HoS)
    service_representative = "service_representative"
    system = "system"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a Slack user id (or 'baton' for the scheduler) and their roles."""

    user: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        """Whether the actor holds any of ``roles``."""
        return bool(self.roles & set(roles))


def load_org(path: Path | str | None = None) -> Org:
    """Load and validate an org file; the demo org when ``path`` is None."""
    p = Path(path) if path else DEMO_ORG
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise PolicyError(f"{p}: (top level): expected a mapping of keys")
    try:
        return Org.model_validate(data, context={"base": str(p.parent)})
    except ValidationError as exc:
        raise PolicyError(format_validation_error(p, exc)) from exc
