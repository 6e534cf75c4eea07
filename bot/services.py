"""Use cases: one function per command, each in one unit of work.

Every function takes the unit of work, the org, the acting user's Slack id and ``now``
(time is a parameter). Errors a user can fix are :class:`~bot.domain.DomainError` with a
message in plain words; nothing is written unless the whole step succeeds.
"""

from __future__ import annotations

import csv
import io
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot import access, actions, duties, notices, pickers, remit, teampick, views
from bot import commands as cmd
from bot.calendar import WorkingCalendar, calendar_for
from bot.clocks import Deadline, deadlines, first_step_on
from bot.domain import (
    LIVE,
    STATE_LABELS,
    UK_TIME,
    DomainError,
    State,
    TimelineEvent,
    Transfer,
    local_date,
    new_transfer,
    validate_case_ref,
)
from bot.errors import FormErrors, NotPermitted
from bot.org import Actor, Org, Role, UnknownTeam
from bot.policy import PolicyPack
from bot.ports import (
    AlreadySubmitted,
    Chat,
    ChatError,
    ChatUncertain,
    Closure,
    Cover,
    DuplicateOpenTransfer,
    Read,
    StaleTransfer,
    TransferSummary,
    UnitOfWork,
)
from bot.recipients import SYSTEM, effective_managers
from bot.reports import ReportRow, Summary, rag, summarise, working_days_to_resolution
from bot.states import states_text

log = logging.getLogger("baton.services")

__all__ = ["SYSTEM", "Role", "effective_managers"]


def calendar(org: Org) -> WorkingCalendar:
    """The working-day calendar of the org: its region's bank holidays and its closure days."""
    return calendar_for(org.region, org.closure_items())


def _deadlines(org: Org, t: Transfer) -> list[Deadline]:
    pack, cal = org.pack_for(t.holding_team), calendar(org)
    return [replace(d, next_step_on=first_step_on(d, pack, cal)) for d in deadlines(t, pack, cal)]


def stored_deadlines(org: Org, t: Transfer) -> list[Deadline]:
    """The clocks of a transfer as the store keeps them, with the date a sweep next looks."""
    return _deadlines(org, t)


def transfer_deadlines(org: Org, t: Transfer) -> list[Deadline]:
    """The clocks running (or stopped) on a transfer."""
    return _deadlines(org, t)


# ---- who is acting ---------------------------------------------------------------------------
def actor_for(uow: UnitOfWork, org: Org, t: Transfer, user: str, today: date) -> Actor:
    """The roles ``user`` holds on transfer ``t`` today, counting cover for managers on leave."""
    if user == SYSTEM:
        return Actor(user, frozenset({Role.system}))
    covers = uow.covers.active_on(today)
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
    levels = access.reached_levels(org, t, pack, covers, _deadlines(org, t), today) if pack else set()
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


def _open_conflict(uow: UnitOfWork, case_ref: str, org: Org | None = None) -> DomainError:
    other = uow.transfers.get_open_by_case(case_ref)
    if other is None:
        return DomainError(f"{case_ref} already has an open transfer.", field="case_ref")
    return DomainError(
        f"{case_ref} already has an open transfer ({views.team_name(org, other.holding_team)} → "
        f"{views.team_name(org, other.receiving_team)}, {STATE_LABELS[other.state].lower()}). "
        "Withdraw or complete it before raising another.", field="case_ref"
    )


def write_notices(uow: UnitOfWork, org: Org, t: Transfer, events: list[TimelineEvent],
                  now: datetime, *, not_before: datetime | None = None) -> int:
    """Write the notices ``events`` call for to the outbox, in the caller's transaction."""
    pack = org.pack_for(t.holding_team)
    covers = uow.covers.active_on(local_date(now))
    written = 0
    for n in notices.for_change(org, pack, covers, t, events):
        rows = uow.add_notice(n, now=now, not_before=not_before or now)
        if rows:
            log.info("notice_written", extra={"transfer_id": t.id, "notice": n.kind, "rows": rows})
        written += rows
    return written


class AlreadySaved(Exception):
    """This very submission (the same form sent again: a second click, a replay, a retry after
    the answer was lost) was saved already; nothing more was applied. Answer it as saved."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _once_per(uow: UnitOfWork, token: str | None) -> None:
    """Refuse a submission already saved (checked first, and again by the store at commit)."""
    if token and uow.submitted(token):
        raise AlreadySaved(token)


def _commit(uow: UnitOfWork, org: Org, t: Transfer, now: datetime, *, new: bool = False,
            token: str | None = None) -> None:
    """Store the change and the notices it calls for in one transaction (with the submission's
    token, so the same submission is applied at most once)."""
    ds = _deadlines(org, t)
    events = list(t.new_events)
    if token:
        try:
            uow.record_submission(token, now)
        except AlreadySubmitted:
            uow.rollback()
            raise AlreadySaved(token) from None
    try:
        if new:
            uow.transfers.add(t, ds)
        else:
            uow.transfers.save(t, ds)
    except DuplicateOpenTransfer as exc:
        uow.rollback()
        raise _open_conflict(uow, t.case_ref, org) from exc
    write_notices(uow, org, t, events, now)
    uow.commit()
    log.info("transfer_saved", extra={"transfer_id": t.id, "state": str(t.state),
                                      "events": [e.kind for e in events]})


# ---- raising -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RaiseRequest:
    """What a practitioner fills in to raise a transfer or give a heads up."""

    case_ref: str
    receiving_team: str
    kind: str = "permanent"
    holding_team: str | None = None
    transfer_point: str | None = None
    transfer_point_date: date | None = None
    move_date: date | None = None
    move_end_date: date | None = None  # probation: the end the responsible officer set
    order_date: date | None = None  # probation: the unpaid work order's date
    accommodated_on: date | None = None  # BURY S20: the date the child was accommodated
    flags: tuple[str, ...] = ()
    linked_refs: tuple[str, ...] = ()
    siblings_reason: str | None = None  # BURY: the exceptional circumstances for splitting siblings
    circumstance: str | None = None  # the remit table's circumstance (bot/routing.py)
    route_reason: str | None = None  # why the case goes to another team or point than the table's
    funding_note: str | None = None
    confirmed: tuple[tuple[str, str], ...] = ()  # (checklist id, item id) ticked on the form
    urgent_reason: str | None = None  # S2: why waiting for the sign-off would delay the child
    heads_up: bool = False
    restricted: bool = False  # limited to the people named on it (see bot/access.py)
    excluded: tuple[str, ...] = ()  # people who must never see it or hear of it


def _excluded(user: str, people: Iterable[str]) -> tuple[str, ...]:
    """The excluded list, without repeats; the person raising it cannot exclude themselves."""
    out = tuple(dict.fromkeys(p for p in people if p))
    if user in out:
        raise DomainError("You cannot exclude yourself from a transfer you raise.", field="excluded")
    return out


def _check_excluded(org: Org, t: Transfer, *, field: str | None = "excluded") -> None:
    """Refuse an excluded list that leaves one of the transfer's teams with no manager to act."""
    for name in access.left_without_managers(org, t, t.excluded):
        raise DomainError(f"That excludes every manager of {name}, so nobody could act for that "
                          "team on this transfer; keep at least one of its managers.", field=field)


def raise_transfer(uow: UnitOfWork, org: Org, user: str, req: RaiseRequest, now: datetime, *,
                   token: str | None = None) -> Transfer:
    """Raise a transfer request (or an early heads up) for a case. ``token`` names the
    submission (Slack's view id): sent again, it is answered AlreadySaved, not 'already open'."""
    _once_per(uow, token)
    holding = _home_team(org, user, req.holding_team)
    org.team(req.receiving_team)
    if not _may_raise_from(uow, org, user, holding, local_date(now)):
        raise NotPermitted(f"Only members of {org.team(holding).name} can raise a transfer from it; "
                           "you are not in that team in Baton's org file.", field="case_ref")
    pack = org.pack_for(holding)
    why = teampick.why_not(org, holding, req.receiving_team)
    if why:
        raise DomainError(why, field="receiving_team")
    if req.heads_up and not pack.early_heads_up:
        raise DomainError(f"The {pack.title} policy has no early heads up; raise the transfer instead.")
    t = new_transfer(
        case_ref=req.case_ref, pack=pack, holding_team=holding, receiving_team=req.receiving_team,
        kind=req.kind, actor=Actor(user, frozenset()), now=now,
        transfer_point=req.transfer_point or None, transfer_point_date=req.transfer_point_date,
        move_date=req.move_date, move_end_date=req.move_end_date, order_date=req.order_date,
        accommodated_on=req.accommodated_on, flags=_with_order_flag(pack, req.flags, req.order_date),
        linked_refs=req.linked_refs, funding_note=req.funding_note,
        restricted=req.restricted or bool(req.excluded), excluded=_excluded(user, req.excluded),
    )
    check_dates(pack, t, local_date(now))
    _check_excluded(org, t)
    if uow.transfers.get_open_by_case(t.case_ref) is not None:
        raise _open_conflict(uow, t.case_ref, org)
    actor = actor_for(uow, org, t, user, local_date(now))
    if not actor.has(Role.holding_practitioner, Role.holding_manager):
        raise DomainError(f"Only members of {org.team(holding).name} can raise a transfer from it.")
    for checklist, item in req.confirmed:
        t.confirm(actor, now, pack, checklist=checklist, item=item)
    if req.heads_up:
        t.give_heads_up(actor, now)
    else:
        t.request(actor, now, pack, urgent_reason=req.urgent_reason)
    if not req.heads_up or req.circumstance:
        remit.check_raise(uow, org, pack, t, actor, now, req.circumstance, req.route_reason)
    _siblings_apart(uow, org, pack, t, actor, now, req.siblings_reason)
    _unpaid_work_warning(org, pack, t, actor, now)
    _commit(uow, org, t, now, new=True, token=token)
    return t


UPW_FLAG = "unpaid_work_outstanding"


def case_refs(text: str | None) -> tuple[str, ...]:
    """Case references (or flags) typed in one field, separated by spaces, commas or semicolons."""
    return tuple(r for r in re.split(r"[\s,;]+", text or "") if r)


def _with_order_flag(pack: PolicyPack, flags: tuple[str, ...], order_date: date | None) -> tuple[str, ...]:
    """An order date given for unpaid work flags the transfer as having unpaid work outstanding."""
    if order_date is not None and UPW_FLAG in {f.id for f in pack.flags} and UPW_FLAG not in flags:
        return (*flags, UPW_FLAG)
    return flags


def check_dates(pack: PolicyPack, t: Transfer, today: date) -> None:
    """Refuse dates a transfer cannot run on: FAQ temporary moves need the move date, and any but
    a residential placement the end date the responsible officer set; unpaid work needs the order
    date; no order or accommodation date in the future."""
    if t.kind == "temporary" and "temporary" in pack.kind_ids:
        if t.move_date is None:
            raise DomainError("Give the move date of the temporary move.", field="move_date")
        residential = "residential_placement" in t.flags
        if t.move_end_date is None and not residential:
            raise DomainError("Give the end date the responsible officer set for the temporary "
                              "move (a residential placement is reviewed at 12 weeks instead).",
                              field="move_end_date")
        if t.move_end_date is not None and t.move_end_date < t.move_date:
            raise DomainError(f"The end date {t.move_end_date.isoformat()} is before the move "
                              f"date {t.move_date.isoformat()}.", field="move_end_date")
    elif t.move_end_date is not None:
        raise DomainError("An end date is for a temporary move only.", field="move_end_date")
    if UPW_FLAG in t.flags and t.order_date is None and UPW_FLAG in {f.id for f in pack.flags}:
        raise DomainError("Give the date of the order with the unpaid work requirement.",
                          field="order_date")
    for name in ("order_date", "accommodated_on"):
        day = getattr(t, name)
        if day is not None and day > today:
            raise DomainError(f"The {name.replace('_', ' ')} {day.isoformat()} is in the future.",
                              field=name)


def unpaid_work_due(org: Org, pack: PolicyPack, t: Transfer) -> tuple[date, date] | None:
    """FAQ: when the 12 months of unpaid work from its order end on or before the day the transfer
    must complete by (the 20-day clock), (that day, the 12 months' end); None otherwise."""
    ds = {d.clock: d for d in deadlines(t, pack, calendar(org))}
    upw = ds.get("unpaid_work")
    ends = [d.due_on for name, d in ds.items() if name != "unpaid_work"
            and "completed" in pack.clock(name).stops and pack.clock(name).starts.value == "requested"]
    if upw is None or not ends:
        return None
    complete_by = min(ends)
    return (complete_by, upw.due_on) if upw.due_on <= complete_by else None


def _unpaid_work_warning(org: Org, pack: PolicyPack, t: Transfer, actor: Actor, now: datetime) -> None:
    """FAQ "not been completed within 12 months (or where it is highly unlikely that it will be
    completed within 12 months) ... an application is made to Court to extend the requirement as
    a priority": said at the request, on its timeline and in its messages."""
    found = unpaid_work_due(org, pack, t)
    if found is not None and t.state != State.heads_up:
        complete_by, ends = found
        t._record(actor, now, "upw_extension_due", ends=ends.isoformat(),
                  complete_by=complete_by.isoformat())


def _siblings_apart(uow: UnitOfWork, org: Org, pack: PolicyPack, t: Transfer, actor: Actor,
                    now: datetime, reason: str | None) -> None:
    """BURY "Sibling groups should be held within the same team, unless there are exceptional
    circumstances": a request sending this child to another team than a linked sibling's (the
    receiving team of its open transfer, else of its completed latest one; a sibling Baton has no
    transfer of is not compared) needs the reason, recorded for the team managers to agree; if
    they cannot, the Strategic Lead decides (a dispute)."""
    if pack.siblings_together is None or not t.linked_refs:
        return
    apart: dict[str, str] = {}
    for ref in t.linked_refs:
        other = uow.transfers.get_open_by_case(ref) or uow.transfers.latest_by_case(ref)
        if other is None or other.state not in LIVE | {State.heads_up, State.completed}:
            continue
        if other.receiving_team != t.receiving_team:
            apart[ref] = other.receiving_team
    if not apart:
        return
    why = actions.clean_text(reason or "")
    if len(why) < 20:
        teams = ", ".join(sorted({org.team(x).name if org.has_team(x) else x for x in apart.values()}))
        raise DomainError(
            f"Siblings are held in the same team unless there are exceptional circumstances: "
            f"{', '.join(apart)} stay with or go to {teams}. Say what the exceptional circumstances "
            f"are (at least 20 characters); the team managers agree, or the "
            f"{pack.level_label(pack.siblings_together)} decides.", field="siblings_reason")
    if len(why) > actions.MAX_TEXT:
        raise DomainError(f"Keep the reason under {actions.MAX_TEXT} characters.", field="siblings_reason")
    t._record(actor, now, "siblings_apart", reason=why, siblings=sorted(apart),
              teams=sorted(set(apart.values())), level=pack.siblings_together)


# ---- transitions on an existing transfer ------------------------------------------------------
def load(uow: UnitOfWork, *, transfer_id: int | None = None, case_ref: str | None = None) -> Transfer:
    """A transfer by id, or the open (else latest) one for a case reference."""
    t: Transfer | None = None
    if transfer_id is not None:
        t = uow.transfers.get(transfer_id)
        if t is None:
            raise DomainError("Baton has no such transfer.")
        return t
    if case_ref:
        ref = case_ref.strip().upper()
        if not ref.isascii() or not ref.isprintable() or len(ref) > 64:  # no case reference is
            raise DomainError("Baton has no transfer for that case reference.")  # echoed as typed
        t = uow.transfers.get_open_by_case(ref) or uow.transfers.latest_by_case(ref)
        if t is None:
            raise DomainError(f"Baton has no transfer for case {ref}.")
        return t
    raise DomainError("Say which transfer: give its case reference.")


@dataclass(frozen=True)
class Context:
    """What a step's handler may need besides the transfer and the actor."""

    org: Org
    pack: PolicyPack
    cal: WorkingCalendar
    now: datetime


def _worker(org: Org, t: Transfer, user: str | None) -> str | None:
    """A named worker must be in the receiving team (member or manager)."""
    if user is None:
        return None
    team = org.team(t.receiving_team)
    if user not in (*team.members, *team.managers):
        raise DomainError(f"The named worker must be in {team.name}; choose someone from that "
                          "team.", field="named_worker")
    return user


def _h_request(t: Transfer, a: Actor, c: Context, m: cmd.Request) -> None:
    t.request(a, c.now, c.pack)


def _h_assess(t: Transfer, a: Actor, c: Context, m: cmd.StartAssessment) -> None:
    t.start_assessment(a, c.now)


def _h_accept(t: Transfer, a: Actor, c: Context, m: cmd.Accept) -> None:
    t.accept(a, c.now, c.pack, named_worker=_worker(c.org, t, m.named_worker), agreed_date=m.agreed_date,
             rationale=m.rationale)


def _h_agree_date(t: Transfer, a: Actor, c: Context, m: cmd.AgreeDate) -> None:
    t.agree_date(a, c.now, c.pack, agreed_date=m.agreed_date)


def _h_decline(t: Transfer, a: Actor, c: Context, m: cmd.Decline) -> None:
    t.decline(a, c.now, c.pack, rationale=m.rationale, reason_category=m.reason_category)


def _h_work(t: Transfer, a: Actor, c: Context, m: cmd.RequestWork) -> None:
    due = m.due or c.cal.add_working_days(local_date(c.now), c.pack.remedial_work_days)
    t.request_work(a, c.now, items=m.items, due=due)


def _h_work_done(t: Transfer, a: Actor, c: Context, m: cmd.WorkDone) -> None:
    t.work_done(a, c.now)


def _h_confirm(t: Transfer, a: Actor, c: Context, m: cmd.Confirm) -> None:
    if not m.items:
        raise DomainError("Tick at least one item to confirm.", field="items")
    for checklist, item in m.items:
        t.confirm(a, c.now, c.pack, checklist=checklist, item=item)


def _h_attendance(t: Transfer, a: Actor, c: Context, m: cmd.RecordAttendance) -> None:
    t.record_attendance(a, c.now, attended=m.attended, agreed_absence=m.agreed_absence, note=m.note)


def _h_allocate(t: Transfer, a: Actor, c: Context, m: cmd.Allocate) -> None:
    t.allocate(a, c.now, named_worker=_worker(c.org, t, m.named_worker) or "")


def _h_complete(t: Transfer, a: Actor, c: Context, m: cmd.Complete) -> None:
    t.complete(a, c.now, c.pack)


def _h_withdraw(t: Transfer, a: Actor, c: Context, m: cmd.Withdraw) -> None:
    t.withdraw(a, c.now, reason=m.reason)


def _h_dispute(t: Transfer, a: Actor, c: Context, m: cmd.Dispute) -> None:
    t.dispute(a, c.now, reason=m.reason)


def _h_escalate(t: Transfer, a: Actor, c: Context, m: cmd.Escalate) -> None:
    t.escalate(a, c.now, c.pack, reason=m.reason)


def _h_capacity(t: Transfer, a: Actor, c: Context, m: cmd.CapacityConcern) -> None:
    t.raise_capacity_concern(a, c.now, c.pack, concern=m.concern)


def _h_capacity_done(t: Transfer, a: Actor, c: Context, m: cmd.CapacityResolved) -> None:
    t.resolve_capacity_concern(a, c.now, c.pack, note=m.note)


def _h_decide(t: Transfer, a: Actor, c: Context, m: cmd.Decide) -> None:
    t.decide(a, c.now, outcome=m.outcome, rationale=m.rationale, pack=c.pack)


def _h_delay(t: Transfer, a: Actor, c: Context, m: cmd.RecordDelay) -> None:
    t.record_delay(a, c.now, reason=m.reason, actions=m.actions, pack=c.pack)


def _h_endorse(t: Transfer, a: Actor, c: Context, m: cmd.Endorse) -> None:
    t.endorse_extension(a, c.now, rationale=m.rationale, pack=c.pack, expected_by=m.expected_by)


def _h_address(t: Transfer, a: Actor, c: Context, m: cmd.AddressAssessed) -> None:
    t.address_assessed(a, c.now, outcome=m.outcome, pack=c.pack)


def _h_agree_sign_off(t: Transfer, a: Actor, c: Context, m: cmd.AgreeWithoutSignOff) -> None:
    t.agree_without_sign_off(a, c.now, c.pack, note=m.note)


def _h_convert(t: Transfer, a: Actor, c: Context, m: cmd.Convert) -> None:
    t.convert_to_permanent(a, c.now)


Handler = Callable[[Transfer, Actor, Context, Any], None]
HANDLERS: dict[type[cmd.Step], Handler] = {
    cmd.Request: _h_request,
    cmd.StartAssessment: _h_assess,
    cmd.Accept: _h_accept,
    cmd.Decline: _h_decline,
    cmd.RequestWork: _h_work,
    cmd.WorkDone: _h_work_done,
    cmd.Confirm: _h_confirm,
    cmd.RecordAttendance: _h_attendance,
    cmd.Allocate: _h_allocate,
    cmd.Complete: _h_complete,
    cmd.Withdraw: _h_withdraw,
    cmd.Dispute: _h_dispute,
    cmd.Escalate: _h_escalate,
    cmd.CapacityConcern: _h_capacity,
    cmd.CapacityResolved: _h_capacity_done,
    cmd.AgreeDate: _h_agree_date,
    cmd.Decide: _h_decide,
    cmd.RecordDelay: _h_delay,
    cmd.Endorse: _h_endorse,
    cmd.AddressAssessed: _h_address,
    cmd.AgreeWithoutSignOff: _h_agree_sign_off,
    cmd.Convert: _h_convert,
}


RACE_RETRIES = 25  # attempts at a step whose transfer others keep changing meanwhile


class LostRace(DomainError):
    """A step refused because someone else moved the transfer first: says who, what and when."""

    def __init__(self, t: Transfer, reason: DomainError) -> None:
        last = t.timeline[-1] if t.timeline else None
        self.case_ref, self.reason = t.case_ref, str(reason)
        self.event = last.kind.replace("_", " ") if last else "changed"
        self.by = last.actor if last else ""
        self.time = last.at.astimezone(UK_TIME).strftime("%H:%M") if last else ""
        who = f" by {self.by}" if self.by else ""
        super().__init__(f"{t.case_ref} was {self.event}{who} at {self.time} while you were "
                         f"deciding. {self.reason}")


def _retrying(uow: UnitOfWork, transfer_id: int, step: Callable[[], Transfer]) -> Transfer:
    """Run ``step``; when it loses a race (StaleTransfer) run it again on the fresh transfer, so
    steps that do not conflict (a delay reason, a note, a checklist item) are never lost and a
    step the new state refuses is answered with what happened (:class:`LostRace`)."""
    lost = False
    for attempt in range(RACE_RETRIES):
        try:
            return step()
        except StaleTransfer:
            uow.rollback()
            lost = True
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # spread the retries out
        except FormErrors:
            raise
        except DomainError as exc:
            if not lost or isinstance(exc, LostRace):
                raise
            raise LostRace(load(uow, transfer_id=transfer_id), exc) from exc
    raise DomainError("Several people are changing this transfer at once; try again in a moment.")


def _handle_once(uow: UnitOfWork, org: Org, command: cmd.Step, now: datetime,
                 token: str | None = None, loaded: tuple[Transfer, Actor] | None = None) -> Transfer:
    """One attempt at a step; ``loaded`` is the transfer and actor already read and checked in
    this attempt (a form's), so they are not read twice."""
    if loaded is None:
        _once_per(uow, token)
        uow.transfers.lock(command.transfer_id)  # writers to one transfer take turns, not retries
        t = visible(uow, org, command.user, now, transfer_id=command.transfer_id)
        actor = actor_for(uow, org, t, command.user, local_date(now))
    else:
        t, actor = loaded
    pack = org.pack_for(t.holding_team)
    a = actions.BY_COMMAND.get(type(command))
    if a is not None and loaded is None:
        actions.check(a, t, actor, pack)
    HANDLERS[type(command)](t, actor, Context(org, pack, calendar(org), now), command)
    _commit(uow, org, t, now, token=token)
    return t


def handle(uow: UnitOfWork, org: Org, command: cmd.Step, now: datetime) -> Transfer:
    """Apply one step to a transfer and commit it with its notices; the catalogue's rule is
    checked first, so a refused step changes nothing. A lost race is retried on the fresh
    transfer (see :func:`_retrying`)."""
    return _retrying(uow, command.transfer_id, lambda: _handle_once(uow, org, command, now))


def submit(uow: UnitOfWork, org: Org, user: str, transfer_id: int, action: str,
           raw: Mapping[str, Any], now: datetime, *, token: str | None = None) -> Transfer:
    """A form submitted from any surface: check the rule, parse the fields, handle the command;
    a lost race is retried on the fresh transfer. With a ``token`` (the submission's id) the
    same submission is applied at most once; sent again it raises AlreadySaved."""
    a = actions.action(action)

    def once() -> Transfer:
        _once_per(uow, token)
        uow.transfers.lock(transfer_id)  # writers to one transfer take turns, not retries
        t = visible(uow, org, user, now, transfer_id=transfer_id)
        pack = org.pack_for(t.holding_team)
        actor = actor_for(uow, org, t, user, local_date(now))
        refused = actions.refusal(a, t, actor, pack)
        if refused is not None:
            if t.state not in a.states and t.timeline:
                # a form is opened only while its step is open: someone (in another window,
                # perhaps this person) moved the transfer while it was being filled in
                raise LostRace(t, refused)
            raise refused
        values = actions.parse(a, pack, t, actor, raw)
        return _handle_once(uow, org, actions.command_for(a, transfer_id, user, values), now, token,
                            (t, actor))

    return _retrying(uow, transfer_id, once)


def act(uow: UnitOfWork, org: Org, user: str, transfer_id: int, action: str, now: datetime,
        **kwargs: Any) -> Transfer:
    """Apply one step by action name with typed values (the CLI, imports and tests)."""
    if action == "start_assessment":
        return handle(uow, org, cmd.StartAssessment(transfer_id, user), now)
    if action == "confirm" and "checklist" in kwargs:
        kwargs = {"items": ((kwargs.pop("checklist"), kwargs.pop("item")),)}
    if action == "request_work" and "items" in kwargs:
        kwargs["items"] = tuple(kwargs["items"])
    return handle(uow, org, actions.action(action).command(transfer_id, user, **kwargs), now)


def form_for(uow: UnitOfWork, org: Org, user: str, transfer_id: int, action: str,
             now: datetime) -> views.Form:
    """The form of ``action`` for ``user``; DomainError saying why and who can when refused."""
    a = actions.action(action)
    t = visible(uow, org, user, now, transfer_id=transfer_id)
    pack = org.pack_for(t.holding_team)
    actor = actor_for(uow, org, t, user, local_date(now))
    actions.check(a, t, actor, pack)
    form = views.form(a, t, pack, actor, cal=calendar(org), now=now)
    advice = duties.advice_at(pack, a.name, t.kind, t.flags, t.checklist)  # advice at its step
    workers = pickers.worker_choices(org, t.receiving_team)  # a worker picker offers its team only
    person = actions.FieldKind.person
    return replace(form, intro=(*form.intro, *(views.rich(line) for line in advice[:6])),
                   inputs=tuple(replace(fi, options=workers) if fi.field.kind == person else fi
                                for fi in form.inputs))


def card_for(uow: UnitOfWork, org: Org, t: Transfer, viewer: str | None, now: datetime, *,
             headline: tuple[str, ...] = (), brief: bool = False) -> views.Card:
    """A transfer's card as ``viewer`` sees it now: with the buttons they may press (none for a
    channel, where many people read one message); ``brief`` for a restricted transfer's message."""
    pack = org.pack_for(t.holding_team)
    today = local_date(now)
    offered: list[actions.Action] = []
    clocks = transfer_deadlines(org, t)
    if viewer is not None:
        offered = actions.available(t, actor_for(uow, org, t, viewer, today), pack, clocks=clocks,
                                    today=today)
    return views.card(t, clocks, cal=calendar(org), today=today,
                      offered=offered, headline=headline, pack=pack, org=org, brief=brief)


def message_card(uow: UnitOfWork, org: Org, t: Transfer, viewer: str | None, now: datetime, *,
                 headline: tuple[str, ...] = ()) -> views.Card | None:
    """The card a message sends or redraws for ``viewer``: None when they are not on the
    transfer (nothing is sent); brief for a restricted transfer, whose every view is recorded."""
    if viewer is not None and not sees(uow, org, t, viewer, local_date(now)):
        return None
    if viewer is None and t.restricted:
        return None
    card = card_for(uow, org, t, viewer, now, headline=headline, brief=t.restricted)
    if t.restricted and viewer is not None:
        record_read(uow, t, viewer, "card", now)
        uow.commit()
    return card


def refresh_cards(uow: UnitOfWork, t: Transfer, now: datetime) -> None:
    """Redraw every card of ``t`` (a stale card was pressed); committed at once."""
    assert t.id is not None
    uow.add_notice(notices.Notice("update", f"refresh:{now.isoformat()}", t.id, ("-",)),
                   now=now, not_before=now)
    uow.commit()


# ---- the chat platform's lifecycle (Slack: app_uninstalled, tokens_revoked) -------------------
STOPPING_EVENTS = ("app_uninstalled", "tokens_revoked")


def record_install_event(uow: UnitOfWork, kind: str, team_id: str | None, now: datetime) -> None:
    """Record an uninstall, a revoked bot token or a reinstall; delivery stops after the first
    two (rows wait in the outbox) and resumes after a reinstall. Committed at once."""
    uow.add_install_event(kind, team_id, now)
    uow.commit()


def delivery_stopped(uow: UnitOfWork) -> bool:
    """Whether the app was uninstalled or its bot token revoked, with no reinstall since."""
    return uow.install_state() in STOPPING_EVENTS


def resume_if_reinstalled(uow: UnitOfWork, works: Callable[[], bool], team_id: str | None,
                          now: datetime) -> bool:
    """If delivery stopped, ask the platform (``works``: the token is accepted again) and record
    a reinstall when it is; True when delivery runs."""
    if not delivery_stopped(uow):
        return True
    if not works():
        return False
    record_install_event(uow, "reinstalled", team_id, now)
    return True


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


HOME_LOOK_AT = 40  # transfers, first due first, checked for actions waiting on the person


def home(uow: UnitOfWork, org: Org, user: str, now: datetime) -> HomeLists:
    """App Home: the transfers on which ``user`` may act now (first due first), and the
    outbound and inbound transfers of their teams."""
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
    return HomeLists(waiting=waiting, outbound=outbound, inbound=inbound, escalated=escalated)


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


def load_for_action(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime) -> Transfer:
    """The transfer a typed step (``/transfer complete X123456``) is about, if ``user`` is on it."""
    return visible(uow, org, user, now, case_ref=case_ref)


def transfer_and_actor(uow: UnitOfWork, org: Org, transfer_id: int, user: str,
                       today: date) -> tuple[Transfer, Actor]:
    """A transfer and what ``user`` is on it today (for deciding which forms they may open)."""
    t = load(uow, transfer_id=transfer_id)
    return t, actor_for(uow, org, t, user, today)


def last_team_for(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime) -> LastTeam:
    """/transfer lastteam for ``user`` (who is told what: :func:`bot.remit.last_team_for`)."""
    return remit.last_team_for(uow, org, user, case_ref, now)


def last_team(uow: UnitOfWork, case_ref: str) -> Transfer | None:
    """The latest closed transfer of a case: who held it last and when it closed."""
    return uow.transfers.last_closed_by_case(case_ref.strip().upper())


def record_closure(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime, *,
                   team: str | None = None, on: date | None = None, cli: bool = False) -> Closure:
    """A case closed with a team (``/transfer closed CASE``, ``baton closed``, an import row): the
    re-referral windows run from this day (BURY, LEICS), never from a transfer's completion.
    From chat only a manager of the team (or their cover) records it; the CLI names the team."""
    today = local_date(now)
    day = on or today
    if day > today:
        raise DomainError(f"The closing date {day.isoformat()} is in the future.", field="closed_on")
    raw = case_ref.strip().upper()
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
class Audit:
    """Everything recorded about one case: its transfers' changes and every read of them."""

    case_ref: str
    changes: list[tuple[int, TimelineEvent]]
    reads: list[Read]


def audit(uow: UnitOfWork, case_ref: str) -> Audit | None:
    """``baton audit CASE``: every change (timeline) and every read of the case's transfers,
    oldest first; None when Baton holds nothing about it."""
    ref = case_ref.strip().upper()
    ids = uow.transfers.ids_of_case(ref)
    if not ids:
        return None
    changes: list[tuple[int, TimelineEvent]] = []
    reads: list[Read] = []
    for tid in ids:
        t = uow.transfers.get(tid)
        if t is not None:
            changes += [(tid, ev) for ev in t.timeline]
        reads += uow.reads.of_transfer(tid)
    changes.sort(key=lambda x: x[1].at)
    reads.sort(key=lambda r: r.at)
    return Audit(ref, changes, reads)


def restricted_reads(uow: UnitOfWork, *, start: date, end: date) -> list[Read]:
    """Who looked at restricted cases from ``start`` to ``end`` (inclusive), oldest first."""
    return uow.reads.restricted_between(closed_cutoff(start), closed_cutoff(end + timedelta(days=1)))


def retention_cutoff(org: Org, now: datetime) -> datetime:
    """The moment before which closed transfers are past the org's retention period."""
    return closed_cutoff(local_date(now) - timedelta(days=org.retention_days))


GONE = {"message_not_found", "channel_not_found", "is_archived", "cant_delete_message"}


@dataclass(frozen=True)
class Purged:
    """What a purge did: transfers removed, chat messages removed (or found already gone), and
    transfers kept because a message about them could not be removed yet (tried again next run)."""

    transfers: int
    messages: int = 0
    kept: int = 0


def _remove_messages(chat: Chat, where: list[tuple[str, str]],
                     wait: Callable[[float], None]) -> int | None:
    """Delete each message; one already gone does not stop the rest. None when one could not
    be removed now (Slack down or refusing), so the transfer is kept with its references."""
    done = 0
    for channel, ts in where:
        for _ in range(3):
            try:
                chat.delete(channel, ts)
            except ChatError as exc:
                if exc.code in GONE:
                    break
                if exc.retry_after is not None:
                    wait(min(exc.retry_after, 60.0))
                    continue
                return None
            except ChatUncertain:
                return None
            break
        else:
            return None
        done += 1
    return done


def purge(uow: UnitOfWork, closed_before: datetime, chat: Chat | None = None, *,
          wait: Callable[[float], None] = time.sleep) -> Purged:
    """Remove transfers closed before a moment with everything about them (timeline, clocks,
    notifications, message references, audit of reads). Baton's own chat messages about each
    are deleted first, while their references are still known; a transfer with messages that
    cannot be deleted now (no chat configured, the platform failing) is kept for the next run."""
    ids: list[int] = []
    removed = kept = 0
    for tid in uow.transfers.closed_before(closed_before):
        where = uow.transfers.posted_messages(tid)
        if where:
            done = _remove_messages(chat, where, wait) if chat is not None else None
            if done is None:
                kept += 1
                continue
            removed += done
        ids.append(tid)
    n = uow.transfers.purge(ids)
    uow.closures.purge_before(local_date(closed_before))
    uow.commit()
    return Purged(n, removed, kept)


# ---- import -------------------------------------------------------------------------------------
IMPORT_COLUMNS = ("case_ref", "holding_team", "receiving_team", "requested_on", "kind")
IMPORT_OPTIONAL = ("transfer_point", "transfer_point_date", "state", "restricted", "excluded",
                   "closed_on", "accepted_on", "disputed_on", "agreed_date", "move_date",
                   "move_end_date", "order_date", "accommodated_on", "linked_refs", "flags")
# What an imported row says already happened, and the states it may say it of.
IMPORT_PAST = {
    "accepted_on": ("accepted", frozenset({State.accepted, State.allocated})),
    "disputed_on": ("disputed", frozenset({State.disputed, State.escalated})),
}
# The longest each cell may be (after trimming), like a form's fields: a tracker's free text
# never reaches the database whole, whatever the file holds.
IMPORT_LIMITS = {"case_ref": 32, "holding_team": 63, "receiving_team": 63, "requested_on": 10,
                 "kind": 32, "transfer_point": 64, "transfer_point_date": 10, "state": 32,
                 "restricted": 5, "excluded": 500, "closed_on": 10, "accepted_on": 10,
                 "disputed_on": 10, "agreed_date": 10, "move_date": 10, "move_end_date": 10,
                 "order_date": 10, "accommodated_on": 10, "linked_refs": 500, "flags": 200}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # NUL and other control characters, tabs, line breaks
IMPORTABLE_STATES = {
    State.heads_up, State.requested, State.under_assessment, State.accepted, State.allocated,
    State.disputed, State.escalated,
}


@dataclass
class ImportResult:
    """What ``baton import`` did: how many rows went in, or every row's problem."""

    imported: int = 0
    errors: list[str] = field(default_factory=list)
    closures: int = 0  # rows with closed_on: the case closed with its holding team that day


def _import_cells(raw: Mapping[str | None, Any], columns: int) -> dict[str, str]:
    """A tracker row's cells, trimmed; DomainError naming the column (never echoing the text)
    for a cell over its limit or holding a control character, or cells beyond the header."""
    if raw.get(None):
        raise DomainError(f"the row has more cells than the {columns} columns of the header "
                          "(a comma inside a cell needs the cell in double quotes)")
    row = {str(k).strip(): (v or "").strip() for k, v in raw.items() if k is not None}
    for column, value in row.items():
        limit = IMPORT_LIMITS.get(column, 64)
        if len(value) > limit:
            raise DomainError(f"{column}: keep it under {limit + 1} characters (it has {len(value):,})")
        if CONTROL.search(value):
            raise DomainError(f"{column}: remove the control character, tab or line break in it")
    return row


def _parse_date(value: str, column: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise DomainError(f"{column} {value!r} is not a date (use YYYY-MM-DD)") from None


def parse_import(
    uow: UnitOfWork, org: Org, text: str, now: datetime
) -> tuple[list[tuple[Transfer, list[Deadline]]], list[str], list[Closure]]:
    """Check every row of a tracker CSV; returns the transfers, a list of row errors and the
    case closures (a row with ``closed_on`` says the case closed with its holding team that
    day; it opens no transfer, and its receiving_team, requested_on and kind may be empty)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        return [], [f"line 1: missing column(s) {', '.join(missing)}; "
                    f"expected {','.join(IMPORT_COLUMNS)} (optional {','.join(IMPORT_OPTIONAL)})"], []
    unknown = [c for c in header if c not in IMPORT_COLUMNS + IMPORT_OPTIONAL]
    if unknown:
        return [], [f"line 1: unknown column(s) {', '.join(unknown)}"], []
    closures: list[Closure] = []
    out: list[tuple[Transfer, list[Deadline]]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    actor = Actor(SYSTEM, frozenset({Role.system}))
    rows = iter(reader)
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell past the csv module's own limit, a broken quote
            errors.append(f"line {reader.line_num + 1}: not readable as CSV ({exc}); "
                          "nothing after it was read")
            break
        line = reader.line_num
        try:
            row = _import_cells(raw, len(header))
            if row.get("closed_on"):
                closures.append(_import_closure(org, row, now))
                continue
            holding, receiving = row["holding_team"], row["receiving_team"]
            org.team(holding)
            org.team(receiving)
            pack = org.pack_for(holding)
            if not org.may_transfer(holding, receiving):
                raise DomainError(f"{receiving} works under another policy than {holding}; the org "
                                  "file does not allow transfers between them (cross_policy)")
            requested_on = _parse_date(row["requested_on"], "requested_on")
            if requested_on > local_date(now):
                raise DomainError(f"requested_on {requested_on.isoformat()} is in the future")
            tp_date = row.get("transfer_point_date")
            state_text = row.get("state") or "requested"
            try:
                state = State(state_text)
            except ValueError:
                raise DomainError(f"state {state_text!r} is not one of "
                                  f"{', '.join(sorted(s.value for s in IMPORTABLE_STATES))}") from None
            if state not in IMPORTABLE_STATES:
                raise DomainError(f"state {state_text!r} is closed; import open transfers only")
            dates = {c: _parse_date(row[c], c) if row.get(c) else None
                     for c in ("agreed_date", "move_date", "move_end_date", "order_date",
                               "accommodated_on", *IMPORT_PAST)}
            t = new_transfer(
                case_ref=row["case_ref"], pack=pack, holding_team=holding, receiving_team=receiving,
                kind=row["kind"] or "permanent", actor=actor, now=now,
                transfer_point=row.get("transfer_point") or None,
                transfer_point_date=_parse_date(tp_date, "transfer_point_date") if tp_date else None,
                agreed_date=dates["agreed_date"], move_date=dates["move_date"],
                move_end_date=dates["move_end_date"], order_date=dates["order_date"],
                accommodated_on=dates["accommodated_on"], linked_refs=case_refs(row.get("linked_refs")),
                flags=_with_order_flag(pack, case_refs(row.get("flags")), dates["order_date"]),
            )
            check_dates(pack, t, local_date(now))
            flag = (row.get("restricted") or "").lower()
            if flag not in ("", "yes", "no", "true", "false", "1", "0"):
                raise DomainError(f"restricted {row['restricted']!r} is not yes or no")
            t.excluded = tuple(x for x in (row.get("excluded") or "").replace(";", " ").split() if x)
            if any(not org.knows(x) for x in t.excluded):
                raise DomainError("excluded: give the Slack user ids of people in the org file "
                                  "(U...), separated by spaces or semicolons")
            t.restricted = flag in ("yes", "true", "1") or bool(t.excluded)
            _check_excluded(org, t, field=None)
            if t.case_ref in seen:
                raise DomainError(f"{t.case_ref} appears again (first on line {seen[t.case_ref]})")
            seen[t.case_ref] = line
            t.requested_on = requested_on
            if state == State.heads_up:
                t.heads_up_on = requested_on
            _import_past(pack, t, state, dates, requested_on, local_date(now))
            t.state = state
            _unpaid_work_warning(org, pack, t, actor, now)
            t._record(actor, now, "imported", to=state, requested_on=requested_on.isoformat())
            out.append((t, _deadlines(org, t)))
        except UnknownTeam as exc:
            errors.append(f"line {line}: {exc}")
        except DomainError as exc:
            errors.append(f"line {line}: {str(exc).rstrip('.')}")
    if not out and not errors and not closures:
        errors.append("the file has no rows to import")
    lines = {t.case_ref: n for t, n in ((t, seen[t.case_ref]) for t, _ in out)}
    for ref, tid in uow.transfers.open_case_refs(list(lines)).items():
        errors.append(f"line {lines[ref]}: {ref} already has an open transfer (#{tid})")
    errors.sort(key=lambda e: int(e.split(":")[0].split()[1]))
    return out, errors, closures


def _import_past(pack: PolicyPack, t: Transfer, state: State, dates: Mapping[str, date | None],
                 requested_on: date, today: date) -> None:
    """The steps an imported row says already happened, on its timeline on their days, so the
    clocks run from them: an accepted transfer no longer waits for a decision (its acceptance
    stops the clocks that stop there), a dispute's clock starts on ``disputed_on`` (else today)
    and an escalated one stands at the ladder's second level."""
    for column, (_, states) in IMPORT_PAST.items():
        day = dates[column]
        if day is None:
            continue
        if state not in states:
            raise DomainError(f"{column} is for a transfer that is {states_text(states)}, not "
                              f"{state.value.replace('_', ' ')}")
        if day > today:
            raise DomainError(f"{column} {day.isoformat()} is in the future")
        if day < requested_on:
            raise DomainError(f"{column} {day.isoformat()} is before requested_on {requested_on.isoformat()}")

    def happened(kind: str, day: date, to: State, **detail: Any) -> None:
        ev = TimelineEvent(at=datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=UK_TIME),
                           actor=SYSTEM, kind=kind, from_state=t.state.value, to_state=to.value,
                           detail={"imported": True, **{k: v for k, v in detail.items() if v is not None}})
        t.state = to
        t.timeline.append(ev)
        t.new_events.append(ev)

    t.state = State.requested
    if state in (State.accepted, State.allocated):
        happened("accepted", dates["accepted_on"] or today, State.accepted,
                 agreed_date=t.agreed_date.isoformat() if t.agreed_date else None)
    if state in (State.disputed, State.escalated):
        happened("disputed", dates["disputed_on"] or today, State.disputed)
        t.escalation_level = pack.escalation.levels[0].name
        if state == State.escalated:
            t.escalation_level = pack.escalation.levels[1].name
            happened("escalated", dates["disputed_on"] or today, State.escalated,
                     level=t.escalation_level)


def _import_closure(org: Org, row: Mapping[str, str], now: datetime) -> Closure:
    """A tracker row with ``closed_on``: the case closed with its holding team on that day."""
    team = row["holding_team"]
    org.team(team)
    day = _parse_date(row["closed_on"], "closed_on")
    if day > local_date(now):
        raise DomainError(f"closed_on {day.isoformat()} is in the future")
    if (row.get("state") or "closed") != "closed":
        raise DomainError("a row with closed_on records a closed case; leave state empty")
    return Closure(validate_case_ref(row["case_ref"], org.pack_for(team)), team, day, SYSTEM, now)


def import_csv(uow: UnitOfWork, org: Org, text: str, now: datetime) -> ImportResult:
    """Adopt open transfers (and case closures) from a tracker CSV: all rows or none."""
    rows, errors, closures = parse_import(uow, org, text, now)
    if errors:
        return ImportResult(0, errors)
    n = uow.transfers.bulk_import(rows) if rows else 0
    for t, _ in rows:
        write_notices(uow, org, t, list(t.timeline), now)
    for c in closures:
        uow.closures.add(c)
    uow.commit()
    return ImportResult(n, [], len(closures))


def closed_cutoff(day: date) -> datetime:
    """Midnight UK time at the start of ``day``, for purge."""
    return datetime.combine(day, datetime.min.time(), tzinfo=UK_TIME)


# ---- reports ----------------------------------------------------------------------------------
def report_rows(uow: UnitOfWork, *, start: date, today: date) -> list[ReportRow]:
    """Rows for reports over the period starting ``start``."""
    return uow.transfers.report_rows(since=start, today=today)


def report(uow: UnitOfWork, org: Org, *, start: date, end: date) -> Summary:
    """The period's summary: opened, resolved, breached, awaiting endorsement, medians, by team."""
    rows = uow.transfers.report_rows(since=start, today=end)
    return summarise(rows, start=start, end=end, cal=calendar(org))


def weekly_summary(uow: UnitOfWork, org: Org, *, start: date, end: date,
                   channel: str | None = None) -> Summary:
    """The weekly digest's figures as people read them in chat: teams by name, never by id;
    for an escalation ``channel``, also how many overdue transfers were put to its level on the
    day after the period (what its people's `/transfer list overdue` lists that day)."""
    s = report(uow, org, start=start, end=end)
    for line in s.by_team:
        line.team = views.team_name(org, line.team)
    if channel is not None:
        s.overdue_reached = len(reached_channel(uow, org, channel, end + timedelta(days=1)))
    return s


def reached_channel(uow: UnitOfWork, org: Org, channel: str, today: date) -> list[TransferSummary]:
    """Overdue open transfers that reached a level whose contact is ``channel`` (for either team)."""
    covers = uow.covers.active_on(today)
    out = []
    for r in list_transfers(uow, today=today, overdue=True):
        t = uow.transfers.get(r.id)
        if t is None or not org.has_team(t.holding_team):
            continue
        pack = org.pack_for(t.holding_team)
        levels = access.reached_levels(org, t, pack, covers, _deadlines(org, t), today)
        if any((c := org.contact(team, lv)) is not None and c.channel == channel
               for team in (t.holding_team, t.receiving_team) if org.has_team(team) for lv in levels):
            out.append(r)
    return out


EXPORT_COLUMNS = ("id", "case_ref", "policy", "holding_team", "receiving_team", "kind", "state",
                  "requested_on", "closed_on", "working_days_to_resolution", "next_due",
                  "breached_on", "rag")


def export_rows(uow: UnitOfWork, org: Org, *, start: date, end: date, reader: str | None = None,
                now: datetime | None = None, chat: bool = False) -> list[dict[str, Any]]:
    """Transfers open in or touching the period, as flat records for CSV or JSON. With a
    ``reader`` each exported transfer's read is recorded; from ``chat`` only report readers may
    export (NotPermitted otherwise, nothing read) and restricted transfers are left out unless
    the reader is an auditor."""
    if chat and (reader is None or not access.may_export(org, reader)):
        raise NotPermitted("Only the people the org file names as report readers can export.")
    cal = calendar(org)
    out = []
    read: list[Read] = []
    for r in uow.transfers.report_rows(since=start, today=end):
        if r.requested_on is not None and r.requested_on > end:
            continue
        if chat and r.restricted and reader not in org.auditors:
            continue
        if reader is not None and now is not None:
            read.append(Read(r.id, r.case_ref, reader, "export", True, r.restricted, now))
        out.append({
            "id": r.id, "case_ref": r.case_ref, "policy": r.policy, "holding_team": r.holding_team,
            "receiving_team": r.receiving_team, "kind": r.kind, "state": r.state,
            "requested_on": r.requested_on.isoformat() if r.requested_on else None,
            "closed_on": local_date(r.closed_at).isoformat() if r.closed_at else None,
            "working_days_to_resolution": working_days_to_resolution(r, cal),
            "next_due": r.next_due.isoformat() if r.next_due else None,
            "breached_on": r.breached_on.isoformat() if r.breached_on else None,
            "rag": rag(r.next_due, end, cal) if not r.closed_at else "",
        })
    if read:
        for x in read:
            uow.reads.add(x)
        uow.commit()
    return out


def request_export(uow: UnitOfWork, org: Org, reader: str, *, start: date, end: date,
                   now: datetime) -> None:
    """``/transfer export``: a report reader's CSV of the period, sent to their direct messages
    by delivery (which reads and records the rows then, leaving out restricted transfers unless
    the reader is an auditor). NotPermitted for anyone else; committed at once."""
    if not access.may_export(org, reader):
        raise NotPermitted("Only the people the org file names as report readers can export.")
    if start > end:
        raise DomainError(f"{start.isoformat()} is after {end.isoformat()}.")
    uow.add_notice(notices.Notice("export", f"export:{now.isoformat()}", None, (reader,), extra=(
        ("start", start.isoformat()), ("end", end.isoformat()))), now=now, not_before=now)
    uow.commit()


def export_csv(rows: list[dict[str, Any]]) -> str:
    """Export rows as CSV text, every cell guarded against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR gets a
    leading apostrophe (the usual formula-injection guard); other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class LastTeam:
    """Who held a case last, when it closed, and whether a re-referral goes back to them."""

    case_ref: str
    team: str
    closed_on: date | None  # None: Baton has no record that the case closed
    goes_back: bool | None  # None when no re-referral rule applies (no closure, or no rule)
    rule: str
    last_day: date | None = None  # the window's last day, which counts


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
    ref = case_ref.strip().upper()
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
