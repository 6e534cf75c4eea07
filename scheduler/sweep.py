"""The sweep: find every reminder and escalation that has fallen due and write it to the outbox.

A sweep reads only deadlines whose ``next_step_on`` has come (an index range scan), so its cost
grows with what is due, not with what is open. Each step of a clock on a transfer is written
once: a marker row keyed ``t{id}:{clock}:{step}`` is inserted in the same transaction as the
notifications and any escalation, so a second sweep (or a second instance) finds it and does
nothing. Steps missed while Baton was down are all found on the next sweep; of those, only the
latest reminder is sent (the older ones are marked superseded), and reminders give way to a
breach that is also due.

The sweep is set-based: the due transfers are taken up to :data:`CHUNK` at a time, each chunk in
one transaction and a fixed handful of statements whatever its size: lock and read the transfers
and their timelines (PostgreSQL ``FOR UPDATE``: a second instance sweeping at the same moment
waits for the first, then finds its markers and writes nothing twice), read the keys already
written, decide every transfer in memory (:func:`_plan`), then write every
marker and digest line in one INSERT, the escalated transfers with their events, clocks and
notices in a few more, and the clocks' next step in one UPDATE run. A unique key or version
that another writer got to first rolls the chunk back whole; it is tried once more, and what is
left the next sweep takes up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col

from bot import access, actions, notices, obligations, services
from bot import reminders as digest_lines
from bot.calendar import WorkingCalendar
from bot.clocks import ClockStatus, Deadline, Step, StepKind, deadlines, steps
from bot.domain import DomainError, TimelineEvent, Transfer, local_date
from bot.notices import Notice
from bot.org import Actor, Org
from bot.policy import Anchor, BreachAction, Clock, PolicyPack, Recipient
from bot.ports import StaleTransfer
from bot.recipients import Cover, level_contacts, resolve
from bot.usecases.access import actor_among
from scheduler.delivery import Delivery
from scheduler.record_sweep import sweep_records
from store import outbox
from store.models import DeadlineRow, MessageRefRow, NotificationRow, TransferRow
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


def _text(step: Step, clock: Clock, d: Deadline, pack: PolicyPack, cal: WorkingCalendar,
          today: date, work: tuple[str, ...] = ()) -> str:
    """A reminder, breach or escalation line in the pack's words: the obligation, its date and
    the working days left or overdue ("Transfer to be completed by Tue 22 Dec 2026 (5 working
    days left)")."""
    due = f"{d.due_on:%a %d %b %Y}"
    if step.kind == StepKind.reminder:
        text = f"{clock.label} {due} ({obligations.days_left_text(d.due_on, cal, today)})."
        if work and clock.starts == Anchor.work_requested:  # BURY: the work itself, not a count
            text += " The work: " + "; ".join(work) + "."
        if BreachAction.request_endorsement in clock.at_breach:
            text += (" Senior management: endorse the extension, with the date the transfer is now "
                     "expected by.")
        return text
    overdue = obligations.days_left_text(d.due_on, cal, today)  # never "overdue by -2"
    if step.kind == StepKind.escalation:
        label = next(lv.label for lv in pack.escalation.levels if lv.name == step.level)
        return f"Escalated to {label}: {clock.label} {due}, {overdue}."
    extra = ""
    if BreachAction.record_delay in clock.at_breach:
        extra = " The transferring area must record the reason for delay and the actions in hand."
    if BreachAction.request_endorsement in clock.at_breach:
        extra = (" Senior management must endorse the extension, with the date the transfer is now "
                 "expected by.")
    if BreachAction.transfer_anyway in clock.at_breach:
        extra = (" Complete the electronic transfer now: the receiving manager, or a service "
                 "representative if they are not available (the holding manager if the receiving "
                 "team missed the pick-up point without prior agreement).")
    if work and clock.starts == Anchor.work_requested:
        extra += " The work: " + "; ".join(work) + "."
    return f"Missed: {clock.label} {due} ({overdue}).{extra}"


# A restricted transfer's reminder, breach or escalation: the step and its date, nothing more.
BRIEF_STEP = {StepKind.reminder: "Reminder", StepKind.breach: "Missed",
              StepKind.escalation: "Escalated"}


def _offered(step: Step, clock: Clock, who: Recipient) -> list[str]:
    """The catalogue actions a breach line offers its recipient."""
    if BreachAction.request_endorsement in clock.at_breach and who == Recipient.escalation:
        return ["endorse"]  # asked before its deadline (the reminders) as well as at it
    if step.kind != StepKind.breach:
        return []
    if BreachAction.record_delay in clock.at_breach and who in (
            Recipient.holding_practitioner, Recipient.holding_manager):
        return ["record_delay"]
    if BreachAction.request_endorsement in clock.at_breach and who == Recipient.escalation:
        return ["endorse"]
    return []


CHUNK = 1000  # due transfers swept in one transaction (a handful of statements each)


def sweep(engine: sa.Engine, org: Org, now: datetime, *, hours: WorkingHours | None = None,
          dry_run: bool = False) -> SweepResult:
    """Write every reminder and escalation due by ``now`` to the outbox (once each)."""
    hours = hours or WorkingHours()
    today = local_date(now)
    result = SweepResult()
    due: dict[int, set[str]] = {}  # transfer -> its clocks with a step to look at
    with engine.connect() as conn:
        # No DISTINCT / ORDER BY in SQL: with them SQLite walks the transfer_id index over every
        # deadline (cost grows with what is open) instead of the next_step_on range.
        for tid, clock in conn.execute(
                sa.select(col(DeadlineRow.transfer_id), col(DeadlineRow.clock))
                .where(col(DeadlineRow.next_step_on) <= today)):
            due.setdefault(tid, set()).add(clock)
    due_ids = sorted(due)
    deliver_at = hours.next_open(now, org)
    for i in range(0, len(due_ids), CHUNK):
        chunk = {tid: due[tid] for tid in due_ids[i : i + CHUNK]}
        for attempt in (1, 2):
            kept = replace(result, lines=list(result.lines))
            try:
                _sweep_chunk(engine, org, chunk, now, today, deliver_at, result, dry_run=dry_run)
                break
            except (StaleTransfer, sa.exc.IntegrityError):
                # Another instance swept or someone changed one of them meanwhile: nothing of the
                # rolled-back transaction is counted; once more on what is left, then the next sweep.
                log.info("transfers_swept_elsewhere", extra={"transfers": len(chunk), "attempt": attempt})
                result = kept
    return result


@dataclass
class _Plan:
    """What one sweep writes for one transfer: outbox rows (step markers and digest lines), the
    timeline events of its escalations, and the next day each of its clocks needs a look."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)
    next_steps: list[tuple[int, str, date | None]] = field(default_factory=list)
    # Notices a due step calls for besides its digest lines (say, an 'update' redrawing the
    # transfer's cards when a reminder or breach point passes): written with the others.
    notices: list[Notice] = field(default_factory=list)
    # The transfer's cards redrawn at each step that passes, sent at once (not in working hours).
    redraws: list[Notice] = field(default_factory=list)


def _sweep_chunk(engine: sa.Engine, org: Org, due: dict[int, set[str]], now: datetime, today: date,
                 deliver_at: datetime, result: SweepResult, *, dry_run: bool) -> None:
    """Sweep many due transfers (with the clocks due on each) in one transaction, in a fixed
    number of statements: lock and read them and the keys already written, then write every
    marker and digest line in one INSERT, every escalated transfer, its events and notices in a
    few more, and the next step of every clock looked at in one UPDATE run."""
    with SqlUnitOfWork(engine) as uow:
        transfers = uow.transfers.get_many(list(due), lock=True)
        done = outbox.step_keys_of(uow.session.connection(), list(transfers))
        covers = uow.covers.active_on(today)
        ctx = _Context(org, services.calendar(org), covers, now, today, deliver_at,
                       actor_of=lambda t, user: actor_among(org, t, user, today, covers))
        rows: list[dict[str, Any]] = []
        changed: list[tuple[Transfer, list[TimelineEvent]]] = []
        next_steps: list[tuple[int, str, date | None]] = []
        said: list[tuple[Notice, datetime]] = []
        for tid in sorted(transfers):
            t = transfers[tid]
            result.transfers += 1
            p = _plan(ctx, t, done[tid], result)
            rows += p.rows
            said += [(n, deliver_at) for n in p.notices] + [(n, now) for n in p.redraws]
            if p.events:
                changed.append((t, p.events))
                next_steps += p.next_steps  # its clocks were rewritten: every one is set again
            else:  # the others keep the day they had (nothing fell due on them)
                next_steps += [n for n in p.next_steps if n[1] in due[tid]]
                gone = due[tid] - {n[1] for n in p.next_steps}  # a clock the pack no longer runs
                next_steps += [(tid, c, None) for c in sorted(gone)]
        # One multi-row INSERT; the unique key makes a racing instance's copy fail whole.
        outbox.insert_rows(uow.session, rows)
        if changed:
            uow.transfers.save_many([(t, services.transfer_deadlines(org, t)) for t, _ in changed])
            # Each escalation redraws every card and tells the level now holding it.
            said += [(n, deliver_at) for t, events in changed
                     for n in notices.for_change(org, org.pack_for(t.holding_team), covers, t, events)]
        uow.add_notices(said, now=now)  # one statement for every notice of the chunk
        uow.transfers.set_next_steps(next_steps)
        if dry_run:
            uow.rollback()
        else:
            uow.commit()


@dataclass
class _Context:
    """What every transfer of one sweep shares: the org, its calendar, today's covers, the time."""

    org: Org
    cal: WorkingCalendar
    covers: list[Cover]
    now: datetime
    today: date
    deliver_at: datetime
    # The roles a person holds on a transfer today (cover counted): which buttons a line offers.
    actor_of: Callable[[Transfer, str], Actor] | None = None
    _senior: dict[str, set[str]] = field(default_factory=dict)

    def holding_senior(self, team: str, pack: PolicyPack) -> set[str]:
        """The holding team's escalation contacts (people and channels), once per team."""
        if team not in self._senior:
            self._senior[team] = {x for lv in pack.escalation.levels[1:]
                                  for c in [self.org.contact(team, lv.name)] if c
                                  for x in (*c.users, *c.places)}
        return self._senior[team]


def _plan(ctx: _Context, t: Transfer, done: set[str], result: SweepResult) -> _Plan:
    """Decide what is due on one transfer today (escalating it in memory where a level is due);
    writes nothing."""
    assert t.id is not None
    tid = t.id
    org, cal, covers, now, today = ctx.org, ctx.cal, ctx.covers, ctx.now, ctx.today
    pack = org.pack_for(t.holding_team)
    holding_senior = ctx.holding_senior(t.holding_team, pack)
    plan = _Plan()

    def write(key: str, kind: str, recipient: str, payload: dict[str, Any], status: str,
              not_before: datetime) -> bool:
        if key in done:
            return False
        done.add(key)
        plan.rows.append(outbox.prepared(key, tid, kind, recipient, payload, status, not_before, now))
        return True

    running = deadlines(t, pack, cal)  # the clocks as they run (what the store keeps is not needed)
    owed = obligations.current(t, pack, org, cal, today, running)
    named_by = {i: obligations.people(o, t, pack, org, covers) for i, o in enumerate(owed)}
    for d in running:
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
        names = [lv.name for lv in pack.escalation.levels]
        for s_ in escalations:  # climb every level that should have been reached
            if (s_.level in names and t.escalation_level in names
                    and names.index(s_.level) <= names.index(t.escalation_level)):
                continue  # already there (an imported dispute): nothing to climb
            try:
                t.escalate(services.Actor(services.SYSTEM, frozenset({services.Role.system})),
                           now, pack, reason=f"{clock.label} {d.due_on:%a %d %b %Y}: missed", clock=d.clock)
                result.escalations += 1
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
            plan.redraws.append(card_refresh(tid, d.clock, s))
            pairs: list[tuple[Recipient | None, str]] = [
                (who, x) for who in _recipients_for(s, clock)
                for x in (level_contacts(org, t, pack, s.level)
                          if s.kind == StepKind.escalation and s.level
                          else resolve(org, covers, t, who, pack))]
            if s.kind == StepKind.breach:  # whoever the obligation names is told at the breach
                pairs += [(None, x) for i, o in enumerate(owed) if o.deadline.clock == d.clock
                          for x in named_by[i]]
            for who, person in pairs:
                for target in access.audience(t, [person]):  # never an excluded person
                    ob = digest_lines.owed_to(owed, d.clock, target, named_by)
                    named = set(named_by[owed.index(ob)]) if ob is not None else set()
                    offered = _offered(s, clock, who) if who is not None else []
                    if ob is not None and ctx.actor_of is not None and target in named:
                        # the obligation's own button, for the person it names who may take it
                        actor = ctx.actor_of(t, target)
                        offered += [x.name for x in actions.available(t, actor, pack, clocks=running,
                                                                      today=today)
                                    if x.name in ob.actions and x.name not in offered]
                    if "endorse" in offered and target not in holding_senior:
                        if s.kind == StepKind.reminder:
                            continue  # asked of the transferring area's senior managers only
                        offered = []  # FAQ: endorsement "lies with the transferring area"
                    step_text = (access.brief_line(t.case_ref, f"{BRIEF_STEP[s.kind]}: {d.label} "
                                                                f"{d.due_on:%a %d %b %Y}")
                                 if t.restricted else _text(s, clock, d, pack, cal, today,
                                                            () if ob is not None else t.work_items))
                    # who must do what, then the clock (drawn again as the transfer moves on)
                    text = step_text if t.restricted else digest_lines.line(ob, t, step_text, owed=bool(owed))
                    item = {"case_ref": t.case_ref, "transfer_id": tid, "clock": d.clock,
                            "step": s.key, "text": text, "actions": offered}
                    if not t.restricted:
                        item["step_text"] = step_text
                    if write(outbox.item_key(tid, d.clock, s.key, target), "item", target, item,
                             "pending", ctx.deliver_at):
                        result.lines.append(f"{target}: {t.case_ref}: {item['text']}")
                        result.notifications += 1
    plan.events = list(t.new_events)
    # Nothing before tomorrow is left to look at for this transfer.
    tomorrow = today + timedelta(days=1)
    for d in deadlines(t, pack, cal) if plan.events else running:
        nxt = None
        if d.status == ClockStatus.running:
            later = [s.on for s in steps(d, pack.clock(d.clock), pack, cal) if s.on >= tomorrow]
            nxt = min(later) if later else None
        plan.next_steps.append((tid, d.clock, nxt))
    return plan


def refresh_cards_at_step(uow: SqlUnitOfWork, transfer_id: int, clock: str, step: Step,
                          now: datetime) -> int:
    """Redraw every card of the transfer when the sweep passes a reminder, breach or escalation
    point, so each card's deadline line, colour and working days left match the clock (written
    through the same notice path as any change, once per step: its topic names the step)."""
    return uow.add_notice(Notice("update", f"clock:{clock}:{step.key}", transfer_id, ("-",)),
                          now=now, not_before=now)


def card_refresh(transfer_id: int, clock: str, step: Step) -> Notice:
    """Redraw every card of the transfer when the sweep passes a reminder, breach or escalation
    point, so each card's deadline line, colour and working days left match the clock (written
    through the same notice path as any change, once per step: its topic names the step)."""
    return Notice("update", f"clock:{clock}:{step.key}", transfer_id, ("-",))


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


DAY_CHUNK = 5000  # transfers whose cards one tick redraws for the new working day


def redraw_day(engine: sa.Engine, org: Org, now: datetime, *, hours: WorkingHours | None = None
               ) -> int:
    """From the start of working hours each working day, redraw every posted card of every
    transfer still owing something (open, or declined and disputable), so "N working days left",
    "due today" and the colour are true on the day they are read. Set-based and bounded: each
    tick one SELECT finds up to :data:`DAY_CHUNK` such transfers not yet redrawn today (their
    redraw's outbox key is absent) and one INSERT writes their redraws; once none is left a marker
    row ends the day's pass (a second instance finds it). Returns how many redraws were written."""
    hours = hours or WorkingHours()
    local = now.astimezone(hours.tz)
    if not services.calendar(org).is_working_day(local.date()) or local.time() < hours.start:
        return 0
    today = local.date()
    marker, topic = f"dayredraw:{today.isoformat()}", f"day:{today.isoformat()}"
    n = NotificationRow.__table__.alias("n")  # type: ignore[attr-defined]
    with SqlUnitOfWork(engine) as uow:
        conn = uow.session.connection()
        if conn.execute(sa.select(col(NotificationRow.key)).where(
                col(NotificationRow.key) == marker)).first() is not None:
            return 0
        key = sa.literal("t") + sa.cast(col(MessageRefRow.transfer_id), sa.String) + f":{topic}:-"
        ids = sorted(set(conn.execute(
            sa.select(col(MessageRefRow.transfer_id)).join(
                TransferRow, col(TransferRow.id) == col(MessageRefRow.transfer_id))
            .where(sa.or_(col(TransferRow.closed_at).is_(None), col(TransferRow.state) == "declined"),
                   ~sa.exists().where(n.c.key == key))
            .limit(DAY_CHUNK)).scalars()))
        try:
            if not ids:  # every card is drawn for today
                outbox.insert_rows(uow.session, [outbox.prepared(marker, None, "step", "-",
                                                                 {"on": today.isoformat()}, "done",
                                                                 now, now)])
            written = uow.add_notices([(Notice("update", topic, tid, ("-",)), now) for tid in ids],
                                      now=now)
            uow.commit()
        except sa.exc.IntegrityError:  # another instance got there first
            return 0
    if ids:
        log.info("cards_redrawn_for_the_day", extra={"transfers": len(ids)})
    return written


def tick(engine: sa.Engine, org: Org, delivery: Delivery, now: datetime, *,
         hours: WorkingHours | None = None, weekly: tuple[int, time] | None = None,
         batch: int = 1000) -> dict[str, Any]:
    """One sweep (transfers' clocks, then case records' clocks), the day's redraw of open cards,
    then delivery of whatever is due (at most ``batch`` outbox rows; the next pass takes the
    rest): what the scheduler runs every minute."""
    result = sweep(engine, org, now, hours=hours)
    result.notifications += sweep_records(engine, org, now, (hours or WorkingHours()).next_open(now, org))
    redraw_day(engine, org, now, hours=hours)
    if weekly is not None:
        schedule_weekly(engine, org, now, weekday=weekly[0], at=weekly[1])
    result.sent = delivery.deliver(now, limit=batch)
    return result.as_dict()
