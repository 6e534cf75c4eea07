"""Who may see, raise and act: the actor's roles on a transfer, visibility and cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot import access
from bot.domain import (
    DomainError,
    Transfer,
    local_date,
)
from bot.errors import NotPermitted
from bot.org import Actor, Org, Role
from bot.ports import (
    Cover,
    Read,
    UnitOfWork,
)
from bot.recipients import SYSTEM, effective_managers
from bot.usecases.common import load, transfer_deadlines


# ---- who is acting ---------------------------------------------------------------------------
def actor_for(uow: UnitOfWork, org: Org, t: Transfer, user: str, today: date) -> Actor:
    """The roles ``user`` holds on transfer ``t`` today, counting cover for managers on leave."""
    return actor_among(org, t, user, today, uow.covers.active_on(today))


def actor_among(org: Org, t: Transfer, user: str, today: date, covers: list[Cover]) -> Actor:
    """The roles ``user`` holds on transfer ``t`` today, given today's covers (read once by a
    caller that asks for many people, such as the sweep)."""
    if user == SYSTEM:
        return Actor(user, frozenset({Role.system}))
    covering_for = {c.manager for c in covers if c.cover == user}
    roles: set[Role] = set()
    hold, recv = org.team(t.holding_team), org.team(t.receiving_team)
    if user in hold.members or user == t.requested_by:
        roles.add(Role.holding_practitioner)
    if user in hold.managers or covering_for & set(hold.managers):
        roles.add(Role.holding_manager)
    if user in recv.managers or covering_for & set(recv.managers):
        roles.add(Role.receiving_manager)
    if user in recv.members:
        roles.add(Role.receiving_member)
    pack = org.pack_for(t.holding_team)
    for level in pack.escalation.levels[1:]:
        for team in (t.holding_team, t.receiving_team):
            contact = org.contact(team, level.name)
            if contact and user in contact.users:
                roles.add(Role.escalation)
                if team == t.holding_team:
                    roles.add(Role.holding_escalation)
    with_level = t.capacity_held()  # the capacity route's level a concern is with raises it on
    if with_level and any(user in c.users for team in (t.holding_team, t.receiving_team)
                          for c in [org.contact(team, with_level)] if c):
        roles.add(Role.capacity_level)
    if user in org.service_representatives_of(t.receiving_team, pack) and t.is_open and (
            after_pick_up_point(t, today) or not effective_managers(org, t.receiving_team, covers)):
        # ROCH: "a service representative will complete the allocation" once the pick-up point
        # has taken place; "Whereby arrangements have not been made for cover the receiving HOS
        # will intervene and allocate"
        roles.add(Role.service_representative)
    if user == t.requested_by:  # nobody decides a transfer they raised, whatever cover they hold
        roles -= {Role.receiving_manager, Role.escalation, Role.holding_escalation,
                  Role.service_representative}
    return Actor(user, frozenset(roles))


def after_pick_up_point(t: Transfer, today: date) -> bool:
    """Whether the transfer's pick-up point (its transfer point date) has come."""
    return t.transfer_point_date is not None and today >= t.transfer_point_date and t.is_open


def sees(uow: UnitOfWork, org: Org, t: Transfer, user: str, today: date) -> bool:
    """Whether ``user`` is on transfer ``t`` today (bot/access.py's rule, with cover and the
    escalation levels it reached)."""
    return _sees(org, t, user, today, uow.covers.active_on(today))


def _sees(org: Org, t: Transfer, user: str, today: date, covers: list[Cover]) -> bool:
    pack = org.pack_for(t.holding_team) if org.has_team(t.holding_team) else None
    levels = access.reached_levels(org, t, pack, covers, transfer_deadlines(org, t), today) if pack else set()
    return access.can_see(org, t, user, covers, levels=levels)


def record_read(uow: UnitOfWork, t: Transfer, user: str, surface: str, now: datetime, *,
                granted: bool = True) -> None:
    """Note that ``user`` read (or was refused) a transfer's details on ``surface``; the caller commits."""
    assert t.id is not None
    uow.reads.add(Read(t.id, t.case_ref, user, surface, granted, t.restricted, now))


def visible(uow: UnitOfWork, org: Org, user: str, now: datetime, *, case_ref: str | None = None,
            transfer_id: int | None = None, surface: str | None = None) -> Transfer:
    """The transfer if ``user`` may see it; otherwise NotVisible, the same answer as for an
    unknown case (a refused attempt on an existing one is recorded). With ``surface`` the read
    is recorded and committed."""
    ref = case_ref or ""  # a button or form for a transfer: never its internal number
    try:
        t = load(uow, case_ref=case_ref, transfer_id=transfer_id)
    except DomainError:
        raise access.NotVisible(ref) from None
    if not sees(uow, org, t, user, local_date(now)):
        record_read(uow, t, user, surface or "action", now, granted=False)
        uow.commit()
        raise access.NotVisible(ref)
    if surface is not None:
        record_read(uow, t, user, surface, now)
        uow.commit()
    return t


def _may_raise_from(uow: UnitOfWork, org: Org, user: str, team_id: str, today: date) -> bool:
    """Whether ``user`` belongs to the holding team: a member, a manager, or covering one of
    its managers today."""
    team = org.team(team_id)
    if user in team.members or user in team.managers:
        return True
    covering = {c.manager for c in uow.covers.active_on(today) if c.cover == user}
    return bool(covering & set(team.managers))


@dataclass(frozen=True)
class RaiseAccess:
    """What a person may do on the raise form of a team, told before they fill it in: a refusal
    (they cannot raise under this policy at all), whether they may sign off the checklist that
    gates the request, and a note saying what they cannot do."""

    refusal: str | None = None
    may_sign_off: bool = True
    note: str = ""


def raise_access(uow: UnitOfWork, org: Org, user: str, team_id: str, today: date, *,
                 heads_up: bool = False) -> RaiseAccess:
    """Whether ``user`` may raise from ``team_id`` under its pack, before they fill in the form:
    where a checklist only the holding team's managers sign off gates the request (BURY: "The
    case should not be placed on the transfer list ... unless an audit has been completed"), only
    those managers can raise; where the pack lets a ladder level agree instead (S2: "where this
    may cause unnecessary delay for a child the Group Manager will be contacted"), others may
    raise with that reason."""
    pack, team = org.pack_for(team_id), org.team(team_id)
    covering = {c.manager for c in uow.covers.active_on(today) if c.cover == user}
    manager = user in team.managers or bool(covering & set(team.managers))
    gates = [cl for cl in pack.gating("request") if cl.confirmed_by == "holding_manager"]
    if heads_up or manager or not gates:
        return RaiseAccess()
    role = pack.escalation.levels[0].label
    blocking = next((cl for cl in gates if not cl.override_by), None)
    if blocking is not None:
        return RaiseAccess(refusal=(
            f"Under the {pack.title} policy only {team.name}'s {role} can raise a transfer: "
            f"the {blocking.label[:1].lower() + blocking.label[1:]} must be signed off first, and "
            "only they can sign it off. Ask them to raise it."), may_sign_off=False)
    cl = gates[0]
    return RaiseAccess(may_sign_off=False, note=(
        f"Only {team.name}'s {role} can sign off the checklist ({cl.label}). Raise this now only "
        f"if waiting {cl.override_when}: give that reason, and the "
        f"{pack.level_label(cl.override_by or '')} is asked to agree."))


def _home_team(org: Org, user: str, holding_team: str | None) -> str:
    if holding_team:
        org.team(holding_team)
        return holding_team
    teams = org.teams_of(user)
    if not teams:
        raise DomainError(
            "You are not in any team in Baton's org file, so Baton cannot tell which team holds "
            "the case. Ask your administrator to add you."
        )
    return teams[0].id


# ---- cover ---------------------------------------------------------------------------------
def _may_cover(org: Org, manager: str, cover: str) -> bool:
    """Cover is a manager of a team in the org file, or a member of a team ``manager`` manages."""
    if org.managed_by(cover):
        return True
    return any(cover in t.members for t in org.managed_by(manager))


def set_cover(uow: UnitOfWork, org: Org, manager: str, cover: str | None, until: date,
              now: datetime, *, starts_on: date | None = None) -> Cover:
    """A manager names who covers them until a date (None: escalate one level up instead)."""
    if not org.managed_by(manager):
        raise DomainError("Only team managers can set cover; you do not manage a team in Baton.")
    start = starts_on or local_date(now)
    if until < start:
        raise DomainError(f"The cover end date {until.isoformat()} is before {start.isoformat()}.")
    if cover == manager:
        raise DomainError("Name a colleague other than yourself to cover.")
    if cover is not None and not _may_cover(org, manager, cover):
        raise NotPermitted("Name as cover a manager in Baton's org file, or a member of a team you "
                           "manage; nobody else can take your decisions.", field="cover")
    c = Cover(manager=manager, cover=cover, starts_on=start, ends_on=until)
    uow.covers.add(c, now)
    uow.commit()
    return c


def load_for_action(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime) -> Transfer:
    """The transfer a typed step (``/transfer complete X123456``) is about, if ``user`` is on it."""
    return visible(uow, org, user, now, case_ref=case_ref)


def transfer_and_actor(uow: UnitOfWork, org: Org, transfer_id: int, user: str,
                       today: date) -> tuple[Transfer, Actor]:
    """A transfer and what ``user`` is on it today (for deciding which forms they may open)."""
    t = load(uow, transfer_id=transfer_id)
    return t, actor_for(uow, org, t, user, today)
