"""Forms scoped to their reader: who a people picker offers, and text trimmed at a word.

Pure: reads the org file only. Both chat surfaces build their pickers from these lists, so a
named-worker picker offers the receiving team's people and nobody else, and the raise form's
"never see it" picker offers only the people who could otherwise see a transfer from that team.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.org import Org
from bot.policy import Choice

ELLIPSIS = "…"


def trim(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a word with an ellipsis (never mid-word)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    head = text[:cut] if cut > limit // 3 else text[: limit - 1]
    return head.rstrip(" ,;:-(") + ELLIPSIS


def person_label(org: Org, person_id: str) -> str:
    """How a picker shows a person: their display name where the org file gives one, else their
    work e-mail, else their id."""
    p = org.person(person_id)
    return p.name or p.email or person_id


def _choices(org: Org, people: Iterable[str], note: dict[str, str] | None = None) -> tuple[Choice, ...]:
    seen = list(dict.fromkeys(people))  # once each, in order (thousands at national size)
    # a person id is no identifier a pack could declare, so the Choice is built unvalidated
    return tuple(Choice.model_construct(id=p, label=person_label(org, p), hint=(note or {}).get(p, ""))
                 for p in seen)


def worker_choices(org: Org, team_id: str) -> tuple[Choice, ...]:
    """Who may be named as a transfer's worker: the receiving team's members, then its managers."""
    if not org.has_team(team_id):
        return ()
    team = org.team(team_id)
    note = {m: f"{team.name} manager" for m in team.managers}
    note.update({m: team.name for m in team.members})
    return _choices(org, (*team.members, *team.managers), note)


def excludable(org: Org, holding_team: str) -> tuple[Choice, ...]:
    """Who a transfer raised by ``holding_team`` could reach, so may be kept from it: the people
    of the holding team and of every team it may send to (their buddies' managers and service
    representatives too), and those teams' escalation contacts; never people of other services."""
    if not org.has_team(holding_team):
        return ()
    teams = [org.team(holding_team), *(t for t in org.teams
                                       if t.id != holding_team and org.may_transfer(holding_team, t.id))]
    people: list[str] = []
    note: dict[str, str] = {}
    for t in teams:
        for p in (*t.managers, *t.members, *t.service_representatives):
            people.append(p)
            note.setdefault(p, t.name)
        if t.buddy and org.has_team(t.buddy):
            people += org.team(t.buddy).managers
            note.update({m: org.team(t.buddy).name for m in org.team(t.buddy).managers if m not in note})
    for t in teams:  # the ladder's contacts (service representatives' levels among them) and the
        pack = org.pack_for(t.id)  # capacity route's (ROCH, S2)
        levels = [*pack.escalation.levels, *(pack.capacity.levels if pack.capacity is not None else ())]
        for level in levels:
            contact = org.contact(t.id, level.name)
            for p in contact.users if contact is not None else ():
                people.append(p)
                note.setdefault(p, level.label)
    return _choices(org, people, note)
