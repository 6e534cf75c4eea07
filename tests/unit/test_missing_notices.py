"""The notices issue 21 left out: a raise against the remit table tells the receiving manager
why; a proposed transfer date asks the other manager to confirm it (Bury step 5); a capacity
concern marked dealt with tells whoever raised it. Each test quotes its seed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot import commands as cmd
from bot import services
from bot.org import Org, load_org
from bot.services import RaiseRequest
from tests.conftest import NOW
from tests.fakes import FakeUnitOfWork

AUDIT = tuple(("holding_manager_audit", i) for i in (
    "assessments_complete", "recording_up_to_date", "chronology_current"))


@pytest.fixture(scope="module")
def org() -> Org:
    """The demo org."""
    return load_org()


def told(uow: FakeUnitOfWork, person: str) -> list[str]:
    """Every line a notice written so far carries to ``person``."""
    return [line for n, _ in uow.notices if person in n.audience for line in n.lines]


def test_a_raise_against_the_remit_table_tells_the_receiving_manager_why(org: Org) -> None:
    """S2: "'adolescent on edge of care' (child is over 11yrs). AFRS At point of referral": MASH
    sending it to Family Safeguarding and Protection gives a reason, and FSP's manager reads it."""
    uow = FakeUnitOfWork()
    services.raise_transfer(uow, org, "U0SMMGR", RaiseRequest(
        case_ref="200077", receiving_team="s2-fsp", circumstance="edge_of_care",
        route_reason="AFRS agreed FSP leads: the older sibling is on a CP plan with FSP",
        confirmed=(("pm_sign_off", "checks_and_paperwork"), ("pm_sign_off", "work_before_transfer"),
                   ("pm_sign_off", "pm_signed_off"))), NOW)
    lines = " ".join(told(uow, "U0SFMGR"))
    assert "Not where the policy's remit table sends it" in lines and "older sibling" in lines


def test_bury_a_proposed_transfer_date_asks_the_other_manager_to_confirm_it(org: Org) -> None:
    """BURY step 5: "The Receiving Team Manager (RTM) and holding team manager will discuss the
    case and agree transfer timescale": the date the receiving manager gives reaches the holding
    manager asking them to confirm; their agreement reaches the receiving manager."""
    uow = FakeUnitOfWork()
    t = services.raise_transfer(uow, org, "U0BAMGR", RaiseRequest(
        case_ref="300003", receiving_team="bury-cin", confirmed=AUDIT, circumstance="cin_long_term"), NOW)
    assert t.id is not None
    services.handle(uow, org, cmd.Accept(t.id, "U0BCMGR", named_worker="U0BCSW1",
                                         agreed_date=date(2026, 12, 4)), NOW + timedelta(hours=1))
    services.handle(uow, org, cmd.AgreeDate(t.id, "U0BAMGR", agreed_date=date(2026, 12, 7)),
                    NOW + timedelta(hours=2))
    assert any("Bury Assessment Team proposes the transfer date" in x and "please confirm it" in x
               for x in told(uow, "U0BCMGR"))
    services.handle(uow, org, cmd.AgreeDate(t.id, "U0BCMGR"), NOW + timedelta(hours=3))
    assert any("is agreed by both team managers" in x for x in told(uow, "U0BAMGR"))


def test_a_capacity_concern_marked_dealt_with_tells_whoever_raised_it(org: Org) -> None:
    """ROCH: "the HOS will be responsible for discussing pressures and reaching solutions with
    colleagues in SMT": the receiving manager who raised it hears how the HoS dealt with it."""
    uow = FakeUnitOfWork()
    t = services.raise_transfer(uow, org, "U0RFSW1", RaiseRequest(
        case_ref="400004", receiving_team="roch-cp-1", circumstance="frt_to_cp"), NOW)
    assert t.id is not None
    services.handle(uow, org, cmd.CapacityConcern(t.id, "U0RCMGR", concern="Three vacancies in CP 1 "
                                                  "this month and two practitioners on leave"), NOW)
    services.handle(uow, org, cmd.CapacityResolved(
        t.id, "U0HOS", note="Allocated across the service area: CP 2 takes two cases"),
        NOW + timedelta(hours=1))
    lines = told(uow, "U0RCMGR")
    assert any("marked the capacity concern you raised as dealt with" in x and "CP 2 takes" in x
               for x in lines)
