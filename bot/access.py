"""Who may see a transfer: one rule, from the org file, for every surface on every platform.

The people on a transfer are the holding and receiving teams' managers and members, whoever
covers one of those managers on the days they cover, the person who raised it, its named worker,
the escalation contacts of its two teams at the levels it has reached (and the capacity route's
levels a capacity concern reached), the receiving team's service representatives (Rochdale), and
the org's auditors.
A *restricted* transfer narrows that to the people named on it: its teams' managers (and their
cover), who raised it, its named worker, the escalation levels it reached and the auditors; its
teams' other members do not see it. Anyone on its *excluded* list never sees it or hears of it.

Everyone else gets the same answer for an existing case as for an unknown one
(:data:`NOT_VISIBLE`), so case references cannot be probed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol

from bot.clocks import Deadline
from bot.errors import DomainError
from bot.org import Org
from bot.policy import PolicyPack
from bot.recipients import SYSTEM, Cover, effective_managers
from bot.states import IN_DISPUTE

NOT_VISIBLE = "No transfer you can see has the reference {ref}."
STRANGER = "Baton does not know you: ask your administrator to add you to the org file."


NOT_VISIBLE_ANY = "No transfer you can see matches that button or form."


class NotVisible(DomainError):
    """The person may not see the transfer (or it does not exist): the same answer either way."""

    def __init__(self, ref: str) -> None:
        shown = "".join(ch for ch in ref.strip().upper() if ch.isprintable())[:40]  # never a NUL
        super().__init__(NOT_VISIBLE.format(ref=shown) if shown else NOT_VISIBLE_ANY)
        self.ref = ref


class OnTransfer(Protocol):
    """What the rule reads from a transfer (a whole Transfer or a list's summary row)."""

    @property
    def holding_team(self) -> str: ...
    @property
    def receiving_team(self) -> str: ...
    @property
    def requested_by(self) -> str: ...
    @property
    def named_worker(self) -> str | None: ...
    @property
    def restricted(self) -> bool: ...
    @property
    def excluded(self) -> tuple[str, ...]: ...


def reached_levels(org: Org, t: OnTransfer, pack: PolicyPack, covers: Iterable[Cover],
                   deadlines: Iterable[Deadline] = (), today: date | None = None) -> set[str]:
    """Escalation levels (above the team managers) a transfer has reached: those up to its
    current level; the next one while a clock is due or past (a breach tells it) or a decline
    is disputed (the dispute is put to it); the first
    one when a team's managers are all away with no cover (their notices go there); the level
    asked to agree a request sent before its checklist's sign-off (S2's Group Manager)."""
    levels = [lv.name for lv in pack.escalation.levels]
    current = getattr(t, "escalation_level", None) or levels[0]
    top = levels.index(current) if current in levels else 0
    disputed = getattr(t, "state", None) in IN_DISPUTE and current == levels[0]
    due = today is not None and any(d.status.value == "running" and today >= d.due_on for d in deadlines)
    if disputed or due:  # a dispute, like a breach, is put to the level above
        top += 1
    reached = set(levels[1:top + 1])
    covers = list(covers)
    teams = [x for x in (t.holding_team, t.receiving_team) if org.has_team(x)]
    if len(levels) > 1 and any(not effective_managers(org, x, covers) for x in teams):
        reached.add(levels[1])
    last_event = getattr(t, "last_event", None)  # S2: the level asked to agree a request
    asked = last_event("sign_off_override_asked") if last_event else None  # before sign-off
    if asked is not None and asked.detail.get("level") in levels:
        reached.add(str(asked.detail["level"]))
    if pack.capacity is not None and last_event is not None:  # the capacity route's levels told
        route = [lv.name for lv in pack.capacity.levels]
        level = getattr(t, "capacity_level", lambda: None)()
        if level in route:
            reached |= set(route[:route.index(level) + 1])
    if pack.service_representatives is not None and today is not None:  # ROCH: after the pick-up
        point = getattr(t, "transfer_point_date", None)  # point the receiving HoS may allocate
        if point is not None and today >= point:
            reached |= set(pack.service_representatives.levels)
    return reached


def can_see(org: Org, t: OnTransfer, user: str, covers: Iterable[Cover], *,
            levels: Iterable[str] = ()) -> bool:
    """Whether ``user`` is on the transfer (see the module's rule); ``levels`` are the escalation
    levels it reached (:func:`reached_levels`)."""
    if user == SYSTEM:
        return True
    if user in t.excluded:
        return False
    if user in org.auditors or user in (t.requested_by, t.named_worker):
        return True
    if any(ev.actor == user for ev in getattr(t, "timeline", ())):
        return True  # whoever took a step on it (a decider) keeps a readable card of it
    teams = [org.team(x) for x in (t.holding_team, t.receiving_team) if org.has_team(x)]
    managers = {m for team in teams for m in team.managers}
    covering_for = {c.manager for c in covers if c.cover == user}
    if user in managers or covering_for & managers:
        return True
    if not t.restricted and any(user in team.members for team in teams):
        return True
    if not t.restricted and org.has_team(t.receiving_team) and \
            user in org.team(t.receiving_team).service_representatives:
        return True  # ROCH: they may complete the allocation when the receiving manager cannot;
        # a restricted case only the people the README lists (managers, cover, raiser, worker,
        # the levels reached, auditors) see
    buddy = org.team(t.receiving_team).buddy if org.has_team(t.receiving_team) else None
    if not t.restricted and buddy and (user in org.team(buddy).managers or covering_for & set(
            org.team(buddy).managers)):
        return True  # ROCH: the locality buddy hears of it early
    for level in levels:
        for team in (t.holding_team, t.receiving_team):
            contact = org.contact(team, level) if org.has_team(team) else None
            if contact is not None and user in contact.users:
                return True
    return False


def left_without_managers(org: Org, t: OnTransfer, excluded: Iterable[str]) -> list[str]:
    """The names of a transfer's teams whose managers would all be excluded, leaving nobody to
    act for that team (decide, confirm, complete); empty when everyone may be excluded."""
    out = set(excluded)
    return [org.team(x).name for x in dict.fromkeys((t.holding_team, t.receiving_team))
            if org.has_team(x) and set(org.team(x).managers) <= out]


def may_ask_last_team(org: Org, user: str) -> bool:
    """``/transfer lastteam``: team managers, and members of teams the org marks as a front door
    (routing a re-referral is their job), and auditors."""
    return bool(org.managed_by(user)) or user in org.auditors or any(
        t.front_door for t in org.teams_of(user))


def may_export(org: Org, user: str) -> bool:
    """Export from chat: only the people the org file names as report readers (and auditors)."""
    return user in org.report_readers or user in org.auditors


def brief(t: OnTransfer) -> bool:
    """Whether messages about the transfer carry the case reference and the action only."""
    return t.restricted


def is_channel(chat_id: str) -> bool:
    """Whether a chat id is a channel (Slack C.../G..., Teams 19:...@thread...) rather than a person."""
    return chat_id[:1] in ("C", "G") or chat_id.startswith("19:")


def audience(t: OnTransfer, ids: Iterable[str]) -> tuple[str, ...]:
    """Of the people and channels a notice would go to, those it may: never an excluded person,
    and no channel at all for a restricted transfer."""
    return tuple(i for i in ids if i not in t.excluded and not (t.restricted and is_channel(i)))


def brief_line(case_ref: str, what: str) -> str:
    """What a message about a restricted transfer says: the case reference and the action only."""
    return f"{case_ref}: {what}."
