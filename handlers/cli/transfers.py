"""The ``baton`` command line: transfers and their clocks (deadlines, closed, transfers list)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from bot.calendar import REGIONS, CalendarError, WorkingCalendar, calendar_for
from bot.clocks import plan
from bot.policy import PACK_NAMES, PolicyError, PolicyPack, builtin_pack
from bot.record_clocks import RecordDeadline
from handlers.cli.base import (
    _baton,
    _operator,
    app,
    fail,
    now,
    parse_day,
    transfers_app,
)


@app.command()
def deadlines(
    policy: Annotated[str, typer.Option(help=f"Pack name: {', '.join(PACK_NAMES)}")],
    start: Annotated[str, typer.Option(help="The day the clocks start (YYYY-MM-DD)")],
    region: Annotated[str | None, typer.Option(
        help=f"Bank holidays of: {', '.join(REGIONS)} (default: the org file's region, else ENG)")] = None,
    org: Annotated[Path | None, typer.Option(
        help="Org file whose closure days count too (default: BATON_ORG when set)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    at: Annotated[str | None, typer.Option(
        help="The time (HH:MM, UK time) an hours clock's record starts at (default 00:00)")] = None,
) -> None:
    """Every clock of a pack started on a date, with its due date and reminder dates, then the
    clocks its case records start (``transfer record``) from that date, an hours clock's with its
    time; the org file's closure days count beside the region's bank holidays, and those that
    moved a date are listed."""
    from bot.org import load_org
    from bot.settings import get_settings

    day = parse_day(start, "--start")
    org_file = org or get_settings().org_file
    closures: dict[date, str] = {}
    if org_file is not None:
        try:
            loaded = load_org(org_file)
        except PolicyError as exc:  # an unreadable closure calendar, too: named, nothing printed
            raise fail(f"org file: {exc}") from None
        closures = loaded.closure_days()
        region = region or get_settings().region or loaded.region
    try:
        pack = builtin_pack(policy)
        cal = calendar_for(region or "ENG", closures)
    except (PolicyError, CalendarError) as exc:
        raise fail(str(exc)) from None
    rows = plan(pack, day, cal)
    recs = record_plan(pack, day, cal, at)
    if as_json:
        typer.echo(json.dumps([*[
            {"clock": d.clock, "label": d.label, "start": d.starts_on.isoformat(),
             "due": d.due_on.isoformat(), "reminders": [r.isoformat() for r in d.remind_on],
             "working_days": cal.working_days_between(d.starts_on, d.due_on),
             "closure_days": [{"date": c.isoformat(), "name": n}
                              for c, n in cal.closed_between(d.starts_on, d.due_on).items()]}
            for d in rows], *[
            {"clock": d.clock, "label": d.label, "record": kind, "start": d.starts_at.isoformat(),
             "due": d.due_on.isoformat(), "due_at": d.due_at.isoformat() if d.due_at else None,
             "reminders": [r.isoformat() for r in d.remind_at]}
            for kind, d in recs]
        ], indent=2))
        return
    typer.echo(f"{pack.title}: clocks started {day:%a %d %b %Y} ({cal.region}"
               f"{', with the org file' + chr(39) + 's closure days' if cal.closures else ''})")
    for d in rows:
        reminders = ", ".join(f"{r:%a %d %b}" for r in d.remind_on) or "-"
        typer.echo(f"  {d.clock:<20} due {d.due_on:%a %d %b %Y}   reminders: {reminders}")
    for kind, rd in recs:
        due = f"{rd.due_at:%H:%M %a %d %b %Y}" if rd.due_at else f"{rd.due_on:%a %d %b %Y}"
        reminders = ", ".join(f"{r:%H:%M %a %d %b}" if rd.due_at else f"{r:%a %d %b}"
                              for r in rd.remind_at) or "-"
        typer.echo(f"  {rd.clock:<20} due {due}   reminders: {reminders}   (from a {kind} record)")
    last = max((d.due_on for d in rows), default=day)
    closed = cal.closed_between(day, last)
    if closed:
        typer.echo("  closure days counted as non-working: " + ", ".join(
            f"{c:%a %d %b %Y} ({n})" for c, n in closed.items()))


def record_plan(pack: PolicyPack, day: date, cal: WorkingCalendar, at: str | None
                ) -> list[tuple[str, RecordDeadline]]:
    """Each case-record clock of a pack from a record dated ``day`` (its first occurrence)."""
    from datetime import datetime, time

    from bot.calendar import UK_TIME
    from bot.record_clocks import CaseRecord, occurrences

    try:
        moment = time.fromisoformat(at) if at else time(0)
    except ValueError:
        raise fail(f"--at {at!r}: give a time as HH:MM") from None
    out = []
    for c in pack.record_clocks:
        start = datetime.combine(day, moment, tzinfo=UK_TIME)
        rk = pack.record_kind(c.record)
        r = CaseRecord("-", c.record, day, "-", "-", start, at=start if rk and rk.timed else None)
        out.append((c.record, occurrences(r, c, cal, day)[0]))
    return out


@app.command()
def closed(
    case_ref: Annotated[str, typer.Argument(help="The case reference")],
    team: Annotated[str, typer.Option(help="The team that held the case when it closed")],
    on: Annotated[str | None, typer.Option(help="The day it closed (default: today)")] = None,
) -> None:
    """Record that a case closed with a team: re-referral windows run from that day (Bury 12
    weeks, Leicestershire 3 months, the last day counting)."""
    from bot.errors import DomainError
    from bot.org import UnknownTeam
    from bot.services import record_closure

    day = parse_day(on, "--on") if on else None
    b = _baton()
    try:
        with b.uow() as uow:
            c = record_closure(uow, b.org, _operator(), case_ref, now(), team=team, on=day, cli=True)
    except (DomainError, UnknownTeam) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{c.case_ref} closed with {c.team} on {c.closed_on.isoformat()}.")


@transfers_app.command("list")
def transfers_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only transfers past a deadline")] = False,
    team: Annotated[list[str] | None, typer.Option(help="Only this team (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Open transfers, first due first."""
    from bot.services import list_transfers

    b = _baton()
    today = now().date()
    if team:
        for t in team:
            if not b.org.has_team(t):
                raise fail(f"unknown team {t!r}; teams are: {', '.join(x.id for x in b.org.teams)}")
    with b.uow() as uow:
        rows = list_transfers(uow, today=today, overdue=overdue, teams=team or None)
    cal = b.calendar
    if as_json:
        typer.echo(json.dumps([
            {"id": r.id, "case_ref": r.case_ref, "state": r.state, "policy": r.policy,
             "holding_team": r.holding_team, "receiving_team": r.receiving_team, "kind": r.kind,
             "requested_on": r.requested_on.isoformat() if r.requested_on else None,
             "clock": r.due_clock, "due": r.due_on.isoformat() if r.due_on else None,
             "overdue": bool(r.due_on and r.due_on < today),
             "working_days_left": cal.working_days_between(today, r.due_on) if r.due_on else None}
            for r in rows
        ], indent=2))
        return
    if not rows:
        typer.echo("No overdue transfers." if overdue else "No open transfers.")
        return
    typer.echo(f"{'case':<12}{'state':<18}{'from':<18}{'to':<18}{'next deadline':<32}working days left")
    for r in rows:
        due = f"{r.due_clock} {r.due_on:%d %b %Y}" if r.due_on else "-"
        left = str(cal.working_days_between(today, r.due_on)) if r.due_on else "-"
        typer.echo(f"{r.case_ref:<12}{r.state:<18}{r.holding_team:<18}{r.receiving_team:<18}"
                   f"{due:<32}{left}")
