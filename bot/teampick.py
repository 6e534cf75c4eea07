"""Choosing a receiving team at any size of org: the teams in the order people look for them,
and a type-ahead search over them. Pure and platform-neutral: Slack's and Teams' pickers
(handlers/slack/teampicker.py, handlers/teams/search.py) render what this returns.

Order: first the teams a transfer from the holding team can actually go to (the same policy
pack, or a pair the org file allows), the holding team's own group (region or service, the org
file's ``group:``) first, then the other groups as the file first names them, then teams without
one; within a group, the org file's order.
Teams under another policy come last and only in a search that names them, so a person who
types one learns why it cannot be chosen rather than finding nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.org import Org, Team

STATIC_MAX = 100  # at most this many choosable teams: a plain list (Slack's static select cap)
OTHER_GROUP = "Other teams"  # the group of teams whose org-file entry names none
ELSEWHERE = "Under another policy: Baton cannot run this transfer"


@dataclass(frozen=True)
class TeamChoice:
    """One team as a picker offers it."""

    id: str
    name: str
    group: str  # the heading it is listed under
    eligible: bool  # a transfer from the holding team can go to it
    area: str = ""  # its region or service in the org file ("" when none)

    @property
    def title(self) -> str:
        """The team as one line (name, then its region or service when it has one)."""
        return f"{self.name} ({self.area})" if self.area else self.name


@dataclass(frozen=True)
class Found:
    """One page of a search: the choices shown and how many matched in all."""

    choices: tuple[TeamChoice, ...]
    total: int
    skip: int = 0

    @property
    def more(self) -> int:
        """How many matched beyond this page."""
        return max(0, self.total - self.skip - len(self.choices))

    def groups(self) -> list[tuple[str, list[TeamChoice]]]:
        """The page's choices by group, in order."""
        out: dict[str, list[TeamChoice]] = {}
        for c in self.choices:
            out.setdefault(c.group, []).append(c)
        return list(out.items())


def _choice(t: Team, eligible: bool) -> TeamChoice:
    return TeamChoice(t.id, t.name, (t.group or OTHER_GROUP) if eligible else ELSEWHERE, eligible,
                      t.group or "")


def receiving_teams(org: Org, holding: str, *, eligible_only: bool = True) -> list[TeamChoice]:
    """Every team a transfer from ``holding`` may go to, in picker order (with
    ``eligible_only=False``, the teams under another policy after them)."""
    known = org.has_team(holding)
    own = org.team(holding).group if known else None
    ok: list[TeamChoice] = []
    other: list[TeamChoice] = []
    for t in org.teams:
        if t.id == holding:
            continue
        eligible = not known or org.may_transfer(holding, t.id)
        (ok if eligible else other).append(_choice(t, eligible))

    seen: dict[str, int] = {}
    for c in ok:
        seen.setdefault(c.group, len(seen))

    def order(c: TeamChoice) -> tuple[int, int]:
        rank = 0 if own and c.group == own else (2 if c.group == OTHER_GROUP else 1)
        return rank, seen[c.group]

    ok.sort(key=order)  # stable: the org file's order within a group
    return ok if eligible_only else ok + other


def static_list(org: Org, holding: str) -> bool:
    """Whether every choosable team fits a plain list (else the pickers search as people type)."""
    return len(receiving_teams(org, holding)) <= STATIC_MAX


def _words(text: str) -> list[str]:
    return [w for w in text.casefold().replace("(", " ").replace(")", " ").split() if w]


def search(org: Org, holding: str, query: str, *, limit: int, skip: int = 0) -> Found:
    """Teams whose name, id or group holds every word typed, in picker order: ``limit`` of them
    after ``skip``, with how many matched in all. An empty query pages through the choosable
    teams; a typed one finds teams under another policy too, after them."""
    words = _words(query[:100])
    pool = receiving_teams(org, holding, eligible_only=not words)
    if words:
        def hay(c: TeamChoice) -> str:
            return f"{c.name} {c.id} {c.area}".casefold()

        matched = [c for c in pool if all(w in hay(c) for w in words)]
        starts = [c for c in matched if c.name.casefold().startswith(words[0]) and c.eligible]
        first = set(starts)
        pool = starts + [c for c in matched if c not in first]
    skip = max(0, skip)
    return Found(tuple(pool[skip: skip + max(0, limit)]), len(pool), skip)


def chosen(org: Org, holding: str, team_id: str | None) -> TeamChoice | None:
    """The choice for a team already picked (to show it again on a form), if it is a team."""
    if not team_id or not org.has_team(team_id) or team_id == holding:
        return None
    eligible = org.may_transfer(holding, team_id) if org.has_team(holding) else True
    return _choice(org.team(team_id), eligible)


def why_not(org: Org, holding: str, receiving: str) -> str | None:
    """Why a transfer from ``holding`` cannot go to ``receiving`` (another policy pack and no
    cross_policy pair), or None when it can."""
    if org.may_transfer(holding, receiving):
        return None
    return (f"{org.team(receiving).name} works under the {org.pack_for(receiving).title} policy, not "
            f"the {org.pack_for(holding).title} policy, so Baton cannot run this transfer unless the "
            "org file allows transfers between these teams (cross_policy).")
