"""Service rules on fakes of Baton's ports: no database, no chat platform."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot import commands as cmd
from bot import services
from bot.domain import DomainError, NotPermitted, State
from bot.org import Org, Role, load_org
from bot.services import RaiseRequest
from tests.conftest import NOW
from tests.fakes import FakeUnitOfWork, audience


@pytest.fixture(scope="module")
def org() -> Org:
    """The demo org."""
    return load_org()


def _raised(uow: FakeUnitOfWork, org: Org, *, days_ago: int = 0) -> int:
    t = services.raise_transfer(uow, org, "U0NPP1", RaiseRequest(case_ref="X123456",
                                                                 receiving_team="pdu-south"),
                                NOW - timedelta(days=days_ago))
    assert t.id is not None
    return t.id


def test_a_request_tells_the_receiving_manager_the_requester_and_the_channel(org: Org) -> None:
    """The notices of a new request are written with it, in the same commit."""
    uow = FakeUnitOfWork()
    _raised(uow, org)
    assert uow.commits == 1
    assert set(audience(uow, "card")) == {"U0SMGR", "U0NPP1", "C0SOUTH"}


def test_a_refused_step_writes_no_notice_and_changes_nothing(org: Org) -> None:
    """The practitioner pressing Accept is refused by the catalogue's rule before anything is written."""
    uow = FakeUnitOfWork()
    tid = _raised(uow, org)
    before = len(uow.notices)
    with pytest.raises(NotPermitted):
        services.handle(uow, org, cmd.Accept(tid, "U0NPP1"), NOW)
    assert len(uow.notices) == before
    assert uow.transfers.get(tid).state == "requested"  # type: ignore[union-attr]


def test_a_decline_redraws_every_card_and_hands_the_holding_team_the_dispute(org: Org) -> None:
    """After a decline every card is redrawn and the holding manager gets a card of their own."""
    uow = FakeUnitOfWork()
    tid = _raised(uow, org)
    uow.notices.clear()
    services.handle(uow, org, cmd.Decline(tid, "U0SMGR", rationale="Victim lives on the same street",
                                          reason_category="heightened_risk"), NOW)
    kinds = [n.kind for n, _ in uow.notices]
    assert "update" in kinds
    assert "U0NMGR" in audience(uow, "card")


def test_the_named_worker_must_be_in_the_receiving_team(org: Org) -> None:
    """Naming someone from another team as the worker is refused on that field."""
    uow = FakeUnitOfWork()
    tid = _raised(uow, org)
    with pytest.raises(services.DomainError) as err:
        services.handle(uow, org, cmd.Accept(tid, "U0SMGR", named_worker="U0NPP2"), NOW)
    assert err.value.field == "named_worker"


def test_every_command_has_a_handler() -> None:
    """The map from command type to handler covers every command value."""
    steps = {c for c in vars(cmd).values() if isinstance(c, type) and issubclass(c, cmd.Step)} - {cmd.Step}
    assert steps == set(services.HANDLERS)


# ---- rules the packs read from their seeds -----------------------------------------------------
def _with(org: Org, **changes: object) -> Org:
    """The demo org with some top-level keys replaced (validated as an org file would be)."""
    return Org.model_validate({**org.model_dump(), **changes})


def _with_team_smt(org: Org) -> Org:
    """The demo org where North and South each name their own SMT contact."""
    teams = [{**t.model_dump(), "escalation": {"smt": {"users": [f"U0{t.id[4].upper()}SMT"]}}}
             if t.id in ("pdu-north", "pdu-south") else t.model_dump() for t in org.teams]
    return _with(org, teams=teams)


def test_only_the_holding_areas_senior_managers_may_endorse_an_extension(org: Org) -> None:
    """Probation FAQ: "The responsibility for recording the reasons for delay and Senior
    Management endorsement lies with the transferring area." North's SMT contact (holding) holds
    the transferring area's senior role and endorses; South's (receiving) is on the ladder but
    is refused, and nothing is written. (Raised 45 days ago: senior managers see a transfer once
    its clock has reached them.)"""
    org = _with_team_smt(org)
    uow = FakeUnitOfWork()
    tid = _raised(uow, org, days_ago=45)
    t = uow.transfers.get(tid)
    assert t is not None
    north = services.actor_for(uow, org, t, "U0NSMT", NOW.date())
    south = services.actor_for(uow, org, t, "U0SSMT", NOW.date())
    assert north.roles == {Role.escalation, Role.holding_escalation}
    assert south.roles == {Role.escalation}
    before = (len(uow.notices), uow.commits)
    with pytest.raises(NotPermitted, match="transferring area's senior managers"):
        services.handle(uow, org, cmd.Endorse(tid, "U0SSMT", rationale="Awaiting police checks"), NOW)
    assert (len(uow.notices), uow.commits) == before
    services.handle(uow, org, cmd.Endorse(tid, "U0NSMT", rationale="Awaiting police checks"), NOW)
    t = uow.transfers.get(tid)
    assert t is not None and t.timeline[-1].kind == "extension_endorsed"
    assert t.timeline[-1].actor == "U0NSMT"


def test_rochdale_heads_up_goes_to_the_holding_teams_buddy(org: Org) -> None:
    """Rochdale: "FRT PM will have a discussion with their locality 'buddy'". First Response 1
    (buddy: CP 2) gives CP 1 (buddy: First Response 2) a heads up: CP 2's manager hears it as
    the buddy, not First Response 2's."""
    teams = [t.model_dump() for t in org.teams]
    for t in teams:
        if t["id"] == "roch-frt-1":
            t["buddy"] = "roch-cp-2"
        if t["id"] == "roch-cp-1":
            t["buddy"] = "roch-frt-2"
    teams += [{"id": "roch-cp-2", "name": "Child Protection Team 2", "policy": "rochdale",
               "managers": ["U0RC2MGR"]},
              {"id": "roch-frt-2", "name": "First Response Team 2", "policy": "rochdale",
               "managers": ["U0RF2MGR"]}]
    org = _with(org, teams=teams)
    uow = FakeUnitOfWork()
    services.raise_transfer(uow, org, "U0RFSW1", RaiseRequest(
        case_ref="104242", receiving_team="roch-cp-1", heads_up=True), NOW)
    buddy = [r for n, _ in uow.notices if n.ref == "buddy" for r in n.audience]
    assert buddy == ["U0RC2MGR"]
    assert "U0RF2MGR" not in audience(uow)


def test_a_transfer_between_packs_is_refused_unless_the_org_allows_the_pair(org: Org) -> None:
    """Each team works under its own pack; North (probation) cannot send a case to Rochdale's
    CP 1 unless the org file lists (pdu-north, roch-cp-1) under cross_policy, and the pair is
    one way: (holding, receiving)."""
    assert not org.may_transfer("pdu-north", "roch-cp-1")
    assert org.may_transfer("pdu-north", "pdu-south")
    uow = FakeUnitOfWork()
    with pytest.raises(services.DomainError, match="cross_policy") as err:
        services.raise_transfer(uow, org, "U0NPP1", RaiseRequest(
            case_ref="X123456", receiving_team="roch-cp-1"), NOW)
    assert err.value.field == "receiving_team"
    assert uow.transfers.rows == {} and uow.commits == 0 and uow.notices == []
    allowed = _with(org, cross_policy=[("pdu-north", "roch-cp-1")])
    assert allowed.may_transfer("pdu-north", "roch-cp-1")
    assert not allowed.may_transfer("roch-cp-1", "pdu-north")
    t = services.raise_transfer(uow, allowed, "U0NPP1", RaiseRequest(
        case_ref="X123456", receiving_team="roch-cp-1"), NOW)
    assert t.policy == "probation"  # the holding team's pack runs it


def test_cross_policy_must_name_teams_of_the_org(org: Org) -> None:
    """A cross_policy pair naming a team the org does not have is refused, naming it."""
    with pytest.raises(ValueError, match="cross_policy names team 'roch-cp-9'"):
        _with(org, cross_policy=[("pdu-north", "roch-cp-9")])


# ---- re-referrals run from a case closed record (issue 10 item 11) --------------------------------
def _closed(uow: FakeUnitOfWork, org: Org, user: str, ref: str, on: date) -> None:
    services.record_closure(uow, org, user, ref, datetime.combine(on, time(12), tzinfo=UTC))


def test_bury_re_referral_within_12_weeks_of_closure_goes_back_the_last_day_counting(org: Org) -> None:
    """BURY: "If a case has been closed and there is a re-referral within 12 weeks then the last
    case holding team resumes case responsibility ... If a case has been closed for over 12 weeks
    then the Advice and Assessment Team will reassess." Closed Mon 2 Nov 2026: 25 Jan 2027 (12
    weeks on) still goes back; 26 Jan does not."""
    uow = FakeUnitOfWork()
    _closed(uow, org, "U0BCMGR", "100077", date(2026, 11, 2))
    last = services.last_team_answer(uow, org, " 100077", date(2027, 1, 25))
    assert last is not None and (last.team, last.closed_on, last.goes_back, last.rule) == (
        "bury-cin", date(2026, 11, 2), True, "12 weeks")
    after = services.last_team_answer(uow, org, "100077", date(2027, 1, 26))
    assert after is not None and after.goes_back is False


def test_leicestershire_re_referral_within_3_months_of_closure_goes_back_the_last_day_counting(
        org: Org) -> None:
    """LEICS: "Cases closed for less than 3 months | Last allocated team, unless need indicates a
    different service is required." Closed 30 Nov 2026: 28 Feb 2027 goes back, 1 Mar does not."""
    uow = FakeUnitOfWork()
    _closed(uow, org, "U0LCMGR", "100088", date(2026, 11, 30))
    inside = services.last_team_answer(uow, org, "100088", date(2027, 2, 28))
    outside = services.last_team_answer(uow, org, "100088", date(2027, 3, 1))
    assert inside is not None and inside.goes_back is True and inside.team == "leics-cic"
    assert outside is not None and outside.goes_back is False and outside.rule == "3 months"


def test_a_completed_transfer_is_not_a_case_closure(org: Org) -> None:
    """BURY: "If a case has been closed ..." - the window runs from the case's closure, not from
    a transfer's completion: a completed transfer names the team holding it, with no window."""
    uow = FakeUnitOfWork()
    tid = _raised(uow, org)
    services.act(uow, org, "U0SMGR", tid, "accept", NOW)
    services.act(uow, org, "U0NMGR", tid, "complete", NOW)
    last = services.last_team_answer(uow, org, "X123456", NOW.date())
    assert last is not None and (last.team, last.closed_on, last.goes_back) == ("pdu-south", None, None)


def test_only_the_team_managers_record_that_a_case_closed(org: Org) -> None:
    """A practitioner, or the manager of another team, cannot record a closure; nothing is kept."""
    uow = FakeUnitOfWork()
    when = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with pytest.raises(NotPermitted):
        services.record_closure(uow, org, "U0BCSW1", "100001", when)
    with pytest.raises(NotPermitted):
        services.record_closure(uow, org, "U0LCMGR", "100001", when, team="bury-cin")
    with pytest.raises(DomainError, match="in the future"):
        services.record_closure(uow, org, "U0BCMGR", "100001", when, on=date(2026, 11, 21))
    assert uow.closures.rows == []


def test_a_case_with_an_open_transfer_cannot_be_recorded_closed(org: Org) -> None:
    """The case is still moving: complete or withdraw the transfer first."""
    uow = FakeUnitOfWork()
    _raised(uow, org)
    with pytest.raises(DomainError, match="open transfer"):
        services.record_closure(uow, org, "U0NMGR", "X123456", NOW)


# ---- S2: the Practice Manager's sign-off, or the Group Manager's agreement (issue 10 item 13) ------
S2_WHY = "The ICPC is on Thursday; waiting for sign-off would leave the child unallocated."


def test_s2_request_before_sign_off_waits_for_the_group_managers_agreement(org: Org) -> None:
    """S2: "Transfers will not be requested prior to checklist being signed off by a Practice
    Manager (PM) where this may cause unnecessary delay for a child the Group Manager will be
    contacted." Without sign-off and without a reason the request is refused; with a reason it
    goes (its clocks run), the Group Manager is asked, and the receiving manager can decide only
    once the Group Manager agrees."""
    uow = FakeUnitOfWork()
    with pytest.raises(DomainError, match="Group Manager is asked to agree") as refused:
        services.raise_transfer(uow, org, "U0SMSW1", RaiseRequest(case_ref="4711",
                                                                  receiving_team="s2-fsp"), NOW)
    assert refused.value.field == "checklist"
    t = services.raise_transfer(uow, org, "U0SMSW1", RaiseRequest(
        case_ref="4711", receiving_team="s2-fsp", urgent_reason=S2_WHY), NOW)
    assert t.id is not None and t.state == "requested" and t.requested_on == NOW.date()
    assert "U0GRPMGR" in audience(uow, "card")
    with pytest.raises(DomainError, match="Group Manager's agreement"):
        services.act(uow, org, "U0SFMGR", t.id, "accept", NOW)
    with pytest.raises(NotPermitted):  # the receiving manager cannot agree for the Group Manager
        services.act(uow, org, "U0SFMGR", t.id, "agree_without_sign_off", NOW)
    services.act(uow, org, "U0GRPMGR", t.id, "agree_without_sign_off", NOW)
    assert "U0SFMGR" in audience(uow, "card")
    assert services.act(uow, org, "U0SFMGR", t.id, "accept", NOW).state == "accepted"


def test_s2_the_pm_sign_off_after_an_urgent_request_also_lets_the_receiving_team_decide(org: Org) -> None:
    """S2: "Transfers will not be requested prior to checklist being signed off by a Practice
    Manager": once the PM signs the checklist off, the Group Manager's agreement is not needed."""
    uow = FakeUnitOfWork()
    t = services.raise_transfer(uow, org, "U0SMSW1", RaiseRequest(
        case_ref="4712", receiving_team="s2-fsp", urgent_reason=S2_WHY), NOW)
    assert t.id is not None
    for item in org.pack_for("s2-mash").checklist("pm_sign_off").items:
        services.act(uow, org, "U0SMMGR", t.id, "confirm", NOW, checklist="pm_sign_off", item=item.id)
    assert services.act(uow, org, "U0SFMGR", t.id, "decline", NOW,
                        rationale="The child is not subject to a plan yet.").state == "declined"


def test_s2_a_short_reason_for_going_before_the_sign_off_is_refused_on_its_field(org: Org) -> None:
    """S2 "where this may cause unnecessary delay for a child": the reason says why, in words."""
    uow = FakeUnitOfWork()
    with pytest.raises(DomainError) as exc:
        services.raise_transfer(uow, org, "U0SMSW1", RaiseRequest(
            case_ref="4713", receiving_team="s2-fsp", urgent_reason="urgent"), NOW)
    assert exc.value.field == "urgent_reason"


# ---- capacity, service representatives, temporary moves, unpaid work, siblings (issue 10) -------
def _roch(uow: FakeUnitOfWork, org: Org, *, point: date | None = None, ref: str = "303001") -> int:
    t = services.raise_transfer(uow, org, "U0RFSW1", RaiseRequest(
        case_ref=ref, receiving_team="roch-cp-1", transfer_point="icpc" if point else None,
        transfer_point_date=point), NOW)
    assert t.id is not None
    return t.id


def _heard(uow: FakeUnitOfWork, after: int) -> set[str]:
    return {r for n, _ in uow.notices[after:] if n.kind == "card" for r in n.audience}


def test_capacity_is_never_a_reason_to_decline_and_the_decline_form_says_so(org: Org) -> None:
    """ROCH: "Demand and capacity within individual service areas will not be a barrier to a case
    transferring to the relevant team": Rochdale's decline form says so and the receiving manager
    is offered Raise a capacity concern beside Decline; probation's decline form does not."""
    uow = FakeUnitOfWork()
    tid = _roch(uow, org)
    form = services.form_for(uow, org, "U0RCMGR", tid, "decline", NOW)
    said = " ".join("".join(str(p) for p in line) for line in form.intro)
    assert "will not be a barrier" in said and "Raise a capacity concern" in said
    t = uow.transfers.get(tid)
    assert t is not None
    offered = [a.name for a in services.actions.available(
        t, services.actor_for(uow, org, t, "U0RCMGR", NOW.date()), org.pack_for("roch-frt-1"),
        clocks=services.transfer_deadlines(org, t), today=NOW.date())]
    assert "decline" in offered and "capacity_concern" in offered
    puow = FakeUnitOfWork()
    ptid = _raised(puow, org)
    pform = services.form_for(puow, org, "U0SMGR", ptid, "decline", NOW)
    assert "barrier" not in " ".join("".join(str(p) for p in line) for line in pform.intro)


def test_a_capacity_concern_goes_hos_then_smt_then_ad_and_the_transfer_goes_on(org: Org) -> None:
    """ROCH: "the HOS will be responsible for discussing pressures and reaching solutions with
    colleagues in SMT. Where resolution cannot be reached the matter will be raised with the
    respective AD": the receiving manager's concern tells the HoS; the HoS raises it to SMT, SMT
    to the AD; the transfer stays requested throughout and is not a dispute."""
    uow = FakeUnitOfWork()
    tid = _roch(uow, org)
    steps = [("U0RCMGR", {"U0HOS", "C0HOS"}), ("U0HOS", {"U0SMT1", "C0SMT"}), ("U0SMT1", {"U0AD"})]
    for who, heard in steps:
        before = len(uow.notices)
        services.handle(uow, org, cmd.CapacityConcern(tid, who, concern="No capacity across CP teams now"),
                        NOW)
        assert heard <= _heard(uow, before)
        if who == "U0RCMGR":  # the level it is with raises it on, not the manager again
            with pytest.raises(services.DomainError, match="they raise it further"):
                services.handle(uow, org, cmd.CapacityConcern(tid, who, concern="Still no capacity now"), NOW)
    t = uow.transfers.get(tid)
    assert t is not None and t.state == State.requested and t.escalation_level is None
    assert [e.detail["level"] for e in t.timeline if e.kind == "capacity_concern_raised"] == [
        "head_of_service", "smt", "assistant_director"]
    with pytest.raises(services.DomainError, match="top of the route"):
        services.handle(uow, org, cmd.CapacityConcern(tid, "U0AD", concern="Still no capacity anywhere"),
                        NOW)


def test_s2_capacity_concern_is_addressed_to_the_senior_leadership_team(org: Org) -> None:
    """S2: "any issues of service area capacity are then addressed to the Senior Leadership team,
    capacity should not override skills base in the need for transfer": the decline form says so;
    the receiving manager's concern goes to the SLT's channel."""
    uow = FakeUnitOfWork()
    pack = org.pack_for("s2-mash")
    gate = pack.gating("request")[0]
    t = services.raise_transfer(uow, org, "U0SMMGR", RaiseRequest(
        case_ref="5001", receiving_team="s2-fsp", confirmed=tuple((gate.id, i.id) for i in gate.items)), NOW)
    assert t.id is not None
    form = services.form_for(uow, org, "U0SFMGR", t.id, "decline", NOW)
    said = " ".join("".join(str(p) for p in line) for line in form.intro)
    assert "capacity should not override skills base" in said and "Senior Leadership Team" in said
    before = len(uow.notices)
    services.handle(uow, org, cmd.CapacityConcern(t.id, "U0SFMGR",
                                                  concern="FSP has no worker free this week"), NOW)
    assert "C0SMT" in _heard(uow, before)


def test_after_the_pick_up_point_a_service_representative_completes_the_allocation(org: Org) -> None:
    """ROCH: "should the receiving manager not be available a service representative will complete
    the allocation to avoid delay for the child": before the pick-up point (Wed 25 Nov 2026) the
    org file's service representative and the receiving HoS cannot accept; from that day they
    accept, allocate and complete."""
    uow = FakeUnitOfWork()
    tid = _roch(uow, org, point=date(2026, 11, 25))
    with pytest.raises(NotPermitted):
        services.handle(uow, org, cmd.Accept(tid, "U0RCREP"), NOW)
    after = datetime.combine(date(2026, 11, 26), time(10), tzinfo=UTC)
    t = uow.transfers.get(tid)
    assert t is not None
    assert Role.service_representative in services.actor_for(uow, org, t, "U0HOS", after.date()).roles
    services.handle(uow, org, cmd.Accept(tid, "U0RCREP", named_worker="U0RCSW1"), after)
    services.handle(uow, org, cmd.Complete(tid, "U0RCREP"), after)
    t = uow.transfers.get(tid)
    assert t is not None and t.state == State.completed
    steps = [e.actor for e in t.timeline if e.kind in ("accepted", "allocated", "completed")]
    assert steps == ["U0RCREP"] * 3


def test_a_temporary_move_needs_its_move_date_and_the_officers_end_date(org: Org) -> None:
    """FAQ: "the decision as to the timeframe that constitutes a temporary move will be down to the
    professional judgement of the RO": a temporary move without a move date, or (unless it is a
    residential placement, reviewed at twelve weeks) without the end date, is refused on that
    field and nothing is written."""
    uow = FakeUnitOfWork()
    base = {"case_ref": "X123456", "receiving_team": "pdu-south", "kind": "temporary"}
    for req, field in ((RaiseRequest(**base), "move_date"),  # type: ignore[arg-type]
                       (RaiseRequest(**base, move_date=date(2026, 11, 30)), "move_end_date"),  # type: ignore[arg-type]
                       (RaiseRequest(**base, move_date=date(2026, 11, 30),  # type: ignore[arg-type]
                                     move_end_date=date(2026, 11, 1)), "move_end_date")):
        with pytest.raises(services.DomainError) as err:
            services.raise_transfer(uow, org, "U0NPP1", req, NOW)
        assert err.value.field == field
    assert uow.commits == 0
    t = services.raise_transfer(uow, org, "U0NPP1", RaiseRequest(
        **base, move_date=date(2026, 11, 30), flags=("residential_placement",)), NOW)  # type: ignore[arg-type]
    assert {d.clock for d in services.transfer_deadlines(org, t)} >= {"temporary_move"}


def test_unpaid_work_ending_before_the_transfer_can_complete_is_said_at_the_request(org: Org) -> None:
    """FAQ: "their unpaid work requirement has not been completed within 12 months (or where it is
    highly unlikely that it will be completed within 12 months), it is important that an
    application is made to Court to extend the requirement as a priority": an order of 10 Dec
    2025 runs out on 10 Dec 2026, before the 20 working days from Mon 23 Nov 2026 (21 Dec), so the
    request says so to the receiving manager and the requester; an order of 5 Jan 2026 does not."""
    uow = FakeUnitOfWork()
    t = services.raise_transfer(uow, org, "U0NPP1", RaiseRequest(
        case_ref="X123456", receiving_team="pdu-south", order_date=date(2025, 12, 10)), NOW)
    assert "unpaid_work_outstanding" in t.flags
    lines = {r: n.lines for n, _ in uow.notices if n.kind == "card" for r in n.audience}
    for who in ("U0SMGR", "U0NPP1"):
        assert any("apply to court to extend the requirement, as a priority" in x and "2026-12-10" in x
                   for x in lines[who])
    assert t.timeline[-1].kind == "upw_extension_due"
    later = FakeUnitOfWork()
    t2 = services.raise_transfer(later, org, "U0NPP1", RaiseRequest(
        case_ref="X123457", receiving_team="pdu-south", order_date=date(2026, 1, 5)), NOW)
    assert not t2.last_event("upw_extension_due")
    with pytest.raises(services.DomainError) as err:
        services.raise_transfer(FakeUnitOfWork(), org, "U0NPP1", RaiseRequest(
            case_ref="X123458", receiving_team="pdu-south", flags=("unpaid_work_outstanding",)), NOW)
    assert err.value.field == "order_date"


def _bury3(org: Org) -> Org:
    teams = [*(t.model_dump() for t in org.teams),
             {"id": "bury-safeguarding", "name": "Bury Safeguarding Team", "policy": "bury",
              "managers": ["U0BSMGR"]}]
    return _with(org, teams=teams)


BURY_AUDIT = tuple(("holding_manager_audit", i) for i in (
    "assessments_complete", "recording_up_to_date", "chronology_current", "lcs_activities_closed",
    "cypic_assessment"))


def test_a_sibling_sent_to_another_team_than_its_siblings_needs_exceptional_circumstances(org: Org) -> None:
    """BURY: "Sibling groups should be held within the same team, unless there are exceptional
    circumstances. Agreement should be made by the relevant team managers in the first instance,
    if agreement cannot be reached then Strategic Leads should make the final decision": with
    sibling 1001 going to Children in Need, raising 1002 to Safeguarding is refused on the
    siblings field until the reason is given; then the request says the siblings are apart."""
    org = _bury3(org)
    uow = FakeUnitOfWork()
    services.raise_transfer(uow, org, "U0BAMGR", RaiseRequest(
        case_ref="1001", receiving_team="bury-cin", confirmed=BURY_AUDIT), NOW)
    req = RaiseRequest(case_ref="1002", receiving_team="bury-safeguarding", linked_refs=("1001",),
                       confirmed=BURY_AUDIT)
    with pytest.raises(services.DomainError) as err:
        services.raise_transfer(uow, org, "U0BAMGR", req, NOW)
    assert err.value.field == "siblings_reason" and "Strategic Lead" in str(err.value)
    same = services.raise_transfer(uow, org, "U0BAMGR", RaiseRequest(
        case_ref="1003", receiving_team="bury-cin", linked_refs=("1001",), confirmed=BURY_AUDIT), NOW)
    assert not same.last_event("siblings_apart")
    t = services.raise_transfer(uow, org, "U0BAMGR", replace(
        req, siblings_reason="The older sibling needs the specialist safeguarding team"), NOW)
    ev = t.last_event("siblings_apart")
    assert ev is not None and ev.detail["siblings"] == ["1001"] and ev.detail["teams"] == ["bury-cin"]
    lines = [x for n, _ in uow.notices if n.kind == "card" and "U0BSMGR" in n.audience for x in n.lines]
    assert any("Siblings apart" in x and "Strategic Lead" in x for x in lines)


def test_bury_s20_accommodation_date_starts_the_five_month_clock(org: Org) -> None:
    """BURY: "no later than 5 months following accommodation": a CYPiC request giving the
    accommodation date 10 Aug 2026 runs a clock due 10 Jan 2027; a future date is refused."""
    uow = FakeUnitOfWork()
    t = services.raise_transfer(uow, org, "U0BAMGR", RaiseRequest(
        case_ref="2001", receiving_team="bury-cin", kind="children_in_care",
        accommodated_on=date(2026, 8, 10), confirmed=BURY_AUDIT), NOW)
    due = {d.clock: d.due_on for d in services.transfer_deadlines(org, t)}
    assert due["s20_five_months"] == date(2027, 1, 10)
    with pytest.raises(services.DomainError) as err:
        services.raise_transfer(uow, org, "U0BAMGR", RaiseRequest(
            case_ref="2002", receiving_team="bury-cin", kind="children_in_care",
            accommodated_on=date(2026, 12, 1), confirmed=BURY_AUDIT), NOW)
    assert err.value.field == "accommodated_on"


def test_with_the_receiving_managers_away_and_no_cover_the_head_of_service_allocates(org: Org) -> None:
    """ROCH: "If the receiving manager is on annual leave it is their responsibility to ensure that
    the transfer of cases is covered ... Whereby arrangements have not been made for cover the
    receiving HOS will intervene and allocate to avoid drift and delay": with CP1's manager on
    leave and nobody covering, the HoS may accept before any pick-up point; with cover named,
    they may not."""
    uow = FakeUnitOfWork()
    tid = _roch(uow, org)
    services.set_cover(uow, org, "U0RCMGR", None, date(2026, 12, 4), NOW)
    t = uow.transfers.get(tid)
    assert t is not None
    assert Role.service_representative in services.actor_for(uow, org, t, "U0HOS", NOW.date()).roles
    covered = FakeUnitOfWork()
    ctid = _roch(covered, org)
    services.set_cover(covered, org, "U0RCMGR", "U0RCSW1", date(2026, 12, 4), NOW)
    ct = covered.transfers.get(ctid)
    assert ct is not None
    assert Role.service_representative not in services.actor_for(covered, org, ct, "U0HOS", NOW.date()).roles
    services.handle(uow, org, cmd.Accept(tid, "U0HOS", named_worker="U0RCSW1"), NOW)
    t = uow.transfers.get(tid)
    assert t is not None and t.state == State.allocated
