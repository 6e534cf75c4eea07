"""Shared steps of every use case: loading a transfer, its deadlines, and committing it with its notices."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot import notices, views
from bot.calendar import WorkingCalendar, calendar_for
from bot.clocks import Deadline, deadlines, first_step_on
from bot.domain import (
    STATE_LABELS,
    DomainError,
    TimelineEvent,
    Transfer,
    local_date,
)
from bot.org import Org
from bot.ports import (
    AlreadySubmitted,
    DuplicateOpenTransfer,
    UnitOfWork,
)

log = logging.getLogger("baton.services")


def calendar(org: Org) -> WorkingCalendar:
    """The working-day calendar of the org: its region's bank holidays and its closure days."""
    return calendar_for(org.region, org.closure_items())


def transfer_deadlines(org: Org, t: Transfer) -> list[Deadline]:
    """The clocks running (or stopped) on a transfer, as the store keeps them: each with the date
    a sweep next looks at it."""
    pack, cal = org.pack_for(t.holding_team), calendar(org)
    return [replace(d, next_step_on=first_step_on(d, pack, cal)) for d in deadlines(t, pack, cal)]


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
    ds = transfer_deadlines(org, t)
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
    from bot.usecases.case_records import follow_transfer  # (it reads this module's calendar)
    follow_transfer(uow, org, t, events, now, new=new)
    write_notices(uow, org, t, events, now)
    uow.commit()
    log.info("transfer_saved", extra={"transfer_id": t.id, "state": str(t.state),
                                      "events": [e.kind for e in events]})


# ---- transitions on an existing transfer ------------------------------------------------------
def case_key(case_ref: str) -> str:
    """A typed case reference as Baton stores and looks it up: trimmed and upper-cased."""
    return case_ref.strip().upper()


def load(uow: UnitOfWork, *, transfer_id: int | None = None, case_ref: str | None = None) -> Transfer:
    """A transfer by id, or the open (else latest) one for a case reference."""
    t: Transfer | None = None
    if transfer_id is not None:
        t = uow.transfers.get(transfer_id)
        if t is None:
            raise DomainError("Baton has no such transfer.")
        return t
    if case_ref:
        ref = case_key(case_ref)
        if not ref.isascii() or not ref.isprintable() or len(ref) > 64:  # no case reference is
            raise DomainError("Baton has no transfer for that case reference.")  # echoed as typed
        t = uow.transfers.get_open_by_case(ref) or uow.transfers.latest_by_case(ref)
        if t is None:
            raise DomainError(f"Baton has no transfer for case {ref}.")
        return t
    raise DomainError("Say which transfer: give its case reference.")


def refresh_cards(uow: UnitOfWork, t: Transfer, now: datetime) -> None:
    """Redraw every card of ``t`` (a stale card was pressed); committed at once."""
    assert t.id is not None
    uow.add_notice(notices.Notice("update", f"refresh:{now.isoformat()}", t.id, ("-",)),
                   now=now, not_before=now)
    uow.commit()
