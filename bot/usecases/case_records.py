"""Case records: recording one (``transfer record CASE KIND DATE``), marking its duty done, the
records of a case, and the transfer that ends a record's clock or reuses its date."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from bot import obligations
from bot.calendar import UK_TIME, WorkingCalendar, local_date
from bot.domain import DomainError, TimelineEvent, Transfer, validate_case_ref
from bot.errors import NotPermitted
from bot.org import Org, Team
from bot.policy import PolicyPack
from bot.ports import UnitOfWork
from bot.record_clocks import CaseRecord, record_steps, running
from bot.usecases.common import calendar

log = logging.getLogger("baton.records")

MAX_PAST_YEARS = 25  # a date of birth is the oldest record a clock runs from


@dataclass(frozen=True)
class RecordAnswer:
    """What Baton answers about a case's records: each record's kind and what it owes, by when."""

    case_ref: str
    lines: tuple[str, ...]
    headline: str = ""


def _packs_of(org: Org, user: str) -> list[tuple[Team, PolicyPack]]:
    return [(t, org.pack_for(t.id)) for t in org.teams_of(user)]


def kinds_text(pack: PolicyPack) -> str:
    """The pack's case record kinds in words, for usage lines and refusals."""
    return "; ".join(f"{k.id} ({k.date_label}{' and time' if k.timed else ''}"
                     f"{', then ' + k.end_label if k.end_label else ''})" for k in pack.case_records)


def usage(org: Org, user: str, command: str = "transfer record") -> str:
    """The usage line with the reader's own kinds."""
    packs = [p for _, p in _packs_of(org, user) if p.case_records]
    kinds = kinds_text(packs[0]) if packs else "none under your policy"
    return (f"Usage: {command} CASE KIND YYYY-MM-DD [HH:MM] [END-DATE]; {command} done CASE KIND; "
            f"{command} CASE (what its records owe). Kinds: {kinds}.")


def _day(word: str, what: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise DomainError(f"{word[:20]!r} is not a date: give {what} as YYYY-MM-DD.", field="date") from None


def _team_for(org: Org, user: str, kind: str) -> tuple[Team, PolicyPack]:
    """The reader's team whose policy knows ``kind``; specific refusals otherwise."""
    mine = _packs_of(org, user)
    if not mine:
        raise NotPermitted("Only members and managers of a team in Baton's org file can record a case "
                           "record; nothing was recorded.")
    for team, pack in mine:
        if pack.record_kind(kind) is not None:
            return team, pack
    pack = mine[0][1]
    if not pack.case_records:
        raise DomainError(f"The {pack.title} policy has no case records that start a clock.", field="kind")
    raise DomainError(f"{kind[:32]!r} is not a case record of the {pack.title} policy; give one of: "
                      f"{kinds_text(pack)}.", field="kind")


def next_step_at(r: CaseRecord, pack: PolicyPack, cal: WorkingCalendar, now: datetime,
                 after: datetime | None = None) -> datetime | None:
    """The earliest step of a record's running clocks a sweep has yet to look at (those after
    ``after``, when the sweep has looked up to it)."""
    found = [s.at for c, d in running(r, pack.record_clocks, cal, now) for s in record_steps(c, d, cal)
             if after is None or s.at > after]
    return min(found) if found else None


def record(uow: UnitOfWork, org: Org, user: str, words: list[str], now: datetime) -> RecordAnswer:
    """``transfer record CASE KIND DATE [HH:MM] [END-DATE]``: store the record and answer what its
    clocks now ask of whom, by when. Bad input changes nothing."""
    if len(words) < 3:
        raise DomainError(usage(org, user))
    raw_ref, kind = words[0], words[1].lower().replace("-", "_")
    team, pack = _team_for(org, user, kind)
    ref = validate_case_ref(raw_ref, pack)
    rk = pack.record_kind(kind)
    assert rk is not None
    today = local_date(now)
    on = _day(words[2], rk.date_label)
    at: datetime | None = None
    rest = words[3:]
    if rk.timed:
        if rest and re.fullmatch(r"\d{1,2}:\d{2}", rest[0]):
            try:
                at = datetime.combine(on, time.fromisoformat(rest[0].zfill(5)), tzinfo=UK_TIME)
            except ValueError:
                raise DomainError(f"{rest[0]!r} is not a time: give it as HH:MM (24-hour).",
                                  field="time") from None
            rest = rest[1:]
        else:
            at = now.astimezone(UK_TIME) if on == today else datetime.combine(on, time(0), tzinfo=UK_TIME)
        if at > now + timedelta(minutes=5):
            raise DomainError(f"{at:%H:%M %d %b %Y} is in the future: an hours clock runs from when "
                              "it happened.", field="time")
    ends_on = None
    if rest and rk.end_label:
        ends_on = _day(rest[0], rk.end_label)
        if ends_on < on:
            raise DomainError(f"The end date {ends_on.isoformat()} is before {on.isoformat()}.",
                              field="ends_on")
        rest = rest[1:]
    if rest:
        raise DomainError(f"I did not understand {' '.join(rest)[:40]!r}. " + usage(org, user))
    if on > today and not rk.future:
        raise DomainError(f"{rk.date_label.capitalize()} ({on.isoformat()}) is in the future.", field="date")
    if on < today.replace(year=today.year - MAX_PAST_YEARS):
        raise DomainError(f"{on.isoformat()} is more than {MAX_PAST_YEARS} years ago.", field="date")
    if any(x.kind == kind for x in uow.case_records.open_of_case(ref)):
        raise DomainError(f"{ref} already has a record '{rk.label}' whose clocks run; mark it "
                          f"done first (record done {ref} {kind}).", field="kind")
    r = CaseRecord(case_ref=ref, kind=kind, on=on, team=team.id, recorded_by=user, recorded_at=now,
                   at=at, ends_on=ends_on)
    cal = calendar(org)
    r = uow.case_records.add(r, next_step_at(r, pack, cal, now))
    uow.commit()
    log.info("case_record_saved", extra={"case_record_id": r.id, "kind": kind, "team": team.id})
    return answer(r, pack, org, cal, now, headline=f"Recorded for {ref}: {rk.label}, "
                                                     f"{on:%a %d %b %Y}{f' at {at:%H:%M}' if at else ''}.")


def answer(r: CaseRecord, pack: PolicyPack, org: Org, cal: WorkingCalendar, now: datetime,
           headline: str = "") -> RecordAnswer:
    """A record's obligations as lines ("Manager of FRCD: give manager oversight ... by 14:30 ...")."""
    lines = []
    for o in obligations.of_record(r, pack, org, cal, now):
        when = obligations.deadline_words(o.deadline, cal, local_date(now), now)
        lines.append(f"{o.who}: {o.verb}. {when}.")
    if not lines:
        lines.append("Nothing is owed on it now.")
    return RecordAnswer(r.case_ref, tuple(lines), headline)


def records_of(uow: UnitOfWork, org: Org, user: str, case_ref: str, now: datetime) -> RecordAnswer:
    """``transfer record CASE``: what the case's records owe now (to team members only)."""
    mine = _packs_of(org, user)
    if not mine:
        raise NotPermitted("Only members and managers of a team in Baton's org file can read case records.")
    ref = validate_case_ref(case_ref, mine[0][1])
    cal = calendar(org)
    teams = {t.id for t, _ in mine}
    lines: list[str] = []
    for r in uow.case_records.open_of_case(ref):
        if r.team not in teams or not org.has_team(r.team):
            continue  # another team's records: not told (no probe for a case's existence)
        pack = org.pack_for(r.team)
        rk = pack.record_kind(r.kind)
        head = f"{rk.label if rk else r.kind} {r.on:%d %b %Y}"
        lines += [f"{head}: {line}" for line in answer(r, pack, org, cal, now).lines]
    return RecordAnswer(ref, tuple(lines) or (f"Your teams have no open case records for {ref}.",))


def mark_done(uow: UnitOfWork, org: Org, user: str, words: list[str], now: datetime) -> RecordAnswer:
    """``transfer record done CASE KIND``: the duty owed first on the record is met (a repeating
    clock's current occurrence); by its recorder or a manager of its team."""
    if len(words) < 2:
        raise DomainError("Usage: record done CASE KIND, e.g. record done 123456 accommodated.")
    kind = words[1].lower().replace("-", "_")
    _, pack = _team_for(org, user, kind)
    ref = validate_case_ref(words[0], pack)
    found = [r for r in uow.case_records.open_of_case(ref) if r.kind == kind and r.team in
             {t.id for t in org.teams_of(user)}]
    if not found:
        raise DomainError(f"Your teams have no open {kind} record for {ref}.", field="case_ref")
    r = found[0]
    if user != r.recorded_by and user not in org.team(r.team).managers:
        raise NotPermitted(f"Only whoever recorded it or a manager of {org.team(r.team).name} can mark "
                           "it done; nothing has changed.")
    cal = calendar(org)
    owed = running(r, pack.record_clocks, cal, now)
    if not owed:
        raise DomainError(f"Nothing is owed on the {kind} record of {ref}.")
    clock, d = owed[0]
    r = replace(r, done=(*r.done, d.key))
    if not running(r, pack.record_clocks, cal, now) and not _more_to_come(r, pack, cal, now):
        r = replace(r, closed_at=now)
    uow.case_records.save(r, next_step_at(r, pack, cal, now) if r.closed_at is None else None)
    uow.commit()
    log.info("case_record_done", extra={"case_record_id": r.id, "clock": clock.name})
    return answer(r, pack, org, cal, now, headline=f"Done on {ref}: {clock.label.lower()} "
                                                     f"{d.due_on:%a %d %b %Y}.")


def _more_to_come(r: CaseRecord, pack: PolicyPack, cal: WorkingCalendar, now: datetime) -> bool:
    """A repeating clock whose next occurrence lies after today (before the record's end)."""
    far = now + timedelta(days=400)
    return bool(running(r, pack.record_clocks, cal, far))


def follow_transfer(uow: UnitOfWork, org: Org, t: Transfer, events: list[TimelineEvent],
                    now: datetime, *, new: bool = False) -> None:
    """A transfer's request or completion ends the record clocks that ask for it (in the caller's
    transaction); a new transfer's date the raise form asked (the accommodation date, the move
    date) records the case record, unless one is open already (never asked twice)."""
    if not org.has_team(t.holding_team):
        return
    pack = org.pack_for(t.holding_team)
    if not pack.record_clocks:
        return
    cal = calendar(org)
    open_records = uow.case_records.open_of_case(t.case_ref)
    if new:
        for rk in pack.case_records:
            day = getattr(t, rk.raise_field) if rk.raise_field else None
            if day is not None and not any(r.kind == rk.id for r in open_records):
                ends = t.move_end_date if rk.raise_field == "move_date" else None
                r = CaseRecord(t.case_ref, rk.id, day, t.holding_team, t.requested_by, now, ends_on=ends)
                open_records.append(uow.case_records.add(r, next_step_at(r, pack, cal, now)))
    kinds = {e.kind for e in events}
    for r in open_records:
        ended = tuple(c.name for c in pack.record_clocks if c.record == r.kind and c.name not in r.ended
                      and (not c.kinds or t.kind in c.kinds)
                      and any(k in kinds for k in c.ends_on if k != "done"))
        if not ended or r.id is None:
            continue
        r2 = replace(r, ended=(*r.ended, *ended))
        if not running(r2, pack.record_clocks, cal, now):
            r2 = replace(r2, closed_at=now)
        uow.case_records.save(r2, None if r2.closed_at else next_step_at(r2, pack, cal, now))
        log.info("case_record_ended_by_transfer", extra={"case_record_id": r.id, "clocks": list(ended)})


def record_for_raise(uow: UnitOfWork, case_ref: str, field: str, pack: PolicyPack) -> date | None:
    """The date an open case record already holds for a raise form field (reused, not asked twice)."""
    for rk in pack.case_records:
        if rk.raise_field == field:
            for r in uow.case_records.open_of_case(case_ref):
                if r.kind == rk.id:
                    return r.on
    return None
