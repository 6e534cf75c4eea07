"""Reading transfers: lists, App Home, the agenda, a case's status and history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bot import access, actions, views
from bot.domain import (
    DomainError,
    State,
    Transfer,
    local_date,
)
from bot.org import Org
from bot.ports import (
    TransferSummary,
    UnitOfWork,
)
from bot.usecases.access import _sees, actor_for, visible
from bot.usecases.common import transfer_deadlines
from bot.usecases.record_lists import RecordDuty, record_duties
from bot.usecases.steps import card_for


# ---- lists ------------------------------------------------------------------------------------
def list_transfers(uow: UnitOfWork, *, today: date, overdue: bool = False,
                   teams: Iterable[str] | None = None, limit: int | None = None) -> list[TransferSummary]:
    """Open transfers, first due first; only the overdue ones when asked."""
    return uow.transfers.summaries(overdue_on=today if overdue else None, teams=teams, limit=limit)


def _seen(uow: UnitOfWork, org: Org, user: str, today: date,
          rows: list[TransferSummary]) -> list[TransferSummary]:
    """Of a team list, the rows ``user`` is on (restricted and excluded ones drop out)."""
    covers = uow.covers.active_on(today)
    return [r for r in rows if access.can_see(org, r, user, covers)]


def list_for(uow: UnitOfWork, org: Org, user: str, scope: str, today: date) -> list[TransferSummary]:
    """/transfer list: 'mine' (raised by me, allocated to me, or in a team I manage), 'team'
    (every open transfer of my teams) or 'overdue' (my teams' transfers past a deadline)."""
    if scope not in ("mine", "team", "overdue"):
        raise DomainError(f"Unknown list {scope!r}: use mine, team or overdue.")
    teams = [t.id for t in org.teams_of(user)]
    rows = _seen(uow, org, user, today,
                 list_transfers(uow, today=today, overdue=scope == "overdue", teams=teams or [""]))
    above = reached_me(uow, org, user, today, overdue=scope == "overdue")
    known = {r.id for r in rows}
    rows += [r for r in above if r.id not in known]
    if scope != "mine":
        return rows
    managed = {t.id for t in org.managed_by(user)}
    return [r for r in rows if user in (r.requested_by, r.named_worker)
            or r.receiving_team in managed or r.holding_team in managed or r.id in {x.id for x in above}]


def escalation_teams(org: Org, user: str) -> list[str]:
    """Teams whose escalation ladder names ``user`` at a level above the team managers."""
    out = []
    for team in org.teams:
        pack = org.pack_for(team.id)
        for level in pack.escalation.levels[1:]:
            c = org.contact(team.id, level.name)
            if c is not None and user in c.users:
                out.append(team.id)
                break
    return out


def reached_me(uow: UnitOfWork, org: Org, user: str, today: date, *,
               overdue: bool = False) -> list[TransferSummary]:
    """Open transfers that reached ``user``'s escalation level (an escalation contact's list and
    App Home); only the overdue ones when asked."""
    teams = escalation_teams(org, user)
    if not teams:
        return []
    rows = list_transfers(uow, today=today, overdue=overdue, teams=teams)
    loaded = uow.transfers.get_many([r.id for r in rows])  # in two statements, not two a row
    covers = uow.covers.active_on(today)
    return [r for r in rows if (t := loaded.get(r.id)) is not None and _sees(org, t, user, today, covers)]


RECENT_DECLINES_DAYS = 28  # a declined case stays in its holding team's App Home this long


def home_lists(uow: UnitOfWork, org: Org, user: str, today: date
               ) -> tuple[list[TransferSummary], list[TransferSummary]]:
    """App Home: (outbound transfers of the user's teams, inbound ones of the teams they manage)."""
    mine = [t.id for t in org.teams_of(user)]
    managed = {t.id for t in org.managed_by(user)}
    rows = _seen(uow, org, user, today, list_transfers(uow, today=today, teams=mine)) if mine else []
    since = today - timedelta(days=RECENT_DECLINES_DAYS)
    declined = [r for r in uow.transfers.summaries(  # the recent ones only, not years of history
                teams=sorted(managed), open_only=False, state=State.declined.value,
                closed_since=datetime(since.year, since.month, since.day, tzinfo=UTC) - timedelta(days=1))
                if r.holding_team in managed and r.closed_at is not None
                and local_date(r.closed_at) >= since] if managed else []
    declined = _seen(uow, org, user, today, declined)
    return ([r for r in rows if r.holding_team in mine] + declined,
            [r for r in rows if r.receiving_team in managed])


@dataclass(frozen=True)
class HomeLists:
    """A person's App Home: what waits on them (with their buttons), and their teams' transfers."""

    waiting: list[tuple[TransferSummary, tuple[views.Button, ...]]]
    outbound: list[TransferSummary]
    inbound: list[TransferSummary]
    escalated: list[TransferSummary] = field(default_factory=list)
    records: list[RecordDuty] = field(default_factory=list)  # their teams' case record duties


HOME_LOOK_AT = 40  # transfers, first due first, checked for actions waiting on the person


def home(uow: UnitOfWork, org: Org, user: str, now: datetime) -> HomeLists:
    """App Home: the transfers on which ``user`` may act now (first due first), the outbound
    and inbound transfers of their teams, and their teams' open case record duties."""
    today = local_date(now)
    outbound, inbound = home_lists(uow, org, user, today)
    escalated = reached_me(uow, org, user, today)
    seen: set[int] = set()
    candidates = []
    for r in sorted([*inbound, *outbound, *escalated], key=lambda r: (r.due_on or date.max, r.id)):
        if r.id not in seen:
            seen.add(r.id)
            candidates.append(r)
    waiting = []
    for r in candidates[:HOME_LOOK_AT]:
        t = uow.transfers.get(r.id)
        if t is None:
            continue
        offered = actions.available(t, actor_for(uow, org, t, user, today), org.pack_for(t.holding_team),
                                    clocks=transfer_deadlines(org, t), today=today)
        if offered:
            waiting.append((r, views.buttons(t, offered)))
    return HomeLists(waiting=waiting, outbound=outbound, inbound=inbound, escalated=escalated,
                     records=record_duties(uow, org, user, "team", now))


def status_card(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime) -> views.Card:
    """/transfer status: the case's card as ``user`` sees it, with the buttons they may press
    (brief for a restricted case, even to the people on it); the read is recorded. NotVisible
    for a case they are not on, as for an unknown one."""
    t = visible(uow, org, user, now, case_ref=case_ref, surface="status")
    return card_for(uow, org, t, user, now, brief=t.restricted)


def history(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime) -> Transfer:
    """/transfer history: the transfer with its timeline, if ``user`` is on it; the read is
    recorded (a renderer shows :func:`views.history_events`, trimmed for a restricted case)."""
    return visible(uow, org, user, now, case_ref=case_ref, surface="history")


def agenda(uow: UnitOfWork, org: Org, user: str, today: date
           ) -> list[tuple[Transfer, list[tuple[str, int, int]]]]:
    """Cases ready for the transfer meeting in the user's teams: open and not yet accepted,
    first transfer point first, each with its checklists' confirmed/total counts."""
    teams = [t.id for t in org.teams_of(user)]
    rows = _seen(uow, org, user, today, uow.transfers.summaries(teams=teams or [""], open_only=True))
    out: list[tuple[Transfer, list[tuple[str, int, int]]]] = []
    for r in rows:
        if r.state not in (State.heads_up, State.requested, State.under_assessment,
                           State.disputed, State.escalated):
            continue
        t = uow.transfers.get(r.id)
        if t is None:
            continue
        pack = org.pack_for(t.holding_team)
        lists = [(cl.label, sum(1 for i in cl.items_for(t.kind) if i.id in t.checklist.get(cl.id, {})),
                  len(cl.items_for(t.kind)))
                 for cl in pack.checklists if not cl.kinds or t.kind in cl.kinds]
        out.append((t, lists))
    out.sort(key=lambda x: (x[0].transfer_point_date or date.max, x[0].case_ref))
    return out
