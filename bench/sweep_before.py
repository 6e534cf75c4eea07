"""The sweep before issue 13, kept as the baseline ``make bench-scheduler`` measures the
set-based sweep against in the same run: each due transfer in its own transaction, read, decided
and written one after another (about a dozen round trips per due transfer).

Not used by Baton itself; scheduler/sweep.py is the sweep.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from bot import access, services
from bot.clocks import ClockStatus, Step, StepKind, steps
from bot.domain import DomainError, local_date
from bot.org import Org
from bot.ports import StaleTransfer
from bot.recipients import level_contacts, resolve
from scheduler.sweep import SweepResult, WorkingHours, _offered, _recipients_for, _text
from store import outbox
from store.models import DeadlineRow
from store.repo import SqlUnitOfWork

log = logging.getLogger("baton.sweep.before")


def sweep_per_transfer(engine: sa.Engine, org: Org, now: datetime, *, hours: WorkingHours | None = None,
          dry_run: bool = False) -> SweepResult:
    """The sweep as it was: one transaction and a dozen statements per due transfer."""
    hours = hours or WorkingHours()
    today = local_date(now)
    result = SweepResult()
    with engine.connect() as conn:
        # No DISTINCT / ORDER BY in SQL: with them SQLite walks the transfer_id index over every
        # deadline (cost grows with what is open) instead of the next_step_on range.
        due_ids = sorted(set(conn.execute(
            sa.select(col(DeadlineRow.transfer_id)).where(col(DeadlineRow.next_step_on) <= today)
        ).scalars()))
    deliver_at = hours.next_open(now, org)
    for tid in due_ids:
        kept = replace(result, lines=list(result.lines))
        try:
            _sweep_transfer(engine, org, tid, now, today, deliver_at, result, dry_run=dry_run)
        except (StaleTransfer, sa.exc.IntegrityError):
            # Another instance swept or changed it first; the next sweep sees what it wrote.
            log.info("transfer %s was swept or changed elsewhere meanwhile", tid)
            result = kept  # nothing of the rolled-back transaction is counted
    return result


def _sweep_transfer(engine: sa.Engine, org: Org, tid: int, now: datetime, today: date,
                    deliver_at: datetime, result: SweepResult, *, dry_run: bool) -> None:
    with SqlUnitOfWork(engine) as uow:
        t = uow.transfers.get(tid)
        if t is None:
            return
        result.transfers += 1
        pack, cal = org.pack_for(t.holding_team), services.calendar(org)
        done = outbox.keys_of(uow.session.connection(), tid)
        covers = uow.covers.active_on(today)
        holding_senior = {x for lv in pack.escalation.levels[1:]
                          for c in [org.contact(t.holding_team, lv.name)] if c
                          for x in (*c.users, *((c.channel,) if c.channel else ()))}
        changed = False
        rows: list[dict[str, Any]] = []

        def write(key: str, kind: str, recipient: str, payload: dict[str, Any], status: str,
                  not_before: datetime) -> bool:
            if key in done:
                return False
            done.add(key)
            rows.append(outbox.prepared(key, tid, kind, recipient, payload, status, not_before, now))
            return True

        for d in services.transfer_deadlines(org, t):
            if d.status != ClockStatus.running:
                continue
            clock = pack.clock(d.clock)
            all_steps = steps(d, clock, pack, cal)
            due = [s for s in all_steps
                   if s.on <= today and outbox.step_key(tid, d.clock, s.key) not in done]
            if not due:
                continue
            breach_due = any(s.kind != StepKind.reminder for s in all_steps if s.on <= today)
            reminders = [s for s in due if s.kind == StepKind.reminder]
            escalations = [s for s in due if s.kind == StepKind.escalation]
            send: list[Step] = [s for s in due if s.kind == StepKind.breach]
            if reminders and not breach_due:
                send.append(reminders[-1])
            if escalations:
                send.append(escalations[-1])
            for _ in escalations:  # climb every level that should have been reached
                try:
                    t.escalate(services.Actor(services.SYSTEM, frozenset({services.Role.system})),
                               now, pack, reason=f"{clock.label} overdue", clock=d.clock)
                    result.escalations += 1
                    changed = True
                except DomainError:
                    pass
            for s in due:
                result.steps += 1
                status = "done" if s in send else "superseded"
                result.superseded += status == "superseded"
                write(outbox.step_key(tid, d.clock, s.key), "step", "-",
                      {"on": s.on.isoformat(), "status": status}, status, now)
                if status != "done":
                    continue
                for who in _recipients_for(s, clock):
                    targets = (level_contacts(org, t, pack, s.level)
                               if s.kind == StepKind.escalation and s.level
                               else resolve(org, covers, t, who, pack))
                    for target in access.audience(t, targets):  # never an excluded person
                        offered = _offered(s, clock, who)
                        if "endorse" in offered and target not in holding_senior:
                            offered = []  # FAQ: endorsement "lies with the transferring area"
                        text = (access.brief_line(t.case_ref, f"{s.kind.value} on {d.label.lower()}")
                                if t.restricted else _text(s, clock, d, pack, cal, today))
                        item = {"case_ref": t.case_ref, "transfer_id": tid, "clock": d.clock,
                                "step": s.key, "text": text, "actions": offered}
                        result.lines.append(f"{target}: {t.case_ref}: {item['text']}")
                        if write(outbox.item_key(tid, d.clock, s.key, target), "item", target, item,
                                 "pending", deliver_at):
                            result.notifications += 1
        # One multi-row INSERT; the unique key makes a racing instance's copy fail whole.
        outbox.insert_rows(uow.session, rows)
        if changed:
            events = list(t.new_events)
            uow.transfers.save(t, services.transfer_deadlines(org, t))
            # The escalation redraws every card and tells the level now holding it.
            services.write_notices(uow, org, t, events, now, not_before=deliver_at)
        # Nothing before tomorrow is left to look at for this transfer.
        tomorrow = today + timedelta(days=1)
        updates: list[tuple[int, str, date | None]] = []
        for d in services.transfer_deadlines(org, t):
            nxt = None
            if d.status == ClockStatus.running:
                later = [s.on for s in steps(d, pack.clock(d.clock), pack, cal) if s.on >= tomorrow]
                nxt = min(later) if later else None
            updates.append((tid, d.clock, nxt))
        uow.transfers.set_next_steps(updates)
        if dry_run:
            uow.rollback()
        else:
            uow.commit()
