"""The sweep of case records' clocks (bot/record_clocks.py): whatever a record's clock asks at
this moment (the managers told of a 24-hour duty when it is recorded, a reminder, the breach)
goes to the people its obligation names, as digest lines in the outbox, once each.

Records are read by ``next_step_at`` (an index range scan): only those with a step due. Each
line's outbox key names the record, the step and the recipient, so a second sweep or instance
writes nothing twice. Of steps missed while Baton was down only the latest reminder goes, and
none once the breach is due. An hours clock's lines go at once (its seed says hours, nights and
weekends included); the others in working hours.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from bot import obligations, services
from bot.calendar import local_date
from bot.org import Org
from bot.record_clocks import RecordStepKind, due_words, record_steps, running
from bot.usecases.case_records import next_step_at
from store.repo import SqlUnitOfWork

log = logging.getLogger("baton.sweep")

_WORDS = {RecordStepKind.asked: "To do", RecordStepKind.reminder: "Reminder",
          RecordStepKind.breach: "Missed"}


def sweep_records(engine: sa.Engine, org: Org, now: datetime, deliver_at: datetime, *,
                  dry_run: bool = False, lines: list[str] | None = None) -> int:
    """Write every due step of every record whose next step has come; returns the lines written
    (each added to ``lines`` as ``recipient: case: text`` when given). ``dry_run``: nothing is
    kept."""
    cal = services.calendar(org)
    written = 0
    with SqlUnitOfWork(engine) as uow:
        for r in uow.case_records.due(now):
            if not org.has_team(r.team):
                uow.case_records.save(r, None)  # its team left the org file: nothing to tell
                continue
            pack = org.pack_for(r.team)
            rk = pack.record_kind(r.kind)
            obs = {o.deadline.clock: o for o in obligations.of_record(r, pack, org, cal, now)}
            for clock, d in running(r, pack.record_clocks, cal, now):
                ob = obs.get(clock.name)
                due = [s for s in record_steps(clock, d, cal) if s.at <= now]
                if ob is None or not due:
                    continue
                breach = [s for s in due if s.kind == RecordStepKind.breach]
                send = breach or [due[-1]]
                for s in send:
                    text = (f"{_WORDS[s.kind]}: case record {rk.label if rk else r.kind} "
                            f"({r.on:%d %b %Y}): {ob.who}: {ob.verb}. {due_words(d, cal, now)}.")
                    people = obligations.record_people(ob, r, pack, org, breach=bool(breach))
                    for who in people:
                        wrote = uow.add_notification(
                            key=f"r{r.id}:{s.key}:{who}"[:255], transfer_id=None, kind="item",
                            recipient=who, payload={"case_ref": r.case_ref, "text": text, "actions": [],
                                                    "record": True},
                            not_before=now if clock.hours else deliver_at, now=now)
                        written += wrote
                        if wrote and lines is not None:
                            lines.append(f"{who}: {r.case_ref}: {text}")
            uow.case_records.save(r, next_step_at(r, pack, cal, now, after=now))
        if dry_run:
            uow.rollback()
            return written
        uow.commit()
    if written:
        log.info("case_record_steps_written", extra={"lines": written, "day": local_date(now).isoformat()})
    return written
