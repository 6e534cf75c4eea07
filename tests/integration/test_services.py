"""The use cases against a real database (SQLite, or PostgreSQL when DATABASE_URL is set)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from bot import services
from bot.domain import DomainError, NotPermitted, State
from bot.org import Org, UnknownTeam
from bot.ports import DuplicateOpenTransfer, StaleTransfer
from bot.services import RaiseRequest
from store.repo import SqlUnitOfWork
from tests.conftest import NOW

UoW = Callable[[], SqlUnitOfWork]
PP, NMGR, SMGR, SPP = "U0NPP1", "U0NMGR", "U0SMGR", "U0SPP1"
HOME_VISIT = ("receiving_area_home_visit",)  # the receiving area does the address assessment


def count(engine: sa.Engine, table: str) -> int:
    """Rows in a table."""
    with engine.connect() as c:
        return int(c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def raise_one(uow: UoW, org: Org, ref: str = "X123456", **kw: object) -> int:
    """Raise a North -> South probation transfer as the North practitioner; returns its id."""
    req = RaiseRequest(case_ref=ref, receiving_team=kw.pop("receiving_team", "pdu-south"), **kw)  # type: ignore[arg-type]
    with uow() as u:
        t = services.raise_transfer(u, org, PP, req, NOW)
    assert t.id is not None
    return t.id


def test_raising_stores_transfer_timeline_and_its_clocks(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """A raised transfer asking the receiving area for the home visit is stored as requested,
    with one timeline event and its three clocks."""
    tid = raise_one(uow, org, flags=HOME_VISIT)
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        assert t.state == State.requested and t.holding_team == "pdu-north"
        assert [e.kind for e in t.timeline] == ["requested"]
        assert t.timeline[0].actor == PP and t.timeline[0].at == NOW
        ds = services.transfer_deadlines(org, t)
    assert {d.clock: d.due_on for d in ds} == {
        "resolution": date(2026, 12, 21),
        "endorsement": date(2027, 1, 7),
        "address_assessment": date(2026, 12, 7),
    }
    assert count(engine, "deadline") == 3


def test_second_open_transfer_for_a_case_is_refused_naming_the_open_one(uow: UoW, org: Org,
                                                                        engine: sa.Engine) -> None:
    """Raising again for an open case, even to another team, names the open transfer and
    writes nothing."""
    org = Org.model_validate({**org.model_dump(), "cross_policy": [("pdu-north", "roch-cp-1")]})
    tid = raise_one(uow, org)
    assert tid
    with pytest.raises(DomainError, match=r"X123456 already has an open transfer \("
                                          r"North PDU → South PDU, requested\)"):
        raise_one(uow, org, receiving_team="roch-cp-1")
    assert count(engine, "transfer") == 1 and count(engine, "timeline_event") == 1


def test_store_refuses_a_duplicate_open_case_even_when_the_check_is_raced(uow: UoW, org: Org) -> None:
    """The partial unique index stops two open transfers for one case from two instances."""
    raise_one(uow, org)
    with uow() as u:
        t = u.transfers.get_open_by_case("X123456")
        assert t is not None
        t.id, t.new_events = None, list(t.timeline)
        with pytest.raises(DuplicateOpenTransfer):
            u.transfers.add(t, [])


def test_a_closed_case_can_be_raised_again(uow: UoW, org: Org) -> None:
    """Once a transfer is withdrawn, the same case can be raised anew."""
    tid = raise_one(uow, org)
    with uow() as u:
        services.act(u, org, PP, tid, "withdraw", NOW, reason="moved back home")
    assert raise_one(uow, org) != tid


@pytest.mark.parametrize(
    ("req", "message"),
    [
        (RaiseRequest(case_ref="X123456", receiving_team="nowhere"), "unknown team 'nowhere'"),
        (RaiseRequest(case_ref="X123456", receiving_team="pdu-north"), "must differ"),
        (RaiseRequest(case_ref="John Smith", receiving_team="pdu-south"), "contains spaces"),
        (RaiseRequest(case_ref="12345", receiving_team="pdu-south"), "one letter and six digits"),
        (RaiseRequest(case_ref="X123456", receiving_team="pdu-south", kind="holiday"), "Unknown kind"),
    ],
)
def test_bad_raise_input_gets_a_specific_message_and_writes_nothing(
    uow: UoW, org: Org, engine: sa.Engine, req: RaiseRequest, message: str
) -> None:
    """Unknown team, same team, bad reference or kind: a clear message, no rows."""
    with pytest.raises((DomainError, UnknownTeam), match=message), uow() as u:
        services.raise_transfer(u, org, PP, req, NOW)
    assert count(engine, "transfer") == 0 and count(engine, "timeline_event") == 0


def test_only_receiving_managers_may_accept_and_a_refusal_changes_nothing(uow: UoW, org: Org) -> None:
    """The receiving practitioner is refused; the transfer and timeline stay as they were."""
    tid = raise_one(uow, org)
    with uow() as u, pytest.raises(NotPermitted, match="receiving team's manager"):
        services.act(u, org, SPP, tid, "accept", NOW)
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None and t.state == State.requested and len(t.timeline) == 1


def test_cover_lets_the_covering_colleague_act_for_a_manager_on_leave(uow: UoW, org: Org) -> None:
    """A manager names cover; the cover accepts while the leave runs, not after."""
    tid = raise_one(uow, org)
    with uow() as u:
        services.set_cover(u, org, SMGR, "U0SPP1", NOW.date() + timedelta(days=7), NOW)
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        late = services.actor_for(u, org, t, "U0SPP1", NOW.date() + timedelta(days=8))
        assert not late.roles & {services.Role.receiving_manager}
        services.act(u, org, "U0SPP1", tid, "accept", NOW)
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None and t.state == State.accepted and t.timeline[-1].actor == "U0SPP1"


def test_cover_refuses_non_managers_and_reversed_dates(uow: UoW, org: Org) -> None:
    """Only managers set cover; an end date before today is refused."""
    with uow() as u, pytest.raises(DomainError, match="Only team managers"):
        services.set_cover(u, org, PP, "U0NPP2", NOW.date(), NOW)
    with uow() as u, pytest.raises(DomainError, match="before"):
        services.set_cover(u, org, NMGR, "U0NPP2", NOW.date() - timedelta(days=1), NOW)


def test_decline_and_dispute_keep_every_reason_on_the_timeline(uow: UoW, org: Org) -> None:
    """Decline (rationale + category), then dispute: both reasons are stored in order."""
    tid = raise_one(uow, org)
    with uow() as u:
        services.act(u, org, SMGR, tid, "decline", NOW, rationale="No AP bed in area",
                     reason_category="intervention_missing")
    with uow() as u:
        services.act(u, org, NMGR, tid, "dispute", NOW + timedelta(hours=1), reason="Bed found")
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None and t.state == State.disputed
        assert [(e.kind, e.reason) for e in t.timeline[1:]] == [
            ("declined", "No AP bed in area"), ("disputed", "Bed found")]
        assert t.timeline[1].detail == {"category": "intervention_missing"}


def test_gating_checklist_must_be_signed_off_before_a_request(uow: UoW, org: Org,
                                                              engine: sa.Engine) -> None:
    """Council S2: the practice manager's sign-off gates the request; ticked, it goes through."""
    pack = org.pack_for("s2-mash")
    gate = pack.gating("request")[0]
    req = RaiseRequest(case_ref="101001", receiving_team="s2-fsp")
    with uow() as u, pytest.raises(DomainError, match="signed off"):
        services.raise_transfer(u, org, "U0SMMGR", req, NOW)
    assert count(engine, "transfer") == 0
    ticked = tuple((gate.id, it.id) for it in gate.items)
    with uow() as u:
        t = services.raise_transfer(
            u, org, "U0SMMGR",
            RaiseRequest(case_ref="101001", receiving_team="s2-fsp", confirmed=ticked), NOW)
    assert t.checklist[gate.id][gate.items[0].id]["by"] == "U0SMMGR"


def test_a_lost_race_on_the_same_transfer_is_refused(uow: UoW, org: Org) -> None:
    """Two sessions change one transfer: the second save raises StaleTransfer."""
    tid = raise_one(uow, org)
    with uow() as a, uow() as b:
        ta, tb = a.transfers.get(tid), b.transfers.get(tid)
        assert ta is not None and tb is not None
        ta.start_assessment(services.actor_for(a, org, ta, SMGR, NOW.date()), NOW)
        a.transfers.save(ta, [])
        a.commit()
        tb.withdraw(services.actor_for(b, org, tb, PP, NOW.date()), NOW, reason="x")
        with pytest.raises(StaleTransfer):
            b.transfers.save(tb, [])


def test_overdue_lists_only_running_clocks_past_due(uow: UoW, org: Org) -> None:
    """Overdue means a running clock whose due date has passed; stopped clocks never count."""
    tid = raise_one(uow, org, flags=HOME_VISIT)
    raise_one(uow, org, ref="Y222222", flags=HOME_VISIT)
    with uow() as u:
        services.act(u, org, SMGR, tid, "accept", NOW)
    with uow() as u:
        assert services.list_transfers(u, today=date(2026, 12, 7), overdue=True) == []
        late = services.list_transfers(u, today=date(2026, 12, 8), overdue=True)
    assert [(s.case_ref, s.due_clock, s.due_on) for s in late] == [
        ("Y222222", "address_assessment", date(2026, 12, 7))]


def test_team_filter_and_order_of_open_transfers(uow: UoW, org: Org) -> None:
    """Lists filter by team and put the first due first."""
    raise_one(uow, org, ref="X111111")
    with uow() as u:
        services.raise_transfer(u, org, "U0RFSW1",
                                RaiseRequest(case_ref="100077", receiving_team="roch-cp-1"), NOW)
    with uow() as u:
        assert [s.case_ref for s in services.list_transfers(u, today=NOW.date(),
                                                            teams=["roch-cp-1"])] == ["100077"]
        assert len(services.list_transfers(u, today=NOW.date())) == 2


def test_purge_removes_closed_transfers_and_their_timelines_only(uow: UoW, org: Org,
                                                                 engine: sa.Engine) -> None:
    """Retention: closed before the cut-off go, with their events; open ones stay."""
    old = raise_one(uow, org, ref="X111111")
    raise_one(uow, org, ref="X222222")
    with uow() as u:
        services.act(u, org, PP, old, "withdraw", NOW, reason="no longer moving")
    with uow() as u:
        assert services.purge(u, services.closed_cutoff(NOW.date())).transfers == 0
    with uow() as u:
        assert services.purge(u, services.closed_cutoff(NOW.date() + timedelta(days=1))).transfers == 1
    assert count(engine, "transfer") == 1 and count(engine, "timeline_event") == 1


def test_last_team_answers_who_held_a_closed_case(uow: UoW, org: Org) -> None:
    """Re-referral: the last closed transfer tells which team held the case and when it closed."""
    tid = raise_one(uow, org)
    with uow() as u:
        services.act(u, org, SMGR, tid, "accept", NOW)
    with uow() as u:
        services.act(u, org, NMGR, tid, "complete", NOW + timedelta(days=1))
    with uow() as u:
        t = services.last_team(u, "x123456")
    assert t is not None and t.receiving_team == "pdu-south"
    assert t.closed_at == NOW + timedelta(days=1)


CSV_HEAD = "case_ref,holding_team,receiving_team,requested_on,kind,transfer_point,transfer_point_date,state\n"


def test_import_adopts_every_row_when_all_are_good(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """A clean tracker imports whole, with clocks from each row's request date and state."""
    text = CSV_HEAD + (
        "X000001,pdu-north,pdu-south,2026-10-01,permanent,,,requested\n"
        "100009,roch-frt-1,roch-cp-1,2026-11-02,permanent,icpc,2026-11-30,accepted\n"
    )
    with uow() as u:
        result = services.import_csv(u, org, text, NOW)
    assert (result.imported, result.errors) == (2, [])
    with uow() as u:
        overdue = services.list_transfers(u, today=NOW.date(), overdue=True)
        roch = u.transfers.get_open_by_case("100009")
    assert [s.case_ref for s in overdue] == ["X000001"]
    assert roch is not None and roch.state == State.accepted
    assert roch.transfer_point_date == date(2026, 11, 30)
    # the accepted row's acceptance is on its timeline (on the import day: no accepted_on given)
    assert [e.kind for e in roch.timeline] == ["accepted", "imported"]
    assert count(engine, "timeline_event") == 3


def test_import_reports_every_bad_row_by_line_and_imports_nothing(uow: UoW, org: Org,
                                                                  engine: sa.Engine) -> None:
    """Each bad row is named by line number and reason; no row goes in."""
    raise_one(uow, org, ref="X999999")
    text = CSV_HEAD + (
        "X000001,pdu-north,pdu-south,2026-10-01,permanent,,,\n"
        "X000002,pdu-north,atlantis,2026-10-01,permanent,,,\n"
        "X000003,pdu-north,pdu-north,2026-10-01,permanent,,,\n"
        "X 00004,pdu-north,pdu-south,2026-10-01,permanent,,,\n"
        "X000005,pdu-north,pdu-south,01/10/2026,permanent,,,\n"
        "X000006,pdu-north,pdu-south,2026-10-01,permanent,,,completed\n"
        "X000001,pdu-north,pdu-south,2026-10-01,permanent,,,\n"
        "X999999,pdu-north,pdu-south,2026-10-01,permanent,,,\n"
    )
    with uow() as u:
        result = services.import_csv(u, org, text, NOW)
    assert result.imported == 0
    assert [e.split(":")[0] for e in result.errors] == [f"line {n}" for n in range(3, 10)]
    joined = "\n".join(result.errors)
    for needle in ("unknown team 'atlantis'", "must differ", "contains spaces",
                   "'01/10/2026' is not a date", "is closed", "appears again (first on line 2)",
                   "X999999 already has an open transfer"):
        assert needle in joined
    assert count(engine, "transfer") == 1


def test_import_refuses_a_file_with_missing_columns(uow: UoW, org: Org) -> None:
    """A header without the required columns is refused, naming them."""
    with uow() as u:
        result = services.import_csv(u, org, "case_ref,team\nX1,a\n", NOW)
    assert result.errors and "missing column(s) holding_team, receiving_team" in result.errors[0]


def _beaten_by(uow: UoW, org: Org, user: str, tid: int, action: str, **values: object) -> None:
    """Make the next ``save`` of any session lose a race: just before it writes, ``user`` takes
    ``action`` on transfer ``tid`` in a session of their own (once). Writers that take the
    transfer's row lock queue instead of racing, so the race is staged without it (as between
    instances of an older release during a rolling deploy); the version check still catches it."""
    from store.transfers import SqlTransfers

    real = SqlTransfers.save
    fired: list[bool] = []

    def save(self: SqlTransfers, t: object, deadlines: object) -> None:
        if not fired:
            fired.append(True)
            with uow() as other:
                services.act(other, org, user, tid, action, NOW, **values)
        real(self, t, deadlines)  # type: ignore[arg-type]

    SqlTransfers.save = save  # type: ignore[method-assign]
    SqlTransfers.lock = lambda self, transfer_id: None  # type: ignore[method-assign]


@pytest.fixture
def restore_save() -> object:
    """Put SqlTransfers.save and .lock back after a test that made it lose a race."""
    from store.transfers import SqlTransfers

    real, lock = SqlTransfers.save, SqlTransfers.lock
    yield None
    SqlTransfers.save, SqlTransfers.lock = real, lock  # type: ignore[method-assign]


def test_the_loser_of_a_decision_race_hears_who_decided_and_nothing_changes(
        uow: UoW, org: Org, restore_save: object) -> None:
    """Accept and Decline pressed at once: one decision; the loser is told it was accepted, by
    whom and when (LostRace), not a failure."""
    tid = raise_one(uow, org)
    _beaten_by(uow, org, SMGR, tid, "accept")
    with uow() as u, pytest.raises(services.LostRace) as lost:
        services.submit(u, org, SMGR, tid, "decline",
                        {"reason_category": "heightened_risk",
                         "rationale": "The risk at the proposed address cannot be managed here."}, NOW)
    assert (lost.value.case_ref, lost.value.event, lost.value.by) == ("X123456", "accepted", SMGR)
    assert lost.value.time == "10:00"
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None and t.state == State.accepted
        assert [e.kind for e in t.timeline] == ["requested", "accepted"]


def test_a_delay_reason_that_loses_a_race_is_retried_and_kept(uow: UoW, org: Org,
                                                              restore_save: object) -> None:
    """Steps that do not conflict are retried on a version conflict: nothing typed is lost."""
    tid = raise_one(uow, org)
    _beaten_by(uow, org, PP, tid, "record_delay", reason="First reason here.", actions="First actions.")
    with uow() as u:
        services.submit(u, org, PP, tid, "record_delay",
                        {"reason": "Second reason here.", "actions": "Second actions."}, NOW)
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        assert [e.detail.get("reason") or e.reason for e in t.timeline if e.kind == "delay_recorded"] \
            == ["First reason here.", "Second reason here."]


def test_concurrent_delay_reasons_are_all_kept(uow: UoW, org: Org) -> None:
    """Twelve people record a delay reason on one transfer at the same moment: all twelve stored."""
    from concurrent.futures import ThreadPoolExecutor

    tid = raise_one(uow, org)

    def record(i: int) -> None:
        with uow() as u:
            services.submit(u, org, PP, tid, "record_delay",
                            {"reason": f"Reason number {i:02d}.", "actions": "Actions in hand."}, NOW)

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(record, range(12)))
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        assert sum(e.kind == "delay_recorded" for e in t.timeline) == 12


# ---- authorization lives in the core --------------------------------------------------------
def test_a_raise_for_a_holding_team_the_person_is_not_in_is_refused_and_nothing_stored(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """The person raising belongs to the holding team the request names, whatever the form said."""
    with uow() as u, pytest.raises(NotPermitted, match="Only members of South PDU") as refused:
        services.raise_transfer(u, org, PP, RaiseRequest(
            case_ref="X123456", receiving_team="pdu-north", holding_team="pdu-south"), NOW)
    assert refused.value.field == "case_ref"
    with uow() as u, pytest.raises(NotPermitted):
        services.raise_transfer(u, org, "U0OUTSIDER", RaiseRequest(
            case_ref="X123456", receiving_team="pdu-north", holding_team="pdu-south"), NOW)
    assert count(engine, "transfer") == 0


def test_cover_cannot_be_someone_outside_the_org_file_or_another_teams_practitioner(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Cover is a manager in the org file or a member of a team the manager manages; a Slack
    user outside the org, or a practitioner of another team, is refused and no cover stored."""
    with uow() as u, pytest.raises(NotPermitted, match="org file"):
        services.set_cover(u, org, SMGR, "U0OUTSIDER", NOW.date() + timedelta(days=7), NOW)
    with uow() as u, pytest.raises(NotPermitted):
        services.set_cover(u, org, SMGR, PP, NOW.date() + timedelta(days=7), NOW)
    assert count(engine, "cover") == 0
    for colleague in (NMGR, SPP):  # another manager in the org, or South's own practitioner
        with uow() as u:
            assert services.set_cover(u, org, SMGR, colleague, NOW.date() + timedelta(days=7),
                                      NOW).cover == colleague
    assert count(engine, "cover") >= 1


def test_cover_cannot_accept_a_transfer_they_raised_themself(uow: UoW, org: Org) -> None:
    """Nobody decides a transfer they raised: North's manager covering South's cannot accept
    North's own request, and is offered no Accept button; South's manager still can."""
    with uow() as u:
        services.set_cover(u, org, SMGR, NMGR, NOW.date() + timedelta(days=7), NOW)
    with uow() as u:
        t = services.raise_transfer(u, org, NMGR, RaiseRequest(case_ref="X123456",
                                                             receiving_team="pdu-south"), NOW)
    assert t.id is not None
    with uow() as u:
        loaded = u.transfers.get(t.id)
        assert loaded is not None
        actor = services.actor_for(u, org, loaded, NMGR, NOW.date())
        assert services.Role.receiving_manager not in actor.roles
        with pytest.raises(NotPermitted):
            services.act(u, org, NMGR, t.id, "accept", NOW)
    with uow() as u:
        services.act(u, org, SMGR, t.id, "accept", NOW)


def test_the_same_submission_sent_from_many_threads_at_once_is_applied_once(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Eight copies of one ask-for-work submission (one token) at once: the work is recorded once
    and every other copy is answered AlreadySaved, never an error."""
    import threading

    tid = raise_one(uow, org)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        try:
            with uow() as u:
                services.submit(u, org, SMGR, tid, "request_work", {"items": "Chronology"}, NOW,
                                token="V0SAME")
            outcomes.append("saved")
        except services.AlreadySaved:
            outcomes.append("already saved")
        except Exception as exc:  # the test reports any other outcome
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert sorted(outcomes) == ["already saved"] * 7 + ["saved"]
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM timeline_event WHERE kind = 'work_requested'"
                                 )).scalar_one() == 1


IMPORT_PAST_HEAD = ("case_ref,holding_team,receiving_team,requested_on,kind,state,flags,accepted_on,"
                    "disputed_on,move_date,move_end_date,order_date,linked_refs\n")


def test_an_imported_accepted_transfer_does_not_breach_as_if_awaiting_a_decision(
        uow: UoW, org: Org) -> None:
    """FAQ: "the receiving area are required to conduct the address assessment within 10 working
    days of the request": a row requested on 2 Nov 2026 and accepted on 6 Nov has its acceptance
    on its timeline that day, so the address assessment (which acceptance stops) is not overdue
    on Mon 23 Nov; the 20-day clock ("completed within 20 working days") still runs."""
    text = IMPORT_PAST_HEAD + ("X000010,pdu-north,pdu-south,2026-11-02,permanent,accepted,"
                               "receiving_area_home_visit,2026-11-06,,,,,\n")
    with uow() as u:
        assert services.import_csv(u, org, text, NOW).errors == []
        t = u.transfers.get_open_by_case("X000010")
        assert t is not None
        ds = {d.clock: d for d in services.transfer_deadlines(org, t)}
    accepted = t.last_event("accepted")
    assert accepted is not None and accepted.at.date() == date(2026, 11, 6)
    assert ds["address_assessment"].status.value == "stopped"
    assert ds["resolution"].status.value == "running" and ds["resolution"].due_on == date(2026, 11, 30)
    with uow() as u:
        assert [r.case_ref for r in services.list_transfers(u, today=NOW.date(), overdue=True)] == []


def test_an_imported_dispute_gets_its_dispute_clock_from_the_day_it_was_raised(
        uow: UoW, org: Org) -> None:
    """LEICS: "All disputes will be resolved within 5 Working Days": a row disputed on Thu 19 Nov
    2026 is due Thu 26 Nov; an escalated row stands with the Service Managers."""
    text = IMPORT_PAST_HEAD + (
        "200011,leics-frcd,leics-cic,2026-11-10,permanent,disputed,,,2026-11-19,,,,\n"
        "200012,leics-frcd,leics-cic,2026-11-10,permanent,escalated,,,2026-11-18,,,,\n")
    with uow() as u:
        assert services.import_csv(u, org, text, NOW).errors == []
        one, two = u.transfers.get_open_by_case("200011"), u.transfers.get_open_by_case("200012")
        assert one is not None and two is not None
        due = {d.clock: d for d in services.transfer_deadlines(org, one)}
    assert (due["dispute"].starts_on, due["dispute"].due_on) == (date(2026, 11, 19), date(2026, 11, 26))
    assert one.escalation_level == "team_manager" and one.state == State.disputed
    assert two.escalation_level == "service_manager" and two.state == State.escalated


def test_import_takes_move_and_order_dates_and_refuses_past_steps_that_do_not_fit(
        uow: UoW, org: Org) -> None:
    """Temporary moves and unpaid work come in with their dates (FAQ); an acceptance date on a row
    that is only requested, a temporary move without its dates, or an acceptance in the future are
    each named by line and nothing goes in."""
    good = IMPORT_PAST_HEAD + (
        "X000013,pdu-north,pdu-south,2026-11-16,temporary,requested,,,,2026-11-16,2027-02-12,,\n"
        "X000014,pdu-north,pdu-south,2026-11-16,permanent,requested,,,,,,2026-01-05,\n")
    with uow() as u:
        assert services.import_csv(u, org, good, NOW).errors == []
        t = u.transfers.get_open_by_case("X000013")
        upw = u.transfers.get_open_by_case("X000014")
        assert t is not None and upw is not None
    assert (t.move_date, t.move_end_date) == (date(2026, 11, 16), date(2027, 2, 12))
    assert upw.order_date == date(2026, 1, 5) and "unpaid_work_outstanding" in upw.flags
    bad = IMPORT_PAST_HEAD + (
        "X000015,pdu-north,pdu-south,2026-11-16,permanent,requested,,2026-11-17,,,,,\n"
        "X000016,pdu-north,pdu-south,2026-11-16,temporary,requested,,,,,,,\n"
        "X000017,pdu-north,pdu-south,2026-11-16,permanent,accepted,,2026-12-30,,,,,\n")
    with uow() as u:
        result = services.import_csv(u, org, bad, NOW)
    assert result.imported == 0
    assert [e.split(":")[0] for e in result.errors] == ["line 2", "line 3", "line 4"]
    assert "accepted_on is for a transfer that is accepted or allocated" in result.errors[0]
    assert "move date" in result.errors[1] and "in the future" in result.errors[2]


def test_an_imported_row_whose_unpaid_work_runs_out_first_says_so(uow: UoW, org: Org,
                                                                  engine: sa.Engine) -> None:
    """FAQ: "an application is made to Court to extend the requirement as a priority": a row
    requested on Mon 16 Nov 2026 with an order of 1 Dec 2025 (12 months end 1 Dec 2026, before its
    20 working days, 14 Dec) records it, and the receiving manager's digest line says so."""
    text = IMPORT_PAST_HEAD + "X000018,pdu-north,pdu-south,2026-11-16,permanent,requested,,,,,,2025-12-01,\n"
    with uow() as u:
        assert services.import_csv(u, org, text, NOW).errors == []
        t = u.transfers.get_open_by_case("X000018")
        assert t is not None
    assert [e.kind for e in t.timeline] == ["upw_extension_due", "imported"]
    with engine.connect() as c:
        payloads = [r[0] for r in c.execute(sa.text(
            "SELECT payload FROM notification WHERE recipient = 'U0SMGR'")).all()]
    assert any("apply to court to extend the requirement, as a priority" in str(p) for p in payloads)
def test_a_raise_takes_the_org_files_case_record_id_for_childrens_teams_only(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """With ``case_record_id: {prefix: LCS, min_digits: 6, max_digits: 8}`` a Rochdale raise takes
    LCS123456 and refuses 123456 and a name, changing nothing; probation still takes a CRN."""
    from bot.policy import CaseRecordId

    lcs = org.model_copy(update={"case_record_id": CaseRecordId(prefix="LCS", min_digits=6, max_digits=8)})
    for ref in ("123456", "JohnSmith", "LCS12345"):
        with uow() as u, pytest.raises(DomainError, match="LCS and then 6 to 8 digits") as info:
            services.raise_transfer(u, lcs, "U0RFSW1", RaiseRequest(case_ref=ref, receiving_team="roch-cp-1"),
                                    NOW)
        assert info.value.field == "case_ref" and ref.lower() not in str(info.value).lower()
    assert count(engine, "transfer") == 0
    with uow() as u:
        t = services.raise_transfer(u, lcs, "U0RFSW1", RaiseRequest(case_ref="lcs123456",
                                                                    receiving_team="roch-cp-1"), NOW)
    assert t.case_ref == "LCS123456"
    with uow() as u:
        assert services.raise_transfer(u, lcs, "U0NPP1", RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), NOW).case_ref == "X123456"
