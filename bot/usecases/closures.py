"""Closures and re-referrals: recording a closure and answering which team last held a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot import remit
from bot.domain import (
    DomainError,
    State,
    Transfer,
    local_date,
    validate_case_ref,
)
from bot.errors import NotPermitted
from bot.org import Org, UnknownTeam
from bot.policy import PolicyPack
from bot.ports import (
    Closure,
    UnitOfWork,
)
from bot.usecases.common import case_key


def last_team_for(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime) -> LastTeam:
    """/transfer lastteam for ``user`` (who is told what: :func:`bot.remit.last_team_for`)."""
    return remit.last_team_for(uow, org, user, case_ref, now)


def last_team(uow: UnitOfWork, case_ref: str) -> Transfer | None:
    """The latest closed transfer of a case: who held it last and when it closed."""
    return uow.transfers.last_closed_by_case(case_key(case_ref))


def record_closure(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime, *,
                   team: str | None = None, on: date | None = None, cli: bool = False) -> Closure:
    """A case closed with a team (``/transfer closed CASE``, ``baton closed``, an import row): the
    re-referral windows run from this day (BURY, LEICS), never from a transfer's completion.
    From chat only a manager of the team (or their cover) records it; the CLI names the team."""
    today = local_date(now)
    day = on or today
    if day > today:
        raise DomainError(f"The closing date {day.isoformat()} is in the future.", field="closed_on")
    raw = case_key(case_ref)
    latest = uow.transfers.latest_by_case(raw) if raw.isascii() and raw.isprintable() else None
    if team is None and not cli:
        managed = [t.id for t in org.managed_by(user)]
        holder = None
        if latest is not None:
            holder = latest.receiving_team if latest.state == State.completed else latest.holding_team
        if holder in managed:
            team = holder
        elif len(managed) == 1:
            team = managed[0]
        elif not managed:
            raise NotPermitted("Only team managers can record that a case closed.")
        else:
            raise DomainError("You manage several teams: say which, e.g. "
                              f"`/transfer closed CASE {managed[0]}`.", field="team")
    if team is None:
        raise DomainError("Say which team closed the case (--team).", field="team")
    try:
        team = org.find_team(team).id  # typed by its id or its name
    except UnknownTeam as exc:
        raise DomainError(f"There is no such team in Baton's org file: {exc}.", field="team") from None
    if not cli and not _manages(uow, org, user, team, today):
        raise NotPermitted(f"Only the managers of {org.team(team).name} (or their cover) can record "
                           "that a case it holds closed; nothing has changed.")
    ref = validate_case_ref(case_ref, org.pack_for(team))
    open_t = uow.transfers.get_open_by_case(ref)
    if open_t is not None:
        raise DomainError(f"{ref} has an open transfer; complete or withdraw it before recording "
                          "that the case closed.", field="case_ref")
    c = Closure(ref, team, day, user, now)
    uow.closures.add(c)
    uow.commit()
    return c


def _manages(uow: UnitOfWork, org: Org, user: str, team: str, today: date) -> bool:
    managers = set(org.team(team).managers)
    covering = {c.manager for c in uow.covers.active_on(today) if c.cover == user}
    return user in managers or bool(covering & managers)


@dataclass(frozen=True)
class LastTeam:
    """Who held a case last, when it closed, and whether a re-referral goes back to them."""

    case_ref: str
    team: str
    closed_on: date | None  # None: Baton has no record that the case closed
    goes_back: bool | None  # None when no re-referral rule applies (no closure, or no rule)
    rule: str
    last_day: date | None = None  # the window's last day, which counts
    # the pack's other windows from the closure (LEICS' 3 years: S7/S37, private law), in words,
    # and those from another day (repeat pregnancy: the proceedings' end), with how to ask them
    windows: tuple[tuple[str, str], ...] = ()  # (words, the route command that answers it)


def rereferral_window(pack: PolicyPack, closed: date) -> tuple[date, str] | None:
    """The last day a re-referral goes back to the team that closed the case, inclusive (BURY
    "within 12 weeks", LEICS "closed for less than 3 months"), and the rule in words."""
    from bot.calendar import add_months

    if pack.rereferral_weeks:
        return closed + timedelta(weeks=pack.rereferral_weeks), f"{pack.rereferral_weeks} weeks"
    if pack.rereferral_months:
        return add_months(closed, pack.rereferral_months), f"{pack.rereferral_months} months"
    return None


def last_team_answer(uow: UnitOfWork, org: Org, case_ref: str, today: date) -> LastTeam | None:
    """Answer "who held this case last?": from the case's latest closure record, with the
    pack's re-referral window; without one (or when a transfer was requested since), the team
    of the latest transfer, with no window."""
    ref = case_key(case_ref)
    closure = uow.closures.latest(ref)
    t = uow.transfers.latest_by_case(ref)
    if closure is not None and (t is None or t.requested_on is None
                                or t.requested_on <= closure.closed_on):
        pack = org.pack_for(closure.team) if org.has_team(closure.team) else None
        window = rereferral_window(pack, closure.closed_on) if pack else None
        if window is None:
            return LastTeam(ref, closure.team, closure.closed_on, None, "")
        last_day, rule = window
        return LastTeam(ref, closure.team, closure.closed_on, today <= last_day, rule, last_day)
    if t is None:
        return None
    team = t.receiving_team if t.state == State.completed else t.holding_team
    return LastTeam(ref, team, None, None, "")
