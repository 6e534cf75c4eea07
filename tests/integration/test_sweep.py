"""The sweep on a simulated clock: whole lifecycles for each pack, across Christmas and Easter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import services
from bot.domain import UK_TIME, State
from bot.org import Org
from bot.services import RaiseRequest
from scheduler.sweep import WorkingHours, sweep
from store.models import NotificationRow
from store.repo import SqlUnitOfWork

UoW = Callable[[], SqlUnitOfWork]
HOURS = WorkingHours()
HOME_VISIT = ("receiving_area_home_visit",)  # the receiving area does the address assessment


def at(day: date, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock, UK time."""
    return datetime.combine(day, time(hour), tzinfo=UK_TIME)


def days(start: date, end: date) -> Iterator[date]:
    """Every calendar day from start to end inclusive."""
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def notes(engine: sa.Engine) -> list[tuple[str, str, datetime]]:
    """(recipient, 'clock:step', deliver-from time) of the items written, oldest first."""
    with Session(engine) as s:
        rows = s.exec(select(NotificationRow).where(NotificationRow.kind == "item")
                      .order_by(col(NotificationRow.id))).all()
    # keys are t{id}:{clock}:{step...}:{recipient}; an import's own digest lines are not steps
    return [(r.recipient, r.key.split(":", 1)[1].rsplit(":", 1)[0], r.not_before) for r in rows
            if ":imported:" not in r.key]


def steps_written(engine: sa.Engine) -> list[tuple[str, str]]:
    """(marker key, status) of every step the sweeps processed."""
    with engine.connect() as c:
        return [(r[0], r[1]) for r in c.execute(sa.text(
            "SELECT key, status FROM notification WHERE kind = 'step' ORDER BY id")).all()]


def raise_at(uow: UoW, org: Org, when: datetime, user: str = "U0NPP1", **kw: object) -> int:
    """Raise a transfer as ``user`` at ``when``; returns its id."""
    req = RaiseRequest(**{"case_ref": "X123456", "receiving_team": "pdu-south", **kw})  # type: ignore[arg-type]
    with uow() as u:
        t = services.raise_transfer(u, org, user, req, when)
    assert t.id is not None
    return t.id


def sweep_daily(engine: sa.Engine, org: Org, start: date, end: date, *,
                hours: tuple[int, ...] = (10,)) -> None:
    """Sweep at each of ``hours`` on every day from start to end, weekends included."""
    for d in days(start, end):
        for h in hours:
            sweep(engine, org, at(d, h), hours=HOURS)


def test_probation_resolution_reminds_breaches_and_escalates_once_each_across_christmas(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Raised Fri 18 Dec 2026: reminders 13 and 19 Jan, breach and SMT escalation 21 Jan 2027,
    each written once though the sweep ran three times a day for six weeks."""
    raise_at(uow, org, at(date(2026, 12, 18)))
    sweep_daily(engine, org, date(2026, 12, 18), date(2027, 1, 25), hours=(8, 10, 16))
    marks = [(k.split(":", 2)[1:], s) for k, s in steps_written(engine)]
    resolution = [(k[1], s) for k, s in marks if k[0] == "resolution"]
    assert resolution == [("remind:2027-01-13", "done"), ("remind:2027-01-19", "done"),
                          ("breach", "done"), ("escalate:smt", "done")]
    written = notes(engine)
    smt = [n for n in written if n[0] in ("U0SMT1", "C0SMT") and "escalate" in n[1]]
    assert len(smt) == 2  # the SMT member by DM and the SMT channel, once each
    assert ("U0NPP1", "resolution:breach") in [(r, k) for r, k, _ in written]
    with uow() as u:
        t = u.transfers.get_open_by_case("X123456")
    assert t is not None and t.escalation_level == "smt"
    assert [e.kind for e in t.timeline].count("escalated") == 1


def test_the_escalation_says_which_deadline_was_missed_in_words(uow: UoW, org: Org,
                                                                engine: sa.Engine) -> None:
    """Probation FAQ: "case transfers to be completed within 20 working days"; raised Fri 18 Dec
    2026, the escalation on 21 Jan 2027 reads "Transfer to be completed by Wed 20 Jan 2027: missed",
    not "Transfer to be completed by overdue"."""
    raise_at(uow, org, at(date(2026, 12, 18)))
    sweep_daily(engine, org, date(2026, 12, 18), date(2027, 1, 22), hours=(10,))
    with uow() as u:
        t = u.transfers.get_open_by_case("X123456")
    assert t is not None
    reasons = [e.reason for e in t.timeline if e.kind == "escalated"]
    assert reasons == ["Transfer to be completed by Wed 20 Jan 2027: missed"]


def test_accepted_but_not_completed_the_20_day_clock_still_reminds_breaches_and_escalates(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Probation FAQ: "a new requirement for case transfers to be completed within 20 working
    days". Raised Mon 23 Nov 2026 and accepted Wed 2 Dec: the address assessment stops at once
    (nothing of it is ever written), but resolution reminds on 14 and 18 Dec, breaches and
    escalates to SMT on Tue 22 Dec; completed that day, nothing more is written (no endorsement)."""
    tid = raise_at(uow, org, at(date(2026, 11, 23)), flags=HOME_VISIT)
    sweep_daily(engine, org, date(2026, 11, 23), date(2026, 12, 1))
    assert notes(engine) == []
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "accept", at(date(2026, 12, 2), 9))
    sweep_daily(engine, org, date(2026, 12, 2), date(2026, 12, 22))
    written = [(r, k) for r, k, _ in notes(engine)]
    assert not [k for _, k in written if k.startswith("address_assessment")]
    assert [k for k, _ in steps_written(engine)] == [
        "t1:resolution:remind:2026-12-14", "t1:resolution:remind:2026-12-18",
        "t1:resolution:breach", "t1:resolution:escalate:smt"]
    assert ("U0NMGR", "resolution:breach") in written
    assert ("U0SMT1", "resolution:escalate:smt") in written
    before = len(written)
    with uow() as u:
        services.act(u, org, "U0NMGR", tid, "complete", at(date(2026, 12, 22), 12))
    sweep_daily(engine, org, date(2026, 12, 22), date(2027, 2, 1))
    assert len(notes(engine)) == before


@pytest.mark.parametrize("state_change", ["decline", "withdraw", "complete"])
def test_reminders_stop_on_decline_withdraw_or_completion(uow: UoW, org: Org, engine: sa.Engine,
                                                          state_change: str) -> None:
    """Declined, withdrawn or completed: nothing more is written."""
    tid = raise_at(uow, org, at(date(2026, 11, 23)))
    with uow() as u:
        if state_change == "decline":
            services.act(u, org, "U0SMGR", tid, "decline", at(date(2026, 11, 24)), rationale="risk",
                         reason_category="heightened_risk")
        elif state_change == "withdraw":
            services.act(u, org, "U0NPP1", tid, "withdraw", at(date(2026, 11, 24)), reason="stays")
        else:
            services.act(u, org, "U0SMGR", tid, "accept", at(date(2026, 11, 24)))
            services.act(u, org, "U0NMGR", tid, "complete", at(date(2026, 11, 24), 12))
    sweep_daily(engine, org, date(2026, 11, 24), date(2027, 1, 30))
    assert notes(engine) == []


def test_overnight_and_weekend_steps_are_delivered_the_next_working_morning(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """A step found at 20:00 on Friday 18 Dec is delivered Monday 21 Dec at 09:00, UK time."""
    raise_at(uow, org, at(date(2026, 11, 23)))
    sweep(engine, org, at(date(2026, 12, 18), 20), hours=HOURS)
    written = notes(engine)
    assert written
    assert {w[2] for w in written} == {datetime(2026, 12, 21, 9, tzinfo=UK_TIME)}


def test_next_open_skips_christmas_and_boxing_day_substitute(org: Org) -> None:
    """At 17:30 on Thu 24 Dec 2026 the next working morning is Tue 29 Dec (28th is a bank holiday)."""
    opened = WorkingHours().next_open(at(date(2026, 12, 24), 17) + timedelta(minutes=30), org)
    assert opened == datetime(2026, 12, 29, 9, tzinfo=UK_TIME)
    inside = at(date(2026, 12, 23), 11)
    assert WorkingHours().next_open(inside, org) == inside


def test_down_for_a_weekend_each_missed_reminder_is_written_once(uow: UoW, org: Org,
                                                                 engine: sa.Engine) -> None:
    """No sweep from Friday to Sunday: Monday's sweep writes the missed Friday reminder once."""
    raise_at(uow, org, at(date(2026, 11, 23)), flags=HOME_VISIT)
    sweep_daily(engine, org, date(2026, 11, 23), date(2026, 12, 10))
    sweep(engine, org, at(date(2026, 12, 14)), hours=HOURS)  # Fri 11 -> Sun 13 missed
    sweep(engine, org, at(date(2026, 12, 14), 11), hours=HOURS)
    keys = [k for k, _ in steps_written(engine)]
    assert keys.count(f"t1:resolution:remind:{date(2026, 12, 14)}") <= 1
    assert len(keys) == len(set(keys))
    assert any("address_assessment:breach" in k for k in keys)  # due 7 Dec: not skipped


def test_a_long_outage_sends_only_the_latest_reminder_and_the_breach(uow: UoW, org: Org,
                                                                     engine: sa.Engine) -> None:
    """Nothing swept for a month: both resolution reminders are superseded by the breach."""
    raise_at(uow, org, at(date(2026, 11, 23)))
    sweep(engine, org, at(date(2026, 12, 23)), hours=HOURS)
    status = dict(steps_written(engine))
    assert status["t1:resolution:remind:2026-12-14"] == "superseded"
    assert status["t1:resolution:remind:2026-12-18"] == "superseded"
    assert status["t1:resolution:breach"] == "done"
    assert status["t1:resolution:escalate:smt"] == "done"


def test_import_day_digest_groups_forty_cases_for_one_manager(uow: UoW, org: Org,
                                                              engine: sa.Engine) -> None:
    """Forty overdue imported transfers: the holding manager's breach items share one sweep."""
    rows = "\n".join(f"X{i:06d},pdu-north,pdu-south,2026-10-01,permanent" for i in range(40))
    with uow() as u:
        services.import_csv(u, org, "case_ref,holding_team,receiving_team,requested_on,kind\n" + rows,
                            at(date(2026, 11, 20)))
    result = sweep(engine, org, at(date(2026, 11, 23)), hours=HOURS)
    assert result.transfers == 40
    mine = [n for n in notes(engine) if n[0] == "U0NMGR"]
    assert len(mine) == 40 and len({n[2] for n in mine}) == 1


def test_leicestershire_dispute_reaches_the_head_of_service_within_five_working_days(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """LEICS: "All disputes will be resolved within 5 Working Days": disputed Mon 23 Nov (day 1
    is Tue 24), the Service Manager hears on day 3 (Thu 26 Nov), the Head of Service on day 5
    (Mon 30 Nov), inside the 5 days."""
    tid = raise_at(uow, org, at(date(2026, 11, 20)), user="U0LFSW1", case_ref="100077",
                   receiving_team="leics-cic")
    with uow() as u:
        services.act(u, org, "U0LCMGR", tid, "decline", at(date(2026, 11, 20), 12), rationale="not ready")
    with uow() as u:
        services.act(u, org, "U0LFMGR", tid, "dispute", at(date(2026, 11, 23)),
                     reason="it is ready for the Children in Care Service now")
    sweep_daily(engine, org, date(2026, 11, 23), date(2026, 12, 20))
    with uow() as u:
        t = u.transfers.get(tid)
    assert t is not None and t.state == State.escalated
    escalations = [(e.at.date(), e.detail["level"]) for e in t.timeline if e.kind == "escalated"]
    assert escalations == [(date(2026, 11, 26), "service_manager"), (date(2026, 11, 30), "head_of_service")]
    recipients = {n[0] for n in notes(engine) if "escalate" in n[1]}
    assert recipients == {"U0SVCMGR", "U0HOS", "C0HOS"}


def test_leicestershire_children_in_care_clock_skips_easter_2027(uow: UoW, org: Org,
                                                                 engine: sa.Engine) -> None:
    """Requested Thu 25 Mar 2027: Good Friday and Easter Monday are not counted; due Mon 12 Apr."""
    tid = raise_at(uow, org, at(date(2027, 3, 25)), user="U0LFSW1", case_ref="100088",
                   receiving_team="leics-cic", kind="children_in_care")
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        due = {d.clock: d.due_on for d in services.transfer_deadlines(org, t)}
    assert due["children_in_care"] == date(2027, 4, 12)
    sweep_daily(engine, org, date(2027, 3, 25), date(2027, 4, 20))
    assert ("t1:children_in_care:breach", "done") in steps_written(engine)


def test_rochdale_pickup_point_then_next_working_day_transfer(uow: UoW, org: Org,
                                                             engine: sa.Engine) -> None:
    """ROCH "Once the proactive pick up point has taken place the electronic case transfer needs to
    be completed by the next working day should the receiving manager not be available a service
    representative will complete the allocation": pick-up point Thu 24 Dec 2026, due Tue 29 Dec,
    reminded that day; its breach on Wed 30 Dec tells both managers, the receiving HoS and the
    service representative, and climbs no ladder (no SMT, no AD)."""
    tid = raise_at(uow, org, at(date(2026, 12, 1)), user="U0RFSW1", case_ref="100005",
                   receiving_team="roch-cp-1", transfer_point="icpc",
                   transfer_point_date=date(2026, 12, 24))
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        due = {d.clock: d.due_on for d in services.transfer_deadlines(org, t)}
    assert due["electronic_transfer"] == date(2026, 12, 29)
    sweep_daily(engine, org, date(2026, 12, 1), date(2027, 1, 4))
    keys = [k for k, _ in steps_written(engine)]
    assert any(k.startswith("t1:transfer_point:remind") for k in keys)
    assert "t1:electronic_transfer:breach" in keys
    assert "t1:electronic_transfer:remind:2026-12-29" in keys
    assert not [k for k in keys if "electronic_transfer:escalate" in k]
    who = {n[0] for n in notes(engine) if n[1].startswith("electronic_transfer")}
    assert {"U0RFMGR", "U0RCMGR", "U0HOS", "U0RCREP"} <= who
    assert not who & {"U0SMT1", "C0SMT", "U0AD"}
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None and t.escalation_level is None


def test_bury_remedial_work_undone_tells_both_team_managers(uow: UoW, org: Org,
                                                           engine: sa.Engine) -> None:
    """BURY step 6: work asked for on Mon 23 Nov "will be completed in 10 working days"; undone,
    both team managers hear of it, not the Strategic Lead (who is for disputes)."""
    tid = raise_at(uow, org, at(date(2026, 11, 20)), user="U0BAMGR", case_ref="100009",
                   receiving_team="bury-cin",
                   confirmed=tuple(("holding_manager_audit", i.id) for i in
                                   org.pack_for("bury-assessment").checklist("holding_manager_audit").items))
    with uow() as u:
        services.act(u, org, "U0BCMGR", tid, "request_work", at(date(2026, 11, 23)),
                     items=["Chronology"])
    sweep_daily(engine, org, date(2026, 11, 23), date(2026, 12, 15))
    keys = [k for k, _ in steps_written(engine)]
    assert "t1:remedial_work:breach" in keys
    assert not [k for k in keys if k.startswith("t1:remedial_work:escalate")]
    heard = {n[0] for n in notes(engine) if n[1].startswith("remedial_work:breach")}
    assert heard == {"U0BAMGR", "U0BCMGR"}


def test_work_done_stops_the_remedial_clock(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Once the holding team marks the work done, no breach follows."""
    tid = raise_at(uow, org, at(date(2026, 11, 20)), user="U0BAMGR", case_ref="100009",
                   receiving_team="bury-cin",
                   confirmed=tuple(("holding_manager_audit", i.id) for i in
                                   org.pack_for("bury-assessment").checklist("holding_manager_audit").items))
    with uow() as u:
        services.act(u, org, "U0BCMGR", tid, "request_work", at(date(2026, 11, 23)), items=["Chronology"])
    with uow() as u:
        services.act(u, org, "U0BAMGR", tid, "work_done", at(date(2026, 11, 30)))
    sweep_daily(engine, org, date(2026, 11, 23), date(2026, 12, 15))
    assert not [k for k, _ in steps_written(engine) if "remedial_work" in k]


def test_temporary_move_reminds_before_twelve_weeks(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Probation temporary move to Approved Premises from Mon 23 Nov 2026: reviewed ten working
    days before 15 Feb 2027."""
    raise_at(uow, org, at(date(2026, 11, 23)), kind="temporary", move_date=date(2026, 11, 23),
             flags=("residential_placement",))
    sweep_daily(engine, org, date(2027, 1, 25), date(2027, 2, 16))
    keys = [k for k, _ in steps_written(engine)]
    assert "t1:temporary_move:remind:2027-02-01" in keys
    assert "t1:temporary_move:breach" in keys


def test_council_transfer_point_reminds_before_the_date(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """S2: a transfer point on Wed 9 Dec 2026 reminds ahead of it, after the request."""
    pack = org.pack_for("s2-mash")
    gate = pack.gating("request")[0]
    tid = raise_at(uow, org, at(date(2026, 11, 23)), user="U0SMMGR", case_ref="100001",
                   receiving_team="s2-fsp", transfer_point=pack.transfer_points[0].id,
                   transfer_point_date=date(2026, 12, 9),
                   confirmed=tuple((gate.id, i.id) for i in gate.items))
    assert tid
    sweep_daily(engine, org, date(2026, 11, 23), date(2026, 12, 9))
    keys = [k for k, _ in steps_written(engine)]
    assert any(k.startswith("t1:transfer_point:remind:") for k in keys)


def test_manager_on_leave_reminders_go_to_cover_or_one_level_up(uow: UoW, org: Org,
                                                               engine: sa.Engine) -> None:
    """South's manager covered by U0SPP1: reminders go there; North's with no cover: to SMT."""
    with uow() as u:
        services.set_cover(u, org, "U0SMGR", "U0SPP1", date(2027, 1, 31), at(date(2026, 11, 23)))
    with uow() as u:
        services.set_cover(u, org, "U0NMGR", None, date(2027, 1, 31), at(date(2026, 11, 23)))
    raise_at(uow, org, at(date(2026, 11, 23)))
    sweep_daily(engine, org, date(2026, 11, 23), date(2026, 12, 22))
    who = {n[0] for n in notes(engine)}
    assert "U0SPP1" in who and "U0SMGR" not in who
    assert "U0NMGR" not in who and "U0SMT1" in who


def test_dry_run_writes_nothing(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """--dry-run lists what would go out and leaves the outbox empty."""
    raise_at(uow, org, at(date(2026, 11, 23)))
    result = sweep(engine, org, at(date(2026, 12, 23)), hours=HOURS, dry_run=True)
    assert result.lines and notes(engine) == [] and steps_written(engine) == []


def test_sweep_reads_only_transfers_with_something_due(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """A transfer raised today has nothing due: the sweep does not even load it."""
    raise_at(uow, org, at(date(2026, 11, 23)), flags=HOME_VISIT)
    assert sweep(engine, org, at(date(2026, 11, 24)), hours=HOURS).transfers == 0
    assert sweep(engine, org, at(date(2026, 12, 2)), hours=HOURS).transfers == 0
    assert sweep(engine, org, at(date(2026, 12, 3)), hours=HOURS).transfers == 1  # address reminder


def test_endorsement_breach_offers_senior_managers_the_endorse_button(uow: UoW, org: Org,
                                                                      engine: sa.Engine) -> None:
    """At 30 working days the SMT gets an item carrying the Endorse extension button."""
    raise_at(uow, org, at(date(2026, 11, 23)))
    sweep_daily(engine, org, date(2027, 1, 4), date(2027, 1, 8))
    with engine.connect() as c:
        payloads = [r[0] for r in c.execute(sa.text(
            "SELECT payload FROM notification WHERE kind='item' AND recipient='U0SMT1'")).all()]
    import json

    offered = [(json.loads(p) if isinstance(p, str) else p).get("actions") or [] for p in payloads]
    assert ["endorse"] in offered


def test_utc_and_uk_dates_agree_in_summer(uow: UoW, org: Org) -> None:
    """A request at 00:30 BST on 1 Jul 2027 is dated 1 Jul, not 30 Jun."""
    tid = raise_at(uow, org, datetime(2027, 6, 30, 23, 30, tzinfo=UTC))
    with uow() as u:
        t = u.transfers.get(tid)
    assert t is not None and t.requested_on == date(2027, 7, 1)


def test_another_temporary_move_reminds_and_breaches_on_the_officers_end_date(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """FAQ: "the timeframe that constitutes a temporary move will be down to the professional
    judgement of the RO": a move from Mon 23 Nov 2026 the RO ends on Fri 8 Jan 2027 (not a
    residential placement, so no 12-week review) is reminded on 31 Dec and 7 Jan and breaches on
    Mon 11 Jan, to the practitioner and the holding manager."""
    raise_at(uow, org, at(date(2026, 11, 23)), kind="temporary", move_date=date(2026, 11, 23),
             move_end_date=date(2027, 1, 8))
    sweep_daily(engine, org, date(2026, 12, 28), date(2027, 1, 12))
    keys = [k for k, _ in steps_written(engine)]
    assert {"t1:temporary_move_end:remind:2026-12-31", "t1:temporary_move_end:remind:2027-01-07",
            "t1:temporary_move_end:breach"} <= set(keys)
    assert not [k for k in keys if ":temporary_move:" in k]
    who = {n[0] for n in notes(engine) if n[1] == "temporary_move_end:breach"}
    assert who == {"U0NPP1", "U0NMGR"}


def test_bury_s20_five_months_reminds_both_managers_before_it_falls_due(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """BURY: "no later than 5 months following accommodation": accommodated Mon 10 Aug 2026, the
    CYPiC transfer requested Mon 23 Nov is due Sun 10 Jan 2027; both team managers are reminded
    5 working days before (Mon 4 Jan) and told on its breach (Mon 11 Jan)."""
    audit = tuple(("holding_manager_audit", i) for i in (
        "assessments_complete", "recording_up_to_date", "chronology_current", "lcs_activities_closed",
        "cypic_assessment"))
    raise_at(uow, org, at(date(2026, 11, 23)), user="U0BAMGR", case_ref="3001", receiving_team="bury-cin",
             kind="children_in_care", accommodated_on=date(2026, 8, 10), confirmed=audit)
    sweep_daily(engine, org, date(2027, 1, 4), date(2027, 1, 11))
    keys = [k for k, _ in steps_written(engine)]
    assert "t1:s20_five_months:remind:2027-01-04" in keys and "t1:s20_five_months:breach" in keys
    who = {n[0] for n in notes(engine) if n[1] == "s20_five_months:breach"}
    assert who == {"U0BAMGR", "U0BCMGR"}


def test_an_imported_escalated_dispute_climbs_only_to_the_levels_above_it(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """LEICS "All disputes will be resolved within 5 Working Days": a row disputed on Wed 18 Nov
    2026 and already with the Service Managers stays there on day 3 (Mon 23 Nov) and reaches a
    Head of Service on day 5 (Wed 25 Nov), once."""
    text = ("case_ref,holding_team,receiving_team,requested_on,kind,state,disputed_on\n"
            "200020,leics-frcd,leics-cic,2026-11-10,permanent,escalated,2026-11-18\n")
    with uow() as u:
        assert services.import_csv(u, org, text, at(date(2026, 11, 23), 8)).errors == []
    sweep_daily(engine, org, date(2026, 11, 23), date(2026, 11, 24))
    with uow() as u:
        t = u.transfers.get_open_by_case("200020")
        assert t is not None and t.escalation_level == "service_manager"
    sweep_daily(engine, org, date(2026, 11, 25), date(2026, 11, 27))
    with uow() as u:
        t = u.transfers.get_open_by_case("200020")
        assert t is not None and t.escalation_level == "head_of_service"
    assert [e.detail.get("level") for e in t.timeline if e.kind == "escalated"] == [
        "service_manager", "head_of_service"]
def _statements_of_a_sweep(uow: UoW, org: Org, engine: sa.Engine, due: int) -> tuple[int, int]:
    """Adopt ``due`` transfers whose resolution reminder falls on Wed 2 Dec and 50 with nothing
    due, sweep on 2 Dec, and count the SQL statements the sweep sent (a statement run for many
    rows counts once); returns (statements, transfers swept)."""
    from tests.conftest import NOW

    lines = ["case_ref,holding_team,receiving_team,requested_on,kind",
             *(f"X{i:06d},pdu-north,pdu-south,2026-11-11,permanent" for i in range(due)),
             *(f"Y{i:06d},pdu-south,pdu-north,2026-11-20,permanent" for i in range(50))]
    with uow() as u:
        assert services.import_csv(u, org, "\n".join(lines) + "\n", NOW).imported == due + 50
    seen: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_: object) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        result = sweep(engine, org, at(date(2026, 12, 2)), hours=HOURS)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen), result.transfers


def test_a_sweep_sends_as_many_statements_for_two_hundred_due_transfers_as_for_five(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Set-based: finding the due steps, writing their markers and digest lines and moving each
    clock's next step take a fixed handful of statements, not a dozen per due transfer."""
    from tests.conftest import wipe

    few, swept_few = _statements_of_a_sweep(uow, org, engine, 5)
    wipe(engine)
    many, swept_many = _statements_of_a_sweep(uow, org, engine, 200)
    assert (swept_few, swept_many) == (5, 200)
    assert many <= few <= 10, (few, many)


def test_a_sweep_racing_another_writes_nothing_twice_and_counts_nothing_it_did_not_write(
        uow: UoW, org: Org, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second sweep that read the transfers before the first one's markers were committed
    (here: its first read of the keys finds none) fails whole on the unique key, tries once more
    on what is there now, and writes and counts nothing."""
    from store import outbox

    raise_at(uow, org, at(date(2026, 11, 23)))
    first = sweep(engine, org, at(date(2026, 12, 22)), hours=HOURS)
    assert first.notifications > 0
    written = steps_written(engine), notes(engine)
    real = outbox.step_keys_of
    calls: list[int] = []

    def stale_once(conn: sa.Connection, ids: list[int]) -> dict[int, set[str]]:
        calls.append(len(ids))
        return {i: set() for i in ids} if len(calls) == 1 else real(conn, ids)

    monkeypatch.setattr(outbox, "step_keys_of", stale_once)
    with engine.begin() as c:  # as the racing sweep saw the clocks: due today
        c.execute(sa.text("UPDATE deadline SET next_step_on = :d"), {"d": date(2026, 12, 22)})
    again = sweep(engine, org, at(date(2026, 12, 22), 11), hours=HOURS)
    assert len(calls) == 2  # the racing copy failed whole and was tried once more
    assert (again.notifications, again.steps, again.lines) == (0, 0, [])
    assert (steps_written(engine), notes(engine)) == written


def test_a_stored_clock_the_pack_no_longer_runs_is_not_looked_at_again(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """A deadline row left from an older pack (its clock is gone) is due once, then put away,
    so later sweeps do not read the transfer for it."""
    tid = raise_at(uow, org, at(date(2026, 11, 23)))
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO deadline (transfer_id, clock, starts_on, due_on, status, "
                          "next_step_on) VALUES (:t, 'retired_clock', :d, :d, 'running', :d)"),
                  {"t": tid, "d": date(2026, 11, 24)})
    assert sweep(engine, org, at(date(2026, 11, 24)), hours=HOURS).transfers == 1
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT next_step_on FROM deadline WHERE clock = 'retired_clock'")
                         ).scalar() is None
    assert sweep(engine, org, at(date(2026, 11, 25)), hours=HOURS).transfers == 0
