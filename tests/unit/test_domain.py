"""The Transfer aggregate: its lifecycle, who may take each step, and what each step records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain import (
    CLOSED,
    MAX_TEXT,
    DomainError,
    NotPermitted,
    State,
    TimelineEvent,
    Transfer,
    local_date,
    new_transfer,
    validate_case_ref,
)
from bot.org import Actor, Role
from bot.policy import CaseRecordId, PolicyPack, builtin_pack

# Monday 23 November 2026, 10:00 UTC.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

PP = Actor("U0HPP", frozenset({Role.holding_practitioner}))
HM = Actor("U0HMGR", frozenset({Role.holding_manager}))
RM = Actor("U0RMGR", frozenset({Role.receiving_manager}))
RSW = Actor("U0RSW", frozenset({Role.receiving_member}))
SENIOR = Actor("U0SMT", frozenset({Role.escalation}))
# The transferring (holding) area's senior managers, who alone endorse an extension.
HOLDING_SENIOR = Actor("U0HSMT", frozenset({Role.escalation, Role.holding_escalation}))
BATON = Actor("baton", frozenset({Role.system}))
NOBODY = Actor("U0OTHER", frozenset())

PROBATION = builtin_pack("probation")
ROCHDALE = builtin_pack("rochdale")
LEICS = builtin_pack("leicestershire")
S2 = builtin_pack("council-s2")
BURY = builtin_pack("bury")

REF = {"probation": "X123456"}
DECLINE = {"rationale": "Victim lives two streets from the proposed address",
           "reason_category": "heightened_risk"}


def later(hours: int = 0, days: int = 0) -> datetime:
    """A fixed time after NOW."""
    return NOW + timedelta(days=days, hours=hours)


def fresh(pack: PolicyPack = PROBATION, *, kind: str = "permanent", **fields: Any) -> Transfer:
    """A transfer created by the holding practitioner, not yet requested."""
    return new_transfer(case_ref=REF.get(pack.name, "101001"), pack=pack,
                        holding_team="team-hold", receiving_team="team-recv", kind=kind,
                        actor=PP, now=NOW, **fields)


def requested(pack: PolicyPack = PROBATION, **kw: Any) -> Transfer:
    """A transfer requested at NOW, its request checklist (if any) signed off first."""
    t = fresh(pack, **kw)
    for cl in pack.gating("request", t.kind):
        for item in cl.items:
            t.confirm(HM, NOW, pack, checklist=cl.id, item=item.id)
    t.request(PP, NOW, pack)
    return t


def declined(pack: PolicyPack = PROBATION) -> Transfer:
    """A transfer requested at NOW and declined an hour later."""
    t = requested(pack)
    t.decline(RM, later(1), pack, **(DECLINE if pack.decline_reasons else
                                      {"rationale": "Threshold not met"}))
    return t


def disputed(pack: PolicyPack = PROBATION) -> Transfer:
    """A declined transfer the holding manager disputes the next day."""
    t = declined(pack)
    t.dispute(HM, later(days=1), reason="The risk can be managed with an exclusion zone")
    return t


def snapshot(t: Transfer) -> tuple[Any, ...]:
    """Everything a failed step must leave alone."""
    return (t.state, list(t.timeline), list(t.new_events), t.escalation_level, t.named_worker,
            t.kind, t.closed_at, t.work_items, dict(t.checklist), t.requested_on)


def assert_refused(t: Transfer, step: Callable[[], object],
                   exc: type[DomainError] = DomainError, *words: str) -> str:
    """``step`` raises ``exc`` whose message holds ``words``, and ``t`` is unchanged."""
    before = snapshot(t)
    with pytest.raises(exc) as info:
        step()
    msg = str(info.value)
    for w in words:
        assert w in msg, (w, msg)
    assert snapshot(t) == before
    return msg


def last(t: Transfer) -> TimelineEvent:
    """The latest timeline event."""
    return t.timeline[-1]


# --- creating and requesting -----------------------------------------------------------------


def test_new_transfer_has_no_events_until_requested() -> None:
    """new_transfer validates and builds the aggregate but records nothing yet."""
    t = fresh()
    assert t.timeline == [] and t.new_events == []
    assert t.requested_on is None
    assert t.requested_by == PP.user
    assert t.created_at == NOW
    assert t.policy == "probation"
    assert t.case_ref == "X123456"


def test_request_records_the_request_date_and_one_event() -> None:
    """A request sets requested_on and appends one 'requested' event by the requester."""
    t = fresh()
    t.request(PP, NOW, PROBATION)
    assert t.state == State.requested
    assert t.requested_on == date(2026, 11, 23)
    assert len(t.timeline) == 1
    ev = last(t)
    assert (ev.kind, ev.actor, ev.at, ev.to_state) == ("requested", PP.user, NOW, "requested")
    assert t.new_events == t.timeline


def test_request_date_is_the_uk_day_not_the_utc_day() -> None:
    """A request at 23:30 UTC on 14 July (00:30 BST on the 15th) is dated 15 July."""
    t = fresh()
    t.request(PP, datetime(2026, 7, 14, 23, 30, tzinfo=UTC), PROBATION)
    assert t.requested_on == date(2026, 7, 15)


def test_request_date_in_winter_matches_utc() -> None:
    """In winter (GMT) 23:30 UTC is still the same UK day."""
    t = fresh()
    t.request(PP, datetime(2026, 11, 23, 23, 30, tzinfo=UTC), PROBATION)
    assert t.requested_on == date(2026, 11, 23)


def test_local_date_takes_naive_datetimes_as_uk_time() -> None:
    """A naive datetime keeps its own date."""
    assert local_date(datetime(2026, 7, 14, 23, 30)) == date(2026, 7, 14)


def test_request_twice_is_refused() -> None:
    """A transfer already requested cannot be requested again."""
    t = requested()
    assert_refused(t, lambda: t.request(PP, later(1), PROBATION), DomainError,
                   "X123456", "already been requested")


def test_holding_manager_and_baton_may_request() -> None:
    """The holding manager and Baton itself (imports, scheduler) may request."""
    for actor in (HM, BATON):
        t = fresh()
        t.request(actor, NOW, PROBATION)
        assert t.state == State.requested
        assert last(t).actor == actor.user


@pytest.mark.parametrize("actor", [RM, RSW, SENIOR, NOBODY])
def test_only_the_holding_team_may_request(actor: Actor) -> None:
    """Anyone outside the holding team is refused, and nothing changes; the refusal names no
    team id."""
    t = fresh()
    msg = assert_refused(t, lambda: t.request(actor, NOW, PROBATION), NotPermitted,
                         "holding team", "nothing has changed")
    assert "team-hold" not in msg


# --- heads up (Rochdale) ---------------------------------------------------------------------


def test_heads_up_then_request() -> None:
    """A heads up records heads_up_on; the later request moves it to requested."""
    t = fresh(ROCHDALE)
    t.give_heads_up(HM, NOW)
    assert t.state == State.heads_up
    assert t.heads_up_on == date(2026, 11, 23)
    assert (last(t).kind, last(t).to_state) == ("heads_up", "heads_up")
    t.request(PP, later(days=3), ROCHDALE)
    assert t.state == State.requested
    assert t.requested_on == date(2026, 11, 26)
    ev = last(t)
    assert (ev.kind, ev.from_state, ev.to_state) == ("requested", "heads_up", "requested")
    assert len(t.timeline) == 2


def test_heads_up_is_open() -> None:
    """A heads up is an open transfer that still needs someone to act."""
    t = fresh(ROCHDALE)
    t.give_heads_up(HM, NOW)
    assert t.is_open


def test_heads_up_after_a_request_is_refused() -> None:
    """Once requested, a heads up makes no sense."""
    t = requested(ROCHDALE)
    assert_refused(t, lambda: t.give_heads_up(HM, later(1)), DomainError, "101001",
                   "in progress")


def test_heads_up_twice_is_refused() -> None:
    """A second heads up is refused."""
    t = fresh(ROCHDALE)
    t.give_heads_up(HM, NOW)
    assert_refused(t, lambda: t.give_heads_up(HM, later(1)), DomainError, "in progress")


@pytest.mark.parametrize("actor", [RM, RSW, SENIOR])
def test_only_the_holding_team_may_give_a_heads_up(actor: Actor) -> None:
    """The receiving side cannot give a heads up."""
    t = fresh(ROCHDALE)
    assert_refused(t, lambda: t.give_heads_up(actor, NOW), NotPermitted, "nothing has changed")


def test_heads_up_can_be_withdrawn() -> None:
    """A heads up that comes to nothing is withdrawn."""
    t = fresh(ROCHDALE)
    t.give_heads_up(HM, NOW)
    t.withdraw(HM, later(1), reason="Plan changed at the strategy meeting")
    assert t.state == State.withdrawn


# --- assessment, acceptance, allocation, completion ------------------------------------------


def test_start_assessment_moves_to_under_assessment() -> None:
    """The receiving manager starts assessing a requested transfer."""
    t = requested()
    t.start_assessment(RM, later(1))
    assert t.state == State.under_assessment
    ev = last(t)
    assert (ev.kind, ev.actor, ev.from_state, ev.to_state) == (
        "assessment_started", RM.user, "requested", "under_assessment")


def test_start_assessment_only_once() -> None:
    """An assessment already under way cannot be started again."""
    t = requested()
    t.start_assessment(RM, later(1))
    assert_refused(t, lambda: t.start_assessment(RM, later(2)), DomainError,
                   "X123456", "under assessment")


@pytest.mark.parametrize("actor", [RSW, HM, PP])
def test_only_the_receiving_manager_may_start_assessment(actor: Actor) -> None:
    """Receiving members and the holding team cannot start the assessment."""
    t = requested()
    assert_refused(t, lambda: t.start_assessment(actor, later(1)), NotPermitted,
                   "receiving team's manager", "nothing has changed")


def test_accept_without_a_named_worker_is_accepted() -> None:
    """Accepting with no named worker leaves the transfer accepted, with one event."""
    t = requested()
    t.start_assessment(RM, later(1))
    n = len(t.timeline)
    t.accept(RM, later(2), PROBATION, agreed_date=date(2026, 12, 1))
    assert t.state == State.accepted
    assert t.agreed_date == date(2026, 12, 1)
    assert t.named_worker is None
    assert len(t.timeline) == n + 1
    ev = last(t)
    assert (ev.kind, ev.from_state, ev.to_state) == ("accepted", "under_assessment", "accepted")
    assert ev.detail == {"agreed_date": "2026-12-01"}


def test_accept_with_a_named_worker_moves_on_to_allocated() -> None:
    """Naming the worker when accepting records accepted then allocated: two events."""
    t = requested()
    t.start_assessment(RM, later(1))
    n = len(t.timeline)
    t.accept(RM, later(2), PROBATION, named_worker="U0NEWPP")
    assert t.state == State.allocated
    assert t.named_worker == "U0NEWPP"
    assert len(t.timeline) == n + 2
    acc, alloc = t.timeline[-2:]
    assert (acc.kind, acc.from_state, acc.to_state) == ("accepted", "under_assessment", "accepted")
    assert (alloc.kind, alloc.from_state, alloc.to_state) == ("allocated", "accepted", "allocated")
    assert alloc.detail == {"named_worker": "U0NEWPP"}
    assert acc.at == alloc.at == later(2)


def test_accept_straight_from_requested() -> None:
    """The receiving manager may accept without formally starting an assessment."""
    t = requested()
    t.accept(RM, later(1), PROBATION)
    assert t.state == State.accepted


def test_accept_with_an_agreed_date_in_the_past_is_refused() -> None:
    """An agreed transfer date before today is refused; today itself is fine."""
    t = requested()
    assert_refused(t, lambda: t.accept(RM, later(1), PROBATION, agreed_date=date(2026, 11, 22)),
                   DomainError, "2026-11-22", "in the past")
    t.accept(RM, later(1), PROBATION, agreed_date=date(2026, 11, 23))
    assert t.agreed_date == date(2026, 11, 23)


def test_receiving_member_who_is_not_a_manager_cannot_accept() -> None:
    """A receiving team member is refused: the message names who can and says nothing changed."""
    t = requested()
    t.start_assessment(RM, later(1))
    msg = assert_refused(t, lambda: t.accept(RSW, later(2), PROBATION), NotPermitted,
                         "receiving team's manager", "accept", "X123456", "nothing has changed")
    assert msg == ("Only the receiving team's managers (or their cover) can accept on X123456; "
                   "nothing has changed.")
    assert t.state == State.under_assessment


def test_holding_manager_cannot_accept_their_own_transfer() -> None:
    """The holding side cannot accept."""
    t = requested()
    assert_refused(t, lambda: t.accept(HM, later(1), PROBATION), NotPermitted)


def test_allocate_names_the_worker_after_acceptance() -> None:
    """After acceptance the receiving manager names the worker; a later change is allowed."""
    t = requested()
    t.accept(RM, later(1), PROBATION)
    t.allocate(RM, later(2), named_worker="U0PP1")
    assert (t.state, t.named_worker) == (State.allocated, "U0PP1")
    t.allocate(RM, later(3), named_worker="U0PP2")
    assert (t.state, t.named_worker) == (State.allocated, "U0PP2")
    assert last(t).detail == {"named_worker": "U0PP2"}


def test_allocate_needs_a_named_worker() -> None:
    """An empty named worker is refused."""
    t = requested()
    t.accept(RM, later(1), PROBATION)
    assert_refused(t, lambda: t.allocate(RM, later(2), named_worker=""), DomainError,
                   "named worker")


def test_allocate_before_acceptance_is_refused() -> None:
    """A requested transfer cannot be allocated."""
    t = requested()
    assert_refused(t, lambda: t.allocate(RM, later(1), named_worker="U0PP1"), DomainError,
                   "X123456", "requested")


def test_complete_closes_an_allocated_transfer() -> None:
    """Completion closes the transfer and stamps closed_at."""
    t = requested()
    t.accept(RM, later(1), PROBATION, named_worker="U0PP1")
    t.complete(RM, later(days=5), PROBATION)
    assert t.state == State.completed
    assert not t.is_open
    assert t.closed_at == later(days=5)
    assert (last(t).kind, last(t).from_state, last(t).to_state) == (
        "completed", "allocated", "completed")


def test_holding_manager_may_complete_an_accepted_transfer() -> None:
    """Either side's manager may complete (responsibility passes at completion)."""
    t = requested()
    t.accept(RM, later(1), PROBATION)
    t.complete(HM, later(2), PROBATION)
    assert t.state == State.completed


@pytest.mark.parametrize("actor", [PP, RSW, SENIOR])
def test_only_managers_may_complete(actor: Actor) -> None:
    """Practitioners, receiving members and senior managers cannot complete."""
    t = requested()
    t.accept(RM, later(1), PROBATION)
    assert_refused(t, lambda: t.complete(actor, later(2), PROBATION), NotPermitted,
                   "nothing has changed")


def test_complete_before_acceptance_is_refused() -> None:
    """A transfer that is only requested cannot be completed."""
    t = requested()
    assert_refused(t, lambda: t.complete(RM, later(1), PROBATION), DomainError,
                   "X123456", "requested", "once the receiving team has accepted it")


def test_rochdale_pick_up_point_missed_without_agreement_lets_the_holding_manager_transfer_anyway() -> None:
    """ROCH: "Should there be non-attendance without prior agreement from the receiving team at the
    agreed pro-active pick up point then the holding PM will transfer the case electronically into
    the receiving PM" - no acceptance needed; with prior agreement, or by anyone else, it waits."""
    from bot.policy import builtin_pack

    roch = builtin_pack("rochdale")
    t = new_transfer(case_ref="100001", pack=roch, holding_team="roch-frt-1", receiving_team="roch-cp-1",
                     kind="permanent", actor=PP, now=NOW, transfer_point="icpc",
                     transfer_point_date=NOW.date())
    t.request(PP, NOW, roch)
    assert_refused(t, lambda: t.complete(HM, later(1), roch), DomainError, "accepted")
    t.record_attendance(HM, later(1), attended=False, agreed_absence=False)
    assert_refused(t, lambda: t.complete(PP, later(1), roch), NotPermitted, "holding team's managers")
    t.complete(HM, later(1), roch)
    assert t.state == State.completed
    assert [e.kind for e in t.timeline][-2:] == ["transferred_anyway", "completed"]


def test_an_absence_agreed_in_advance_does_not_let_the_transfer_go_without_acceptance() -> None:
    """ROCH's "without prior agreement": an agreed absence leaves acceptance to the receiving team."""
    from bot.policy import builtin_pack

    roch = builtin_pack("rochdale")
    t = new_transfer(case_ref="100002", pack=roch, holding_team="roch-frt-1", receiving_team="roch-cp-1",
                     kind="permanent", actor=PP, now=NOW, transfer_point="icpc",
                     transfer_point_date=NOW.date())
    t.request(PP, NOW, roch)
    t.record_attendance(HM, later(1), attended=False, agreed_absence=True)
    assert_refused(t, lambda: t.complete(HM, later(1), roch), DomainError, "accepted")


# --- withdrawing -----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["requested", "under_assessment", "accepted", "allocated"])
def test_holding_team_may_withdraw_an_open_transfer(stage: str) -> None:
    """The holding team may withdraw from requested through allocated, with a reason."""
    t = requested()
    if stage == "under_assessment":
        t.start_assessment(RM, later(1))
    if stage in ("accepted", "allocated"):
        t.accept(RM, later(1), PROBATION,
                 named_worker="U0PP1" if stage == "allocated" else None)
    t.withdraw(PP, later(2), reason="  Recalled to custody  ")
    assert t.state == State.withdrawn
    assert t.closed_at == later(2)
    ev = last(t)
    assert (ev.kind, ev.from_state, ev.reason) == ("withdrawn", stage, "Recalled to custody")


def test_withdraw_needs_a_reason() -> None:
    """A blank reason is refused."""
    t = requested()
    assert_refused(t, lambda: t.withdraw(PP, later(1), reason="   "), DomainError,
                   "reason for withdrawing")


@pytest.mark.parametrize("actor", [RM, RSW, SENIOR])
def test_receiving_side_cannot_withdraw(actor: Actor) -> None:
    """Only the holding team withdraws its request."""
    t = requested()
    assert_refused(t, lambda: t.withdraw(actor, later(1), reason="x"), NotPermitted)


def test_withdraw_while_disputed_is_refused() -> None:
    """A dispute is decided, not withdrawn."""
    t = disputed()
    assert_refused(t, lambda: t.withdraw(HM, later(days=2), reason="Give up"), DomainError,
                   "X123456", "disputed")


# --- declining -------------------------------------------------------------------------------


def test_probation_decline_needs_a_rationale() -> None:
    """Declining with a blank rationale is refused."""
    t = requested()
    assert_refused(t, lambda: t.decline(RM, later(1), PROBATION, rationale=" ",
                                        reason_category="heightened_risk"),
                   DomainError, "rationale")


def test_probation_decline_needs_one_of_the_packs_reasons() -> None:
    """Without a listed reason the decline is refused on the reason field, in a message short
    enough never to be cut (the form lists the reasons)."""
    t = requested()
    for category in (None, "capacity"):
        msg = assert_refused(
            t, lambda c=category: t.decline(RM, later(1), PROBATION,  # type: ignore[misc]
                                            rationale="Not suitable", reason_category=c),
            DomainError, "presumption of acceptance")
        assert msg.endswith("choose one of them.") and len(msg) < 150


def test_probation_decline_with_rationale_and_reason_closes_it() -> None:
    """A valid decline records the rationale and category and closes the transfer."""
    t = requested()
    t.start_assessment(RM, later(1))
    t.decline(RM, later(2), PROBATION, **DECLINE)
    assert t.state == State.declined
    assert t.state in CLOSED
    assert t.closed_at == later(2)
    ev = last(t)
    assert (ev.kind, ev.actor, ev.from_state, ev.to_state) == (
        "declined", RM.user, "under_assessment", "declined")
    assert ev.reason == DECLINE["rationale"]
    assert ev.detail == {"category": "heightened_risk"}


def test_decline_without_pack_reasons_needs_only_a_rationale() -> None:
    """Leicestershire has no decline reasons: a rationale is enough."""
    t = requested(LEICS)
    t.decline(RM, later(1), LEICS, rationale="Threshold for CP not met")
    assert t.state == State.declined
    assert last(t).detail == {}


@pytest.mark.parametrize("actor", [HM, PP, RSW])
def test_holding_team_cannot_decline(actor: Actor) -> None:
    """Only the receiving manager may decline."""
    t = requested()
    assert_refused(t, lambda: t.decline(actor, later(1), PROBATION, **DECLINE), NotPermitted,
                   "receiving team's manager", "nothing has changed")


def test_decline_after_acceptance_is_refused() -> None:
    """An accepted transfer cannot then be declined."""
    t = requested()
    t.accept(RM, later(1), PROBATION)
    assert_refused(t, lambda: t.decline(RM, later(2), PROBATION, **DECLINE), DomainError,
                   "X123456", "accepted")


def test_overlong_rationale_is_refused() -> None:
    """Free text over Slack's limit is refused with the limit named."""
    t = requested(LEICS)
    assert_refused(t, lambda: t.decline(RM, later(1), LEICS, rationale="x" * (MAX_TEXT + 1)),
                   DomainError, str(MAX_TEXT))


# --- disputes, escalation, decisions ---------------------------------------------------------


def test_dispute_reopens_a_decline_at_team_manager_level() -> None:
    """The holding manager disputes a decline: disputed, open again, at the first rung."""
    t = disputed()
    assert t.state == State.disputed
    assert t.is_open and t.closed_at is None
    assert t.escalation_level == "team_manager"
    ev = last(t)
    assert (ev.kind, ev.actor, ev.from_state, ev.to_state) == (
        "disputed", HM.user, "declined", "disputed")
    assert ev.reason == "The risk can be managed with an exclusion zone"


def test_dispute_needs_a_reason() -> None:
    """A blank dispute reason is refused."""
    t = declined()
    assert_refused(t, lambda: t.dispute(HM, later(days=1), reason=""), DomainError, "dispute")


@pytest.mark.parametrize("actor", [PP, RM, SENIOR])
def test_only_the_holding_manager_may_dispute_a_decline(actor: Actor) -> None:
    """Practitioners, the receiving side (who declined) and senior managers cannot dispute a decline."""
    t = declined()
    assert_refused(t, lambda: t.dispute(actor, later(days=1), reason="x"), NotPermitted)


def test_a_closed_transfer_cannot_be_disputed() -> None:
    """A completed transfer has nothing left to dispute."""
    t = requested()
    t.accept(RM, later(1), PROBATION)
    t.complete(RM, later(2), PROBATION)
    assert_refused(t, lambda: t.dispute(HM, later(3), reason="x" * 20), DomainError,
                   "X123456", "completed")


def test_a_disagreement_about_a_live_transfer_can_be_disputed_by_the_receiving_manager() -> None:
    """LEICS: "All disputes will be resolved within 5 Working Days", not only declines."""
    t = requested()
    t.dispute(RM, later(1), reason="The threshold for this service is not met")
    assert t.state == State.disputed and t.escalation_level == "team_manager"


def test_rochdale_disagreements_go_from_the_practice_managers_to_the_head_of_service() -> None:
    """ROCH: "In event of any disagreements for case transfer this will initially be managed
    between the responsible PM and the PM the case is to transfer to. Should the disagreement not
    be resolved then it will be escalated to the respective HOS": PM -> HoS, then no further."""
    t = disputed(ROCHDALE)
    assert t.escalate(HM, later(days=2), ROCHDALE, reason="Unresolved") == "head_of_service"
    assert t.state == State.escalated
    assert t.timeline[-1].from_state == "disputed"
    assert_refused(t, lambda: t.escalate(HM, later(days=5), ROCHDALE), DomainError,
                   "101001", "top of the ladder", "Head of Service (HoS)")


def test_bury_disputes_go_from_the_team_managers_to_the_strategic_lead() -> None:
    """BURY: "Team Managers have the responsibility to seek speedy resolution of any disputes If
    disputes cannot be resolved then the relevant Strategic Lead should be informed for the
    appropriate decision to be made": TM -> Strategic Lead, then no further."""
    t = requested(BURY)
    t.dispute(RM, later(1), reason="The transfer point has not been reached for this child")
    assert t.escalate(HM, later(days=2), BURY, reason="Unresolved") == "strategic_lead"
    assert_refused(t, lambda: t.escalate(HM, later(days=3), BURY), DomainError,
                   "top of the ladder", "Strategic Lead")


def test_s2_disputes_go_practice_manager_group_manager_senior_leadership_team() -> None:
    """S2: "The above transfer points and principles need to be applied by all Practice Managers
    and Group managers ... issues of service area capacity are then addressed to the Senior
    Leadership team": Baton's reading of a dispute route the seed does not spell out, PM -> Group
    Manager -> SLT (the pack's escalation.reading says so)."""
    t = requested(S2)
    t.dispute(RM, later(1), reason="The ICPC outcome does not meet FSP's transfer point")
    assert [t.escalate(HM, later(days=d), S2, reason="Unresolved") for d in (2, 3)] == [
        "group_manager", "senior_leadership_team"]
    assert "reading" in S2.escalation.reading or "no dispute route" in S2.escalation.reading


def test_capacity_is_never_a_reason_to_decline_it_goes_up_rochdales_capacity_route() -> None:
    """ROCH: "Demand and capacity within individual service areas will not be a barrier to a case
    transferring ... the HOS will be responsible for discussing pressures and reaching solutions
    with colleagues in SMT. Where resolution cannot be reached the matter will be raised with the
    respective AD": a capacity concern goes HoS, SMT, AD; the transfer stays where it was."""
    t = requested(ROCHDALE)
    capacity_contact = Actor("U0HOS", frozenset({Role.capacity_level}))
    levels = [t.raise_capacity_concern(RM, later(1), ROCHDALE, concern="Three vacancies in CP1 this month"),
              t.raise_capacity_concern(capacity_contact, later(2), ROCHDALE,
                                       concern="No redistribution possible across CP teams"),
              t.raise_capacity_concern(capacity_contact, later(3), ROCHDALE,
                                       concern="SMT could not find a whole service solution")]
    assert levels == ["head_of_service", "smt", "assistant_director"]
    assert t.state == State.requested and t.escalation_level is None
    assert_refused(t, lambda: t.raise_capacity_concern(RM, later(4), ROCHDALE, concern="x" * 30),
                   DomainError, "101001", "Assistant Director (AD)", "top of the route")


def test_s2_capacity_concern_goes_to_the_senior_leadership_team() -> None:
    """S2: "any issues of service area capacity are then addressed to the Senior Leadership
    team": one level; a probation transfer has no capacity route at all."""
    t = requested(S2)
    assert t.raise_capacity_concern(RM, later(1), S2, concern="Both FSP teams are over capacity") == \
        "senior_leadership_team"
    p = requested()
    assert_refused(p, lambda: p.raise_capacity_concern(RM, later(1), PROBATION, concern="x" * 30),
                   DomainError, "no capacity route")


def test_escalate_probation_goes_to_senior_management_only() -> None:
    """Probation's ladder is SPO -> senior management; a second escalation is refused."""
    t = disputed()
    assert t.escalate(HM, later(days=2), PROBATION) == "smt"
    assert_refused(t, lambda: t.escalate(SENIOR, later(days=3), PROBATION), DomainError,
                   "top of the ladder", "Senior management")


def test_escalate_a_live_transfer_keeps_its_state() -> None:
    """A clock breach escalates a requested transfer without changing its state."""
    t = requested()
    assert t.escalate(BATON, later(days=30), PROBATION, clock="resolution") == "smt"
    assert t.state == State.requested
    ev = last(t)
    assert (ev.kind, ev.actor, ev.from_state, ev.to_state) == (
        "escalated", "baton", "requested", "requested")
    assert ev.detail == {"level": "smt", "clock": "resolution"}


@pytest.mark.parametrize("actor", [PP, RSW, NOBODY])
def test_practitioners_and_members_cannot_escalate(actor: Actor) -> None:
    """Escalation is for managers, the ladder and Baton."""
    t = disputed()
    assert_refused(t, lambda: t.escalate(actor, later(days=2), PROBATION), NotPermitted)


def test_escalate_a_closed_transfer_is_refused() -> None:
    """A completed transfer cannot be escalated."""
    t = requested()
    t.accept(RM, later(1), PROBATION)
    t.complete(RM, later(2), PROBATION)
    assert_refused(t, lambda: t.escalate(HM, later(3), PROBATION), DomainError,
                   "X123456", "completed")


def test_decide_transfer_makes_it_accepted_and_it_can_complete() -> None:
    """A decision that the case transfers moves it to accepted; it then completes as usual."""
    t = disputed(LEICS)
    t.escalate(HM, later(days=2), LEICS)
    t.decide(SENIOR, later(days=3), outcome="transfer", rationale="CP plan: FSP holds")
    assert t.state == State.accepted
    assert t.is_open and t.closed_at is None
    ev = last(t)
    assert (ev.kind, ev.from_state, ev.to_state) == ("decided", "escalated", "accepted")
    assert ev.detail == {"outcome": "transfer"}
    assert ev.reason == "CP plan: FSP holds"
    for item in LEICS.checklist("transfer_requirements").guards(t.kind):  # "will require"
        t.confirm(HM, later(days=4), LEICS, checklist="transfer_requirements", item=item.id)
    t.complete(RM, later(days=4), LEICS)
    assert t.state == State.completed


def test_decide_remain_closes_it_with_the_holding_team() -> None:
    """A decision that the case stays closes the transfer as decided."""
    t = disputed(LEICS)
    t.decide(SENIOR, later(days=2), outcome="remain", rationale="Stays with CIN team")
    assert t.state == State.decided
    assert not t.is_open
    assert t.closed_at == later(days=2)


def test_decide_needs_a_known_outcome_and_a_rationale() -> None:
    """Outcomes other than transfer/remain, or a blank rationale, are refused."""
    t = disputed()
    assert_refused(t, lambda: t.decide(SENIOR, later(days=2), outcome="maybe", rationale="x"),
                   DomainError, "transfer", "remain")
    assert_refused(t, lambda: t.decide(SENIOR, later(days=2), outcome="remain", rationale=""),
                   DomainError, "rationale")


def test_practitioners_never_decide_a_dispute() -> None:
    """A practitioner is on no rung of the ladder."""
    t = disputed()
    assert_refused(t, lambda: t.decide(PP, later(days=2), outcome="remain", rationale="x"),
                   NotPermitted, "the ladder level holding the dispute")


@pytest.mark.parametrize("actor", [HM, RM])
def test_team_managers_decide_at_the_first_rung_only(actor: Actor) -> None:
    """ROCH: "In event of any disagreements for case transfer this will initially be managed
    between the responsible PM and the PM the case is to transfer to. Should the disagreement not
    be resolved then it will be escalated": the team managers decide at the first rung; once it
    climbs, the level holding it does."""
    t = disputed()
    t.escalate(SENIOR, later(days=2), PROBATION, reason="Not agreed between the managers")
    assert_refused(t, lambda: t.decide(actor, later(days=3), outcome="remain", rationale="x" * 20,
                                       pack=PROBATION), DomainError, "they decide it now")
    first = disputed()
    first.decide(actor, later(days=2), outcome="remain", rationale="Agreed between the managers",
                 pack=PROBATION)
    assert first.state == State.decided


def test_decide_a_decline_that_is_not_disputed_is_refused() -> None:
    """Only a dispute is decided."""
    t = declined()
    assert_refused(t, lambda: t.decide(SENIOR, later(days=1), outcome="transfer",
                                       rationale="x"), DomainError, "X123456", "declined")


# --- remedial work: never delays the transfer ------------------------------------------------


def test_request_work_records_items_without_changing_state() -> None:
    """The receiving manager's audit asks for work; the state does not move."""
    t = requested(BURY)
    t.accept(RM, later(1), BURY, named_worker="U0BSW")
    t.request_work(RM, later(2), items=["Update chronology", "  ", "Close LCS activities"],
                   due=date(2026, 12, 7))
    assert t.state == State.allocated
    assert t.work_items == ("Update chronology", "Close LCS activities")
    assert t.work_due == date(2026, 12, 7)
    ev = last(t)
    assert (ev.kind, ev.from_state, ev.to_state) == ("work_requested", "allocated", "allocated")
    assert ev.detail == {"items": ["Update chronology", "Close LCS activities"],
                         "due": "2026-12-07"}


def test_work_done_clears_the_work_without_changing_state() -> None:
    """The holding team marks the work done; the state still does not move."""
    t = requested(BURY)
    t.accept(RM, later(1), BURY)
    t.request_work(RM, later(2), items=["Chronology"], due=date(2026, 12, 7))
    t.work_done(PP, later(days=3))
    assert t.state == State.accepted
    assert t.work_items == () and t.work_due is None
    assert (last(t).kind, last(t).to_state) == ("work_completed", "accepted")
    assert last(t).detail == {"items": ["Chronology"]}


def test_outstanding_work_does_not_block_completion() -> None:
    """A transfer with work still owed completes on time (ROCH/LEICS/BURY)."""
    t = requested(BURY)
    t.accept(RM, later(1), BURY, named_worker="U0WORKER")
    t.request_work(RM, later(2), items=["Chronology"], due=date(2026, 12, 7))
    t.complete(RM, later(3), BURY)
    assert t.state == State.completed


def test_request_work_needs_at_least_one_item() -> None:
    """An empty (or blank) list of work is refused."""
    t = requested(BURY)
    assert_refused(t, lambda: t.request_work(RM, later(1), items=[" "], due=date(2026, 12, 7)),
                   DomainError, "at least one")


def test_work_done_without_work_asked_is_refused() -> None:
    """Nothing to mark done when no work was asked for."""
    t = requested(BURY)
    assert_refused(t, lambda: t.work_done(PP, later(1)), DomainError, "101001", "No work")


def test_only_the_receiving_manager_asks_for_work_and_only_holding_marks_it_done() -> None:
    """The holding side cannot ask for work; the receiving side cannot mark it done."""
    t = requested(BURY)
    assert_refused(t, lambda: t.request_work(HM, later(1), items=["x"], due=date(2026, 12, 7)),
                   NotPermitted)
    t.request_work(RM, later(1), items=["x"], due=date(2026, 12, 7))
    assert_refused(t, lambda: t.work_done(RM, later(2)), NotPermitted)


def test_request_work_on_a_closed_transfer_is_refused() -> None:
    """Work cannot be asked for once the transfer is completed."""
    t = requested(BURY)
    t.accept(RM, later(1), BURY, named_worker="U0WORKER")
    t.complete(RM, later(2), BURY)
    assert_refused(t, lambda: t.request_work(RM, later(3), items=["x"], due=date(2026, 12, 7)),
                   DomainError, "completed")


# --- delay, endorsement, address assessment --------------------------------------------------


def test_record_delay_keeps_reason_and_actions() -> None:
    """The transferring area records why it is late and what is in hand; state is unchanged."""
    t = requested()
    t.record_delay(PP, later(days=30), reason="Awaiting police checks",
                   actions="Chased the police liaison")
    assert t.state == State.requested
    ev = last(t)
    assert (ev.kind, ev.reason) == ("delay_recorded", "Awaiting police checks")
    assert ev.detail == {"actions": "Chased the police liaison"}


@pytest.mark.parametrize("reason, actions, missing", [
    ("", "Chased", "reason for delay"),
    ("Awaiting checks", "  ", "actions being taken"),
])
def test_record_delay_needs_both_reason_and_actions(reason: str, actions: str,
                                                    missing: str) -> None:
    """A blank reason or blank actions is refused, naming what is missing."""
    t = requested()
    assert_refused(t, lambda: t.record_delay(PP, later(1), reason=reason, actions=actions),
                   DomainError, missing)


def test_receiving_side_cannot_record_the_delay() -> None:
    """The transferring area owns the delay record."""
    t = requested()
    assert_refused(t, lambda: t.record_delay(RM, later(1), reason="r", actions="a"),
                   NotPermitted)


def test_endorse_extension_needs_the_transferring_areas_senior_managers() -> None:
    """Probation FAQ: "The responsibility for recording the reasons for delay and Senior
    Management endorsement lies with the transferring area." Only the holding area's senior
    managers endorse; managers, and senior managers who are not the transferring area's (the
    receiving area's or org-wide ladder contacts), are refused."""
    t = requested()
    for actor in (HM, RM, PP, SENIOR):
        assert_refused(t, lambda a=actor: t.endorse_extension(  # type: ignore[misc]
            a, later(days=40), rationale="x"), NotPermitted, "transferring area's senior managers")
    t.endorse_extension(HOLDING_SENIOR, later(days=40), rationale="Awaiting MAPPA meeting")
    ev = last(t)
    assert (ev.kind, ev.actor, ev.reason) == (
        "extension_endorsed", HOLDING_SENIOR.user, "Awaiting MAPPA meeting")
    assert t.state == State.requested


def test_endorse_extension_needs_a_rationale() -> None:
    """A blank endorsement rationale is refused."""
    t = requested()
    assert_refused(t, lambda: t.endorse_extension(HOLDING_SENIOR, later(1), rationale=""),
                   DomainError, "rationale")


def test_endorse_extension_on_a_heads_up_is_refused() -> None:
    """Nothing to extend before the request."""
    t = fresh(ROCHDALE)
    t.give_heads_up(HM, NOW)
    assert_refused(t, lambda: t.endorse_extension(HOLDING_SENIOR, later(1), rationale="x"),
                   DomainError, "heads up")


def test_address_assessed_is_recorded_by_the_receiving_manager() -> None:
    """The receiving area records its address assessment while deciding."""
    t = requested(flags=("receiving_area_home_visit",))
    t.address_assessed(RM, later(days=5), outcome="Suitable", pack=PROBATION)
    assert (last(t).kind, last(t).reason, t.state) == (
        "address_assessed", "Suitable", State.requested)
    assert_refused(t, lambda: t.address_assessed(HM, later(days=6), outcome="x"), NotPermitted)


def test_address_assessed_only_when_the_receiving_area_does_the_home_visit() -> None:
    """Probation FAQ: "If this isn't possible, the receiving area are required to conduct the
    address assessment within 10 working days of the request." Where the transferring officer
    does the home visit (no receiving_area_home_visit flag) there is nothing to record."""
    t = requested()
    assert_refused(t, lambda: t.address_assessed(RM, later(days=5), outcome="Suitable",
                                                 pack=PROBATION),
                   DomainError, "does not ask the receiving area for an address assessment")
    t = requested(flags=("receiving_area_home_visit",))
    t.address_assessed(RM, later(days=5), outcome="Suitable", pack=PROBATION)
    assert last(t).kind == "address_assessed"


# --- checklists ------------------------------------------------------------------------------


def test_confirm_records_who_and_when() -> None:
    """Confirming an item keeps the confirming user and time, and appends one event."""
    t = requested(LEICS)
    t.confirm(HM, later(1), LEICS, checklist="transfer_requirements", item="warm_handover")
    assert t.checklist == {
        "transfer_requirements": {"warm_handover": {"by": HM.user, "at": later(1).isoformat()}}
    }
    ev = last(t)
    assert (ev.kind, ev.actor, ev.at) == ("checklist_confirmed", HM.user, later(1))
    assert ev.detail == {"checklist": "transfer_requirements", "item": "warm_handover"}
    assert ev.from_state == ev.to_state == "requested"


def test_confirm_unknown_checklist_or_item_is_refused() -> None:
    """A checklist or item the pack does not have is refused by name."""
    t = requested(LEICS)
    assert_refused(t, lambda: t.confirm(HM, later(1), LEICS, checklist="nope", item="x"),
                   DomainError, "nope")
    assert_refused(t, lambda: t.confirm(HM, later(1), LEICS, checklist="cic_transfer",
                                        item="nope"), DomainError, "nope")


def test_confirm_by_the_wrong_role_is_refused() -> None:
    """A receiving manager cannot confirm the holding manager's checklist."""
    t = requested(LEICS)
    assert_refused(t, lambda: t.confirm(RM, later(1), LEICS, checklist="cic_transfer",
                                        item="assessment"), NotPermitted, "holding team's manager")


def test_holding_manager_may_confirm_a_practitioners_checklist() -> None:
    """Probation's transferring checks belong to the practitioner; their manager may confirm."""
    t = requested()
    t.confirm(PP, later(1), PROBATION, checklist="transferring_checks", item="police_checks")
    t.confirm(HM, later(2), PROBATION, checklist="transferring_checks", item="home_visit")
    assert set(t.checklist["transferring_checks"]) == {"police_checks", "home_visit"}
    assert_refused(t, lambda: t.confirm(RM, later(3), PROBATION, checklist="transferring_checks",
                                        item="safeguarding_checks"), NotPermitted)


def test_confirm_on_a_closed_transfer_is_refused() -> None:
    """A closed transfer's checklist cannot change."""
    t = requested(LEICS)
    t.withdraw(PP, later(1), reason="No longer needed")
    assert_refused(t, lambda: t.confirm(HM, later(2), LEICS, checklist="transfer_requirements",
                                        item="warm_handover"), DomainError, "closed")


def test_council_s2_request_is_blocked_until_the_pm_signs_off() -> None:
    """S2: the request is refused, listing each unconfirmed item, until all are confirmed."""
    t = fresh(S2)
    assert_refused(t, lambda: t.request(PP, NOW, S2), DomainError, "signed off",
                   *(i.label for i in S2.checklist("pm_sign_off").items))
    t.confirm(HM, NOW, S2, checklist="pm_sign_off", item="checks_and_paperwork")
    t.confirm(HM, NOW, S2, checklist="pm_sign_off", item="work_before_transfer")
    msg = assert_refused(t, lambda: t.request(PP, later(1), S2), DomainError,
                         "Transfer checklist signed off by the Practice Manager")
    assert "Necessary checks" not in msg
    t.confirm(HM, later(1), S2, checklist="pm_sign_off", item="pm_signed_off")
    t.request(PP, later(2), S2)
    assert t.state == State.requested
    assert t.requested_on == date(2026, 11, 23)
    assert [e.kind for e in t.timeline] == ["checklist_confirmed"] * 3 + ["requested"]


def test_leicestershire_cic_checklist_gates_accept_for_children_in_care() -> None:
    """A transfer to Children in Care cannot be accepted until all eight lines are confirmed."""
    t = requested(LEICS, kind="children_in_care")
    items = LEICS.checklist("cic_transfer").items
    assert len(items) == 8
    assert_refused(t, lambda: t.accept(RM, later(1), LEICS), DomainError,
                   "Confirm the checklist", "Placement Plan")
    for it in items:
        t.confirm(HM, later(1), LEICS, checklist="cic_transfer", item=it.id)
    t.accept(RM, later(2), LEICS)
    assert t.state == State.accepted


def test_mappa_2_3_consultation_gates_both_accept_and_decline() -> None:
    """Probation FAQ: "In respect of MAPPA 2 and 3 cases all agencies should be consulted for
    advice and support in relation to decision making." On a transfer flagged MAPPA 2/3 the
    receiving manager can neither accept nor decline until the consultation is confirmed."""
    assert PROBATION.checklist("mappa_consultation").gates == "decision"
    t = requested(flags=("mappa_2_3",))
    assert_refused(t, lambda: t.accept(RM, later(1), PROBATION), DomainError,
                   "Confirm the checklist", "All agencies consulted")
    assert_refused(t, lambda: t.decline(RM, later(1), PROBATION, **DECLINE), DomainError,
                   "Confirm the checklist", "All agencies consulted")
    t.confirm(RM, later(2), PROBATION, checklist="mappa_consultation", item="agencies_consulted")
    assert t.checklist_missing(PROBATION, "accept") == []
    assert t.checklist_missing(PROBATION, "decline") == []
    t.decline(RM, later(3), PROBATION, **DECLINE)
    assert t.state == State.declined
    t = requested(flags=("mappa_2_3",))
    t.confirm(RM, later(2), PROBATION, checklist="mappa_consultation", item="agencies_consulted")
    t.accept(RM, later(3), PROBATION)
    assert t.state == State.accepted


def test_mappa_consultation_is_not_asked_of_transfers_not_flagged_mappa_2_3() -> None:
    """The MAPPA 2/3 consultation gates only transfers carrying the mappa_2_3 flag; others are
    accepted or declined with no consultation confirmed."""
    t = requested()
    assert t.checklist_missing(PROBATION, "accept") == []
    assert t.checklist_missing(PROBATION, "decline") == []
    t.accept(RM, later(1), PROBATION)
    assert t.state == State.accepted
    t = requested(flags=("no_fixed_abode",))
    t.decline(RM, later(1), PROBATION, **DECLINE)
    assert t.state == State.declined


def test_leicestershire_cic_checklist_does_not_gate_other_kinds() -> None:
    """A permanent Leicestershire transfer is accepted with no checklist."""
    t = requested(LEICS, kind="permanent")
    assert t.checklist_missing(LEICS, "accept") == []
    t.accept(RM, later(1), LEICS)
    assert t.state == State.accepted


# --- temporary moves -------------------------------------------------------------------------


def test_convert_temporary_move_to_permanent() -> None:
    """The holding manager converts a temporary move to a permanent transfer."""
    t = requested(kind="temporary", move_date=date(2026, 11, 16))
    t.convert_to_permanent(HM, later(days=60))
    assert t.kind == "permanent"
    assert (last(t).kind, last(t).to_state) == ("converted_to_permanent", "requested")


def test_convert_a_permanent_transfer_is_refused() -> None:
    """Only a temporary move converts."""
    t = requested()
    assert_refused(t, lambda: t.convert_to_permanent(HM, later(1)), DomainError,
                   "not a temporary move")


def test_only_the_holding_manager_converts() -> None:
    """A practitioner cannot convert a temporary move."""
    t = requested(kind="temporary")
    assert_refused(t, lambda: t.convert_to_permanent(PP, later(1)), NotPermitted)


# --- illegal steps ---------------------------------------------------------------------------


def _completed() -> Transfer:
    t = requested()
    t.accept(RM, later(1), PROBATION)
    t.complete(RM, later(2), PROBATION)
    return t


def _withdrawn() -> Transfer:
    t = requested()
    t.withdraw(PP, later(1), reason="Recalled")
    return t


ILLEGAL: list[tuple[str, Callable[[], Transfer], str, Callable[[Transfer], object]]] = [
    ("accept completed", _completed, "completed",
     lambda t: t.accept(RM, later(3), PROBATION)),
    ("decline completed", _completed, "completed",
     lambda t: t.decline(RM, later(3), PROBATION, **DECLINE)),
    ("withdraw completed", _completed, "completed",
     lambda t: t.withdraw(PP, later(3), reason="x")),
    ("complete completed", _completed, "completed",
     lambda t: t.complete(RM, later(3), PROBATION)),
    ("start assessment withdrawn", _withdrawn, "withdrawn",
     lambda t: t.start_assessment(RM, later(3))),
    ("accept withdrawn", _withdrawn, "withdrawn",
     lambda t: t.accept(RM, later(3), PROBATION)),
    ("record delay withdrawn", _withdrawn, "withdrawn",
     lambda t: t.record_delay(PP, later(3), reason="r", actions="a")),
    ("accept declined", declined, "declined",
     lambda t: t.accept(RM, later(3), PROBATION)),
    ("accept disputed", disputed, "disputed",
     lambda t: t.accept(RM, later(days=3), PROBATION)),
    ("convert completed", _completed, "completed",
     lambda t: t.convert_to_permanent(HM, later(3))),
    ("endorse declined", declined, "declined",
     lambda t: t.endorse_extension(HOLDING_SENIOR, later(3), rationale="x")),
]


@pytest.mark.parametrize("setup, state, step", [(s, st, f) for _, s, st, f in ILLEGAL],
                         ids=[name for name, *_ in ILLEGAL])
def test_illegal_step_names_the_case_and_its_state(
    setup: Callable[[], Transfer], state: str, step: Callable[[Transfer], object]
) -> None:
    """A step the state does not allow raises DomainError (not NotPermitted) naming the case
    reference, its state and the states the step needs, and changes nothing."""
    t = setup()
    msg = assert_refused(t, lambda: step(t), DomainError, "X123456", f"is {state}",
                         "only", "when it is")
    with pytest.raises(DomainError) as info:
        step(t)
    assert not isinstance(info.value, NotPermitted), msg


def test_accept_a_completed_transfer_message() -> None:
    """The message says what the state is and when the step is possible."""
    t = _completed()
    msg = assert_refused(t, lambda: t.accept(RM, later(3), PROBATION))
    assert msg == ("X123456 is completed, so you cannot accept now "
                   "(only when it is requested or under assessment); nothing has changed.")


def test_state_is_checked_before_permission() -> None:
    """Someone not permitted, on the wrong state, is told about the state."""
    t = _completed()
    with pytest.raises(DomainError) as info:
        t.accept(RSW, later(3), PROBATION)
    assert not isinstance(info.value, NotPermitted)


# --- the timeline ----------------------------------------------------------------------------


def test_every_change_appends_exactly_one_event_with_who_when_what() -> None:
    """Along a full run each step appends one event (two for accept with a named worker)
    carrying the actor, time, kind, from/to state and reason; new_events mirrors the timeline."""
    t = fresh(ROCHDALE)
    steps: list[tuple[Callable[[], object], Actor, int, str, str, str | None]] = [
        (lambda: t.give_heads_up(HM, later(0)), HM, 1, "heads_up", "heads_up", None),
        (lambda: t.request(PP, later(1), ROCHDALE), PP, 1, "requested", "requested", None),
        (lambda: t.confirm(HM, later(2), ROCHDALE, checklist="pick_up_preparation",
                           item="buddy_heads_up"), HM, 1, "checklist_confirmed", "requested",
         None),
        (lambda: t.start_assessment(RM, later(3)), RM, 1, "assessment_started",
         "under_assessment", None),
        (lambda: t.record_delay(PP, later(4), reason="Late conference", actions="Rebooked"),
         PP, 1, "delay_recorded", "under_assessment", "Late conference"),
        (lambda: t.escalate(BATON, later(5), ROCHDALE, reason="Clock ran out"), BATON, 1,
         "escalated", "under_assessment", "Clock ran out"),
        (lambda: t.accept(RM, later(6), ROCHDALE, named_worker="U0CPSW"), RM, 2, "allocated",
         "allocated", None),
        (lambda: t.request_work(RM, later(7), items=["QA"], due=date(2026, 12, 7)), RM, 1,
         "work_requested", "allocated", None),
        (lambda: t.work_done(PP, later(8)), PP, 1, "work_completed", "allocated", None),
        (lambda: t.complete(HM, later(9), ROCHDALE), HM, 1, "completed", "completed", None),
    ]
    for i, (step, actor, added, kind, to_state, reason) in enumerate(steps):
        before_state = t.state.value
        n = len(t.timeline)
        step()
        assert len(t.timeline) == n + added, kind
        ev = t.timeline[-1]
        assert (ev.actor, ev.at, ev.kind, ev.to_state, ev.reason) == (
            actor.user, later(i), kind, to_state, reason)
        if i:  # the opening heads up has no state before it worth asserting
            assert t.timeline[n].from_state == before_state, kind
    assert t.new_events == t.timeline
    assert [e.at for e in t.timeline] == sorted(e.at for e in t.timeline)


def test_timeline_events_are_immutable() -> None:
    """A recorded event cannot be edited."""
    t = requested()
    with pytest.raises(AttributeError):
        t.timeline[0].reason = "rewritten"  # type: ignore[misc]


def test_last_event_finds_the_latest_of_a_kind() -> None:
    """last_event returns the most recent event of a kind, or None."""
    t = requested()
    t.record_delay(PP, later(1), reason="first", actions="a")
    t.record_delay(PP, later(2), reason="second", actions="a")
    ev = t.last_event("delay_recorded")
    assert ev is not None and ev.reason == "second"
    assert t.last_event("completed") is None


def test_reopened_transfer_clears_closed_at() -> None:
    """Closing stamps closed_at; a dispute reopening it clears it."""
    t = declined()
    assert t.closed_at == later(1)
    t.dispute(HM, later(days=1), reason="Disagree")
    assert t.closed_at is None


# --- case references and new transfers -------------------------------------------------------


def test_probation_crn_is_one_letter_and_six_digits() -> None:
    """X123456 is a valid CRN and comes back unchanged."""
    assert validate_case_ref("X123456", PROBATION) == "X123456"


def test_lower_case_crn_is_normalised_to_upper_case() -> None:
    """x123456 is normalised to X123456; surrounding space is trimmed."""
    assert validate_case_ref("x123456", PROBATION) == "X123456"
    assert validate_case_ref("  x123456\n", PROBATION) == "X123456"


@pytest.mark.parametrize("ref", ["X 123456", "John Smith", "X123\t456"])
def test_case_ref_with_spaces_is_refused_as_a_possible_name(ref: str) -> None:
    """A reference with spaces inside is refused with a message about spaces and the hint."""
    with pytest.raises(DomainError) as info:
        validate_case_ref(ref, PROBATION)
    msg = str(info.value)
    assert "contains spaces" in msg
    assert "never a name" in msg
    assert ref.strip() not in msg  # what was typed may be a name: it is never echoed
    assert PROBATION.case_ref_hint in msg


@pytest.mark.parametrize("ref", ["", "   "])
def test_empty_case_ref_is_refused(ref: str) -> None:
    """An empty reference asks for one, with the pack's hint."""
    with pytest.raises(DomainError, match="Give a case reference") as info:
        validate_case_ref(ref, PROBATION)
    assert PROBATION.case_ref_hint in str(info.value)


@pytest.mark.parametrize("ref", ["X12345", "X1234567", "XX123456", "1234567", "Smith",
                                 "X12345A", "X-123456"])
def test_malformed_crn_is_refused_with_the_hint(ref: str) -> None:
    """Anything but one letter and six digits is refused, naming the expected shape."""
    with pytest.raises(DomainError, match="not valid here") as info:
        validate_case_ref(ref, PROBATION)
    assert "one letter and six digits" in str(info.value)


def test_childrens_packs_take_digits_by_default_and_refuse_over_long_ones() -> None:
    """With no case_record_id in the org file, the children's packs take 1 to 12 digits only:
    no prefix, no separators, nothing longer."""
    assert validate_case_ref("20120001", BURY) == "20120001"
    for ref in ("LCS1001", "1001/2", "1" * 13, "A" * 33):
        with pytest.raises(DomainError, match="not valid here"):
            validate_case_ref(ref, BURY)


def test_the_org_files_case_record_id_sets_the_childrens_format_and_not_probations() -> None:
    """``case_record_id: {prefix: LCS, min_digits: 6, max_digits: 8}`` makes the children's packs
    take LCS and six to eight digits (the hint says so); probation keeps its CRN."""
    fmt = CaseRecordId(prefix="LCS", min_digits=6, max_digits=8)
    pack = BURY.with_case_record_id(fmt)
    assert validate_case_ref("lcs123456", pack) == "LCS123456"
    for ref in ("123456", "LCS12345", "LCS123456789", "ABC123456", "LCSJOHN"):
        with pytest.raises(DomainError, match="LCS and then 6 to 8 digits"):
            validate_case_ref(ref, pack)
    assert PROBATION.with_case_record_id(fmt) is PROBATION


@pytest.mark.parametrize(("fields", "problem"), [
    ({"prefix": "Lcs"}, "prefix"), ({"prefix": "SMITH"}, "prefix"), ({"prefix": "J.S"}, "prefix"),
    ({"min_digits": 0}, "min_digits"), ({"min_digits": 8, "max_digits": 6}, "more than max_digits"),
    ({"pattern": "^[A-Z]+$"}, "pattern"),
])
def test_an_org_file_case_record_id_that_could_let_a_name_through_is_refused(
        tmp_path: Path, fields: dict[str, object], problem: str) -> None:
    """The org file cannot widen the format to letters: only a fixed capital prefix of up to
    four letters and digit counts; anything else is refused naming the file and the key."""
    import yaml

    from bot.org import DEMO_ORG, load_org
    from bot.policy import PolicyError

    data = yaml.safe_load(DEMO_ORG.read_text())
    data["case_record_id"] = fields
    f = tmp_path / "org.yml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError, match="case_record_id") as info:
        load_org(f)
    assert problem in str(info.value) and str(f) in str(info.value)


def test_new_transfer_refuses_the_same_holding_and_receiving_team() -> None:
    """A case cannot transfer to the team that holds it (said on the receiving team's field,
    never with the team's id)."""
    with pytest.raises(DomainError, match="must differ") as info:
        new_transfer(case_ref="X123456", pack=PROBATION, holding_team="pdu-north",
                     receiving_team="pdu-north", kind="permanent", actor=PP, now=NOW)
    assert "pdu-north" not in str(info.value) and info.value.field == "receiving_team"


def test_new_transfer_refuses_an_unknown_kind_listing_the_kinds() -> None:
    """An unknown kind is refused, naming the pack's kinds."""
    with pytest.raises(DomainError, match="Unknown kind 'adoption'") as info:
        fresh(kind="adoption")
    assert "permanent" in str(info.value) and "temporary" in str(info.value)


def test_new_transfer_refuses_an_unknown_flag() -> None:
    """A flag the pack does not know is refused, naming the pack's flags."""
    with pytest.raises(DomainError, match="Unknown flag") as info:
        fresh(flags=("mappa_2_3", "vip"))
    assert "vip" in str(info.value) and "mappa_2_3" in str(info.value)


def test_new_transfer_refuses_an_unknown_transfer_point() -> None:
    """A transfer point the pack does not list is refused."""
    with pytest.raises(DomainError, match="Unknown transfer point"):
        fresh(BURY, transfer_point="whenever")


def test_new_transfer_keeps_flags_fields_and_normalised_linked_refs() -> None:
    """Known flags, dates and sibling refs (upper-cased) are kept; the funding note trimmed."""
    t = fresh(BURY, flags=["sibling_group"], linked_refs=[" 101002 ", "101003"],
              transfer_point="initial_core_group", transfer_point_date=date(2026, 12, 3),
              funding_note="  S17 payments agreed  ")
    assert t.flags == ("sibling_group",)
    assert t.linked_refs == ("101002", "101003")
    assert t.transfer_point == "initial_core_group"
    assert t.transfer_point_date == date(2026, 12, 3)
    assert t.funding_note == "S17 payments agreed"


def test_new_transfer_refuses_a_bad_linked_ref() -> None:
    """A linked case reference is validated like the main one."""
    with pytest.raises(DomainError, match="contains spaces"):
        fresh(linked_refs=["Jane Smith"])


def test_new_transfer_refuses_a_bad_case_ref() -> None:
    """The main case reference is validated."""
    with pytest.raises(DomainError, match="not valid here"):
        new_transfer(case_ref="12345", pack=PROBATION, holding_team="a", receiving_team="b",
                     kind="permanent", actor=PP, now=NOW)


@pytest.mark.parametrize("ref", ["JohnSmith", "John.Smith", "Smith_J_2012", "JaneDoe", "Smith2012"])
@pytest.mark.parametrize("pack", [BURY, builtin_pack("rochdale"), builtin_pack("leicestershire"),
                                  builtin_pack("council-s2")], ids=lambda p: p.name)
def test_childrens_packs_refuse_a_case_reference_that_reads_as_a_name(ref: str, pack: object) -> None:
    """A case reference is "never a name" (DOMAIN): the children's packs take digits (the org
    file's format; digits by default), and the refusal does not echo the name."""
    assert isinstance(pack, PolicyPack)
    with pytest.raises(DomainError, match="not valid here") as info:
        validate_case_ref(ref, pack)
    assert ref.lower() not in str(info.value).lower()
    assert validate_case_ref("20120001", pack) == "20120001"
    prefixed = pack.with_case_record_id(CaseRecordId(prefix="LCS"))
    with pytest.raises(DomainError, match="not valid here"):
        validate_case_ref(ref, prefixed)
    assert validate_case_ref("lcs1001", prefixed) == "LCS1001"


@pytest.mark.parametrize("ref", ["\ufb01le1", "X\uff11\uff12\uff13\uff14\uff15\uff16",
                                 "X123456\u200b", "101001\x00"])
def test_a_case_reference_that_is_not_plain_ascii_is_refused_not_folded(ref: str) -> None:
    """"ﬁle1" is not silently folded to FILE1: anything but plain ASCII is refused."""
    for pack in (PROBATION, BURY):
        with pytest.raises(DomainError, match="other than plain letters and digits") as info:
            validate_case_ref(ref, pack)
        assert info.value.field == "case_ref"


# --- free text bounded in the core, whatever the surface sent ----------------------------------


def test_funding_note_loses_control_characters_and_is_bounded() -> None:
    """NUL and bell go from the funding note; one over the limit is refused on its field."""
    assert fresh(BURY, funding_note="S17\x00 agreed\x07").funding_note == "S17 agreed"
    with pytest.raises(DomainError, match=f"under {MAX_TEXT}") as exc:
        fresh(BURY, funding_note="x" * (MAX_TEXT + 1))
    assert exc.value.field == "funding_note"


def test_work_items_are_bounded_in_all_not_only_each() -> None:
    """Twenty 2,000-character items (a 40 KB request sent past the form) are refused on the field."""
    t = requested(BURY)
    t.accept(RM, later(1), BURY)
    with pytest.raises(DomainError, match="in all") as exc:
        t.request_work(RM, later(2), items=["x" * 2000] * 20, due=date(2026, 12, 7))
    assert exc.value.field == "items" and t.work_items == ()


def test_attendance_note_loses_control_characters_and_is_bounded() -> None:
    """The transfer point's note is cleaned and bounded like every other free text."""
    roch = builtin_pack("rochdale")
    t = new_transfer(case_ref="100003", pack=roch, holding_team="roch-frt-1", receiving_team="roch-cp-1",
                     kind="permanent", actor=PP, now=NOW, transfer_point="icpc",
                     transfer_point_date=NOW.date())
    t.request(PP, NOW, roch)
    with pytest.raises(DomainError, match=f"under {MAX_TEXT}"):
        t.record_attendance(HM, later(1), attended=True, note="x" * (MAX_TEXT + 1))
    t.record_attendance(HM, later(1), attended=True, note="Agreed\x00 by phone")
    assert last(t).reason == "Agreed by phone"
