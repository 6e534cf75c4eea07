"""Capacity is never a reason to decline where the seed says so (issue 21, item 3), and the
level holding a capacity concern marks it dealt with. Each test quotes its seed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import commands as cmd
from bot import services
from bot.capacity import capacity_words
from bot.domain import DomainError, NotPermitted, State
from bot.org import Org, load_org
from bot.services import RaiseRequest
from tests.conftest import NOW
from tests.fakes import FakeUnitOfWork

ROCH_DECLINE = "We have no capacity this month: three vacancies and two on leave"


@pytest.fixture(scope="module")
def org() -> Org:
    """The demo org."""
    return load_org()


def _rochdale(uow: FakeUnitOfWork, org: Org) -> int:
    t = services.raise_transfer(uow, org, "U0RFSW1", RaiseRequest(
        case_ref="400004", receiving_team="roch-cp-1", circumstance="frt_to_cp"), NOW)
    assert t.id is not None
    return t.id


def test_rochdale_refuses_a_decline_for_capacity_on_its_field_and_offers_the_route(org: Org) -> None:
    """ROCH: "Demand and capacity within individual service areas will not be a barrier to a case
    transferring to the relevant team." The manager's words from the issue are refused on the
    rationale field, the capacity concern offered instead, and the transfer stays requested."""
    uow = FakeUnitOfWork()
    tid = _rochdale(uow, org)
    with pytest.raises(DomainError) as exc:
        services.handle(uow, org, cmd.Decline(tid, "U0RCMGR", rationale=ROCH_DECLINE), NOW)
    assert exc.value.field == "rationale"
    assert "no capacity" in str(exc.value) and "Raise a capacity concern instead" in str(exc.value)
    assert uow.transfers.get(tid).state == State.requested  # type: ignore[union-attr]


def test_s2_refuses_a_decline_for_caseloads(org: Org) -> None:
    """S2: "any issues of service area capacity are then addressed to the Senior Leadership team,
    capacity should not override skills base in the need for transfer"."""
    uow = FakeUnitOfWork()
    t = services.raise_transfer(uow, org, "U0SMMGR", RaiseRequest(
        case_ref="200002", receiving_team="s2-fsp", circumstance="icpc_cp_plan",
        confirmed=(("pm_sign_off", "checks_and_paperwork"), ("pm_sign_off", "work_before_transfer"),
                   ("pm_sign_off", "pm_signed_off"))), NOW)
    with pytest.raises(DomainError, match="Senior Leadership Team"):
        services.handle(uow, org, cmd.Decline(t.id or 0, "U0SFMGR",
                                              rationale="Our caseloads are too high to take this child"), NOW)


def test_a_decline_about_the_child_is_taken(org: Org) -> None:
    """ROCH: the capacity rule bars capacity only; a reason about the child is a decline."""
    uow = FakeUnitOfWork()
    tid = _rochdale(uow, org)
    services.handle(uow, org, cmd.Decline(tid, "U0RCMGR", rationale="The ICPC was cancelled: the "
                                          "pick-up point has not been reached"), NOW)
    assert uow.transfers.get(tid).state == State.declined  # type: ignore[union-attr]


def test_probation_has_no_capacity_rule_so_its_declines_are_not_read_for_it() -> None:
    """The probation FAQ says nothing of capacity: only the packs with a capacity route refuse it."""
    from bot.policy import builtin_pack

    assert builtin_pack("probation").capacity is None


@pytest.mark.parametrize("words", ["three vacancies", "High caseloads in the team", "staff on leave",
                                   "two social workers are off sick", "we are unable to allocate",
                                   "not enough capacity", "demand pressures"])
def test_capacity_words_are_recognised(words: str) -> None:
    """ROCH "Demand and capacity": vacancies, caseloads, no capacity, staff on leave ..."""
    assert capacity_words(words)


@pytest.mark.parametrize("words", ["The child is on leave from school", "The court demands a report",
                                   "Heightened risk at the proposed address"])
def test_reasons_about_the_child_are_not_capacity(words: str) -> None:
    """A reason about the child or the case is not read as capacity."""
    assert capacity_words(words) is None


def test_the_level_holding_a_capacity_concern_marks_it_dealt_with(org: Org) -> None:
    """ROCH: "the HOS will be responsible for discussing pressures and reaching solutions with
    colleagues in SMT": the receiving manager raises the concern (it goes to the HoS); the
    manager cannot mark it dealt with, the HoS can, once; a new concern starts at the HoS again."""
    uow = FakeUnitOfWork()
    tid = _rochdale(uow, org)
    services.handle(uow, org, cmd.CapacityConcern(tid, "U0RCMGR", concern="Three vacancies in CP 1 "
                                                  "this month and two practitioners on leave"), NOW)
    with pytest.raises(NotPermitted):
        services.handle(uow, org, cmd.CapacityResolved(tid, "U0RCMGR", note="sorted out"), NOW)
    services.handle(uow, org, cmd.CapacityResolved(
        tid, "U0HOS", note="Allocated across the service area: CP 2 takes two cases"),
        NOW + timedelta(hours=1))
    t = uow.transfers.get(tid)
    assert t is not None and t.capacity_held() is None
    ev = t.last_event("capacity_concern_resolved")
    assert ev is not None and ev.detail["level"] == "head_of_service" and t.state == State.requested
    with pytest.raises(DomainError):
        services.handle(uow, org, cmd.CapacityResolved(tid, "U0HOS", note="again and again"), NOW)
    services.handle(uow, org, cmd.CapacityConcern(tid, "U0RCMGR", concern="The pressure is back after "
                                                  "the two leavers"), NOW + timedelta(days=1))
    assert uow.transfers.get(tid).capacity_held() == "head_of_service"  # type: ignore[union-attr]
