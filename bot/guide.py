"""Help for its reader: the commands and steps of the reader's own policy and role first, the
rest behind "more". Platform-neutral: Slack prefixes "/transfer ", Teams "transfer ".

Pure: reads the org file and the catalogue only.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import access, actions, views
from bot.org import Org, Role
from bot.policy import PolicyPack


@dataclass(frozen=True)
class Entry:
    """One line of help: what to type after the command word, and what it does."""

    usage: str  # e.g. "status CASE"
    words: str
    teams_usage: str | None = None  # where Teams is typed differently (people by work e-mail)
    slack_place: str | None = None  # on Slack a place to open rather than a command (the Home tab)

    def typed(self, platform: str) -> str:
        """The usage as typed on ``platform`` ("slack" or "teams")."""
        return self.teams_usage if platform == "teams" and self.teams_usage else self.usage


@dataclass(frozen=True)
class Help:
    """What one reader sees: who Baton takes them to be, their own lines, then the rest."""

    reader: str  # e.g. "practitioner in North PDU, under the Probation ... policy"
    yours: tuple[Entry, ...]
    more: tuple[Entry, ...]


NEW = Entry("new", "raise a transfer request")
HEADSUP = Entry("headsup", "give an early heads up")
LIST = Entry("list [mine|team|overdue]",
             "transfers (and case record duties) you are on, your teams', or overdue ones")
STATUS = Entry("status CASE", "where a transfer stands, its next deadline and what you can do")
HISTORY = Entry("history CASE", "who did what, and when")
COVER = Entry("cover @user until YYYY-MM-DD", "a colleague covers your transfers while you are away",
              teams_usage="cover colleague@your.org until YYYY-MM-DD")
HOME = Entry("home", "what waits on you, what is overdue, your teams' transfers",
             slack_place="Baton's Home tab")
AGENDA = Entry("agenda", "cases ready for the transfer meeting, with their checklists")
LASTTEAM = Entry("lastteam CASE", "which team held a case last, for a re-referral")
CLOSED = Entry("closed CASE [YYYY-MM-DD] [team]", "record that a case closed: re-referral windows run "
               "from it")
EXPORT = Entry("export [FROM] [TO]", "a CSV of the period's transfers in your chat")
ROUTE = Entry("route [CIRCUMSTANCE] [CASE|YYYY-MM-DD]", "whose case is it: the team and point the policy "
              "names (raises nothing)")
RECORD = Entry("record CASE KIND YYYY-MM-DD [HH:MM] [END-DATE]", "record what starts a policy clock with "
               "or without a transfer (an accommodation, an order's end, a date of birth, an urgent "
               "viability referral ...); record done CASE KIND when its duty is met; record CASE "
               "says what a case's records owe")
HELP = Entry("help", "this list")
EVERY = (NEW, HEADSUP, LIST, STATUS, HISTORY, COVER, HOME, ROUTE, RECORD, AGENDA, LASTTEAM, CLOSED, EXPORT,
         HELP)
WHO = {HEADSUP: "policies that have one", AGENDA: "managers", LASTTEAM: "managers and front-door teams",
       CLOSED: "managers", EXPORT: "report readers", NEW: "team members and managers",
       COVER: "team members and managers", ROUTE: "children's services",
       RECORD: "team members and managers, where their policy has case records"}


def _roles(org: Org, user: str) -> tuple[set[Role], str]:
    """The roles ``user`` can hold on some transfer, and their role in words."""
    roles: set[Role] = set()
    words: list[str] = []
    managed = org.managed_by(user)
    member = [t for t in org.teams_of(user) if user in t.members]
    if managed:
        roles |= {Role.holding_manager, Role.receiving_manager}
        words.append("manager of " + ", ".join(t.name for t in managed))
    if member:
        roles |= {Role.holding_practitioner, Role.receiving_member}
        label = org.pack_for(member[0].id).practitioner_label
        words.append(f"{label} in " + ", ".join(t.name for t in member))
    if any(user in t.service_representatives for t in org.teams):
        roles.add(Role.service_representative)
        words.append("service representative")
    levels = org.escalation_levels_of(user)
    if levels:
        roles |= {Role.escalation, Role.holding_escalation, Role.capacity_level}
        names = sorted({p.level_label(lv) for p in _packs(org, user) for lv in levels} or levels)
        words.append("escalation contact (" + ", ".join(names) + ")" if len(names) < 3
                     else "escalation contact")
    if user in org.auditors:
        words.append("auditor")
    if user in org.report_readers:
        words.append("report reader")
    return roles, "; ".join(words) or "not in a team"


def _packs(org: Org, user: str) -> list[PolicyPack]:
    """The policies the reader works under: their teams' packs, else (an escalation contact
    named for the whole org) every pack with a level they hear."""
    packs = {t.id: org.pack_for(t.id) for t in org.teams_of(user)}
    if not packs:
        levels = org.escalation_levels_of(user)
        packs = {t.id: org.pack_for(t.id) for t in org.teams
                 if any(lv in levels for lv in (x.name for x in org.pack_for(t.id).escalation.levels))}
    once: dict[str, PolicyPack] = {}
    for p in packs.values():
        once.setdefault(p.name, p)  # each policy once, in the order first met
    return list(once.values())


def _step(a: actions.Action, *, who: bool) -> Entry:
    usage = f"{a.name.replace('_', '-')} CASE"
    return Entry(usage, a.label + (f": {actions.who_can(a)}" if who else ""))


def for_reader(org: Org, user: str) -> Help:
    """Help for ``user``: their commands and their policy's steps for their role first."""
    roles, role_words = _roles(org, user)
    packs = _packs(org, user)
    in_team = bool(org.teams_of(user))
    commands: list[Entry] = []
    if in_team:
        commands.append(NEW)
        if any(p.early_heads_up for p in packs):
            commands.append(HEADSUP)
    commands += [LIST, STATUS, HISTORY]
    if in_team:
        commands.append(COVER)
    commands.append(HOME)
    if any(p.routing is not None for p in packs):
        commands.append(ROUTE)
    if in_team and any(p.case_records for p in packs):
        commands.append(RECORD)
    if org.managed_by(user):
        commands += [AGENDA, CLOSED]
    if access.may_ask_last_team(org, user):
        commands.append(LASTTEAM)
    if access.may_export(org, user):
        commands.append(EXPORT)
    steps = [a for a in actions.CATALOGUE
             if set(a.roles) & roles and any(actions.applies_to(a, p) for p in packs)]
    yours = [*commands, *(_step(a, who=False) for a in steps), HELP]
    more = [Entry(e.usage, f"{e.words}: {WHO[e]}" if e in WHO else e.words, e.teams_usage, e.slack_place)
            for e in EVERY if e not in yours]
    more += [_step(a, who=True) for a in actions.CATALOGUE if a not in steps]
    reader = role_words + (f", under {views.policy_named(packs[0].title)}" if len(packs) == 1 else "")
    return Help(reader=reader, yours=tuple(yours), more=tuple(more))
