"""What to tell whom when a transfer changes: notices, in plain words, for any chat platform.

A :class:`Notice` names its audience (chat ids of people and channels), the lines it says and,
for cards, a ``ref`` saying why this person holds a card of the transfer. Services write notices
to the outbox in the same transaction as the change that called for them, whatever started it
(chat, the CLI, an import or the sweep); each platform renders them when it sends them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from bot import access, obligations, views
from bot.calendar import calendar_for
from bot.domain import TimelineEvent, Transfer, local_date
from bot.org import Org
from bot.policy import PolicyPack, Recipient
from bot.recipients import Cover, effective_managers, level_contacts, resolve
from bot.states import AWAITING_DECISION, IN_DISPUTE, State


@dataclass(frozen=True)
class Notice:
    """One thing to tell an audience about a transfer.

    ``kind`` is 'card' (post the transfer's card, kept up to date afterwards), 'update' (redraw
    every card already posted), 'item' (a line of the recipient's next digest) or 'text'.
    ``topic`` makes the notice unique on its transfer (the store builds the outbox key from it).
    """

    kind: str
    topic: str
    transfer_id: int | None
    audience: tuple[str, ...]
    lines: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    ref: str = ""
    extra: tuple[tuple[str, Any], ...] = ()
    newly_owe: frozenset[str] = frozenset()  # whom the change made owe an action they did not

    def payload(self, recipient: str) -> dict[str, Any]:
        """What the outbox keeps for one recipient: no markup, nothing platform-specific."""
        out: dict[str, Any] = {"notice": self.kind, "lines": list(self.lines),
                               "actions": list(self.actions), **dict(self.extra)}
        if self.ref:
            out["ref"] = f"{self.ref}:{recipient}"
        if self.kind == "card":
            out["newly_owes"] = recipient in self.newly_owe
        return out


def _team(org: Org, team_id: str) -> str:
    return org.team(team_id).name if org.has_team(team_id) else team_id


def _unique(ids: Iterable[str], minus: Iterable[str] = ()) -> tuple[str, ...]:
    out: list[str] = []
    skip = set(minus)
    for i in ids:
        if i not in out and i not in skip:
            out.append(i)
    return tuple(out)


def for_change(org: Org, pack: PolicyPack, covers: list[Cover], t: Transfer,
               events: list[TimelineEvent]) -> list[Notice]:
    """The notices the new ``events`` of ``t`` call for."""
    assert t.id is not None
    if not events:
        return []
    out = _for_change(org, pack, covers, t, events)
    newly = _newly_owing(org, pack, covers, t, events)
    out = [replace(n, newly_owe=newly & set(n.audience)) if n.kind == "card" else n for n in out]
    if not (t.restricted or t.excluded):
        return out
    kept = [replace(n, audience=access.audience(t, n.audience)) for n in out]
    if t.restricted:
        kept = [_brief(t, n) for n in kept]
    return [n for n in kept if n.audience or n.kind == "update"]


# What a restricted transfer's messages say, by the event that called for them.
BRIEF = {"requested": "a transfer request needs your decision", "heads_up": "an early heads up",
         "imported": "adopted from the tracker", "declined": "declined; the holding manager may dispute",
         "work_requested": "work is asked of the holding team",
         "work_completed": "the work asked for is done",
         "allocated": "a named worker is allocated", "disputed": "a dispute needs deciding",
         "delay_recorded": "the reason for delay is recorded",
         "extension_endorsed": "the extension is endorsed",
         "escalated": "a dispute needs deciding", "accepted": "accepted", "completed": "completed",
         "decided": "the dispute is decided",
         "capacity_concern_raised": "a capacity concern for your level (the transfer goes ahead)"}


def _brief(t: Transfer, n: Notice) -> Notice:
    """A restricted transfer's notice: the case reference and the action, nothing more."""
    if n.kind == "update":
        return n
    event = next((k for k in n.topic.split(":") if k in BRIEF), "")
    line = access.brief_line(t.case_ref, BRIEF.get(event, "there is news of this transfer"))
    extra = tuple((k, line if k == "text" else v) for k, v in n.extra)
    return replace(n, lines=(line,), extra=extra)


def _for_change(org: Org, pack: PolicyPack, covers: list[Cover], t: Transfer,
                events: list[TimelineEvent]) -> list[Notice]:
    assert t.id is not None
    start = len(t.timeline) - len(events)
    out: list[Notice] = []
    kinds = [e.kind for e in events]
    if kinds[-1] == "imported" and not t.timeline[:start]:
        return _adopted(org, pack, covers, t)
    firsts = [e for e in events if e.kind in ("requested", "heads_up")]
    if firsts and not t.timeline[:start]:
        said = _request_lines(org, pack, events)
        out = [replace(n, lines=(*n.lines, *said)) if said and n.ref in ("dm", "requester") else n
               for n in _new(org, pack, covers, t, firsts[-1])]
        for i, ev in enumerate(events, start=start + 1):
            if ev.kind == "sign_off_override_asked":
                out += _targeted(org, pack, covers, t, ev, i)
        return out + _newly_owed(org, pack, covers, t, events, out)
    out.append(Notice("update", f"update:{len(t.timeline)}", t.id, ("-",)))
    for i, ev in enumerate(events, start=start + 1):
        out += _targeted(org, pack, covers, t, ev, i)
    return out + _newly_owed(org, pack, covers, t, events, out)


def _before(t: Transfer, events: list[TimelineEvent]) -> Transfer:
    """The transfer as it was before ``events``."""
    before = copy.copy(t)
    before.timeline = t.timeline[:len(t.timeline) - len(events)]
    before.state = State(events[0].from_state) if events[0].from_state else t.state
    return before


def _owing(org: Org, pack: PolicyPack, covers: list[Cover], t: Transfer,
           today: date) -> set[tuple[str, str]]:
    """(person, action) for every obligation of ``t`` on ``today`` and each person it names."""
    cal = calendar_for(org.region, org.closure_items())
    return {(p, o.action) for o in obligations.current(t, pack, org, cal, today)
            for p in obligations.people(o, t, pack, org, covers)}


def _newly_owing(org: Org, pack: PolicyPack, covers: list[Cover], t: Transfer,
                 events: list[TimelineEvent]) -> frozenset[str]:
    """Who owes an action after ``events`` that they did not owe before: only they are
    notified of the thread reply (someone who has owed the same step for weeks is not
    notified of every piece of news again)."""
    today = local_date(events[-1].at)
    before = _before(t, events)
    had = _owing(org, pack, covers, before, today) if before.timeline else set()
    return frozenset(p for p, _ in _owing(org, pack, covers, t, today) - had)


def _newly_owed(org: Org, pack: PolicyPack, covers: list[Cover], t: Transfer,
                events: list[TimelineEvent], said: list[Notice]) -> list[Notice]:
    """Whoever an obligation the change started names is told, with a card holding its button
    (LEICS: the holding manager who confirms the Children in Care checklist; ROCH: the holding
    manager after a missed pick-up point; both team managers when a dispute opens)."""
    assert t.id is not None
    cal = calendar_for(org.region, org.closure_items())
    today = local_date(events[-1].at)
    before = _before(t, events)
    had = {(o.action, o.parties) for o in obligations.current(before, pack, org, cal, today)
           if before.timeline}  # a new transfer owed nothing before
    carded = {x for n in said if n.kind == "card" for x in n.audience}
    actors = {ev.actor for ev in events}
    out = []
    for o in obligations.current(t, pack, org, cal, today):
        if (o.action, o.parties) in had:
            continue
        people = _unique(obligations.people(o, t, pack, org, covers), carded | actors)
        if people:
            carded |= set(people)
            out.append(Notice("card", f"e{len(t.timeline)}:owed:{o.action}", t.id, people,
                              (f"Baton asks you to {o.verb}. "
                               f"{obligations.deadline_words(o.deadline, cal, today)}.",), ref="owed"))
    return out


def request_lines(org: Org, pack: PolicyPack, t: Transfer) -> tuple[str, ...]:
    """What the request said beyond itself (unpaid work running out, siblings apart), from its
    timeline: for the messages that carry the request."""
    return _request_lines(org, pack, t.timeline)


def _request_lines(org: Org, pack: PolicyPack, events: Iterable[TimelineEvent]) -> tuple[str, ...]:
    out = []
    for ev in events:
        if ev.kind == "upw_extension_due" and ev.detail.get("unlikely"):
            ends = f" (they end on {ev.detail['ends']})" if ev.detail.get("ends") else ""
            out.append(f"Unpaid work: highly unlikely to be completed within the 12 months from the "
                       f"order{ends}: apply to court to extend the "
                       "requirement now, as a priority (usually the transferring area; agree roles "
                       "and timescales with the receiving area).")
        elif ev.kind == "upw_extension_due":
            out.append(f"Unpaid work: the 12 months from the order end on {ev.detail.get('ends')}, "
                       f"before this transfer must complete ({ev.detail.get('complete_by')}): apply "
                       "to court to extend the requirement, as a priority (usually the transferring "
                       "area; agree roles and timescales with the receiving area).")
        if ev.kind == "route_departed":  # the receiving manager hears why it departs from the table
            gone = "; ".join(str(x) for x in ev.detail.get("departs") or ()) or "another team or point"
            out.append(f"Not where the policy's remit table sends it: {gone}. The reason given: "
                       f"{ev.reason or ''}")
        if ev.kind == "siblings_apart":
            teams = ", ".join(_team(org, x) for x in ev.detail.get("teams", ()))
            out.append(f"Siblings apart: linked case(s) {', '.join(ev.detail.get('siblings', ()))} "
                       f"are with {teams}. The exceptional circumstances are on the card; the team "
                       f"managers agree, or the {pack.level_label(str(ev.detail.get('level', '')))} "
                       "makes the final decision (raise a dispute).")
    return tuple(out)


def _adopted(org: Org, pack: PolicyPack, covers: list[Cover], t: Transfer) -> list[Notice]:
    """A transfer adopted from a tracker: a line in each receiving manager's next digest (one
    message for a whole import, not one per case)."""
    assert t.id is not None
    managers = _unique(resolve(org, covers, t, Recipient.receiving_manager, pack))
    offered = ("accept", "decline") if t.state in AWAITING_DECISION else ()
    text = (f"Adopted from the tracker: {_team(org, t.holding_team)} to your team "
            f"({t.state.value.replace('_', ' ')}). /transfer status {t.case_ref} shows what you can do.")
    text = " ".join((text, *request_lines(org, pack, t)))
    return [Notice("item", "imported", t.id, managers, actions=offered,
                   extra=(("case_ref", t.case_ref), ("transfer_id", t.id), ("text", text)))]


def _new(org: Org, pack: PolicyPack, covers: list[Cover], t: Transfer, ev: TimelineEvent) -> list[Notice]:
    """A new request, heads up or imported transfer: the receiving managers (or whoever stands in
    for them), the buddy, the requester and the receiving team's channel."""
    assert t.id is not None
    kind = ev.kind
    holding = _team(org, t.holding_team)
    managers = _unique(resolve(org, covers, t, Recipient.receiving_manager, pack))
    who = views.raised_by(t, pack, org)
    flags = f" Flags: {'; '.join(pack.flag_labels(t.flags))}." if t.flags else ""
    if kind == "heads_up":
        line = f"Early heads up from {who}: the case is expected to transfer to your team.{flags}"
    else:
        line = f"New transfer request from {who}: your team is asked to take this case.{flags}"
    stand_in = set(effective_managers(org, t.receiving_team, covers))
    if managers and not stand_in & set(managers):
        line += " The receiving team's managers are away with no cover, so it comes to you."
    out = [Notice("card", f"{kind}:dm", t.id, managers, (line,), ref="dm")]
    if pack.early_heads_up or kind == "heads_up":
        buddies = _unique(resolve(org, covers, t, Recipient.buddy_manager, pack), managers)
        out.append(Notice("card", f"{kind}:buddy", t.id, buddies,
                          (f"Early heads up for your locality: {holding} is transferring a case "
                           f"to {_team(org, t.receiving_team)}.",), ref="buddy"))
    if ev.actor != "baton":
        out.append(Notice("card", f"{kind}:requester", t.id, (ev.actor,),
                          (("Your early heads up is sent to " if kind == "heads_up" else
                            "Your transfer request is sent to ") + f"{_team(org, t.receiving_team)}.",),
                          ref="requester"))
    channels = _unique(resolve(org, covers, t, Recipient.receiving_channel, pack))
    out.append(Notice("card", f"{kind}:channel", t.id, channels,
                      ((f"Early heads up from {who}.{flags}" if kind == "heads_up"
                        else f"Transfer request from {who}.{flags}"),), ref="channel"))
    return [n for n in out if n.audience]


def _day(iso: str) -> str:
    try:
        return views.day(date.fromisoformat(iso))
    except ValueError:
        return "-"


def _holding_senior(org: Org, t: Transfer, pack: PolicyPack) -> list[str]:
    """The transferring area's senior managers (users) at the levels the transfer reached."""
    out: list[str] = []
    for lv in pack.escalation.levels[1:]:
        c = org.contact(t.holding_team, lv.name)
        if c:
            out += [u for u in c.users if u not in out]
        if lv.name == (t.escalation_level or pack.escalation.levels[1].name):
            break
    return out


def _holding_level(org: Org, t: Transfer, level: str) -> list[str]:
    """Who hears at ``level`` for the holding team (its users, then its channel)."""
    c = org.contact(t.holding_team, level)
    return [*c.users, *c.places] if c else []


def _targeted(org: Org, pack: PolicyPack, covers: list[Cover], t: Transfer, ev: TimelineEvent,
              seq: int) -> list[Notice]:
    """Who must act next after one event, told with a card of their own."""
    assert t.id is not None
    receiving, holding = _team(org, t.receiving_team), _team(org, t.holding_team)
    holders = _unique([*resolve(org, covers, t, Recipient.holding_manager, pack),
                       *resolve(org, covers, t, Recipient.holding_practitioner, pack)], (ev.actor,))
    receivers = _unique(resolve(org, covers, t, Recipient.receiving_manager, pack), (ev.actor,))

    def card(audience: tuple[str, ...], line: str, ref: str) -> list[Notice]:
        return ([Notice("card", f"e{seq}:{ev.kind}:{ref}", t.id, audience, (line,), ref=ref)]
                if audience else [])

    if ev.kind == "sign_off_override_asked":  # S2: the Group Manager is contacted
        level = str(ev.detail.get("level") or "")
        people = _unique(_holding_level(org, t, level), (ev.actor,))
        return card(people, f"{holding} requests this transfer before the Practice Manager's "
                            "sign-off: waiting may cause unnecessary delay for the child. "
                            f"{pack.level_label(level)}, please agree (the reason is on the card).",
                    "level")
    if ev.kind == "capacity_concern_raised" and pack.capacity is not None:
        level = str(ev.detail.get("level") or "")
        people = _unique(level_contacts(org, t, pack, level), (ev.actor,))
        return card(people, f"Capacity concern about a transfer from {holding} to {receiving}, for the "
                            f"{pack.level_label(level)}: the transfer goes ahead (capacity is no reason "
                            "to decline); look at allocation across the service area.", "capacity")
    if ev.kind == "date_agreed":  # BURY step 5: the other team's manager agrees or proposes again
        day = _day(str(ev.detail.get("agreed_date", "")))
        mine = "holding" if ev.detail.get("side") == "holding" else "receiving"
        other = (_unique(resolve(org, covers, t, Recipient.receiving_manager, pack), (ev.actor,))
                 if mine == "holding" else
                 _unique(resolve(org, covers, t, Recipient.holding_manager, pack), (ev.actor,)))
        team = holding if mine == "holding" else receiving
        if ev.detail.get("agreed"):
            return card(other, f"The transfer date {day} is agreed by both team managers "
                               f"({team} agreed it).", "date")
        return card(other, f"{team} proposes the transfer date {day}: please confirm it (Agree "
                           "transfer date), or propose another.", "date")
    if ev.kind == "capacity_concern_resolved":  # the person who raised the concern hears how
        raised = next((e for e in reversed(t.timeline) if e.kind == "capacity_concern_raised"), None)
        level = pack.level_label(str(ev.detail.get("level") or ""))
        raiser = _unique((raised.actor,) if raised and raised.actor != "baton" else (), (ev.actor,))
        return card(raiser, f"The {level} marked the capacity concern you raised as dealt with: "
                            f"{ev.reason or ''}", "capacity")
    if ev.kind == "sign_off_override_agreed":
        asked = t.last_event("sign_off_override_asked")
        who = pack.level_label(str(asked.detail.get("level", ""))) if asked else "senior manager"
        # S2: the Practice Manager, whose sign-off it goes around, hears of it too
        pms = _unique(resolve(org, covers, t, Recipient.holding_manager, pack), (ev.actor,))
        return card(receivers, f"The {who} agreed this request goes before the Practice Manager's "
                               "sign-off: your team may now decide.", "dm") + card(
            pms, f"The {who} agreed this request goes before your sign-off: {receiving} may now "
                 "decide.", "holding")
    if ev.kind == "requested":  # a heads up became the request
        return card(_unique(resolve(org, covers, t, Recipient.receiving_manager, pack)),
                    f"New transfer request: {holding} asks your team to take this case "
                    "(the early heads up is now the request).", "dm")
    if ev.kind == "declined":
        why = pack.reason_label(str(ev.detail.get("category"))) if ev.detail.get("category") else ""
        return card(holders, f"{receiving} declined this transfer" + (f" ({why})" if why else "")
                    + ". The holding team's manager may dispute the decline (Raise a dispute).",
                    "holding")
    if ev.kind == "work_requested":
        due = _day(str(ev.detail.get("due", "")))
        items = "; ".join(str(i) for i in ev.detail.get("items") or t.work_items)
        return card(holders, f"{receiving} asks {holding} for this work by {due}: {items}. "
                             "It never delays the transfer.", "holding")
    if ev.kind == "delay_recorded":
        # the rest of the holding team too: its Record delay reason button has gone
        told = _unique([*holders, *receivers, *_holding_senior(org, t, pack)], (ev.actor,))
        return card(told, f"{holding} recorded the reason for the delay and the actions in hand: "
                          "both are on this card.", "delay")
    if ev.kind == "extension_endorsed":
        until = _day(str(ev.detail.get("expected_by", "")))
        told = _unique([*holders, *receivers, *_holding_senior(org, t, pack)], (ev.actor,))
        return card(told, "Senior management endorsed the extension"
                    + (f": the transfer is now expected by {until}." if until != "-" else "."),
                    "endorsed")
    if ev.kind == "work_completed":
        return card(receivers, f"{holding} has done the work asked for.", "dm")
    if ev.kind == "allocated" and t.named_worker:
        out = card(_unique(holders, (t.named_worker,)),
                   f"{receiving} named the worker who will hold this case.", "holding")
        if t.named_worker != ev.actor:
            out += card((t.named_worker,), f"You are the named worker for this case in {receiving}.",
                        "worker")
        return out
    if ev.kind == "disputed" or (ev.kind == "escalated" and t.state in IN_DISPUTE):
        # whoever the obligation names decides: at the first rung both teams' managers (ROCH
        # "initially be managed between the responsible PM and the PM the case is to transfer
        # to"), above it the level holding the dispute
        first = pack.escalation.levels[0]
        level = t.escalation_level or first.name
        label = pack.level_label(level)
        why = f"Escalated to {label}"
        if ev.kind == "disputed":
            why = "The decline is disputed" if ev.from_state == "declined" else "A dispute is raised"
        if level == first.name:
            above = pack.escalation.above(level)
            return card(_unique([*resolve(org, covers, t, Recipient.holding_manager, pack),
                                 *receivers], (ev.actor,)),
                        f"{why}: the team managers ({label}, {holding} and {receiving}) decide it "
                        "together" + (f", or escalate it to the {above.label} if you cannot agree"
                                      if above else "") + ".", "decider")
        people = _unique(level_contacts(org, t, pack, level), (ev.actor,))
        return card(people, f"{why}: {label}, please decide the dispute.", "level")
    if ev.kind in ("accepted", "completed", "decided") and t.state not in AWAITING_DECISION:
        what = {"accepted": f"{receiving} accepted this transfer.",
                "completed": f"The transfer is complete: {receiving} now holds the case.",
                "decided": "The dispute is decided."}[ev.kind]
        if ev.kind == "decided":  # both sides of a dispute hear how it ended, whichever way
            return card(holders, what, "holding") + card(receivers, what, "receiving")
        return card(holders, what, "holding")
    return []
