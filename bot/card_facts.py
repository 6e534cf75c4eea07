"""What a card says beyond its headline: content, not pointers.

Pure helpers of :mod:`bot.views`: people by role and team, the deadline in a few words ("Transfer
to be completed by Wed 20 Jan 2027 (day 10 of 20)"), checklist progress and who is awaited, the
reason for delay and the actions in hand, the transfer point's attendance, and which of a
viewer's buttons are in sight (three at most, one primary) and which wait in the overflow menu.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from bot import obligations
from bot.calendar import WorkingCalendar
from bot.clocks import Deadline
from bot.domain import Transfer
from bot.org import Org
from bot.policy import Clock, PolicyPack, Unit
from bot.states import AWAITING_DECISION, State

if TYPE_CHECKING:
    from bot.actions import Action
    from bot.obligations import Obligation

SYSTEM = "baton"
IN_SIGHT = 3  # buttons a card shows; the rest wait in its overflow menu ("More actions")
DESTRUCTIVE = "danger"  # a step that ends, refuses or contests a transfer: Decline, Withdraw, Dispute
PRIMARY = "primary"


@dataclass(frozen=True)
class Button:
    """An action a viewer may take, offered on a card; ``owed`` when it meets what the viewer
    must do now (those come first, beside the primary)."""

    action: str
    label: str
    transfer_id: int
    style: str | None = None
    owed: bool = field(default=False, compare=False)


def bare(label: str) -> str:
    """A level's label without its bracketed short form: "Senior Probation Officer (SPO)" ->
    "Senior Probation Officer" (so a role can stand in brackets itself)."""
    return re.sub(r"\s*\([^()]*\)$", "", label) or label


def manager_word(pack: PolicyPack | None) -> str:
    """What the pack calls a team's manager: its ladder's first level ("Team Manager")."""
    return bare(pack.escalation.levels[0].label) if pack is not None else "manager"


def practitioner_word(pack: PolicyPack | None) -> str:
    """What the pack calls a case-holding worker."""
    return bare(pack.practitioner_label) if pack is not None else "practitioner"


def role_of(user: str, org: Org | None, t: Transfer | None = None, pack: PolicyPack | None = None) -> str:
    """A person by role and team, never by name or id: "South PDU's Team Manager"; the transfer's
    own teams first, then a ladder level ("Head of Service"), then any team they belong to;
    "" when the org file does not know them."""
    if user == SYSTEM:
        return "Baton"
    if org is None:
        return ""
    teams = [org.team(x) for x in ((t.receiving_team, t.holding_team) if t is not None else ())
             if org.has_team(x)]
    for team in teams:
        word = _in_team(user, team.id, org, pack)
        if word:
            return word
    levels = org.escalation_levels_of(user)
    if levels:
        packs = [*([pack] if pack is not None else []), *(org.pack_for(x.id) for x in org.teams)]
        for p in packs:
            named = [lv for lv in p.escalation.levels if lv.name in levels]
            if named:
                return bare(named[-1].label)
    for team in (*org.teams_of(user), *(x for x in org.teams if user in x.service_representatives)):
        word = _in_team(user, team.id, org, pack or org.pack_for(team.id))
        if word:
            return word
    return ""


def _in_team(user: str, team_id: str, org: Org, pack: PolicyPack | None) -> str:
    team = org.team(team_id)
    if user in team.managers:
        return f"{team.name}'s {manager_word(pack)}"
    if user in team.members:
        return f"{team.name}'s {practitioner_word(pack)}"
    if user in team.service_representatives:
        return f"{team.name}'s service representative"
    return ""


def deadline_words(d: Deadline, pack: PolicyPack | None, cal: WorkingCalendar, today: date) -> str:
    """A deadline in a few words: "Transfer to be completed by Wed 20 Jan 2027 (day 10 of 20)"
    for a working-day clock under way, else with working days left, due today or overdue."""
    progress = obligations.days_left_text(d.due_on, cal, today)
    clock = _clock(pack, d.clock)
    left = cal.working_days_between(today, d.due_on)
    if (clock is not None and clock.unit == Unit.working_days and clock.length > 0 and not d.extended
            and 0 < left < clock.length and today <= d.due_on):
        progress = f"day {clock.length - left} of {clock.length}"
    return f"{d.label} {d.due_on:%a %d %b %Y} ({progress})"


def _clock(pack: PolicyPack | None, name: str) -> Clock | None:
    if pack is None:
        return None
    try:
        return pack.clock(name)
    except KeyError:
        return None


def todo_line(obs: Sequence[Obligation], viewer_owes: Obligation | None) -> str:
    """The card's To do in one sentence per obligation, the viewer's own first and addressed to
    them: "Decide on X100001 (accept or decline) by Mon 21 Dec 2026."; anyone else's with who
    owes it: "South PDU: decide on X100001 (accept or decline) by Mon 21 Dec 2026."."""
    ordered = ([viewer_owes] if viewer_owes is not None else []) + [o for o in obs if o is not viewer_owes]
    out = []
    for o in ordered:
        by = f"by {o.due_on:%a %d %b %Y}"
        mine = o is viewer_owes
        out.append(f"{o.verb[:1].upper()}{o.verb[1:]} {by}." if mine else f"{o.who}: {o.verb} {by}.")
    return " ".join(out)


def checklist_progress(t: Transfer, pack: PolicyPack | None, org: Org | None) -> str:
    """How far the checklists asked of the transfer are confirmed and who is awaited: "MAPPA
    consultation: 2 of 8 confirmed; waiting on South PDU's Team Manager"."""
    if pack is None or not t.is_open:
        return ""
    parts = []
    for cl in pack.checklists:  # those that guard a step still ahead (advice stays in the form)
        ahead = {"request": t.state == State.heads_up, "accept": t.state in AWAITING_DECISION,
                 "decision": t.state in AWAITING_DECISION, "complete": True}.get(cl.step or "", False)
        if not ahead or not cl.applies(t.kind, t.flags) or not cl.guards(t.kind):
            continue
        items = cl.items_for(t.kind)
        if not items:
            continue
        done = sum(1 for it in items if it.id in t.checklist.get(cl.id, {}))
        label = _short(cl.label)
        if done == len(items):
            parts.append(f"{label}: all {len(items)} confirmed")
            continue
        team = t.receiving_team if cl.confirmed_by == "receiving_manager" else t.holding_team
        name = org.team(team).name if org is not None and org.has_team(team) else team
        role = practitioner_word(pack) if cl.confirmed_by == "holding_practitioner" else manager_word(pack)
        parts.append(f"{label}: {done} of {len(items)} confirmed; waiting on {name}'s {role}")
    return "; ".join(parts)


def _short(label: str, limit: int = 60) -> str:
    from bot.pickers import trim

    return trim(label, limit)


def delay_reason(t: Transfer) -> str:
    """The reason for delay and the actions in hand, as the transferring area recorded them
    (the latest): what an endorser reads before endorsing the extension."""
    ev = t.last_event("delay_recorded")
    if ev is None:
        return ""
    actions_in_hand = str(ev.detail.get("actions") or "").strip()
    text = (ev.reason or "").strip().rstrip(".")
    return f"{text}. Actions in hand: {actions_in_hand}" if actions_in_hand else text


def attendance(t: Transfer) -> str:
    """Whether the receiving team attended the transfer point (Rochdale's pick-up point), if
    recorded: "attended", "not attended (absence agreed in advance)" or "not attended, without
    prior agreement"."""
    ev = next((e for e in reversed(t.timeline)
               if e.kind in ("transfer_point_attended", "transfer_point_missed")), None)
    if ev is None:
        return ""
    if ev.kind == "transfer_point_attended":
        said = "attended"
    elif ev.detail.get("agreed_absence"):
        said = "not attended (absence agreed in advance)"
    else:
        said = "not attended, without prior agreement"
    both = ev.detail.get("holding_attended")
    if both is not None:  # BURY: "both attend ... the first Core Group"
        said = (f"receiving team {said}; holding team "
                + ("attended" if both else "not attended"))
    return f"{said}: {ev.reason}" if ev.reason else said


def owed_by_viewer(obs: Sequence[Obligation], offered: Sequence[Action]) -> Obligation | None:
    """The first obligation the viewer can meet with a button they hold."""
    names = {a.name for a in offered}
    return next((o for o in obs if names & set(o.actions)), None)


def styled(t: Transfer, offered: Sequence[Action], owed: Obligation | None) -> tuple[Button, ...]:
    """The viewer's buttons in catalogue order: exactly one primary (what they owe, else the
    first constructive step), destructive steps styled so, the rest plain."""
    meets = set(owed.actions) if owed is not None else set()
    safe = [a for a in offered if a.style != DESTRUCTIVE]
    primary = (next((a for a in safe if a.name in meets), None)
               or next((a for a in safe if a.style == PRIMARY), None) or (safe[0] if safe else None))
    out = []
    for a in offered:
        style = PRIMARY if a is primary else (DESTRUCTIVE if a.style == DESTRUCTIVE else None)
        out.append(Button(a.name, a.label, t.id or 0, style, owed=a.name in meets))
    return tuple(out)


def arrange(buttons: Sequence[Button]) -> tuple[tuple[Button, ...], tuple[Button, ...]]:
    """(in sight, in the overflow menu): the primary first, then the steps the viewer owes, then
    the rest, destructive last; three at most in sight, or two beside a "More" menu of two or
    more (never a menu of one)."""
    def rank(b: Button) -> int:
        if b.style == PRIMARY:
            return 0
        if b.owed:
            return 1
        return 3 if b.style == DESTRUCTIVE else 2

    ordered = sorted(buttons, key=rank)  # stable: catalogue order within a rank
    if len(ordered) <= IN_SIGHT:
        return tuple(ordered), ()
    return tuple(ordered[:IN_SIGHT - 1]), tuple(ordered[IN_SIGHT - 1:])
