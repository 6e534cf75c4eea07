"""The sweep: find every reminder and escalation that has fallen due and write it to the outbox.

A sweep reads only deadlines whose ``next_step_on`` has come (an index range scan), so its cost
grows with what is due, not with what is open. Each step of a clock on a transfer is written
once: a marker row keyed ``t{id}:{clock}:{step}`` is inserted in the same transaction as the
notifications and any escalation, so a second sweep (or a second instance) finds it and does
nothing. Steps missed while Baton was down are all found on the next sweep; of those, only the
latest reminder is sent (the older ones are marked superseded), and reminders give way to a
breach that is also due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col

from bot import access, services
from bot.clocks import ClockStatus, Deadline, Step, StepKind, steps
from bot.domain import DomainError, local_date
from bot.org import Org
from bot.policy import BreachAction, Clock, PolicyPack, Recipient
from bot.ports import StaleTransfer
from bot.recipients import level_contacts, resolve
from scheduler.delivery import Delivery
from store import outbox
from store.models import DeadlineRow
from store.repo import SqlUnitOfWork

log = logging.getLogger("baton.sweep")


@dataclass(frozen=True)
class WorkingHours:
    """When reminders may be delivered: working days, between two local times."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    start: time = time(9, 0)
    end: time = time(17, 0)

    @classmethod
    def parse(cls, spec: str, tz: str) -> WorkingHours:
        """From settings such as '09:00-17:00' and 'Europe/London'."""
        a, b = spec.split("-")
        return cls(ZoneInfo(tz), time.fromisoformat(a.strip()), time.fromisoformat(b.strip()))

    def next_open(self, now: datetime, org: Org) -> datetime:
        """``now`` if it is within working hours on a working day, else the next opening."""
        cal = services.calendar(org)
        local = now.astimezone(self.tz)
        day = local.date()
        if cal.is_working_day(day) and self.start <= local.time() < self.end:
            return now
        if not cal.is_working_day(day) or local.time() >= self.end:
            day = cal.next_working_day(day)
        return datetime.combine(day, self.start, tzinfo=self.tz)


@dataclass
class SweepResult:
    """What one sweep did."""

    transfers: int = 0
    steps: int = 0
    notifications: int = 0
    superseded: int = 0
    escalations: int = 0
    sent: int = 0
    lines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The counts, for logs and JSON."""
        return {k: v for k, v in self.__dict__.items() if k != "lines"}


def _text(step: Step, clock: Clock, d: Deadline, pack: PolicyPack, org: Org, today: date) -> str:
    cal = services.calendar(org)
    due = f"{d.due_on:%a %d %b %Y}"
    if step.kind == StepKind.reminder:
        left = cal.working_days_between(today, d.due_on)
        return f"{clock.label}: due {due} ({left} working day{'s' if left != 1 else ''} left)."
    late = cal.working_days_between(d.due_on, today)
    if step.kind == StepKind.escalation:
        label = next(lv.label for lv in pack.escalation.levels if lv.name == step.level)
        return f"Escalated to {label}: {clock.label} was due {due}, {late} working day(s) ago."
    extra = ""
    if BreachAction.record_delay in clock.at_breach:
        extra = " The transferring area must record the reason for delay and the actions in hand."
    if BreachAction.request_endorsement in clock.at_breach:
        extra = " Senior management must endorse the extension."
    if BreachAction.transfer_anyway in clock.at_breach:
        extra = " The holding manager should now complete the transfer."
    return f"{clock.label}: deadline {due} has passed.{extra}"


def _offered(step: Step, clock: Clock, who: Recipient) -> list[str]:
    """The catalogue actions a breach line offers its recipient."""
    if step.kind != StepKind.breach:
        return []
    if BreachAction.record_delay in clock.at_breach and who in (
            Recipient.holding_practitioner, Recipient.holding_manager):
        return ["record_delay"]
    if BreachAction.request_endorsement in clock.at_breach and who == Recipient.escalation:
        return ["endorse"]
    return []


def sweep(engine: sa.Engine, org: Org, now: datetime, *, hours: WorkingHours | None = None,
          dry_run: bool = False) -> SweepResult:
    """Write every reminder and escalation due by ``now`` to the outbox (once each)."""
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
                          for x in (*c.users, *c.places)}
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
                                if t.restricted else _text(s, clock, d, pack, org, today))
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
            uow.transfers.save(t, services.stored_deadlines(org, t))
            # The escalation redraws every card and tells the level now holding it.
            services.write_notices(uow, org, t, events, now, not_before=deliver_at)
        # Nothing before tomorrow is left to look at for this transfer.
        tomorrow = today + timedelta(days=1)
        updates = []
        for d in services.transfer_deadlines(org, t):
            nxt = None
            if d.status == ClockStatus.running:
                later = [s.on for s in steps(d, pack.clock(d.clock), pack, cal) if s.on >= tomorrow]
                nxt = min(later) if later else None
            updates.append({"tid": tid, "c": d.clock, "n": nxt})
        if updates:
            uow.session.connection().execute(_NEXT_STEP, updates)
        if dry_run:
            uow.rollback()
        else:
            uow.commit()


_DEADLINES: sa.Table = DeadlineRow.__table__  # type: ignore[attr-defined]
_NEXT_STEP = (sa.update(_DEADLINES)
              .where(_DEADLINES.c.transfer_id == sa.bindparam("tid"),
                     _DEADLINES.c.clock == sa.bindparam("c"))
              .values(next_step_on=sa.bindparam("n")))


def _recipients_for(step: Step, clock: Clock) -> tuple[Recipient, ...]:
    if step.kind == StepKind.reminder:
        return clock.remind
    if step.kind == StepKind.escalation:
        return (Recipient.escalation,)
    return tuple(r for r in clock.breach_notify if r != Recipient.escalation or
                 BreachAction.escalate not in clock.at_breach)


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekly(spec: str) -> tuple[int, time] | None:
    """'mon 09:00' -> (0, 09:00); 'off' -> None."""
    if spec.strip().lower() in ("off", "none", ""):
        return None
    day, _, clock = spec.strip().lower().partition(" ")
    if day[:3] not in DAYS:
        raise ValueError(f"weekly digest day {day!r}: use one of {', '.join(DAYS)}")
    return DAYS.index(day[:3]), time.fromisoformat(clock.strip() or "09:00")


def escalation_channels(org: Org) -> list[str]:
    """Every channel named as an escalation contact, org-wide or for a team."""
    out: list[str] = []
    for contact in [*org.escalation.values(), *(c for t in org.teams for c in t.escalation.values())]:
        for place in contact.places:
            if place not in out:
                out.append(place)
    return out


def schedule_weekly(engine: sa.Engine, org: Org, now: datetime, *, weekday: int = 0,
                    at: time = time(9, 0)) -> int:
    """Once the week's digest time has passed (Monday 09:00 by default), write one weekly
    summary of the previous seven days for each escalation channel; returns how many."""
    local = now.astimezone(ZoneInfo("Europe/London"))
    monday = local.date() - timedelta(days=local.weekday())
    due = datetime.combine(monday + timedelta(days=weekday), at, tzinfo=local.tzinfo)
    if local < due:
        return 0
    end = due.date() - timedelta(days=1)
    start = end - timedelta(days=6)
    written = 0
    with SqlUnitOfWork(engine) as uow:
        for channel in escalation_channels(org):
            written += uow.add_notification(
                key=outbox.weekly_key(due.date().isoformat(), channel), transfer_id=None, kind="weekly",
                recipient=channel, payload={"start": start.isoformat(), "end": end.isoformat()},
                not_before=now, now=now)
        uow.commit()
    return written


def tick(engine: sa.Engine, org: Org, delivery: Delivery, now: datetime, *,
         hours: WorkingHours | None = None, weekly: tuple[int, time] | None = None,
         ) -> dict[str, Any]:
    """One sweep, then delivery of whatever is due: what the scheduler runs every minute."""
    result = sweep(engine, org, now, hours=hours)
    if weekly is not None:
        schedule_weekly(engine, org, now, weekday=weekly[0], at=weekly[1])
    result.sent = delivery.deliver(now)
    return result.as_dict()
