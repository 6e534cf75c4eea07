"""Whose case is it, asked of Baton: ``/transfer route``, the raise's check against the remit
table, and who ``/transfer lastteam`` answers.

:mod:`bot.routing` holds the tables and evaluates them; this module reads the org file and the
store around them. A raise that goes against the table is not refused: the seeds allow
"occasions when for child centred practice, or service reasons, cases will be transferred
outside these points" (BURY), so Baton asks for the reason and records it on the timeline.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot import access, routing
from bot.actions import MAX_TEXT, clean_text
from bot.domain import DomainError, Transfer, local_date
from bot.org import Actor, Org
from bot.policy import PolicyPack

if TYPE_CHECKING:
    from bot.ports import UnitOfWork
    from bot.services import LastTeam

log = logging.getLogger("baton.remit")

MIN_REASON = 20  # characters, as for the other reasons a raise asks for


def case_view(org: Org) -> routing.Case:
    """The org file's teams as the remit table reads them: their services and buddies."""
    return routing.Case(services={t.id: t.service for t in org.teams},
                        buddies={t.id: t.buddy for t in org.teams})


def pack_of(org: Org, user: str, team: str | None = None) -> PolicyPack:
    """The pack a person asks about: the named team's, else their first team's, else the org's."""
    if team and org.has_team(team):
        return org.pack_for(team)
    teams = org.teams_of(user) or org.managed_by(user)
    if teams:
        return org.pack_for(teams[0].id)
    from bot.org import _pack

    return _pack(org.policy, org.case_record_id)


def _names(org: Org) -> dict[str, str]:
    return {t.id: t.name for t in org.teams}


DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def route_text(uow: UnitOfWork, org: Org, user: str, words: list[str], now: datetime,
               command: str = "/transfer route") -> str:
    """``/transfer route [CIRCUMSTANCE] [CASE] [YYYY-MM-DD]``: the circumstances of the person's
    pack, or where one sends the case (with its window from the case's closure or the day
    given). Raises nothing and records nothing; a case's closure is read only as lastteam may."""
    pack = pack_of(org, user)
    table = pack.routing
    if table is None:
        return (f"The {pack.title} policy has no table of which team holds which case: the "
                "transfer is between the areas the request names.")
    if not words:
        return (f"Whose case is it, under the {pack.title} policy? Ask `{command} CIRCUMSTANCE` "
                "(add the case reference or the date for a window):\n" + "\n".join(routing.questions(table)))
    rule = table.rule(words[0].strip().lower().replace("-", "_"))
    if rule is None:
        raise DomainError(f"The {pack.title} policy has no circumstance {words[0][:40]!r}; "
                          f"`{command}` lists them.")
    today = local_date(now)
    on: date | None = None
    ref: str | None = None
    for w in words[1:3]:
        if DAY.match(w):
            try:
                on = date.fromisoformat(w)
            except ValueError:
                raise DomainError(f"{w!r} is not a date; use YYYY-MM-DD.") from None
            if on > today:
                raise DomainError(f"{w} is in the future.")
        else:
            ref = w
    closure: tuple[str, date] | None = None
    if ref is not None and rule.window is not None:
        try:
            last = last_team_for(uow, org, user, ref, now, rule=rule, on=on)
        except access.NotVisible:
            if rule.window.start == "closure" or on is None:
                raise
            last = None  # outside a window from the day given: the case's last team is not needed
        if last is not None and last.closed_on is not None:
            closure = (last.team, last.closed_on)
    point = pack.point_label(rule.point) if rule.point else ""
    ans = routing.answer(table, rule, case_view(org), closure=closure, on=on, today=today,
                         holding_team=next((t.id for t in org.teams_of(user)), None),
                         point_label=rule.point_words or point)
    log.info("route_answered", extra={"rule": rule.id, "policy": pack.name})
    return routing.text(ans, _names(org))


def check_raise(uow: UnitOfWork, org: Org, pack: PolicyPack, t: Transfer, actor: Actor,
                now: datetime, circumstance: str | None, reason: str | None) -> None:
    """At raise: the circumstance named on the form (or read from the kind and flags) and where
    the policy sends it; the transfer point is proposed when left empty; a raise to another team
    or point asks for the reason (at least 20 characters), recorded as ``route_departed`` with
    the seed's words, and one that follows it is recorded as ``route_followed``."""
    table = pack.routing
    if table is None:
        return
    picked = (circumstance or "").strip()
    rule = table.rule(picked) if picked else routing.matching(table, t.kind, t.flags)
    if picked and rule is None:
        raise DomainError("Circumstance: choose one of the options.", field="circumstance")
    if rule is None:
        return
    missing = [f for f in rule.needs_flags if f not in t.flags]
    if missing:
        labels = "; ".join(pack.label_of(pack.flags, f) for f in missing)
        raise DomainError(f"{rule.question}: the policy says \"{rule.source}\" Tick \"{labels}\" "
                          "once it holds; until then the request cannot go ahead.", field="flags")
    closure: tuple[str, date] | None = None
    if rule.window is not None and rule.window.start == "closure":
        c = uow.closures.latest(t.case_ref)
        closure = (c.team, c.closed_on) if c is not None else None
    point = pack.point_label(rule.point) if rule.point else ""
    ans = routing.answer(table, rule, case_view(org), holding_team=t.holding_team, closure=closure,
                         today=local_date(now), point_label=rule.point_words or point)
    if ans.point and not t.transfer_point:
        t.transfer_point = ans.point  # the point the policy names, proposed
    gone = routing.departs(ans, t.receiving_team, t.transfer_point, case_view(org))
    if not gone:
        t._record(actor, now, "route_followed", rule=rule.id, service=ans.target, point=ans.point)
        return
    why = clean_text(reason or "")
    if len(why) < MIN_REASON:
        raise DomainError(
            f"{rule.question}: {'; '.join(gone)} (\"{rule.source}\"). Raise it there, or say why "
            f"this case goes elsewhere (at least {MIN_REASON} characters).", field="route_reason")
    if len(why) > MAX_TEXT:
        raise DomainError(f"Keep the reason under {MAX_TEXT} characters.", field="route_reason")
    t._record(actor, now, "route_departed", reason=why, rule=rule.id, service=ans.target,
              point=ans.point, departs=gone)


def _concerned(org: Org, user: str, team: str, rule: routing.Rule | None) -> bool:
    """Whether ``user`` is the front door or a team concerned with a re-referral of a case that
    closed with ``team``: a manager of that team, a member of a front-door team, or a manager of a
    team that is the service the window names (inside it or after it)."""
    if any(t.front_door for t in org.teams_of(user)):
        return True
    if org.has_team(team) and user in org.team(team).managers:
        return True
    targets = {x for x in ((rule.to, rule.window.after if rule.window else None) if rule else ())
               if x and x not in routing.SPECIAL}
    return any(t.service in targets for t in org.managed_by(user))


def closure_windows(table: routing.Routing, closed_on: date, today: date
                    ) -> tuple[list[routing.Rule], tuple[tuple[str, str], ...]]:
    """The remit table's windows other than the re-referral one (LEICS' 3 years): the rules whose
    window from ``closed_on`` is still open, and (words, the route command that answers it) for
    each window, inside or not, and for each window from another day."""
    inside: list[routing.Rule] = []
    lines: list[tuple[str, str]] = []
    for r in table.rules:
        if r.window is None or r.id == "rereferral":
            continue
        if r.window.start == "date":
            lines.append((f"{r.question}: within {r.window.words()} of "
                          f"{r.window.date_words.split(' (')[0]}", f"route {r.id} CASE YYYY-MM-DD"))
            continue
        end = r.window.last_day(closed_on)
        if today <= end:
            inside.append(r)
            lines.append((f"{r.question}: within {r.window.words()} of closing (to {end:%d %b %Y} "
                          f"inclusive): {table.label(r.to)}", f"route {r.id}"))
        else:
            lines.append((f"{r.question}: closed more than {r.window.words()} ago: "
                          f"{table.label(r.window.after)}", f"route {r.id}"))
    return inside, tuple(lines)


def last_team_for(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime, *,
                  rule: routing.Rule | None = None, on: date | None = None) -> LastTeam:
    """/transfer lastteam for ``user``, not a probe for a case's existence: the people on the
    case's latest transfer are told (they see it anyway); otherwise only a case closed inside its
    re-referral window, and only to the front door, the team it closed with and the team the
    window sends it to; a case closed with a team under a policy with no window, only to that
    team's managers. Without a ``rule``, any of the table's windows from the closure counts
    (LEICS' 3 years as its 3 months); a window from another day counts from ``on``. Anyone else:
    NotVisible, the answer for a case Baton knows nothing about."""
    from bot import services

    today = local_date(now)
    if not access.may_ask_last_team(org, user) and not (rule and _concerned(org, user, "", rule)):
        raise access.NotVisible(case_ref)
    answer = services.last_team_answer(uow, org, case_ref, today)
    if answer is None:
        raise access.NotVisible(case_ref)
    t = uow.transfers.latest_by_case(answer.case_ref)
    if t is not None and services.sees(uow, org, t, user, today):
        if answer.closed_on is not None and org.has_team(answer.team) and \
                (on_table := org.pack_for(answer.team).routing) is not None:
            answer = replace(answer, windows=closure_windows(on_table, answer.closed_on, today)[1])
        return answer
    if t is not None and t.restricted:
        raise access.NotVisible(case_ref)
    if answer.closed_on is None:
        raise access.NotVisible(case_ref)  # an open case, asked by someone not on it
    closed = answer.closed_on
    table = org.pack_for(answer.team).routing if org.has_team(answer.team) else None
    others: list[routing.Rule] = []
    if table is not None:
        others, lines = closure_windows(table, closed, today)
        answer = replace(answer, windows=lines)
    if rule is None and table is not None:
        rule = table.rule("rereferral")
        if not answer.goes_back and others:
            rule = others[0]  # outside the re-referral window, inside a 3-year one
    inside = answer.goes_back
    if rule is not None and rule.window is not None and rule.window.start == "closure":
        inside = today <= rule.window.last_day(closed)  # e.g. LEICS' 3-year windows
    elif rule is not None and rule.window is not None and on is not None:
        inside = today <= rule.window.last_day(on)  # from the day given (the proceedings' end)
    own = org.has_team(answer.team) and user in org.team(answer.team).managers
    if inside is None and own:
        return answer  # no window under its policy: its own managers only
    if inside is True and _concerned(org, user, answer.team, rule):
        return answer
    raise access.NotVisible(case_ref)
