"""Raising a transfer: the request, its dates and flags, and the warnings it brings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from bot import access, actions, remit, teampick
from bot.calendar import add_months
from bot.clocks import deadlines
from bot.domain import (
    LIVE,
    DomainError,
    State,
    Transfer,
    local_date,
    new_transfer,
)
from bot.errors import NotPermitted
from bot.org import Actor, Org, Role
from bot.policy import PolicyPack
from bot.ports import (
    UnitOfWork,
)
from bot.usecases.access import _home_team, _may_raise_from, actor_for
from bot.usecases.common import _commit, _once_per, _open_conflict, calendar, case_key


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
    req = _with_recorded_dates(uow, pack, req)
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
UPW_UNLIKELY = "upw_unlikely_in_12_months"  # FAQ: "or where it is highly unlikely that it will be ..."


def _with_recorded_dates(uow: UnitOfWork, pack: PolicyPack, req: RaiseRequest) -> RaiseRequest:
    """A date the raise form asks that a case record already holds (the accommodation date, a
    temporary move's date) is taken from the record when the form leaves it empty."""
    from dataclasses import replace

    from bot.usecases.case_records import record_for_raise

    ref = case_key(req.case_ref)
    if not ref.isascii() or not ref.isprintable() or len(ref) > 64 or not pack.case_records:
        return req
    if req.accommodated_on is None:
        req = replace(req, accommodated_on=record_for_raise(uow, ref, "accommodated_on", pack))
    if req.move_date is None and req.kind == "temporary":
        req = replace(req, move_date=record_for_raise(uow, ref, "move_date", pack))
    return req


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
    if t.state == State.heads_up:
        return
    found = unpaid_work_due(org, pack, t)
    if found is not None:
        complete_by, ends = found
        t._record(actor, now, "upw_extension_due", ends=ends.isoformat(),
                  complete_by=complete_by.isoformat())
    elif UPW_UNLIKELY in t.flags:  # asked on the request: act now (the order date, when given)
        t._record(actor, now, "upw_extension_due", unlikely=True,
                  ends=add_months(t.order_date, 12).isoformat() if t.order_date else None)


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
