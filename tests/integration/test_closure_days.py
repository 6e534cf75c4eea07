"""Closure days in a running Baton: they move due dates, reminders and "working days left", and
``baton deadlines`` prints the same dates the transfer runs on."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from bot import services
from bot.domain import UK_TIME
from bot.org import DEMO_ORG, Org, load_org
from bot.services import RaiseRequest
from handlers.cli import app
from scheduler.sweep import WorkingHours, sweep
from store.repo import SqlUnitOfWork

UoW = Callable[[], SqlUnitOfWork]
REQUESTED = date(2026, 12, 18)  # Friday before Christmas
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Baton tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:shutdown@council\r\nDTSTAMP:20260101T000000Z\r\n"
    "SUMMARY:Christmas shutdown\r\nDTSTART;VALUE=DATE:20261229\r\nDTEND;VALUE=DATE:20270101\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def shut_org(tmp_path: Path) -> Path:
    """The demo org, shut 29-31 Dec 2026 (an .ics) and on Mon 11 Jan 2027 (listed)."""
    (tmp_path / "shutdown.ics").write_text(ICS, encoding="utf-8")
    data = yaml.safe_load(DEMO_ORG.read_text(encoding="utf-8"))
    data.update(closures_file="shutdown.ics",
                closures=[{"from": date(2027, 1, 11), "name": "Office move"}])
    p = tmp_path / "org.yml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


def at(day: date, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock, UK time."""
    return datetime.combine(day, time(hour), tzinfo=UK_TIME)


def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run ``baton`` with ``args``."""
    r = CliRunner().invoke(app, list(args), env=env)
    return r.exit_code, r.stdout, r.stderr


def raise_on(uow: UoW, org: Org, day: date) -> int:
    """A probation transfer North -> South raised on ``day``, the receiving area doing the visit."""
    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1", RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south", flags=("receiving_area_home_visit",)),
            at(day))
    assert t.id is not None
    return t.id


def test_closure_days_move_the_due_dates_to_those_baton_deadlines_prints(
        tmp_path: Path, uow: UoW, engine: sa.Engine, db_url: str) -> None:
    """Raised Fri 18 Dec 2026 in a council shut 29-31 Dec and on 11 Jan: the 20-day resolution
    clock falls due four working days later than with bank holidays alone (Tue 26 Jan 2027, not
    Wed 20 Jan), and the stored clocks, ``baton deadlines --org`` and ``baton transfers list``
    all say so."""
    path = shut_org(tmp_path)
    org = load_org(path)
    tid = raise_on(uow, org, REQUESTED)
    with uow() as u:
        t = services.load(u, transfer_id=tid)
    running = {d.clock: d for d in services.transfer_deadlines(org, t)}
    assert running["resolution"].due_on == date(2027, 1, 26)
    plain = {d.clock: d for d in services.transfer_deadlines(load_org(), t)}
    assert plain["resolution"].due_on == date(2027, 1, 20)

    env = {"DATABASE_URL": db_url, "BATON_ORG": str(path), "BATON_NOW": "2027-01-04T10:00:00+00:00"}
    code, out, err = cli(env, "deadlines", "--policy", "probation", "--start", REQUESTED.isoformat(),
                         "--json")
    assert code == 0, err
    printed = {r["clock"]: r for r in json.loads(out)}
    for name in ("resolution", "endorsement", "address_assessment"):
        assert printed[name]["due"] == running[name].due_on.isoformat()
        assert printed[name]["reminders"] == [r.isoformat() for r in running[name].remind_on]
    assert [c["date"] for c in printed["resolution"]["closure_days"]] == [
        "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-11"]
    assert printed["resolution"]["working_days"] == 20

    code, out, _ = cli(env, "deadlines", "--policy", "probation", "--start", REQUESTED.isoformat())
    assert code == 0
    assert "due Tue 26 Jan 2027" in out
    assert "Tue 29 Dec 2026 (Christmas shutdown)" in out and "Mon 11 Jan 2027 (Office move)" in out

    code, out, _ = cli(env, "transfers", "list", "--json")
    row = json.loads(out)[0]
    # Mon 4 Jan to the address assessment's due date, Tue 12 Jan: 5, 6, 7, 8 and 12 Jan are left.
    assert (row["clock"], row["due"]) == ("address_assessment", "2027-01-12")
    assert row["working_days_left"] == 5


def test_the_sweep_reminds_on_the_working_day_the_closures_leave(
        tmp_path: Path, uow: UoW, engine: sa.Engine) -> None:
    """The address assessment (10 working days) of a transfer raised Fri 18 Dec is due Tue 12 Jan
    in the shut council, not Wed 6 Jan: its reminder two working days ahead skips the closed
    Monday and comes on Thu 7 Jan, where bank holidays alone would have sent it on Mon 4 Jan."""
    org = load_org(shut_org(tmp_path))
    raise_on(uow, org, REQUESTED)
    hours = WorkingHours()
    sent: dict[date, list[str]] = {}
    day = REQUESTED
    while day <= date(2027, 1, 11):
        r = sweep(engine, org, at(day), hours=hours)
        if r.lines:
            sent[day] = r.lines
        day = date.fromordinal(day.toordinal() + 1)
    assert list(sent) == [date(2027, 1, 7)]
    assert all("Receiving area to assess the address by Tue 12 Jan 2027 (2 working days left)" in line
               for line in sent[date(2027, 1, 7)])


def test_an_unreadable_calendar_stops_the_command_and_changes_nothing(
        tmp_path: Path, engine: sa.Engine, db_url: str) -> None:
    """``baton sweep``, ``baton serve`` and ``baton deadlines`` with an org file whose .ics is
    broken exit naming the file and the problem, before anything starts, and write nothing."""
    path = shut_org(tmp_path)
    (tmp_path / "shutdown.ics").write_text("not a calendar", encoding="utf-8")
    env = {"DATABASE_URL": db_url, "BATON_ORG": str(path), "BATON_NOW": "2027-01-04T10:00:00+00:00"}
    for args in (("sweep",), ("serve", "--port", "0"),
                 ("deadlines", "--policy", "probation", "--start", "2026-12-18")):
        code, _, err = cli(env, *args)
        assert code != 0
        assert "shutdown.ics: not an iCalendar file" in err, err
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM notification")).scalar() == 0


def test_org_check_counts_the_closure_days_it_read(tmp_path: Path, db_url: str) -> None:
    """``baton org check`` says how many closure days the file and its calendar give."""
    path = shut_org(tmp_path)
    code, out, _ = cli({"DATABASE_URL": db_url}, "org", "check", str(path))
    assert code == 0
    assert "4 closure day(s) (29 Dec 2026 to 11 Jan 2027)" in out
