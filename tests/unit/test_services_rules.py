"""Service rules on fakes of Baton's ports: no database, no chat platform."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot import commands as cmd
from bot import services
from bot.domain import DomainError, NotPermitted
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
