"""Rochdale's service representatives act in chat where the seed lets them, and see restricted
cases only as the README lists (issue 21, item 5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot import services
from bot.org import Org, load_org
from bot.services import RaiseRequest
from tests.conftest import NOW
from tests.fakes import FakeUnitOfWork

AFTER = datetime.combine(date(2026, 11, 26), time(10), tzinfo=UTC)


@pytest.fixture(scope="module")
def org() -> Org:
    """The demo org: U0RCREP is Child Protection Team 1's service representative."""
    return load_org()


def _roch(uow: FakeUnitOfWork, org: Org, *, restricted: bool = False) -> int:
    t = services.raise_transfer(uow, org, "U0RFSW1", RaiseRequest(
        case_ref="303009", receiving_team="roch-cp-1", transfer_point="icpc",
        transfer_point_date=date(2026, 11, 25), restricted=restricted), NOW)
    assert t.id is not None
    return t.id


def test_the_org_file_knows_its_service_representatives(org: Org) -> None:
    """ROCH "a service representative will complete the allocation": a person the org file names
    only as a service representative is known (their typed steps are not answered with help)."""
    assert org.knows("U0RCREP") and "U0RCREP" in org.everyone()


def test_after_the_pick_up_point_the_representatives_card_has_the_receiving_buttons(org: Org) -> None:
    """ROCH: "Once the proactive pick up point has taken place the electronic case transfer needs
    to be completed by the next working day should the receiving manager not be available a
    service representative will complete the allocation": their card carries Accept."""
    uow = FakeUnitOfWork()
    tid = _roch(uow, org)
    t = uow.transfers.get(tid)
    assert t is not None
    before = services.message_card(uow, org, t, "U0RCREP", NOW)
    after = services.message_card(uow, org, t, "U0RCREP", AFTER)
    assert before is not None and "accept" not in {b.action for b in before.buttons}
    assert after is not None and "accept" in {b.action for b in after.buttons}


def test_a_restricted_case_is_not_shown_to_a_service_representative(org: Org) -> None:
    """README: a restricted case is limited to "its teams' managers and their cover, who raised it,
    its named worker, the escalation levels it reached and the auditors"."""
    uow = FakeUnitOfWork()
    tid = _roch(uow, org, restricted=True)
    t = uow.transfers.get(tid)
    assert t is not None
    assert not services.sees(uow, org, t, "U0RCREP", AFTER.date())
    assert services.sees(uow, org, t, "U0RCMGR", AFTER.date())
